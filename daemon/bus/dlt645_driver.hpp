// DL/T 645 meters, 2007 and 1997: reads data blocks where the meter answers
// them and falls back to single items (remembered per meter) where it does not;
// switches a 2007 meter's relay (0x1C) and reads the state back from status word 3.
// A 2007 meter's daily frozen energy (0506xxxx) is read once after each local midnight,
// not every turn, and stored with the freeze time as its time.
#pragma once

#include <functional>
#include <map>
#include <string_view>

#include "bus/dlt645_client.hpp"
#include "bus/meter_driver.hpp"

namespace ecmgw::bus {

struct Dlt645MeterSpec {
    std::string id;
    dlt645::Address address;
    bool version_1997 = false;
    std::vector<const dlt645::DataItem*> items;  // from the version's table
    std::optional<transport::LineSettings> line;
    std::optional<std::chrono::milliseconds> timeout;
    // Relay control (2007 only): present when the gateway may switch this meter.
    std::optional<dlt645::ControlAuth> control;
    std::chrono::seconds control_valid{300};
    // How long to wait before reading back the relay: meters answer stale bits
    // for about a second after switching.
    std::chrono::milliseconds relay_settle{1000};
    // Daily frozen energy (2007 only): the names of dlt645::kFrozenImportQuantities to
    // store; empty: the freeze is not read.
    std::vector<std::string_view> frozen{};
    // How long to wait before asking again when the meter has not frozen the last
    // midnight yet (its clock is behind, or it freezes later in the day).
    std::chrono::minutes freeze_retry{15};
    // The gateway's clock; tests set it. Local midnights follow TZ, as the meters do.
    std::function<std::chrono::system_clock::time_point()> clock{};
};

class Dlt645Driver final : public MeterDriver {
  public:
    explicit Dlt645Driver(Dlt645MeterSpec spec);

    const std::string& id() const override { return spec_.id; }
    std::string describe() const override;
    std::optional<transport::LineSettings> line() const override { return spec_.line; }
    std::optional<std::chrono::milliseconds> response_timeout() const override {
        return spec_.timeout;
    }
    Expected<ReadOutcome, ReadError> read(BusContext& bus) override;
    Expected<void, ReadError> probe(BusContext& bus) override;
    bool takes_time_broadcast() const override { return true; }
    bool can_switch() const override { return spec_.control.has_value(); }
    Expected<SupplyState, ReadError> switch_supply(BusContext& bus, bool on) override;
    Expected<SupplyState, ReadError> supply_state(BusContext& bus) override;

    // Whether a block read worked (true), was refused (false) or was never tried.
    std::optional<bool> block_supported(dlt645::DataId block) const;
    // The freeze time (Unix ms) of the last daily freeze read from the meter.
    std::optional<std::int64_t> last_freeze_ms() const { return last_freeze_ms_; }

  private:
    // One request of a turn: a block standing for several wanted items, or one item.
    struct Step {
        const dlt645::DataItem* item = nullptr;  // a single item
        dlt645::DataId block = 0;                // or a block
        std::vector<const dlt645::DataItem*> wanted;
    };
    void plan_steps();
    std::optional<dlt645::DataId> block_of(const dlt645::DataItem& item) const;
    Expected<dlt645::Value, ReadError> read_item(Dlt645Client& client,
                                                 const dlt645::DataItem& item);
    Expected<dlt645::ReadAnswer, ReadError> read_block(Dlt645Client& client, dlt645::DataId block);
    Expected<dlt645::BlockValues> decode_block(dlt645::DataId block,
                                               const dlt645::Bytes& value) const;
    std::chrono::system_clock::time_point now() const;
    bool freeze_due(std::chrono::system_clock::time_point now) const;
    Expected<std::int64_t, ReadError> read_freeze_time(Dlt645Client& client);
    // Reads the last freeze when one is due; fails only when the turn must end (ends_turn).
    Expected<void, ReadError> read_freeze(Dlt645Client& client, ReadOutcome& out, bool& answered);

    Dlt645MeterSpec spec_;
    std::vector<Step> steps_;
    std::map<dlt645::DataId, bool> block_ok_;
    std::optional<std::int64_t> last_freeze_ms_;
    std::chrono::system_clock::time_point freeze_not_before_{};
};

}  // namespace ecmgw::bus
