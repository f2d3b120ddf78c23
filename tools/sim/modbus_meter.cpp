#include "sim/modbus_meter.hpp"

#include <algorithm>
#include <array>
#include <climits>

#include "sim/quantities.hpp"

namespace ecmgw::sim {

namespace {

using modbus::Table;

constexpr std::array kTables{Table::Coil, Table::DiscreteInput, Table::HoldingRegister,
                             Table::InputRegister};

std::uint16_t swapped(std::uint16_t w) { return static_cast<std::uint16_t>((w << 8) | (w >> 8)); }

bool is_three_phase(const std::vector<modbus::Point>& points) {
    return std::any_of(points.begin(), points.end(), [](const modbus::Point& p) {
        return p.quantity == "voltage_b_v" || p.quantity == "voltage_c_v" ||
               p.quantity == "current_b_a" || p.quantity == "current_c_a";
    });
}

// The registers (or bits) a point, the switch or its state occupy, per table.
class Extents {
  public:
    void add(Table t, std::uint16_t address, std::uint16_t count) {
        auto& e = extent_[static_cast<std::size_t>(t)];
        e.low = std::min<long>(e.low, address);
        e.high = std::max<long>(e.high, static_cast<long>(address) + count);
    }
    TableImage image(Table t) const {
        const auto& e = extent_[static_cast<std::size_t>(t)];
        if (e.high <= e.low) return {};
        return {static_cast<std::uint16_t>(e.low),
                std::vector<std::uint16_t>(static_cast<std::size_t>(e.high - e.low), 0)};
    }

