// Modbus register maps: what a meter's registers mean, how their words become
// exact decimals, and which reads cover a map with the fewest requests. libmodbus
// moves the bytes; this is the pure part. No I/O, no clocks, nothing thrown.
// See shared/protocols.md (Modbus) and docs/profiles.md for the data files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"

namespace ecmgw::modbus {

// The four data tables: read with function 01, 02, 03, 04.
enum class Table { Coil, DiscreteInput, HoldingRegister, InputRegister };

enum class ValueType { U16, S16, U32, S32, U64, S64, F32, F64, Bcd16, Bcd32 };

// The order of a value's bytes across its registers, named by where the bytes of the
// big-endian value A B C D (…) land. Modbus sends each register high byte first.
//   ABCD  big-endian words and bytes, as Modbus itself (Eastron, CHINT)
//   CDAB  words swapped, bytes kept ("float inverse", "little-endian word order")
//   BADC  bytes swapped within each word, words kept
//   DCBA  fully reversed: the value's little-endian bytes
// For 64-bit values the same rule applies to four words; for one register, ABCD = CDAB.
enum class WordOrder { ABCD, CDAB, BADC, DCBA };

// Registers one value of `type` occupies: 1, 2 or 4.
std::uint16_t register_count(ValueType type);
// Coils and discrete inputs hold bits; the other two tables hold 16-bit registers.
bool is_bit_table(Table table);
bool is_float(ValueType type);

// Names as profiles write them: "coil", "discrete", "holding", "input"; "u16" … "bcd32";
// "ABCD" …. The parse functions take exactly these spellings.
std::string_view to_string(Table table);
std::string_view to_string(ValueType type);
std::string_view to_string(WordOrder order);
std::optional<Table> parse_table(std::string_view name);
std::optional<ValueType> parse_value_type(std::string_view name);
std::optional<WordOrder> parse_word_order(std::string_view name);

// One value of a meter: where it is and how to turn its registers into a decimal.
struct Point {
    std::string quantity;  // "voltage_a_v": the name used in the store and on MQTT
    Table table = Table::InputRegister;
    std::uint16_t address = 0;  // 0-based, as on the wire (register 30001 is address 0)
    ValueType type = ValueType::U16;
    WordOrder order = WordOrder::ABCD;
    // The value is raw × scale: "0.001" turns a meter's W into the project's kW.
    Decimal scale{1, 0};
    // Floats only: digits kept after the point of the final (scaled) value, rounded half
    // away from zero. Integer types keep raw × scale exactly, with the scale's digits.
    std::uint8_t decimals = 0;
    std::string unit;  // for people: "V", "kWh"
    // A flag inside a U16 register (a status word): the value is that bit, 0 or 1.
    std::optional<std::uint8_t> bit;
    friend bool operator==(const Point&, const Point&) = default;
};

// Registers (or bits) a point occupies: register_count(type), or 1 in a bit table.
std::uint16_t width(const Point& point);

// --- values ----------------------------------------------------------------------

// The point's value from exactly width(point) registers as libmodbus returns them
// (host-order uint16, first register first). Fails on a count mismatch, a bit-table
// point, a BCD nibble above 9, NaN or infinity, or a value that does not fit a Decimal.
// Integers: raw × scale, no floating point anywhere. Floats: the shortest text that
// round-trips (std::to_chars) read as an exact decimal, × scale, rounded to `decimals`.
Expected<Decimal> decode_point(const Point& point, std::span<const std::uint16_t> registers);
// A coil or discrete input: 0 or 1 (libmodbus gives one byte per bit).
Expected<Decimal> decode_bit(const Point& point, std::uint8_t bit);

// The inverse, for the simulator and tests: the registers that decode_point turns back
// into `value` (rounded to the nearest raw step). Fails when the value does not fit the
// type, is negative for an unsigned or BCD type, or the point is in a bit table.
Expected<std::vector<std::uint16_t>> encode_point(const Point& point, const Decimal& value);
// A bit-table point's 0 or 1.
Expected<std::uint8_t> encode_bit(const Point& point, const Decimal& value);

// --- planning reads --------------------------------------------------------------

// One read request: `count` registers (or bits) of `table` from `address`, and the
// points it answers (indexes into the planner's input, in address order).
struct ReadRequest {
    Table table = Table::InputRegister;
    std::uint16_t address = 0;
    std::uint16_t count = 0;
    std::vector<std::size_t> points;
    friend bool operator==(const ReadRequest&, const ReadRequest&) = default;
};

struct PlanLimits {
    std::uint16_t max_registers = 125;  // per request, 1..125 (the protocol's limit)
    std::uint16_t max_bits = 2000;      // per request, 1..2000
    // Unread registers (or bits) one request may span to serve two ranges at once:
    // Telegraf's max_insert. Registers in no point at all count as unread; some meters
    // answer an exception for a read that touches an undefined register, so keep it 0
    // for those.
    std::uint16_t max_gap = 10;
    friend bool operator==(const PlanLimits&, const PlanLimits&) = default;
};

// The fewest requests that read every point, given the limits: per table, a request
// starts at the lowest unread point and reaches as far as the length and gap limits
// allow, taking every point that lies wholly inside it. This is optimal (see
// modbus/planner.cpp), so never worse than Telegraf's merge of sorted neighbours.
// A point is never split across requests; duplicate and overlapping points are read
// once. A point wider than the limit still gets a request of its own width.
// Requests come per table (coils, discrete inputs, holding, input), by address.
std::vector<ReadRequest> plan_reads(std::span<const Point> points, const PlanLimits& limits);
// Requests without any merging: one per point. For benchmarks and comparisons.
std::size_t naive_request_count(std::span<const Point> points);

// --- relays and valves -----------------------------------------------------------

// How to switch a meter's supply (relay or valve) and read its state back.
// "On" always means supply on: relay closed, valve open.
struct SwitchControl {
    Table table = Table::Coil;  // Coil or HoldingRegister
    std::uint16_t address = 0;
    // The word written to `address`. For a coil: non-zero = on (0xFF00 on the wire,
    // which libmodbus's modbus_write_bit sends for TRUE).
    std::uint16_t on_value = 1;
    std::uint16_t off_value = 0;
    std::optional<Point> state;  // how to read the state back: a U16 register or a bit
    std::uint16_t state_on_value = 1;
    std::uint16_t state_off_value = 0;
    // Bits of the state register that carry the state; the rest (a low-battery flag
    // beside the valve bits, say) are masked off before comparing.
    std::uint16_t state_mask = 0xFFFF;
    // Holding registers written in the same request just before `address` (function 16):
    // Acrel's prepaid meters take "forced control on" at 0x0057 and the switch word at
    // 0x0058 in one write.
    std::vector<std::uint16_t> prefix;
    // Writes (register, value) done one by one before the command, e.g. a password
    // register that unlocks control. No shipped profile needs one yet.
    std::vector<std::pair<std::uint16_t, std::uint16_t>> unlock_writes;
    // Use function 16 even for one register: some meters refuse function 06.
    bool write_multiple = false;
    friend bool operator==(const SwitchControl&, const SwitchControl&) = default;
};

// One write request, in the order they must be sent.
struct WriteRequest {
    Table table = Table::HoldingRegister;
    std::uint16_t address = 0;
    std::vector<std::uint16_t> values;  // for a coil: one value, 0 or 1
    bool multiple = false;              // function 15/16 rather than 05/06
    friend bool operator==(const WriteRequest&, const WriteRequest&) = default;
};

// The writes that switch the supply on (true) or off (false).
std::vector<WriteRequest> plan_switch(const SwitchControl& control, bool on);

enum class SwitchState { On, Off, Unknown };  // Unknown: neither value (moving, fault)
// The state from the state point's register (a U16) or bit.
Expected<SwitchState> decode_switch_state(const SwitchControl& control,
                                          std::span<const std::uint16_t> registers);
Expected<SwitchState> decode_switch_state_bit(const SwitchControl& control, std::uint8_t bit);

}  // namespace ecmgw::modbus
