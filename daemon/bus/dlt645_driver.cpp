#include "bus/dlt645_driver.hpp"

#include <algorithm>
#include <thread>

#include "bus/meter_clock.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::bus {

namespace {

constexpr dlt645::DataId kStatusWord3 = 0x04000503;
constexpr int kReadBackAttempts = 3;

// Only numbers become readings; dates, times and addresses are for people.
std::optional<Sample> to_sample(const dlt645::DataItem& item, const dlt645::Value& v) {
    if (v.format != dlt645::ValueFormat::Decimal && v.format != dlt645::ValueFormat::StatusWord) {
        return std::nullopt;
    }
    return Sample{std::string(item.quantity), v.number};
}

}  // namespace

Dlt645Driver::Dlt645Driver(Dlt645MeterSpec spec) : spec_(std::move(spec)) { plan_steps(); }

std::string Dlt645Driver::describe() const {
    return std::string(spec_.version_1997 ? "dlt645-1997 " : "dlt645-2007 ") +
           spec_.address.to_string();
}

// The block that carries `item` in the meter's protocol version, if any.
std::optional<dlt645::DataId> Dlt645Driver::block_of(const dlt645::DataItem& item) const {
    if (spec_.version_1997) {
        const auto* b = dlt645_1997::find_block_containing(static_cast<std::uint16_t>(item.di));
        if (b != nullptr) return b->di;
        return std::nullopt;
    }
    const auto* b = dlt645::find_block_containing(item.di);
    if (b != nullptr) return b->di;
    return std::nullopt;
}

// Items that share a block are asked for together when two or more are wanted.
void Dlt645Driver::plan_steps() {
    std::map<dlt645::DataId, std::vector<const dlt645::DataItem*>> by_block;
    for (const auto* item : spec_.items) {
        if (auto block = block_of(*item)) by_block[*block].push_back(item);
    }
    for (const auto* item : spec_.items) {
        const auto block = block_of(*item);
        if (!block || by_block[*block].size() < 2) {
            steps_.push_back({item, 0, {}});
            continue;
        }
        const bool planned = std::any_of(steps_.begin(), steps_.end(), [&](const Step& s) {
            return s.item == nullptr && s.block == *block;
        });
        if (!planned) steps_.push_back({nullptr, *block, by_block[*block]});
    }
}

std::optional<bool> Dlt645Driver::block_supported(dlt645::DataId block) const {
    auto it = block_ok_.find(block);
    if (it == block_ok_.end()) return std::nullopt;
    return it->second;
}

Expected<dlt645::Value, ReadError> Dlt645Driver::read_item(Dlt645Client& client,
                                                           const dlt645::DataItem& item) {
    return spec_.version_1997 ? client.read_1997(spec_.address, item)
                              : client.read(spec_.address, item);
}

Expected<dlt645::ReadAnswer, ReadError> Dlt645Driver::read_block(Dlt645Client& client,
                                                                 dlt645::DataId block) {
    return spec_.version_1997
               ? client.read_raw_1997(spec_.address, static_cast<std::uint16_t>(block))
               : client.read_raw(spec_.address, block);
}

Expected<dlt645::BlockValues> Dlt645Driver::decode_block(dlt645::DataId block,
                                                         const dlt645::Bytes& value) const {
    if (spec_.version_1997) {
        const auto* b = dlt645_1997::find_block(static_cast<std::uint16_t>(block));
        return dlt645_1997::decode_block(*b, value);
    }
    return dlt645::decode_block(*dlt645::find_block(block), value);
}

