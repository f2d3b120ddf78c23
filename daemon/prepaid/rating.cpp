#include "ecmgw/prepaid/rating.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <string>

// How an interval is rated (see rating.hpp for the contract):
//
// 1. Segments. [start_ms, end_ms) is cut where the price may change: at each
//    local midnight, each time-of-use range boundary of that day's table (the day
//    kind comes from the calendar), each tariff version's effective_from, and
//    wherever the local UTC offset changes (daylight saving), so that within a
//    segment the local clock runs with UTC and its boundaries can be computed as
//    "this many ms after the segment start". Billing cycles start at local
//    midnights, so they are cut too. A zero-length interval is one segment at
//    start_ms.
//
// 2. Consumption per segment, in exact micro-units. Without the meter's period
//    registers, the interval's consumption is shared in proportion to segment
//    duration. With them (Interval::period_micro), the meter's per-period amounts
//    are first reconciled with the total register's delta (shared in proportion
//    to the period amounts, so they sum to it exactly), then each period's amount
//    is shared over the segments of that period in proportion to their duration,
//    which keeps each period's consumption on its days. An amount the meter put in
//    a period that no segment of the interval is in (its clock or its period table
//    differs from the tariff's) is shared over all segments by duration, like
//    without period registers. Every sharing is by largest remainder: floor shares,
//    then the leftover micro-units one each to the largest remainders, ties to the
//    earliest segment, so the parts sum exactly and the result is deterministic.
//
// 3. Tiers. In time order, each segment's consumption fills the tiers of its
//    version from the consumption already rated in its billing cycle; a segment in
//    a different cycle than the state's starts the count again from 0.
//
// 4. Money. Each line costs consumption × price pico-yuan exactly; the sum plus
//    the carried remainder is split into whole fen and the new remainder.

namespace ecmgw::prepaid {
namespace {

__extension__ typedef __int128 Wide;

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::int64_t kMsPerMinute = 60'000;

struct Segment {
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    std::size_t version = 0;
    int date_key = 0;
    Period period = Period::Flat;
    std::int64_t consumption_micro = 0;

    std::int64_t duration() const { return end_ms - start_ms; }
};

std::size_t version_index_at(const Tariff& t, std::int64_t utc_ms) {
    std::size_t index = 0;
    for (std::size_t i = 1; i < t.versions.size(); ++i) {
        if (t.versions[i].effective_from_ms <= utc_ms) index = i;
    }
    return index;
}

// The day table that applies on a day of `kind`: its own, else the weekday table
// (empty = the whole day flat).
const std::vector<TouRange>& table_for(const TariffVersion& v, DayKind kind) {
    const std::vector<TouRange>& own = v.day_tables[static_cast<std::size_t>(kind)];
    if (!own.empty()) return own;
    return v.day_tables[static_cast<std::size_t>(DayKind::Weekday)];
}

// The period at `minute` of the day and the minute its range ends.
std::pair<Period, std::int64_t> period_at(const std::vector<TouRange>& table, std::int64_t minute) {
    for (const TouRange& r : table) {
        if (r.start_minute <= minute && minute < r.end_minute) return {r.period, r.end_minute};
    }
    return {Period::Flat, kMinutesPerDay};  // no table (a validated table covers the day)
}

// Local wall-clock milliseconds since 1970-01-01 local, minus UTC: the offset.
std::int64_t offset_ms(const LocalTime& t, std::int64_t utc_ms) {
    return days_from_civil(t.year, t.month, t.day) * kMsPerDay + t.ms_of_day - utc_ms;
}

Result check_local(const LocalTime& t, std::int64_t utc_ms) {
    if (t.ms_of_day < 0 || t.ms_of_day >= kMsPerDay || t.month < 1 || t.month > 12 || t.day < 1 ||
        t.day > 31) {
        return fail("the calendar gave an invalid local time for " + std::to_string(utc_ms) +
                    " ms");
    }
    return {};
}

Expected<std::vector<Segment>> segments_of(const Tariff& tariff, const Calendar& calendar,
                                           std::int64_t start_ms, std::int64_t end_ms) {
    std::vector<Segment> out;
    if (start_ms == end_ms) {
        const LocalTime lt = calendar.local(start_ms);
        if (auto ok = check_local(lt, start_ms); !ok) return fail(ok.error().message);
        const std::size_t v = version_index_at(tariff, start_ms);
        const auto& table = table_for(tariff.versions[v], calendar.day_kind(lt));
        out.push_back(
            {start_ms, end_ms, v, lt.date_key(), period_at(table, lt.minute_of_day()).first});
        return out;
    }
    std::int64_t t = start_ms;
    while (t < end_ms) {
        const LocalTime lt = calendar.local(t);
        if (auto ok = check_local(lt, t); !ok) return fail(ok.error().message);
        const std::int64_t offset = offset_ms(lt, t);
        const std::size_t v = version_index_at(tariff, t);
        const auto& table = table_for(tariff.versions[v], calendar.day_kind(lt));
        const auto [period, range_end_minute] = period_at(table, lt.minute_of_day());
        // The range's end (or midnight) if the offset holds until then; > t since the
        // range contains t's minute.
        std::int64_t e = end_ms;
        if (range_end_minute * kMsPerMinute - lt.ms_of_day < end_ms - t) {
            e = t + (range_end_minute * kMsPerMinute - lt.ms_of_day);
        }
        if (v + 1 < tariff.versions.size()) {
            e = std::min(e, tariff.versions[v + 1].effective_from_ms);
        }
        // A change of offset before e ends the segment there (bisection for the
        // first instant with another offset).
        auto offset_at = [&calendar](std::int64_t ms) { return offset_ms(calendar.local(ms), ms); };
        if (e - 1 > t && offset_at(e - 1) != offset) {
            std::int64_t lo = t;
            std::int64_t hi = e - 1;
            while (hi - lo > 1) {
                const std::int64_t mid = lo + (hi - lo) / 2;
                if (offset_at(mid) == offset) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            e = hi;
        }
        if (e <= t) return fail("internal error: no progress cutting the interval");
        out.push_back({t, e, v, lt.date_key(), period});
        t = e;
    }
    return out;
}

// Shares `total` (>= 0) among parts in proportion to `weights` (>= 0, not all 0):
// floor shares, then the leftover one each to the largest remainders, ties to the
// earliest part. The shares sum to `total` exactly.
std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<std::int64_t>& weights) {
    Wide sum = 0;
    for (const std::int64_t w : weights) sum += w;
    std::vector<std::int64_t> share(weights.size(), 0);
    if (sum <= 0 || total == 0) return share;
    std::vector<Wide> remainder(weights.size(), 0);
    std::int64_t left = total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Wide num = static_cast<Wide>(total) * weights[i];
        share[i] = static_cast<std::int64_t>(num / sum);
        remainder[i] = num % sum;
        left -= share[i];
    }
    if (left > 0) {
        std::vector<std::size_t> order(weights.size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&remainder](std::size_t a, std::size_t b) {
            return remainder[a] > remainder[b];
        });
        // left < number of parts: each floor lost less than one.
        for (std::size_t i = 0; left > 0; ++i, --left) ++share[order[i]];
    }
    return share;
}

