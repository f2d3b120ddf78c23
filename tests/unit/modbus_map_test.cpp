// The Modbus register map codec: value decoding in every type and word order, exact
// scaling and rounding, the inverse for the simulator, the read planner (with a brute
// force proof of minimality on small maps) and relay/valve switching.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ecmgw/protocols/modbus_map.hpp"

using namespace ecmgw;
using namespace ecmgw::modbus;

namespace {

Point point(ValueType type, WordOrder order = WordOrder::ABCD, Decimal scale = {1, 0},
            std::uint8_t decimals = 0) {
    Point p;
    p.quantity = "q";
    p.table = Table::InputRegister;
    p.address = 0;
    p.type = type;
    p.order = order;
    p.scale = scale;
    p.decimals = decimals;
    return p;
}

Point at(Table table, std::uint16_t address, ValueType type = ValueType::U16) {
    Point p;
    p.quantity = "q" + std::to_string(address);
    p.table = table;
    p.address = address;
    p.type = type;
    return p;
}

std::string decoded(const Point& p, std::vector<std::uint16_t> registers) {
    auto value = decode_point(p, registers);
    if (!value) return "error: " + value.error().message;
    return value->to_string();
}

std::string error_of(const Point& p, std::vector<std::uint16_t> registers) {
    auto value = decode_point(p, registers);
    REQUIRE_FALSE(value.has_value());
    return value.error().message;
}

bool has(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

// --- names and widths --------------------------------------------------------------

TEST_CASE("register counts per value type") {
    CHECK(register_count(ValueType::U16) == 1);
    CHECK(register_count(ValueType::S16) == 1);
    CHECK(register_count(ValueType::Bcd16) == 1);
    CHECK(register_count(ValueType::U32) == 2);
    CHECK(register_count(ValueType::S32) == 2);
    CHECK(register_count(ValueType::F32) == 2);
    CHECK(register_count(ValueType::Bcd32) == 2);
    CHECK(register_count(ValueType::U64) == 4);
    CHECK(register_count(ValueType::S64) == 4);
    CHECK(register_count(ValueType::F64) == 4);
    CHECK(width(at(Table::Coil, 0, ValueType::F64)) == 1);  // a coil is one bit whatever the type
}

TEST_CASE("names of tables types and orders round-trip") {
    for (Table t :
         {Table::Coil, Table::DiscreteInput, Table::HoldingRegister, Table::InputRegister}) {
        CHECK(parse_table(to_string(t)) == t);
    }
    for (ValueType v :
         {ValueType::U16, ValueType::S16, ValueType::U32, ValueType::S32, ValueType::U64,
          ValueType::S64, ValueType::F32, ValueType::F64, ValueType::Bcd16, ValueType::Bcd32}) {
        CHECK(parse_value_type(to_string(v)) == v);
    }
    for (WordOrder o : {WordOrder::ABCD, WordOrder::CDAB, WordOrder::BADC, WordOrder::DCBA}) {
        CHECK(parse_word_order(to_string(o)) == o);
    }
    CHECK(to_string(Table::DiscreteInput) == "discrete");
    CHECK(to_string(ValueType::Bcd32) == "bcd32");
    CHECK_FALSE(parse_table("holding_register").has_value());
    CHECK_FALSE(parse_value_type("float").has_value());
    CHECK_FALSE(parse_word_order("abcd").has_value());
    CHECK(is_bit_table(Table::Coil));
    CHECK(is_bit_table(Table::DiscreteInput));
    CHECK_FALSE(is_bit_table(Table::InputRegister));
}

// --- word orders -------------------------------------------------------------------

TEST_CASE("f32 in all four word orders: the bytes of 0x43663334 as meters send them") {
    // Tasmota's DDSU666 capture: 43 66 33 34 is 230.2 V (230.20001 as a float).
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 1), {0x4366, 0x3334}) == "230.2");
    CHECK(decoded(point(ValueType::F32, WordOrder::CDAB, {1, 0}, 1), {0x3334, 0x4366}) == "230.2");
    CHECK(decoded(point(ValueType::F32, WordOrder::BADC, {1, 0}, 1), {0x6643, 0x3433}) == "230.2");
    CHECK(decoded(point(ValueType::F32, WordOrder::DCBA, {1, 0}, 1), {0x3433, 0x6643}) == "230.2");
}

TEST_CASE("DCBA: the Xintai water meter's worked example 1E 85 0B 3F is 0.545") {
    CHECK(decoded(point(ValueType::F32, WordOrder::DCBA, {1, 0}, 3), {0x1E85, 0x0B3F}) == "0.545");
}

