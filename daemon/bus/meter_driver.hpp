// One meter as the bus poller sees it, whatever its protocol: read its values,
// probe it when it seems dead, switch its relay or valve and read the state back.
// Drivers are stateful (what the meter supports is remembered) and used only by
// their bus's thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bus/frame_exchange.hpp"
#include "bus/link_types.hpp"
#include "bus/modbus_session.hpp"
#include "ecmgw/common/decimal.hpp"
#include "ecmgw/protocols/transport.hpp"

namespace ecmgw::bus {

struct Sample {
    std::string quantity;
    Decimal value;
    // When the value held, if not when it was read: a meter's frozen register carries
    // its freeze time (Unix ms, UTC).
    std::optional<std::int64_t> ts_ms{};
};

// What a turn on one meter produced. Item errors (the meter refused one item,
// or answered it with nonsense) do not fail the turn; they are counted.
enum class SupplyState { On, Off, Unknown };
std::string_view to_string(SupplyState s);

struct ReadOutcome {
    std::vector<Sample> samples;
    std::vector<ReadError> item_errors;
    // The relay or valve state, when the read brought it anyway (CJ/T 188's 901F
    // status byte): the periodic supply check then costs no exchange of its own.
    std::optional<SupplyState> supply{};
};

// Whether an error ends a meter's turn: the port failed (the bus must reopen it),
// or the meter has not answered anything yet (it is silent, not refusing one item).
inline bool ends_turn(const ReadError& e, bool answered_before) {
    return e.kind == ReadFailure::LinkError || (e.kind == ReadFailure::Timeout && !answered_before);
}

// The bus's side of a turn: the exchange on its link, and a Modbus session on
// the same link when a Modbus meter asks for one.
class BusContext {
  public:
    explicit BusContext(Exchange& exchange) : exchange_(exchange) {}
    Exchange& exchange() { return exchange_; }
    Expected<ModbusSession*> modbus(ModbusFraming framing);

  private:
    Exchange& exchange_;
    std::unique_ptr<ModbusSession> modbus_;
    ModbusFraming framing_ = ModbusFraming::Rtu;
};

class MeterDriver {
  public:
    virtual ~MeterDriver() = default;
    virtual const std::string& id() const = 0;
    // "dlt645-2007 000000000101", for logs and `ecmgw status`.
    virtual std::string describe() const = 0;
    // Line settings this meter needs when they differ from the bus's.
    virtual std::optional<transport::LineSettings> line() const { return std::nullopt; }
    virtual std::optional<std::chrono::milliseconds> response_timeout() const {
        return std::nullopt;
    }

    // Reads the meter's quantities. Fails only when the turn got nothing usable:
    // Timeout when the meter never answered.
    virtual Expected<ReadOutcome, ReadError> read(BusContext& bus) = 0;
    // One short request, no retries: is a dead meter back?
    virtual Expected<void, ReadError> probe(BusContext& bus) = 0;

    // DL/T 645 meters take the broadcast time (0x08), both versions alike.
    virtual bool takes_time_broadcast() const { return false; }

    virtual bool can_switch() const { return false; }
    // Relay closed / valve open = On. Sends the command and reads the state back.
    virtual Expected<SupplyState, ReadError> switch_supply(BusContext& bus, bool on);
    // Reads the state alone: the read-back after a switch, and the bus's periodic
    // supply check.
    virtual Expected<SupplyState, ReadError> supply_state(BusContext& bus);
};

}  // namespace ecmgw::bus
