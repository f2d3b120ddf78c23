#include "prepaid/rating.hpp"

#include <array>
#include <limits>

namespace ecmgw::prepaid {
namespace {

__extension__ typedef __int128 Wide;

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

Expected<ChargeLine> line(ChargeLine::Kind kind, std::size_t index, std::int64_t consumption,
                          Price price) {
    const Wide amount = static_cast<Wide>(consumption) * price.micro_yuan;
    if (amount > kMaxInt) return fail("charge too large for one interval");
    return ChargeLine{kind, index, consumption, price, static_cast<std::int64_t>(amount)};
}

Result rate_tiers(const Tariff& t, std::int64_t consumption, const Interval& iv,
                  std::vector<ChargeLine>& lines) {
    auto before = to_micro_units(iv.consumed_before_in_period);
    if (!before) return fail("consumed before in period: " + before.error().message);
    if (*before < 0) return fail("consumed before in period is negative");
    if (*before > kMaxInt - consumption) return fail("consumption in period too large");
    const std::int64_t from = *before;
    const std::int64_t to = from + consumption;
    std::int64_t lower = 0;
    for (std::size_t i = 0; i < t.tiers.size(); ++i) {
        std::int64_t upper = kMaxInt;
        if (t.tiers[i].upper_bound) upper = *to_micro_units(*t.tiers[i].upper_bound);
        const std::int64_t a = from > lower ? from : lower;
        const std::int64_t b = to < upper ? to : upper;
        if (b > a) {
            auto l = line(ChargeLine::Kind::Tier, i, b - a, t.tiers[i].price);
            if (!l) return fail(l.error().message);
            lines.push_back(*l);
        }
        lower = upper;
    }
    return {};
}

std::int64_t overlap(std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1) {
    const std::int64_t lo = a0 > b0 ? a0 : b0;
    const std::int64_t hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

Result rate_tou(const Tariff& t, std::int64_t consumption, const Interval& iv,
                std::vector<ChargeLine>& lines) {
    const std::int64_t start = iv.start_local_minute_of_day;
    const std::int64_t duration = iv.duration_minutes;
    if (start < 0 || start >= kMinutesPerDay) {
        return fail("interval start minute " + std::to_string(start) + " is outside 0..1439");
    }
    if (duration <= 0) return fail("time-of-use interval needs a positive duration");
    // Minutes of the interval in each period: whole days, then the rest of the
    // last (partial) day, which may wrap past midnight.
    const std::int64_t days = duration / kMinutesPerDay;
    const std::int64_t rest = duration % kMinutesPerDay;
    std::array<std::int64_t, kPeriodCount> minutes{};
    for (const TouRange& r : t.day_table) {
        const std::int64_t m =
            days * (r.end_minute - r.start_minute) +
            overlap(start, start + rest, r.start_minute, r.end_minute) +
            overlap(0, start + rest - kMinutesPerDay, r.start_minute, r.end_minute);
        minutes[static_cast<std::size_t>(r.period)] += m;
    }
    // Consumption in proportion to minutes, exactly: floor shares, then the
    // leftover micro-units one each to the largest remainders (ties: period order).
    std::array<std::int64_t, kPeriodCount> share{};
    std::array<std::int64_t, kPeriodCount> remainder{};
    std::int64_t left = consumption;
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        const Wide num = static_cast<Wide>(consumption) * minutes[p];
        share[p] = static_cast<std::int64_t>(num / duration);
        remainder[p] = static_cast<std::int64_t>(num % duration);
        left -= share[p];
    }
    while (left > 0) {
        std::size_t best = 0;
        for (std::size_t p = 1; p < kPeriodCount; ++p) {
            if (remainder[p] > remainder[best]) best = p;
        }
        ++share[best];
        remainder[best] = -1;
        --left;
    }
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        if (share[p] == 0) continue;
        auto l = line(ChargeLine::Kind::Period, p, share[p], *t.period_prices[p]);
        if (!l) return fail(l.error().message);
        lines.push_back(*l);
    }
    return {};
}

}  // namespace

std::int64_t Charge::total_pico_yuan() const {
    std::int64_t sum = 0;
    for (const ChargeLine& l : lines) sum += l.amount_pico_yuan;
    return sum;
}

Expected<Charge> rate(const Tariff& tariff, const Interval& iv, RatingCarry& carry) {
    if (auto ok = validate(tariff); !ok) return fail("tariff: " + ok.error().message);
    if (carry.remainder_pico_yuan < 0 || carry.remainder_pico_yuan >= kPicoYuanPerFen) {
        return fail("rating carry is out of range");
    }
    auto start = to_micro_units(iv.start_register);
    if (!start) return fail("start register: " + start.error().message);
    auto end = to_micro_units(iv.end_register);
    if (!end) return fail("end register: " + end.error().message);
    if (*end < *start) {
        return fail("register went backwards (" + iv.start_register.to_string() + " -> " +
                    iv.end_register.to_string() + ")");
    }
    if (*start < 0 && *end > *start + kMaxInt) return fail("consumption too large");
    Charge charge;
    charge.consumption_micro = *end - *start;
    switch (tariff.kind) {
        case TariffKind::Flat: {
            if (charge.consumption_micro > 0) {
                auto l =
                    line(ChargeLine::Kind::Flat, 0, charge.consumption_micro, tariff.flat_price);
                if (!l) return fail(l.error().message);
                charge.lines.push_back(*l);
            }
            break;
        }
        case TariffKind::Tiered:
            if (auto r = rate_tiers(tariff, charge.consumption_micro, iv, charge.lines); !r) {
                return fail(r.error().message);
            }
            break;
        case TariffKind::TimeOfUse:
            if (auto r = rate_tou(tariff, charge.consumption_micro, iv, charge.lines); !r) {
                return fail(r.error().message);
            }
            break;
    }
    Wide total = 0;
    for (const ChargeLine& l : charge.lines) total += l.amount_pico_yuan;
    if (total > kMaxInt) return fail("charge too large for one interval");
    total += carry.remainder_pico_yuan;
    charge.fen = static_cast<std::int64_t>(total / kPicoYuanPerFen);
    carry.remainder_pico_yuan = static_cast<std::int64_t>(total % kPicoYuanPerFen);
    return charge;
}

}  // namespace ecmgw::prepaid