TEST_CASE("32- and 64-bit integers in every word order") {
    // 0x01020304 and 0x0102030405060708 laid out per order.
    CHECK(decoded(point(ValueType::U32, WordOrder::ABCD), {0x0102, 0x0304}) == "16909060");
    CHECK(decoded(point(ValueType::U32, WordOrder::CDAB), {0x0304, 0x0102}) == "16909060");
    CHECK(decoded(point(ValueType::U32, WordOrder::BADC), {0x0201, 0x0403}) == "16909060");
    CHECK(decoded(point(ValueType::U32, WordOrder::DCBA), {0x0403, 0x0201}) == "16909060");
    const std::string v64 = "72623859790382856";
    CHECK(decoded(point(ValueType::U64, WordOrder::ABCD), {0x0102, 0x0304, 0x0506, 0x0708}) == v64);
    CHECK(decoded(point(ValueType::U64, WordOrder::CDAB), {0x0708, 0x0506, 0x0304, 0x0102}) == v64);
    CHECK(decoded(point(ValueType::U64, WordOrder::BADC), {0x0201, 0x0403, 0x0605, 0x0807}) == v64);
    CHECK(decoded(point(ValueType::U64, WordOrder::DCBA), {0x0807, 0x0605, 0x0403, 0x0201}) == v64);
}

TEST_CASE("one register: ABCD and CDAB are the same - BADC and DCBA swap its bytes") {
    CHECK(decoded(point(ValueType::U16, WordOrder::ABCD), {0x1234}) == "4660");
    CHECK(decoded(point(ValueType::U16, WordOrder::CDAB), {0x1234}) == "4660");
    CHECK(decoded(point(ValueType::U16, WordOrder::BADC), {0x3412}) == "4660");
    CHECK(decoded(point(ValueType::U16, WordOrder::DCBA), {0x3412}) == "4660");
}

// --- value types -------------------------------------------------------------------

TEST_CASE("signed types: two's complement") {
    CHECK(decoded(point(ValueType::S16), {0xFFFF}) == "-1");
    CHECK(decoded(point(ValueType::S16), {0x8000}) == "-32768");
    CHECK(decoded(point(ValueType::S16), {0x7FFF}) == "32767");
    CHECK(decoded(point(ValueType::S32), {0xFFFF, 0xFFFE}) == "-2");
    CHECK(decoded(point(ValueType::S32), {0x8000, 0x0000}) == "-2147483648");
    CHECK(decoded(point(ValueType::S64), {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF}) == "-1");
    CHECK(decoded(point(ValueType::S64), {0x8000, 0, 0, 0}) == "-9223372036854775808");
    CHECK(decoded(point(ValueType::U16), {0xFFFF}) == "65535");
    CHECK(decoded(point(ValueType::U32), {0xFFFF, 0xFFFF}) == "4294967295");
}

TEST_CASE("u64 above the int64 range is an error - not a wrong number") {
    CHECK(has(error_of(point(ValueType::U64), {0x8000, 0, 0, 0}), "too large"));
    CHECK(decoded(point(ValueType::U64), {0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}) ==
          "9223372036854775807");
}

TEST_CASE("BCD: digits as written - a nibble above 9 is refused") {
    CHECK(decoded(point(ValueType::Bcd16), {0x1234}) == "1234");
    CHECK(decoded(point(ValueType::Bcd16), {0x0009}) == "9");
    CHECK(decoded(point(ValueType::Bcd32), {0x0012, 0x3456}) == "123456");
    CHECK(decoded(point(ValueType::Bcd32, WordOrder::CDAB), {0x3456, 0x0012}) == "123456");
    CHECK(decoded(point(ValueType::Bcd32, WordOrder::ABCD, {1, 2}), {0x0012, 0x3456}) == "1234.56");
    CHECK(has(error_of(point(ValueType::Bcd16), {0x12A4}), "BCD digit 10"));
    CHECK(has(error_of(point(ValueType::Bcd32), {0xF000, 0x0000}), "BCD digit 15"));
}

TEST_CASE("f64 reads the shortest decimal that is the same double") {
    // 1234.5678 as a double: 0x40934A456D5CFAAD.
    CHECK(decoded(point(ValueType::F64, WordOrder::ABCD, {1, 0}, 4),
                  {0x4093, 0x4A45, 0x6D5C, 0xFAAD}) == "1234.5678");
    CHECK(decoded(point(ValueType::F64, WordOrder::DCBA, {1, 0}, 2),
                  {0xADFA, 0x5C6D, 0x454A, 0x9340}) == "1234.57");
}

