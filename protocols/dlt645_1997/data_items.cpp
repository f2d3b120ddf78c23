// The DL/T 645-1997 data identifiers the gateway reads, named like their DL/T 645-2007
// counterparts so the store and MQTT see one quantity whichever protocol a meter speaks.
// Formats from shared/protocols.md and the standard; note the fewer decimals than 2007
// (voltage XXX V, current XX.XX A) and the unsigned power.
#include <algorithm>
#include <array>

#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::dlt645_1997 {

namespace {

using dlt645::DataItem;
using dlt645::ValueFormat;

constexpr std::uint8_t kBlockEnd = 0xAA;

constexpr DataItem energy(DataId di, std::string_view name) {
    return {di, name, "kWh", ValueFormat::Decimal, 4, 2, false};
}
constexpr DataItem voltage(DataId di, std::string_view name) {
    return {di, name, "V", ValueFormat::Decimal, 2, 0, false};
}
constexpr DataItem current(DataId di, std::string_view name) {
    return {di, name, "A", ValueFormat::Decimal, 2, 2, false};
}

constexpr std::array kItems{
    energy(0x9010, "import_energy_kwh"),
    energy(0x9011, "import_energy_t1_kwh"),  // sharp
    energy(0x9012, "import_energy_t2_kwh"),  // peak
    energy(0x9013, "import_energy_t3_kwh"),  // flat
    energy(0x9014, "import_energy_t4_kwh"),  // valley
    energy(0x9020, "export_energy_kwh"),
    energy(0x9021, "export_energy_t1_kwh"),
    energy(0x9022, "export_energy_t2_kwh"),
    energy(0x9023, "export_energy_t3_kwh"),
    energy(0x9024, "export_energy_t4_kwh"),
    voltage(0xB611, "voltage_a_v"),
    voltage(0xB612, "voltage_b_v"),
    voltage(0xB613, "voltage_c_v"),
    current(0xB621, "current_a_a"),
    current(0xB622, "current_b_a"),
    current(0xB623, "current_c_a"),
    // XX.XXXX kW without a sign: 1997 defines none, and taking the top bit as one would
    // halve the range of a meter that does not use it.
    DataItem{0xB630, "active_power_kw", "kW", ValueFormat::Decimal, 3, 4, false},
    DataItem{0xB650, "power_factor", "", ValueFormat::Decimal, 2, 3, false},
    DataItem{0xC010, "meter_date", "", ValueFormat::Date, 4, 0, false},
    DataItem{0xC011, "meter_time", "", ValueFormat::Time, 3, 0, false},
    DataItem{0xC020, "status_word_1", "", ValueFormat::StatusWord, 1, 0, false},
    DataItem{0xC032, "meter_address", "", ValueFormat::AddressValue, 6, 0, false},
};

constexpr std::array<DataId, 5> kImportMembers{0x9010, 0x9011, 0x9012, 0x9013, 0x9014};
constexpr std::array<DataId, 5> kExportMembers{0x9020, 0x9021, 0x9022, 0x9023, 0x9024};

constexpr std::array kBlocks{
    DataBlock{0x901F, "import_energy_block", kImportMembers},
    DataBlock{0x902F, "export_energy_block", kExportMembers},
};

std::string hex4(unsigned value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text(4, '0');
    for (int i = 3; i >= 0; --i, value >>= 4)
        text[static_cast<std::size_t>(i)] = kHex[value & 0x0F];
    return text;
}

std::string block_text(const DataBlock& block) {
    return "block " + hex4(block.di) + " (" + std::string(block.name) + ")";
}

std::size_t total_length(std::span<const DataItem* const> items) {
    std::size_t total = 0;
    for (const DataItem* item : items) total += item->length;
    return total;
}

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

const DataBlock* find_block(DataId di) {
    auto it = std::find_if(kBlocks.begin(), kBlocks.end(),
                           [di](const DataBlock& b) { return b.di == di; });
    return it == kBlocks.end() ? nullptr : &*it;
}

const DataBlock* find_block_containing(DataId member) {
    auto it = std::find_if(kBlocks.begin(), kBlocks.end(), [member](const DataBlock& b) {
        return std::find(b.members.begin(), b.members.end(), member) != b.members.end();
    });
    return it == kBlocks.end() ? nullptr : &*it;
}

std::span<const DataBlock> known_blocks() { return kBlocks; }

Expected<dlt645::BlockValues> decode_block(const DataBlock& block, ByteView value) {
    std::vector<const DataItem*> items;
    items.reserve(block.members.size());
    for (DataId member : block.members) {
        const DataItem* item = find_data_item(member);
        if (item == nullptr) {
            return fail(block_text(block) + ": member DI " + hex4(member) + " is not known");
        }
        items.push_back(item);
    }
    // Only a byte beyond the members' lengths is taken for the end mark: no value byte is lost.
    if (value.size() == total_length(items) + 1 && value.back() == kBlockEnd) {
        value = value.first(value.size() - 1);
    }
    auto values = dlt645::decode_items(items, value);
    if (!values) return fail(block_text(block) + ": " + values.error().message);
    return values;
}

}  // namespace ecmgw::dlt645_1997