  private:
    struct Extent {
        long low = LONG_MAX;
        long high = LONG_MIN;
    };
    std::array<Extent, 4> extent_{};
};

std::uint16_t* at(RegisterImage& image, Table t, std::uint16_t address) {
    auto& table = image.table(t);
    if (address < table.start || address - table.start >= static_cast<long>(table.values.size())) {
        return nullptr;
    }
    return &table.values[address - table.start];
}

std::optional<std::uint16_t> at(const RegisterImage& image, Table t, std::uint16_t address) {
    const auto& table = image.table(t);
    if (address < table.start || address - table.start >= static_cast<long>(table.values.size())) {
        return std::nullopt;
    }
    return table.values[address - table.start];
}

bool covers(std::uint16_t address, std::size_t count, std::uint16_t target) {
    return target >= address && target - address < static_cast<long>(count);
}

}  // namespace

TableImage& RegisterImage::table(Table t) {
    switch (t) {
        case Table::Coil:
            return coils;
        case Table::DiscreteInput:
            return discrete_inputs;
        case Table::HoldingRegister:
            return holding;
        case Table::InputRegister:
            break;
    }
    return input;
}

const TableImage& RegisterImage::table(Table t) const {
    return const_cast<RegisterImage*>(this)->table(t);
}

ModbusMeter::ModbusMeter(ModbusMeterSpec spec)
    : spec_(std::move(spec)),
      register_(spec_.initial_milli, spec_.rate),
      phases_(is_three_phase(spec_.points) ? 3 : 1) {
    Extents extents;
    for (const auto& p : spec_.points) extents.add(p.table, p.address, modbus::width(p));
    if (spec_.supply) {
        const auto& c = *spec_.supply;
        extents.add(c.table, static_cast<std::uint16_t>(c.address - c.prefix.size()),
                    static_cast<std::uint16_t>(c.prefix.size() + 1));
        for (const auto& [address, value] : c.unlock_writes) {
            extents.add(Table::HoldingRegister, address, 1);
        }
        if (c.state) extents.add(c.state->table, c.state->address, modbus::width(*c.state));
    }
    for (auto t : kTables) layout_.table(t) = extents.image(t);
}

void ModbusMeter::advance_to(std::int64_t now_ms) { register_.advance_to(now_ms, supply_on_); }

RegisterImage ModbusMeter::image() const {
    RegisterImage image = layout_;
    if (spec_.supply) {
        // The command register (and its prefix) read back what was last written; points
        // and the state register that share it are laid over it next.
        const auto& c = *spec_.supply;
        const std::uint16_t command = supply_on_ ? c.on_value : c.off_value;
        if (auto* r = at(image, c.table, c.address)) {
            *r = c.table == Table::Coil ? (command != 0 ? 1 : 0) : command;
        }
        for (std::size_t i = 0; i < c.prefix.size(); ++i) {
            const auto address = static_cast<std::uint16_t>(c.address - c.prefix.size() + i);
            if (auto* r = at(image, Table::HoldingRegister, address)) *r = c.prefix[i];
        }
    }
    fill_points(image);
    fill_switch(image);
    return image;
}

void ModbusMeter::fill_points(RegisterImage& image) const {
    MeterState s;
    const Decimal reading = register_.reading(3);
    (spec_.water ? s.volume_m3 : s.energy_kwh) = reading;
    (spec_.water ? s.flow_lph : s.load_w) = spec_.rate;
    s.voltage_dv = spec_.voltage_dv;
    s.phases = phases_;
    s.supply_on = supply_on_;

    // Whole values first, then the flags, which share registers with each other.
    for (const bool flags : {false, true}) {
        for (const auto& p : spec_.points) {
            if (p.bit.has_value() != flags) continue;
            const Decimal value = quantity_value(p.quantity, s).value_or(Decimal{0, 0});
            if (modbus::is_bit_table(p.table)) {
                if (auto* r = at(image, p.table, p.address)) *r = value == Decimal{0, 0} ? 0 : 1;
                continue;
            }
            if (flags) {
                const auto mask = modbus::encode_point(p, Decimal{1, 0});
                if (!mask) continue;
                for (std::size_t i = 0; i < mask->size(); ++i) {
                    auto* r = at(image, p.table, static_cast<std::uint16_t>(p.address + i));
                    if (r == nullptr) continue;
                    *r = static_cast<std::uint16_t>(*r & ~(*mask)[i]);
                    if (!(value == Decimal{0, 0})) *r = static_cast<std::uint16_t>(*r | (*mask)[i]);
                }
                continue;
            }
            // A value the type cannot hold reads as zeros, like an unset register.
            const auto words = modbus::encode_point(p, value);
            for (std::size_t i = 0; words && i < words->size(); ++i) {
                if (auto* r = at(image, p.table, static_cast<std::uint16_t>(p.address + i))) {
                    *r = (*words)[i];
                }
            }
        }
    }
}

void ModbusMeter::fill_switch(RegisterImage& image) const {
    if (!spec_.supply || !spec_.supply->state) return;
    const auto& c = *spec_.supply;
    const auto& p = *c.state;
    const std::uint16_t state = supply_on_ ? c.state_on_value : c.state_off_value;
    auto* r = at(image, p.table, p.address);
    if (r == nullptr) return;
    if (modbus::is_bit_table(p.table)) {
        *r = state != 0 ? 1 : 0;
        return;
    }
    // Only the masked bits carry the state: the others (a battery flag) stay the points'.
    const bool swap = p.order == modbus::WordOrder::BADC || p.order == modbus::WordOrder::DCBA;
    const std::uint16_t mask = swap ? swapped(c.state_mask) : c.state_mask;
    const std::uint16_t bits = swap ? swapped(state) : state;
    *r = static_cast<std::uint16_t>((*r & ~mask) | (bits & mask));
}

std::optional<std::uint8_t> ModbusMeter::refuse_write(Table table, std::uint16_t address,
                                                      std::span<const std::uint16_t> values) const {
    if (!spec_.supply || values.empty()) return kIllegalDataAddress;
    const auto& c = *spec_.supply;
    const auto prefix_start = static_cast<std::uint16_t>(c.address - c.prefix.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        const auto a = static_cast<std::uint16_t>(address + i);
        const bool command = table == c.table && a == c.address;
        const bool prefix = table == Table::HoldingRegister && c.table == table &&
                            a >= prefix_start && a < c.address;
        const bool unlock = table == Table::HoldingRegister &&
                            std::any_of(c.unlock_writes.begin(), c.unlock_writes.end(),
                                        [a](const auto& w) { return w.first == a; });
        if (!command && !prefix && !unlock) return kIllegalDataAddress;
    }
    if (table != c.table || !covers(address, values.size(), c.address)) return std::nullopt;
    const std::uint16_t v = values[c.address - address];
    if (table == Table::HoldingRegister && v != c.on_value && v != c.off_value) {
        return kIllegalDataValue;
    }
    for (std::size_t i = 0; i < c.prefix.size(); ++i) {
        const auto a = static_cast<std::uint16_t>(prefix_start + i);
        if (!covers(address, values.size(), a) || values[a - address] != c.prefix[i]) {
            return kIllegalDataValue;
        }
    }
    return std::nullopt;
}

void ModbusMeter::apply_write(Table table, std::uint16_t address,
                              std::span<const std::uint16_t> values) {
    if (!spec_.supply) return;
    const auto& c = *spec_.supply;
    if (table != c.table || !covers(address, values.size(), c.address)) return;
    const std::uint16_t v = values[c.address - address];
    if (table == Table::Coil) {
        supply_on_ = (v != 0) == (c.on_value != 0);
    } else if (v == c.on_value || v == c.off_value) {
        supply_on_ = v == c.on_value;
    }
}

std::vector<AnsweredValue> ModbusMeter::values_in(Table table, std::uint16_t address,
                                                  std::uint16_t count) const {
    const RegisterImage image = this->image();
    std::vector<AnsweredValue> out;
    for (const auto& p : spec_.points) {
        if (p.table != table || p.address < address ||
            p.address + modbus::width(p) > address + count) {
            continue;
        }
        std::vector<std::uint16_t> words;
        for (std::uint16_t i = 0; i < modbus::width(p); ++i) {
            words.push_back(
                at(image, table, static_cast<std::uint16_t>(p.address + i)).value_or(0));
        }
        const auto value = modbus::is_bit_table(table)
                               ? modbus::decode_bit(p, static_cast<std::uint8_t>(words[0]))
                               : modbus::decode_point(p, words);
        if (value) out.push_back({p.quantity, value->to_string()});
    }
    return out;
}

}  // namespace ecmgw::sim