TEST_CASE("f32 0.1 is 0.1 - not 0.100000001490116: the float's shortest text is used") {
    // 0.1f = 0x3DCCCCCD.
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 9), {0x3DCC, 0xCCCD}) ==
          "0.100000000");
    // 123456.7f has about 7 significant digits: 123456.703125 exactly, "123456.7" shortest.
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 2), {0x47F1, 0x2059}) ==
          "123456.70");
}

TEST_CASE("NaN and infinity are errors") {
    CHECK(has(error_of(point(ValueType::F32), {0x7FC0, 0x0000}), "NaN"));
    CHECK(has(error_of(point(ValueType::F32), {0x7F80, 0x0000}), "infinite"));
    CHECK(has(error_of(point(ValueType::F32), {0xFF80, 0x0000}), "infinite"));
    CHECK(has(error_of(point(ValueType::F64), {0x7FF8, 0, 0, 0}), "NaN"));
}

TEST_CASE("floats too large or too small for the decimals") {
    // 3.4e38 cannot be a 64-bit decimal; 1e-30 rounds to 0.
    CHECK(has(error_of(point(ValueType::F32), {0x7F7F, 0xFFFF}), "too large"));
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 3), {0x0DA2, 0x4260}) == "0.000");
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 0), {0x0000, 0x0000}) == "0");
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 2), {0x8000, 0x0000}) == "0.00");
}

// --- scale and rounding --------------------------------------------------------------

TEST_CASE("integers: raw × scale exactly - with the scale's digits") {
    CHECK(decoded(point(ValueType::U32, WordOrder::ABCD, {1, 2}), {0x0000, 0x3039}) == "123.45");
    CHECK(decoded(point(ValueType::S16, WordOrder::ABCD, {1, 3}), {0xFC18}) == "-1.000");
    CHECK(decoded(point(ValueType::U16, WordOrder::ABCD, {10, 0}), {123}) == "1230");
    CHECK(decoded(point(ValueType::U16, WordOrder::ABCD, {-1, 0}), {5}) == "-5");
    CHECK(decoded(point(ValueType::U16, WordOrder::ABCD, {25, 2}), {3}) == "0.75");
}

TEST_CASE("integer × scale that overflows is an error") {
    CHECK(has(error_of(point(ValueType::U64, WordOrder::ABCD, {1000, 0}),
                       {0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF}),
              "too large"));
}

TEST_CASE("floats: W to kW with scale 0.001 - rounded half away from zero to decimals") {
    // 1234.5 W = 0x449A5000.
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 3}, 4), {0x449A, 0x5000}) == "1.2345");
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 3}, 3), {0x449A, 0x5000}) == "1.235");
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 3}, 3), {0xC49A, 0x5000}) == "-1.235");
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 3}, 2), {0x449A, 0x5000}) == "1.23");
    // 0.5 rounds away from zero both ways; decimals = 0.
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 0), {0x3F00, 0x0000}) == "1");
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 0), {0xBF00, 0x0000}) == "-1");
    // 2.5 → 3 (not banker's 2).
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 0), {0x4020, 0x0000}) == "3");
}

TEST_CASE("floats keep exactly `decimals` digits - padding with zeros") {
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 0}, 3), {0x4366, 0x3334}) ==
          "230.200");
    // 50 Hz in 0.01 Hz units: 5000.0 × 0.01.
    CHECK(decoded(point(ValueType::F32, WordOrder::ABCD, {1, 2}, 2), {0x459C, 0x4000}) == "50.00");
}

// --- flags and bits --------------------------------------------------------------------

TEST_CASE("a flag in a status register: the bit's 0 or 1") {
    Point p = point(ValueType::U16);
    p.bit = 3;
    CHECK(decoded(p, {0x0009}) == "1");
    CHECK(decoded(p, {0x0001}) == "0");
    p.bit = 0;
    CHECK(decoded(p, {0x0009}) == "1");
    p.bit = 15;
    CHECK(decoded(p, {0x8000}) == "1");
}