// Shares `total` over the segments listed in `which` by duration, adding to them.
void share_by_time(std::int64_t total, std::vector<Segment>& segments,
                   const std::vector<std::size_t>& which) {
    std::vector<std::int64_t> durations;
    durations.reserve(which.size());
    for (const std::size_t i : which) durations.push_back(segments[i].duration());
    const std::vector<std::int64_t> shares = apportion(total, durations);
    for (std::size_t k = 0; k < which.size(); ++k) {
        segments[which[k]].consumption_micro += shares[k];
    }
}

Result allocate(std::int64_t consumption, const Interval& iv, std::vector<Segment>& segments) {
    if (iv.period_micro) {
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            if ((*iv.period_micro)[p] < 0) {
                return fail(std::string("the meter's ") + period_name(static_cast<Period>(p)) +
                            " register went backwards");
            }
        }
    }
    if (segments.size() == 1) {  // a zero-length interval, or one price all along
        segments[0].consumption_micro = consumption;
        return {};
    }
    std::vector<std::size_t> all(segments.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    if (!iv.period_micro) {
        share_by_time(consumption, segments, all);
        return {};
    }
    const std::vector<std::int64_t> meter(iv.period_micro->begin(), iv.period_micro->end());
    if (std::all_of(meter.begin(), meter.end(), [](std::int64_t m) { return m == 0; })) {
        share_by_time(consumption, segments, all);
        return {};
    }
    const std::vector<std::int64_t> per_period = apportion(consumption, meter);
    std::int64_t unplaced = 0;
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        if (per_period[p] == 0) continue;
        std::vector<std::size_t> in_period;
        for (std::size_t i = 0; i < segments.size(); ++i) {
            if (static_cast<std::size_t>(segments[i].period) == p) in_period.push_back(i);
        }
        if (in_period.empty()) {
            unplaced += per_period[p];  // <= consumption: no overflow
        } else {
            share_by_time(per_period[p], segments, in_period);
        }
    }
    share_by_time(unplaced, segments, all);
    return {};
}

Result add_line(std::vector<ChargeLine>& lines, const Segment& s, std::size_t tier,
                std::int64_t consumption, Price price) {
    const Wide amount = static_cast<Wide>(consumption) * price.micro_yuan;
    if (amount > kMaxInt) return fail("charge too large for one interval");
    if (!lines.empty()) {
        ChargeLine& last = lines.back();
        if (last.date_key == s.date_key && last.version == s.version && last.tier == tier &&
            last.period == s.period && last.price == price) {
            const Wide merged = static_cast<Wide>(last.amount_pico_yuan) + amount;
            if (merged > kMaxInt) return fail("charge too large for one interval");
            last.consumption_micro += consumption;  // both parts of one interval's consumption
            last.amount_pico_yuan = static_cast<std::int64_t>(merged);
            return {};
        }
    }
    lines.push_back({s.date_key, s.version, tier, s.period, consumption, price,
                     static_cast<std::int64_t>(amount)});
    return {};
}

}  // namespace

