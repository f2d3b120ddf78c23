#include "bus/dlt645_driver.hpp"

#include <algorithm>
#include <ctime>
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

using SystemTime = std::chrono::system_clock::time_point;

// A local date and time (the meter's, the gateway's TZ) as Unix ms; -1 when it does not
// exist in the zone.
std::int64_t local_ms(const dlt645::DateTime& t) {
    std::tm tm{};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.month - 1;
    tm.tm_mday = t.day;
    tm.tm_hour = t.hour;
    tm.tm_min = t.minute;
    tm.tm_sec = t.second;
    tm.tm_isdst = -1;
    const std::time_t seconds = std::mktime(&tm);
    return seconds == static_cast<std::time_t>(-1) ? -1 : static_cast<std::int64_t>(seconds) * 1000;
}

// The local midnight that began `t`'s day, as Unix ms.
std::int64_t midnight_before(SystemTime t) {
    dlt645::DateTime day = local_datetime(t);
    day.hour = day.minute = day.second = 0;
    return local_ms(day);
}

// The next local midnight after `t`: a meter without a freeze can only have one then.
SystemTime midnight_after(SystemTime t) {
    // 26 hours from today's midnight is always in tomorrow, whatever the DST change.
    const auto later =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(midnight_before(t))) +
        std::chrono::hours(26);
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(midnight_before(later)));
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

std::chrono::system_clock::time_point Dlt645Driver::now() const {
    return spec_.clock ? spec_.clock() : std::chrono::system_clock::now();
}

// Due when the last freeze seen is older than the last local midnight: one read a day,
// plus retries while the meter has not frozen yet.
bool Dlt645Driver::freeze_due(SystemTime t) const {
    if (spec_.frozen.empty() || spec_.version_1997 || t < freeze_not_before_) return false;
    // With the clock unset there is no midnight to compare with.
    if (!clock_is_plausible(t)) return false;
    return !last_freeze_ms_ || *last_freeze_ms_ < midnight_before(t);
}

Expected<std::int64_t, ReadError> Dlt645Driver::read_freeze_time(Dlt645Client& client) {
    auto raw =
        client.read_raw(spec_.address, *dlt645::daily_freeze_di(dlt645::kDailyFreezeTime, 1));
    if (!raw) return unexpected(raw.error());
    auto when = dlt645::decode_freeze_time(raw->value);
    if (!when) return unexpected(ReadError{ReadFailure::Invalid, when.error().message});
    const std::int64_t ms = local_ms(*when);
    if (ms < 0) {
        return unexpected(
            ReadError{ReadFailure::Invalid, "freeze time is not a local time of the gateway"});
    }
    return ms;
}

Expected<void, ReadError> Dlt645Driver::read_freeze(Dlt645Client& client, ReadOutcome& out,
                                                    bool& answered) {
    const SystemTime t = now();
    if (!freeze_due(t)) return {};
    // A refusal means the meter has no freeze (yet, or at all): a new one can only come
    // at its next midnight. Anything else is tried again after `freeze_retry`.
    auto failed = [&](const ReadError& e) -> Expected<void, ReadError> {
        if (ends_turn(e, answered)) return unexpected(e);
        if (e.kind != ReadFailure::Timeout) answered = true;
        freeze_not_before_ =
            e.kind == ReadFailure::Refused ? midnight_after(t) : t + spec_.freeze_retry;
        out.item_errors.push_back(e);
        return {};
    };
    auto time = read_freeze_time(client);
    if (!time) return failed(time.error());
    answered = true;
    if (last_freeze_ms_ && *time <= *last_freeze_ms_) {
        freeze_not_before_ = t + spec_.freeze_retry;  // not frozen since: its clock is behind
        return {};
    }
    auto raw = client.read_raw(spec_.address,
                               *dlt645::daily_freeze_di(dlt645::kDailyFrozenImportEnergy, 1));
    if (!raw) return failed(raw.error());
    auto energy = dlt645::decode_frozen_energy(raw->value);
    if (!energy) return failed({ReadFailure::Invalid, energy.error().message});
    // The meter may have frozen between the two reads: then the energy belongs to a
    // newer freeze than the time read first, and the next turn reads both again.
    auto again = read_freeze_time(client);
    if (!again) return failed(again.error());
    if (*again != *time) return {};

    for (const auto name : spec_.frozen) {
        const auto at =
            static_cast<std::size_t>(std::find(dlt645::kFrozenImportQuantities.begin(),
                                               dlt645::kFrozenImportQuantities.end(), name) -
                                     dlt645::kFrozenImportQuantities.begin());
        if (at == 0) {
            out.samples.push_back({std::string(name), energy->total, *time});
        } else if (at <= energy->tariffs.size()) {
            out.samples.push_back({std::string(name), energy->tariffs[at - 1], *time});
        }
    }
    last_freeze_ms_ = *time;
    // A freeze older than the last midnight: the meter has not made that one yet.
    if (*time < midnight_before(t)) freeze_not_before_ = t + spec_.freeze_retry;
    return {};
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
    if (auto frozen = read_freeze(client, out, answered); !frozen) {
        return unexpected(frozen.error());
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