TEST_CASE("coils and discrete inputs decode as 0 or 1") {
    const Point coil = at(Table::Coil, 5);
    CHECK(decode_bit(coil, 1)->to_string() == "1");
    CHECK(decode_bit(coil, 0)->to_string() == "0");
    CHECK_FALSE(decode_bit(coil, 2).has_value());
    CHECK_FALSE(decode_bit(point(ValueType::U16), 1).has_value());
    CHECK(has(decode_point(coil, std::vector<std::uint16_t>{1}).error().message, "decode_bit"));
    CHECK(*encode_bit(coil, Decimal{1, 0}) == 1);
    CHECK(*encode_bit(coil, Decimal{0, 2}) == 0);
    CHECK_FALSE(encode_bit(coil, Decimal{2, 0}).has_value());
    CHECK_FALSE(encode_point(coil, Decimal{1, 0}).has_value());
}

TEST_CASE("the register count must match the type") {
    CHECK(has(error_of(point(ValueType::F32), {0x4366}), "needs 2 registers, got 1"));
    CHECK(has(error_of(point(ValueType::U16), {1, 2}), "needs 1 registers, got 2"));
    CHECK(has(error_of(point(ValueType::F64), {}), "needs 4 registers, got 0"));
}

// --- encoding (the simulator's side) ------------------------------------------------------

TEST_CASE("encode_point then decode_point gives the value back - in every type and order") {
    struct Case {
        ValueType type;
        Decimal scale;
        std::uint8_t decimals;
        Decimal value;
    };
    const Case cases[] = {
        {ValueType::U16, {1, 0}, 0, {65535, 0}},
        {ValueType::S16, {1, 1}, 1, {-32768, 1}},
        {ValueType::U32, {1, 2}, 2, {4294967295, 2}},
        {ValueType::S32, {1, 3}, 3, {-1234567, 3}},
        {ValueType::U64, {1, 0}, 0, {1234567890123, 0}},
        {ValueType::S64, {1, 4}, 4, {-98765432109876, 4}},
        {ValueType::F32, {1, 0}, 1, {2302, 1}},
        {ValueType::F32, {1, 3}, 4, {12345, 4}},
        {ValueType::F64, {1, 0}, 6, {123456789123, 6}},
        {ValueType::Bcd16, {1, 0}, 0, {9999, 0}},
        {ValueType::Bcd32, {1, 2}, 2, {12345678, 2}},
        {ValueType::U16, {-1, 0}, 0, {-7, 0}},
    };
    for (const Case& c : cases) {
        for (WordOrder order :
             {WordOrder::ABCD, WordOrder::CDAB, WordOrder::BADC, WordOrder::DCBA}) {
            const Point p = point(c.type, order, c.scale, c.decimals);
            CAPTURE(to_string(c.type));
            CAPTURE(to_string(order));
            CAPTURE(c.value.to_string());
            auto words = encode_point(p, c.value);
            REQUIRE(words.has_value());
            CHECK(words->size() == register_count(c.type));
            auto back = decode_point(p, *words);
            REQUIRE(back.has_value());
            CHECK(*back == c.value);
        }
    }
}

TEST_CASE("encode_point lays words out as the order says") {
    CHECK(*encode_point(point(ValueType::U32, WordOrder::CDAB), Decimal{0x01020304, 0}) ==
          std::vector<std::uint16_t>{0x0304, 0x0102});
    // 0.5f = 0x3F000000, all four bytes reversed.
    CHECK(*encode_point(point(ValueType::F32, WordOrder::DCBA, {1, 0}, 3), Decimal{5, 1}) ==
          std::vector<std::uint16_t>{0x0000, 0x003F});
    CHECK(*encode_point(point(ValueType::Bcd16), Decimal{1234, 0}) ==
          std::vector<std::uint16_t>{0x1234});
    Point flag = point(ValueType::U16);
    flag.bit = 3;
    CHECK(*encode_point(flag, Decimal{1, 0}) == std::vector<std::uint16_t>{0x0008});
    CHECK_FALSE(encode_point(flag, Decimal{2, 0}).has_value());
}

TEST_CASE("encode_point refuses values the type cannot hold and rounds to the raw step") {
    CHECK_FALSE(encode_point(point(ValueType::U16), Decimal{65536, 0}).has_value());
    CHECK_FALSE(encode_point(point(ValueType::U16), Decimal{-1, 0}).has_value());
    CHECK_FALSE(encode_point(point(ValueType::S16), Decimal{32768, 0}).has_value());
    CHECK_FALSE(encode_point(point(ValueType::Bcd16), Decimal{10000, 0}).has_value());
    CHECK_FALSE(encode_point(point(ValueType::Bcd32), Decimal{-1, 0}).has_value());
    // 123.456 kWh on a 0.01 kWh register: 12346 (half away from zero).
    CHECK(*encode_point(point(ValueType::U32, WordOrder::ABCD, {1, 2}), Decimal{123456, 3}) ==
          std::vector<std::uint16_t>{0x0000, 12346});
    CHECK(*encode_point(point(ValueType::S32, WordOrder::ABCD, {1, 2}), Decimal{-123455, 3}) ==
          std::vector<std::uint16_t>{0xFFFF, static_cast<std::uint16_t>(-12346 & 0xFFFF)});
}