std::int64_t Charge::total_pico_yuan() const {
    std::int64_t sum = 0;
    for (const ChargeLine& l : lines) sum += l.amount_pico_yuan;
    return sum;
}

Expected<Charge> rate(const Tariff& tariff, const Calendar& calendar, const Interval& iv,
                      RatingState& state) {
    if (auto ok = validate(tariff); !ok) {
        return fail("tariff '" + tariff.id + "': " + ok.error().message);
    }
    if (state.remainder_pico_yuan < 0 || state.remainder_pico_yuan >= kPicoYuanPerFen) {
        return fail("rating state remainder " + std::to_string(state.remainder_pico_yuan) +
                    " pico-yuan is outside [0, 1 fen)");
    }
    if (state.cycle_consumed_micro < 0) return fail("rating state cycle consumption is negative");
    auto start = to_micro_units(iv.start_register);
    if (!start) return fail("start register: " + start.error().message);
    auto end = to_micro_units(iv.end_register);
    if (!end) return fail("end register: " + end.error().message);
    if (*end < *start) {
        return fail("register went backwards (" + iv.start_register.to_string() + " -> " +
                    iv.end_register.to_string() + ")");
    }
    if (*start < 0 && *end > *start + kMaxInt) return fail("consumption too large");
    if (iv.end_ms < iv.start_ms) {
        return fail("interval ends before it starts (" + std::to_string(iv.start_ms) + " ms -> " +
                    std::to_string(iv.end_ms) + " ms)");
    }
    if (iv.start_ms < 0 && iv.end_ms > iv.start_ms + kMaxInt) return fail("interval too long");

    Charge charge;
    charge.consumption_micro = *end - *start;
    auto segments = segments_of(tariff, calendar, iv.start_ms, iv.end_ms);
    if (!segments) return fail(segments.error().message);
    if (auto ok = allocate(charge.consumption_micro, iv, *segments); !ok) {
        return fail(ok.error().message);
    }

    RatingState next = state;
    for (const Segment& s : *segments) {
        const TariffVersion& version = tariff.versions[s.version];
        const int cycle = cycle_start_key(version.cycle, s.date_key);
        if (cycle != next.cycle_key) {
            next.cycle_key = cycle;
            next.cycle_consumed_micro = 0;
        }
        if (s.consumption_micro == 0) continue;
        const std::int64_t from = next.cycle_consumed_micro;
        if (from > kMaxInt - s.consumption_micro) return fail("cycle consumption too large");
        const std::int64_t to = from + s.consumption_micro;
        std::int64_t lower = 0;
        for (std::size_t i = 0; i < version.tiers.size() && lower < to; ++i) {
            const Tier& tier = version.tiers[i];
            const std::int64_t upper = tier.upper_micro ? *tier.upper_micro : kMaxInt;
            const std::int64_t a = std::max(from, lower);
            const std::int64_t b = std::min(to, upper);
            if (b > a) {
                const auto& price = tier.prices[static_cast<std::size_t>(s.period)];
                if (!price) {
                    return fail(std::string("tier ") + std::to_string(i + 1) + " has no " +
                                period_name(s.period) + " price");
                }
                if (auto ok = add_line(charge.lines, s, i, b - a, *price); !ok) {
                    return fail(ok.error().message);
                }
            }
            lower = upper;
        }
        next.cycle_consumed_micro = to;
    }

    Wide total = 0;
    for (const ChargeLine& l : charge.lines) total += l.amount_pico_yuan;
    if (total > kMaxInt) return fail("charge too large for one interval");
    total += next.remainder_pico_yuan;
    charge.fen = static_cast<std::int64_t>(total / kPicoYuanPerFen);
    next.remainder_pico_yuan = static_cast<std::int64_t>(total % kPicoYuanPerFen);
    state = next;
    return charge;
}

// Each local day whose first instant is in (after_ms, until_ms], found with the
// calendar's next_day_start_ms (so a day shortened or lengthened by daylight
// saving still counts once). The daily charge is due on every such day, the
// monthly one on days whose day of the month is the cycle's start_day, for
// yearly cycles too (their fixed charge is still monthly). The version is the one
// in force at the day's start.
std::vector<FixedCharge> fixed_charges_due(const Tariff& tariff, const Calendar& calendar,
                                           std::int64_t after_ms, std::int64_t until_ms) {
    std::vector<FixedCharge> out;
    if (tariff.versions.empty() || until_ms <= after_ms) return out;
    for (std::int64_t day = calendar.next_day_start_ms(after_ms); day <= until_ms;
         day = calendar.next_day_start_ms(day)) {
        const LocalTime lt = calendar.local(day);
        const TariffVersion& v = tariff.version_at(day);
        if (v.fixed_daily_fen > 0) {
            out.push_back({FixedCharge::Kind::Daily, lt.date_key(), v.fixed_daily_fen});
        }
        if (v.fixed_monthly_fen > 0 && lt.day == v.cycle.start_day) {
            out.push_back({FixedCharge::Kind::Monthly, lt.date_key(), v.fixed_monthly_fen});
        }
    }
    return out;
}

}  // namespace ecmgw::prepaid
