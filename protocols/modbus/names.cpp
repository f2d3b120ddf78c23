// Names and widths of the Modbus table, value type and word order enums, as profiles
// write them.
#include <array>
#include <utility>

#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::modbus {

namespace {

constexpr std::array<std::pair<Table, std::string_view>, 4> kTables{{
    {Table::Coil, "coil"},
    {Table::DiscreteInput, "discrete"},
    {Table::HoldingRegister, "holding"},
    {Table::InputRegister, "input"},
}};

constexpr std::array<std::pair<ValueType, std::string_view>, 10> kTypes{{
    {ValueType::U16, "u16"},
    {ValueType::S16, "s16"},
    {ValueType::U32, "u32"},
    {ValueType::S32, "s32"},
    {ValueType::U64, "u64"},
    {ValueType::S64, "s64"},
    {ValueType::F32, "f32"},
    {ValueType::F64, "f64"},
    {ValueType::Bcd16, "bcd16"},
    {ValueType::Bcd32, "bcd32"},
}};

constexpr std::array<std::pair<WordOrder, std::string_view>, 4> kOrders{{
    {WordOrder::ABCD, "ABCD"},
    {WordOrder::CDAB, "CDAB"},
    {WordOrder::BADC, "BADC"},
    {WordOrder::DCBA, "DCBA"},
}};

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
    for (const auto& [e, name] : names) {
        if (e == value) return name;
    }
    return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                             std::string_view name) {
    for (const auto& [e, n] : names) {
        if (n == name) return e;
    }
    return std::nullopt;
}

}  // namespace

std::uint16_t register_count(ValueType type) {
    switch (type) {
        case ValueType::U16:
        case ValueType::S16:
        case ValueType::Bcd16:
            return 1;
        case ValueType::U32:
        case ValueType::S32:
        case ValueType::F32:
        case ValueType::Bcd32:
            return 2;
        case ValueType::U64:
        case ValueType::S64:
        case ValueType::F64:
            return 4;
    }
    return 1;
}

bool is_bit_table(Table table) { return table == Table::Coil || table == Table::DiscreteInput; }

bool is_float(ValueType type) { return type == ValueType::F32 || type == ValueType::F64; }

std::uint16_t width(const Point& point) {
    return is_bit_table(point.table) ? std::uint16_t{1} : register_count(point.type);
}

std::string_view to_string(Table table) { return name_of(kTables, table); }
std::string_view to_string(ValueType type) { return name_of(kTypes, type); }
std::string_view to_string(WordOrder order) { return name_of(kOrders, order); }
std::optional<Table> parse_table(std::string_view name) { return value_of(kTables, name); }
std::optional<ValueType> parse_value_type(std::string_view name) { return value_of(kTypes, name); }
std::optional<WordOrder> parse_word_order(std::string_view name) { return value_of(kOrders, name); }

}  // namespace ecmgw::modbus