// --- the read planner ---------------------------------------------------------------------

namespace {

// Telegraf's max_insert optimisation: fields sorted by address, a field joins the current
// request when the registers skipped are at most max_gap and the request stays within
// the length limit.
std::size_t telegraf_count(const std::vector<Point>& points, const PlanLimits& limits) {
    std::size_t count = 0;
    for (Table table :
         {Table::Coil, Table::DiscreteInput, Table::HoldingRegister, Table::InputRegister}) {
        std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;
        for (const Point& p : points) {
            if (p.table == table) spans.emplace_back(p.address, p.address + width(p));
        }
        std::sort(spans.begin(), spans.end());
        const std::uint32_t limit = is_bit_table(table) ? limits.max_bits : limits.max_registers;
        std::uint32_t start = 0;
        std::uint32_t end = 0;
        bool open = false;
        for (const auto& [s, e] : spans) {
            if (open && (s <= end || s - end <= limits.max_gap) &&
                std::max(end, e) - start <= limit) {
                end = std::max(end, e);
                continue;
            }
            ++count;
            start = s;
            end = e;
            open = true;
        }
    }
    return count;
}

// Is [start, end) a request the limits allow, given every point of the table?
bool allowed(const std::vector<Point>& points, Table table, std::uint32_t start, std::uint32_t end,
             const PlanLimits& limits) {
    const std::uint32_t limit = is_bit_table(table) ? limits.max_bits : limits.max_registers;
    if (end - start > limit) return false;
    std::uint32_t run = 0;
    for (std::uint32_t r = start; r < end; ++r) {
        const bool occupied = std::any_of(points.begin(), points.end(), [&](const Point& p) {
            return p.table == table && p.address <= r && r < p.address + width(p);
        });
        run = occupied ? 0 : run + 1;
        if (run > limits.max_gap) return false;
    }
    return true;
}

// The fewest requests by brute force: every way to split the points into groups, each
// group read by the tightest request around it.
std::size_t brute_force_minimum(const std::vector<Point>& points, const PlanLimits& limits) {
    const std::size_t n = points.size();
    std::vector<std::size_t> group(n, 0);
    std::size_t best = n;
    // Enumerate set partitions as restricted growth strings.
    std::function<void(std::size_t, std::size_t)> walk = [&](std::size_t i, std::size_t groups) {
        if (groups >= best) return;
        if (i == n) {
            for (std::size_t g = 0; g < groups; ++g) {
                std::uint32_t start = UINT32_MAX;
                std::uint32_t end = 0;
                Table table = Table::Coil;
                for (std::size_t k = 0; k < n; ++k) {
                    if (group[k] != g) continue;
                    if (start != UINT32_MAX && points[k].table != table) return;
                    table = points[k].table;
                    start = std::min<std::uint32_t>(start, points[k].address);
                    end = std::max<std::uint32_t>(end, points[k].address + width(points[k]));
                }
                if (!allowed(points, table, start, end, limits)) return;
            }
            best = groups;
            return;
        }
        for (std::size_t g = 0; g <= groups; ++g) {
            group[i] = g;
            walk(i + 1, std::max(groups, g + 1));
        }
    };
    walk(0, 0);
    return best;
}

// Every point in exactly one request that holds it whole; every request within limits.
void check_plan(const std::vector<Point>& points, const std::vector<ReadRequest>& plan,
                const PlanLimits& limits) {
    std::vector<int> seen(points.size(), 0);
    for (const ReadRequest& r : plan) {
        CHECK(r.count >= 1);
        for (std::size_t i : r.points) {
            REQUIRE(i < points.size());
            ++seen[i];
            CHECK(points[i].table == r.table);
            CHECK(points[i].address >= r.address);
            CHECK(points[i].address + width(points[i]) <= r.address + r.count);
        }
        bool oversize_alone = r.points.size() >= 1;
        for (std::size_t i : r.points)
            oversize_alone = oversize_alone && width(points[i]) == r.count;
        if (!oversize_alone)
            CHECK(allowed(points, r.table, r.address, r.address + r.count, limits));
    }
    for (int s : seen) CHECK(s == 1);
}

std::vector<Point> random_points(std::mt19937& rng, std::size_t n, std::uint16_t span) {
    std::uniform_int_distribution<int> address(0, span);
    std::uniform_int_distribution<int> kind(0, 9);
    std::vector<Point> points;
    for (std::size_t i = 0; i < n; ++i) {
        const int k = kind(rng);
        Table table = k < 7 ? Table::HoldingRegister : (k < 9 ? Table::InputRegister : Table::Coil);
        const ValueType type =
            k % 3 == 0 ? ValueType::U16 : (k % 3 == 1 ? ValueType::F32 : ValueType::F64);
        points.push_back(at(table, static_cast<std::uint16_t>(address(rng)), type));
    }
    return points;
}

// The SDM630 profile's 34 input registers (config/profiles/eastron-sdm630.toml).
std::vector<Point> sdm630_points() {
    std::vector<Point> points;
    for (std::uint16_t a = 0x00; a <= 0x22; a += 2)
        points.push_back(at(Table::InputRegister, a, ValueType::F32));
    for (std::uint16_t a : {0x30, 0x34, 0x38, 0x3C, 0x3E, 0x46, 0x48, 0x4A, 0x4C, 0x4E, 0xC8, 0xCA,
                            0xCC, 0xE0, 0x156, 0x158}) {
        points.push_back(at(Table::InputRegister, a, ValueType::F32));
    }
    return points;
}

}  // namespace

