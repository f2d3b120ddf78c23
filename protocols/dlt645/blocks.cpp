// Block reads (DI1 = FF): one request, the values of several data items back to back.
#include <algorithm>
#include <array>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

std::string hex(std::uint32_t value, int digits) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string text(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i, value >>= 4) {
        text[static_cast<std::size_t>(i)] = kHex[value & 0x0F];
    }
    return text;
}

// Total and tariffs 1-4: the block of a meter with four tariffs, the common case. A meter
// set up with more tariffs answers longer blocks, which decode_block refuses.
constexpr std::array<DataId, 5> kEnergyMembers{0x00000000, 0x00000100, 0x00000200, 0x00000300,
                                               0x00000400};
constexpr std::array<DataId, 5> kImportMembers{0x00010000, 0x00010100, 0x00010200, 0x00010300,
                                               0x00010400};
constexpr std::array<DataId, 5> kExportMembers{0x00020000, 0x00020100, 0x00020200, 0x00020300,
                                               0x00020400};
constexpr std::array<DataId, 3> kVoltageMembers{0x02010100, 0x02010200, 0x02010300};
constexpr std::array<DataId, 3> kCurrentMembers{0x02020100, 0x02020200, 0x02020300};

constexpr std::array kBlocks{
    DataBlock{0x0000FF00, "energy_block", kEnergyMembers},
    DataBlock{0x0001FF00, "import_energy_block", kImportMembers},
    DataBlock{0x0002FF00, "export_energy_block", kExportMembers},
    DataBlock{0x0201FF00, "voltage_block", kVoltageMembers},
    DataBlock{0x0202FF00, "current_block", kCurrentMembers},
};

std::string block_text(const DataBlock& block) {
    return "block " + hex(block.di, 8) + " (" + std::string(block.name) + ")";
}

std::size_t total_length(std::span<const DataItem* const> items) {
    std::size_t total = 0;
    for (const DataItem* item : items) total += item->length;
    return total;
}

}  // namespace

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

Expected<BlockValues> decode_items(std::span<const DataItem* const> items, ByteView value) {
    const std::size_t expected = total_length(items);
    if (value.size() != expected) {
        return fail(std::to_string(value.size()) + " value bytes, expected " +
                    std::to_string(expected) + " for " + std::to_string(items.size()) + " items");
    }
    BlockValues values;
    values.reserve(items.size());
    std::size_t at = 0;
    for (const DataItem* item : items) {
        auto decoded = decode_value(*item, value.subspan(at, item->length));
        if (!decoded) return unexpected(decoded.error());
        values.emplace_back(item, std::move(*decoded));
        at += item->length;
    }
    return values;
}

Expected<BlockValues> decode_block(const DataBlock& block, ByteView value) {
    std::vector<const DataItem*> items;
    items.reserve(block.members.size());
    for (DataId member : block.members) {
        const DataItem* item = find_data_item(member);
        if (item == nullptr) {
            return fail(block_text(block) + ": member DI " + hex(member, 8) + " is not known");
        }
        items.push_back(item);
    }
    auto values = decode_items(items, value);
    if (!values) return fail(block_text(block) + ": " + values.error().message);
    return values;
}

}  // namespace ecmgw::dlt645
