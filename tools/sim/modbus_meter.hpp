// A simulated Modbus meter serving a profile's register map: each point's registers
// encoded (modbus::encode_point) from the shared physics by its quantity name, and the
// profile's relay or valve switched by writes to its command register or coil, with the
// state register reflecting it. Pure: the server copies the image into libmodbus's
// mapping before each reply and hands the accepted writes back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ecmgw/protocols/modbus_map.hpp"
#include "sim/accrual.hpp"
#include "sim/answered_value.hpp"

namespace ecmgw::sim {

struct ModbusMeterSpec {
    int unit = 1;
    std::vector<modbus::Point> points;
    std::optional<modbus::SwitchControl> supply;  // the profile's relay or valve
    bool water = false;                           // the profile's kind
    std::int64_t initial_milli = 0;               // Wh (electricity) or L (water)
    std::int64_t rate = 1000;                     // W or L/h while the supply is on
    std::int64_t voltage_dv = 2301;               // 230.1 V
};

// One table from `start`: registers, or bits as 0 and 1.
struct TableImage {
    std::uint16_t start = 0;
    std::vector<std::uint16_t> values;
    friend bool operator==(const TableImage&, const TableImage&) = default;
};

struct RegisterImage {
    TableImage coils, discrete_inputs, holding, input;
    TableImage& table(modbus::Table t);
    const TableImage& table(modbus::Table t) const;
};

// Exception codes a refused write is answered with.
inline constexpr std::uint8_t kIllegalDataAddress = 0x02;
inline constexpr std::uint8_t kIllegalDataValue = 0x03;

class ModbusMeter {
  public:
    explicit ModbusMeter(ModbusMeterSpec spec);

    void advance_to(std::int64_t now_ms);

    // The four tables as the meter shows them now. Their extents (from the lowest to the
    // highest register any point or the switch uses) never change, so a server sizes its
    // mapping once; registers no point uses read 0.
    RegisterImage image() const;

    // Why a write of `values` from `address` is refused (an exception code), or nothing:
    // only the switch's registers (command, prefix, unlock) take writes, and a command
    // with a prefix must come with it, as Acrel's meters want.
    std::optional<std::uint8_t> refuse_write(modbus::Table table, std::uint16_t address,
                                             std::span<const std::uint16_t> values) const;
    // Applies a write refuse_write accepted: the on or off value in the command register
    // (or coil) switches the supply.
    void apply_write(modbus::Table table, std::uint16_t address,
                     std::span<const std::uint16_t> values);

    // The points wholly inside a read of `count` registers from `address`, decoded from
    // the image as a gateway would: for the answer log.
    std::vector<AnsweredValue> values_in(modbus::Table table, std::uint16_t address,
                                         std::uint16_t count) const;

    int unit() const { return spec_.unit; }
    bool supply_on() const { return supply_on_; }
    // The profile's relay or valve moved without a command; false when it has none.
    bool switch_by_hand(bool on) {
        if (!spec_.supply) return false;
        supply_on_ = on;
        return true;
    }
    std::int64_t milli() const { return register_.milli(); }  // Wh or L

  private:
    void fill_points(RegisterImage& image) const;
    void fill_switch(RegisterImage& image) const;

    ModbusMeterSpec spec_;
    Accrual register_;
    RegisterImage layout_;  // the extents, all zero
    int phases_ = 1;
    bool supply_on_ = true;
};

}  // namespace ecmgw::sim