TEST_CASE("planner: nothing to read - nothing to request") {
    CHECK(plan_reads({}, PlanLimits{}).empty());
    CHECK(naive_request_count({}) == 0);
}

TEST_CASE("planner: neighbours merge - a gap within max_gap is spanned - a wider one splits") {
    const std::vector<Point> points{
        at(Table::InputRegister, 0, ValueType::F32), at(Table::InputRegister, 2, ValueType::F32),
        at(Table::InputRegister, 14, ValueType::F32), at(Table::InputRegister, 27, ValueType::F32)};
    // Gaps: 0 (2..2), 10 (4..13), 11 (16..26).
    const auto plan = plan_reads(points, PlanLimits{125, 2000, 10});
    REQUIRE(plan.size() == 2);
    CHECK(plan[0] == ReadRequest{Table::InputRegister, 0, 16, {0, 1, 2}});
    CHECK(plan[1] == ReadRequest{Table::InputRegister, 27, 2, {3}});
    CHECK(plan_reads(points, PlanLimits{125, 2000, 11}).size() == 1);
    CHECK(plan_reads(points, PlanLimits{125, 2000, 0}).size() == 3);
}

TEST_CASE("planner: the length limit splits - and a point is never split across requests") {
    const std::vector<Point> points{at(Table::HoldingRegister, 0, ValueType::F32),
                                    at(Table::HoldingRegister, 2, ValueType::F32),
                                    at(Table::HoldingRegister, 4, ValueType::F32)};
    const auto plan = plan_reads(points, PlanLimits{5, 2000, 10});
    REQUIRE(plan.size() == 2);
    CHECK(plan[0] == ReadRequest{Table::HoldingRegister, 0, 4, {0, 1}});
    CHECK(plan[1] == ReadRequest{Table::HoldingRegister, 4, 2, {2}});
    check_plan(points, plan, PlanLimits{5, 2000, 10});
}

TEST_CASE("planner: a point wider than the limit still gets a request of its own") {
    const std::vector<Point> points{at(Table::InputRegister, 10, ValueType::F64),
                                    at(Table::InputRegister, 20, ValueType::U16)};
    const auto plan = plan_reads(points, PlanLimits{2, 2000, 10});
    REQUIRE(plan.size() == 2);
    CHECK(plan[0] == ReadRequest{Table::InputRegister, 10, 4, {0}});
    CHECK(plan[1] == ReadRequest{Table::InputRegister, 20, 1, {1}});
}

