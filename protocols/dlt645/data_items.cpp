// The DL/T 645-2007 data identifiers the gateway reads, with the names they
// carry in the store and on MQTT. Formats from shared/protocols.md.
#include <algorithm>
#include <array>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

constexpr DataItem energy(DataId di, std::string_view name) {
    return {di, name, "kWh", ValueFormat::Decimal, 4, 2, false};
}
constexpr DataItem status_word(DataId di, std::string_view name) {
    return {di, name, "", ValueFormat::StatusWord, 2, 0, false};
}

constexpr std::array kItems{
    energy(0x00000000, "energy_kwh"),
    energy(0x00000100, "energy_t1_kwh"),  // combined active energy, sharp
    energy(0x00000200, "energy_t2_kwh"),  // peak
    energy(0x00000300, "energy_t3_kwh"),  // flat
    energy(0x00000400, "energy_t4_kwh"),  // valley
    energy(0x00010000, "import_energy_kwh"),
    energy(0x00010100, "import_energy_t1_kwh"),  // sharp
    energy(0x00010200, "import_energy_t2_kwh"),  // peak
    energy(0x00010300, "import_energy_t3_kwh"),  // flat
    energy(0x00010400, "import_energy_t4_kwh"),  // valley
    energy(0x00020000, "export_energy_kwh"),
    energy(0x00020100, "export_energy_t1_kwh"),
    energy(0x00020200, "export_energy_t2_kwh"),
    energy(0x00020300, "export_energy_t3_kwh"),
    energy(0x00020400, "export_energy_t4_kwh"),
    DataItem{0x02010100, "voltage_a_v", "V", ValueFormat::Decimal, 2, 1, false},
    DataItem{0x02010200, "voltage_b_v", "V", ValueFormat::Decimal, 2, 1, false},
    DataItem{0x02010300, "voltage_c_v", "V", ValueFormat::Decimal, 2, 1, false},
    DataItem{0x02020100, "current_a_a", "A", ValueFormat::Decimal, 3, 3, true},
    DataItem{0x02020200, "current_b_a", "A", ValueFormat::Decimal, 3, 3, true},
    DataItem{0x02020300, "current_c_a", "A", ValueFormat::Decimal, 3, 3, true},
    DataItem{0x02030000, "active_power_kw", "kW", ValueFormat::Decimal, 3, 4, true},
    DataItem{0x02060000, "power_factor", "", ValueFormat::Decimal, 2, 3, true},
    DataItem{0x02800002, "frequency_hz", "Hz", ValueFormat::Decimal, 2, 2, false},
    DataItem{0x04000101, "meter_date", "", ValueFormat::Date, 4, 0, false},
    DataItem{0x04000102, "meter_time", "", ValueFormat::Time, 3, 0, false},
    DataItem{0x04000401, "meter_address", "", ValueFormat::AddressValue, 6, 0, false},
    status_word(0x04000501, "status_word_1"),
    status_word(0x04000502, "status_word_2"),
    status_word(0x04000503, "status_word_3"),  // relay state
    status_word(0x04000504, "status_word_4"),
    status_word(0x04000505, "status_word_5"),
    status_word(0x04000506, "status_word_6"),
    status_word(0x04000507, "status_word_7"),
};

}  // namespace

const DataItem* find_data_item(DataId di) {
    auto it =
        std::find_if(kItems.begin(), kItems.end(), [di](const DataItem& d) { return d.di == di; });
    return it == kItems.end() ? nullptr : &*it;
}

const DataItem* find_data_item(std::string_view quantity) {
    auto it = std::find_if(kItems.begin(), kItems.end(),
                           [quantity](const DataItem& d) { return d.quantity == quantity; });
    return it == kItems.end() ? nullptr : &*it;
}

std::span<const DataItem> known_data_items() { return kItems; }

}  // namespace ecmgw::dlt645