Expected<ReadOutcome, ReadError> Dlt645Driver::read(BusContext& bus) {
    Dlt645Client client(bus.exchange());
    ReadOutcome out;
    bool answered = false;
    // A silent meter costs one timeout, not one per item: give up on the first
    // timeout before anything was answered.
    auto note = [&](const ReadError& e) -> bool {
        if (ends_turn(e, answered)) return false;
        if (e.kind != ReadFailure::Timeout) answered = true;
        out.item_errors.push_back(e);
        return true;
    };
    for (const auto& step : steps_) {
        std::vector<const dlt645::DataItem*> singles;
        if (step.item != nullptr) singles.push_back(step.item);
        if (step.item == nullptr && block_ok_.count(step.block) != 0 && !block_ok_[step.block]) {
            singles = step.wanted;
        } else if (step.item == nullptr) {
            auto raw = read_block(client, step.block);
            if (raw) {
                answered = true;
                auto values = decode_block(step.block, raw->value);
                if (!values) {
                    out.item_errors.push_back({ReadFailure::Invalid, values.error().message});
                    continue;
                }
                block_ok_[step.block] = true;
                for (const auto& [item, value] : *values) {
                    if (std::find(step.wanted.begin(), step.wanted.end(), item) ==
                        step.wanted.end())
                        continue;
                    if (auto s = to_sample(*item, value)) out.samples.push_back(std::move(*s));
                }
                continue;
            }
            if (ends_turn(raw.error(), answered)) return unexpected(raw.error());
            // The meter does not know the block: ask item by item, now and from now on.
            if (raw.error().kind == ReadFailure::Refused) block_ok_[step.block] = false;
            answered = answered || raw.error().kind != ReadFailure::Timeout;
            singles = step.wanted;
        }
        for (const auto* item : singles) {
            auto value = read_item(client, *item);
            if (!value) {
                if (!note(value.error())) return unexpected(value.error());
                continue;
            }
            answered = true;
            if (auto s = to_sample(*item, *value)) out.samples.push_back(std::move(*s));
        }
    }
    return out;
}

Expected<void, ReadError> Dlt645Driver::probe(BusContext& bus) {
    Dlt645Client client(bus.exchange());
    const auto* first = spec_.items.empty() ? nullptr : spec_.items.front();
    if (first == nullptr) return {};
    auto value = read_item(client, *first);
    // Any answer, even a refusal, shows the meter is alive.
    if (!value && (value.error().kind == ReadFailure::Timeout ||
                   value.error().kind == ReadFailure::LinkError)) {
        return unexpected(value.error());
    }
    return {};
}

Expected<SupplyState, ReadError> Dlt645Driver::supply_state(BusContext& bus) {
    if (spec_.version_1997) return MeterDriver::supply_state(bus);
    Dlt645Client client(bus.exchange());
    const auto* item = dlt645::find_data_item(kStatusWord3);
    auto word = client.read(spec_.address, *item);
    if (!word) return unexpected(word.error());
    return dlt645::decode_relay_status(word->status).open ? SupplyState::Off : SupplyState::On;
}

Expected<SupplyState, ReadError> Dlt645Driver::switch_supply(BusContext& bus, bool on) {
    if (!spec_.control) return MeterDriver::switch_supply(bus, on);
    const auto now = std::chrono::system_clock::now();
    if (!clock_is_plausible(now)) {
        return unexpected(ReadError{ReadFailure::Refused,
                                    "the gateway clock is not set: a control command needs a "
                                    "validity time the meter can check"});
    }
    Dlt645Client client(bus.exchange());
    const auto command = on ? dlt645::ControlCommand::DirectClose : dlt645::ControlCommand::Trip;
    auto done = client.control(spec_.address, *spec_.control, command,
                               local_datetime(now + spec_.control_valid));
    if (!done) return unexpected(done.error());
    // Some meters answer stale relay bits for a moment after switching.
    Expected<SupplyState, ReadError> state = SupplyState::Unknown;
    for (int attempt = 0; attempt < kReadBackAttempts; ++attempt) {
        std::this_thread::sleep_for(spec_.relay_settle);
        state = supply_state(bus);
        if (state && *state == (on ? SupplyState::On : SupplyState::Off)) break;
    }
    return state;
}

}  // namespace ecmgw::bus