TEST_CASE("planner: tables never mix - coils use max_bits") {
    std::vector<Point> points;
    for (std::uint16_t a = 0; a < 30; ++a) points.push_back(at(Table::Coil, a));
    points.push_back(at(Table::DiscreteInput, 0));
    points.push_back(at(Table::HoldingRegister, 0));
    points.push_back(at(Table::InputRegister, 0));
    const auto plan = plan_reads(points, PlanLimits{125, 16, 10});
    REQUIRE(plan.size() == 5);
    CHECK(plan[0].table == Table::Coil);
    CHECK(plan[0].count == 16);
    CHECK(plan[1].table == Table::Coil);
    CHECK(plan[1].count == 14);
    CHECK(plan[2].table == Table::DiscreteInput);
    CHECK(plan[3].table == Table::HoldingRegister);
    CHECK(plan[4].table == Table::InputRegister);
}

TEST_CASE("planner: duplicates and overlapping points are read once - in one request") {
    const std::vector<Point> points{at(Table::HoldingRegister, 0x1C, ValueType::U16),  // valve
                                    at(Table::HoldingRegister, 0x1C, ValueType::U16),  // battery
                                    at(Table::HoldingRegister, 0x1B, ValueType::U32),  // overlaps
                                    at(Table::HoldingRegister, 0x10, ValueType::U16)};
    const auto plan = plan_reads(points, PlanLimits{125, 2000, 0});
    // 0x10 and 0x1B..0x1C are 10 registers apart: two requests with max_gap 0.
    REQUIRE(plan.size() == 2);
    CHECK(plan[0] == ReadRequest{Table::HoldingRegister, 0x10, 1, {3}});
    CHECK(plan[1] == ReadRequest{Table::HoldingRegister, 0x1B, 2, {2, 0, 1}});
}

TEST_CASE("planner: the last register of the address space") {
    const std::vector<Point> points{at(Table::InputRegister, 65534, ValueType::F32),
                                    at(Table::InputRegister, 65535, ValueType::U16)};
    const auto plan = plan_reads(points, PlanLimits{});
    REQUIRE(plan.size() == 1);
    CHECK(plan[0] == ReadRequest{Table::InputRegister, 65534, 2, {0, 1}});
}

TEST_CASE("planner: protocol limits are enforced even when the profile's are larger") {
    std::vector<Point> points;
    for (std::uint16_t a = 0; a < 200; ++a) points.push_back(at(Table::InputRegister, a));
    const auto plan = plan_reads(points, PlanLimits{60000, 60000, 0});
    REQUIRE(plan.size() == 2);
    CHECK(plan[0].count == 125);
    CHECK(plan[1].count == 75);
}

TEST_CASE("planner: SDM630's 34 points take 5 requests instead of 34") {
    const std::vector<Point> points = sdm630_points();
    REQUIRE(points.size() == 34);
    CHECK(naive_request_count(points) == 34);
    const PlanLimits profile{80, 2000, 10};  // as config/profiles/eastron-sdm630.toml
    const auto plan = plan_reads(points, profile);
    check_plan(points, plan, profile);
    CHECK(plan.size() == 5);
    CHECK(plan[0] == ReadRequest{Table::InputRegister,
                                 0x00,
                                 0x24,
                                 {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}});
    CHECK(plan[1].address == 0x30);
    CHECK(plan[1].count == 0x20);
    // Only touching ranges merged: 9. A 12-register gap allowed: 0x00..0x4F in one read, 4.
    CHECK(plan_reads(points, PlanLimits{80, 2000, 0}).size() == 9);
    CHECK(plan_reads(points, PlanLimits{80, 2000, 12}).size() == 4);
    // Any gap allowed: the protocol's 125 registers still leave 0x00-0x4F, 0xC8-0xE1
    // and 0x156-0x159 apart.
    CHECK(plan_reads(points, PlanLimits{125, 2000, 200}).size() == 3);
    for (const auto& limits : {PlanLimits{80, 2000, 0}, PlanLimits{80, 2000, 12},
                               PlanLimits{125, 2000, 200}, PlanLimits{10, 2000, 3}}) {
        CHECK(plan_reads(points, limits).size() == telegraf_count(points, limits));
    }
}

TEST_CASE("planner: minimal on random small maps (brute force over every grouping)") {
    std::mt19937 rng(20261124);
    for (int round = 0; round < 300; ++round) {
        const std::size_t n = 1 + rng() % 7;
        const std::vector<Point> points = random_points(rng, n, 40);
        const PlanLimits limits{static_cast<std::uint16_t>(4 + rng() % 12), 2000,
                                static_cast<std::uint16_t>(rng() % 6)};
        CAPTURE(round);
        const auto plan = plan_reads(points, limits);
        check_plan(points, plan, limits);
        CHECK(plan.size() == brute_force_minimum(points, limits));
    }
}

