// Modbus through libmodbus on a bus's own link: the bus owns the descriptor and
// lends it to libmodbus (modbus_set_socket), so Modbus and DL/T 645 meters share
// one port with one master, and RTU framing works over TCP serial servers too.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "bus/frame_exchange.hpp"
#include "bus/link_types.hpp"

typedef struct _modbus modbus_t;

namespace ecmgw::bus {

enum class ModbusFraming {
    Rtu,  // RS-485, or RTU frames through a transparent serial server
    Tcp,  // Modbus TCP (MBAP header) to a gateway or a meter with Ethernet
};

class ModbusSession {
  public:
    // Binds libmodbus to the exchange's link for the session's lifetime.
    static Expected<std::unique_ptr<ModbusSession>> attach(Exchange& exchange,
                                                           ModbusFraming framing);
    ~ModbusSession();
    ModbusSession(const ModbusSession&) = delete;
    ModbusSession& operator=(const ModbusSession&) = delete;

    Expected<std::vector<std::uint16_t>, ReadError> read_holding(int unit, std::uint16_t address,
                                                                 std::uint16_t count);
    Expected<std::vector<std::uint16_t>, ReadError> read_input(int unit, std::uint16_t address,
                                                               std::uint16_t count);
    Expected<std::vector<std::uint8_t>, ReadError> read_coils(int unit, std::uint16_t address,
                                                              std::uint16_t count);
    Expected<std::vector<std::uint8_t>, ReadError> read_discrete(int unit, std::uint16_t address,
                                                                 std::uint16_t count);
    Expected<void, ReadError> write_coil(int unit, std::uint16_t address, bool on);
    Expected<void, ReadError> write_register(int unit, std::uint16_t address, std::uint16_t value);
    Expected<void, ReadError> write_registers(int unit, std::uint16_t address,
                                              const std::vector<std::uint16_t>& values);
    Expected<void, ReadError> write_coils(int unit, std::uint16_t address,
                                          const std::vector<std::uint8_t>& values);

  private:
    ModbusSession(modbus_t* ctx, Exchange& exchange) : ctx_(ctx), ex_(exchange) {}
    // Runs one libmodbus call as one bus transaction: resync, timeouts, counters.
    template <class Call>
    Expected<int, ReadError> transact(int unit, Call call);

    modbus_t* ctx_;
    Exchange& ex_;
};

}  // namespace ecmgw::bus