TEST_CASE("planner: never more requests than Telegraf's max_insert merge") {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        const std::vector<Point> points = random_points(rng, 1 + rng() % 60, 600);
        const PlanLimits limits{static_cast<std::uint16_t>(4 + rng() % 122), 2000,
                                static_cast<std::uint16_t>(rng() % 20)};
        CAPTURE(round);
        const auto plan = plan_reads(points, limits);
        check_plan(points, plan, limits);
        CHECK(plan.size() <= telegraf_count(points, limits));
        CHECK(plan.size() <= naive_request_count(points));
    }
}

// --- switching -------------------------------------------------------------------------

TEST_CASE("switch on a coil: one write of 1 or 0 (libmodbus sends 0xFF00/0x0000)") {
    SwitchControl c;
    c.table = Table::Coil;
    c.address = 3;
    CHECK(plan_switch(c, true) == std::vector<WriteRequest>{{Table::Coil, 3, {1}, false}});
    CHECK(plan_switch(c, false) == std::vector<WriteRequest>{{Table::Coil, 3, {0}, false}});
}

TEST_CASE("switch on a holding register: function 06 - or 16 when the meter wants it") {
    SwitchControl c;
    c.table = Table::HoldingRegister;
    c.address = 0x001C;
    c.on_value = 1;
    c.off_value = 2;
    CHECK(plan_switch(c, false) ==
          std::vector<WriteRequest>{{Table::HoldingRegister, 0x001C, {2}, false}});
    c.write_multiple = true;
    CHECK(plan_switch(c, true) ==
          std::vector<WriteRequest>{{Table::HoldingRegister, 0x001C, {1}, true}});
}

TEST_CASE("switch with a prefix: Acrel's 0057H = 1 and 0058H = command in one write") {
    SwitchControl c;
    c.table = Table::HoldingRegister;
    c.address = 0x0058;
    c.prefix = {1};
    c.on_value = 0;
    c.off_value = 1;
    CHECK(plan_switch(c, false) ==
          std::vector<WriteRequest>{{Table::HoldingRegister, 0x0057, {1, 1}, true}});
    CHECK(plan_switch(c, true) ==
          std::vector<WriteRequest>{{Table::HoldingRegister, 0x0057, {1, 0}, true}});
}

TEST_CASE("switch with unlock writes: the password goes first") {
    SwitchControl c;
    c.table = Table::HoldingRegister;
    c.address = 0x0100;
    c.unlock_writes = {{0x000A, 1234}};
    const auto writes = plan_switch(c, true);
    REQUIRE(writes.size() == 2);
    CHECK(writes[0] == WriteRequest{Table::HoldingRegister, 0x000A, {1234}, false});
    CHECK(writes[1] == WriteRequest{Table::HoldingRegister, 0x0100, {1}, false});
}

TEST_CASE("switch state read back through a mask: the other flags do not matter") {
    SwitchControl c;
    c.table = Table::HoldingRegister;
    c.state = at(Table::HoldingRegister, 0x001C);
    c.state_mask = 0x0003;
    c.state_on_value = 1;
    c.state_off_value = 2;
    const std::uint16_t open_low_battery[] = {0x0009};
    CHECK(*decode_switch_state(c, open_low_battery) == SwitchState::On);
    const std::uint16_t closed[] = {0x0002};
    CHECK(*decode_switch_state(c, closed) == SwitchState::Off);
    const std::uint16_t moving[] = {0x0000};
    CHECK(*decode_switch_state(c, moving) == SwitchState::Unknown);
    const std::uint16_t both[] = {0x0007};
    CHECK(*decode_switch_state(c, both) == SwitchState::Unknown);
    const std::uint16_t two[] = {1, 2};
    CHECK_FALSE(decode_switch_state(c, two).has_value());
    CHECK_FALSE(decode_switch_state_bit(c, 1).has_value());
}

TEST_CASE("switch state from a coil or discrete input") {
    SwitchControl c;
    c.state = at(Table::DiscreteInput, 4);
    CHECK(*decode_switch_state_bit(c, 1) == SwitchState::On);
    CHECK(*decode_switch_state_bit(c, 0) == SwitchState::Off);
    CHECK_FALSE(decode_switch_state_bit(c, 3).has_value());
    const std::uint16_t one[] = {1};
    CHECK_FALSE(decode_switch_state(c, one).has_value());
    c.state.reset();
    CHECK(has(decode_switch_state_bit(c, 1).error().message, "no state"));
}
