#include "ecmgw/prepaid/tariff.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "ecmgw/prepaid/calendar.hpp"

namespace ecmgw::prepaid {
namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMsPerDay = 86'400'000;

// "07:00" for minutes of the day; "24:00" for the end of the day. Minutes outside
// 0..1440 (an invalid range) are shown as the plain number of minutes.
std::string clock_text(std::int64_t minute) {
    if (minute < 0 || minute > kMinutesPerDay) return std::to_string(minute) + " min";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(minute / 60),
                  static_cast<int>(minute % 60));
    return buf;
}

std::string range_text(std::int64_t from, std::int64_t to) {
    return clock_text(from) + "-" + clock_text(to);
}

// Micro-units as the decimal quantity a config would say: 200000000 -> "200",
// 1500000 -> "1.5".
std::string units_text(std::int64_t micro) {
    const bool negative = micro < 0;
    const std::uint64_t m =
        negative ? 0 - static_cast<std::uint64_t>(micro) : static_cast<std::uint64_t>(micro);
    std::string text = std::to_string(m / 1'000'000);
    std::uint64_t fraction = m % 1'000'000;
    if (fraction != 0) {
        std::string digits = std::to_string(fraction);
        digits.insert(0, 6 - digits.size(), '0');
        while (digits.back() == '0') digits.pop_back();
        text += "." + digits;
    }
    return negative ? "-" + text : text;
}

// "2026-07-01 00:00:00 UTC" (with ".123" when there are milliseconds).
std::string utc_text(std::int64_t utc_ms) {
    std::int64_t days = utc_ms / kMsPerDay;
    std::int64_t ms = utc_ms % kMsPerDay;
    if (ms < 0) {
        ms += kMsPerDay;
        --days;
    }
    const LocalTime d = civil_from_days(days);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", d.year, d.month, d.day,
                  static_cast<int>(ms / 3'600'000), static_cast<int>(ms / 60'000 % 60),
                  static_cast<int>(ms / 1000 % 60));
    std::string text = buf;
    if (ms % 1000 != 0) {
        std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(ms % 1000));
        text += buf;
    }
    return text + " UTC";
}

std::string tier_name(std::size_t index) { return "tier " + std::to_string(index + 1); }

Result validate_tiers(const std::vector<Tier>& tiers) {
    if (tiers.empty()) return fail("no tiers");
    for (std::size_t i = 0; i < tiers.size(); ++i) {
        const Tier& tier = tiers[i];
        const std::string name = tier_name(i);
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            const std::optional<Price>& price = tier.prices[p];
            if (price && price->micro_yuan < 0) {
                return fail("negative price " + price->to_string() + " for period " +
                            period_name(static_cast<Period>(p)) + " in " + name);
            }
        }
        const bool last = i + 1 == tiers.size();
        if (!tier.upper_micro) {
            if (!last) return fail(name + " has no up_to, but only the last tier may be unbounded");
            continue;
        }
        if (last) {
            return fail("the last tier (" + name + ") has up_to " + units_text(*tier.upper_micro) +
                        ", but it must be unbounded");
        }
        if (*tier.upper_micro <= 0) {
            return fail(name + " up_to " + units_text(*tier.upper_micro) + " is not above 0");
        }
        if (i > 0 && tiers[i - 1].upper_micro && *tier.upper_micro <= *tiers[i - 1].upper_micro) {
            return fail("tiers out of order: " + name + " up_to " + units_text(*tier.upper_micro) +
                        " is not above " + tier_name(i - 1) + " up_to " +
                        units_text(*tiers[i - 1].upper_micro));
        }
    }
    return {};
}

// The table is empty (see TariffVersion::day_tables) or covers [0, 1440) exactly
// once with valid ranges of known periods.
Result validate_day_table(const std::vector<TouRange>& table, DayKind kind) {
    if (table.empty()) return {};
    const std::string name = std::string("day table '") + day_kind_name(kind) + "'";
    for (const TouRange& r : table) {
        if (r.start_minute < 0 || r.end_minute > kMinutesPerDay || r.start_minute >= r.end_minute) {
            return fail(name + " has an invalid range " + range_text(r.start_minute, r.end_minute) +
                        " (needs 00:00 <= start < end <= 24:00)");
        }
        if (static_cast<std::size_t>(r.period) >= kPeriodCount) {
            return fail(name + " has an unknown period at " +
                        range_text(r.start_minute, r.end_minute));
        }
    }
    std::vector<TouRange> sorted = table;
    std::stable_sort(sorted.begin(), sorted.end(), [](const TouRange& a, const TouRange& b) {
        return a.start_minute < b.start_minute;
    });
    std::int64_t covered = 0;  // the day is covered up to here
    const TouRange* reaching = nullptr;
    for (const TouRange& r : sorted) {
        if (r.start_minute > covered) {
            return fail(name + " has a gap at " + range_text(covered, r.start_minute));
        }
        if (r.start_minute < covered) {
            return fail(name + " has overlapping periods at " +
                        range_text(r.start_minute, std::min(covered, r.end_minute)) + " (" +
                        period_name(reaching->period) + " and " + period_name(r.period) + ")");
        }
        covered = r.end_minute;
        reaching = &r;
    }
    if (covered < kMinutesPerDay) {
        return fail(name + " has a gap at " + range_text(covered, kMinutesPerDay));
    }
    return {};
}

}  // namespace

const char* utility_name(Utility u) {
    switch (u) {
        case Utility::Electricity:
            return "electricity";
        case Utility::Water:
            return "water";
    }
    return "unknown";
}

const char* period_name(Period p) {
    switch (p) {
        case Period::Sharp:
            return "sharp";
        case Period::Peak:
            return "peak";
        case Period::Flat:
            return "flat";
        case Period::Valley:
            return "valley";
    }
    return "unknown";
}

const char* day_kind_name(DayKind k) {
    switch (k) {
        case DayKind::Weekday:
            return "weekday";
        case DayKind::Weekend:
            return "weekend";
        case DayKind::Holiday:
            return "holiday";
    }
    return "unknown";
}

Expected<Price> Price::parse(std::string_view text) {
    const std::string quoted = "price '" + std::string(text) + "'";
    if (text.empty()) return fail("price is empty");
    if (text.front() == '-') return fail(quoted + " is negative; prices must be >= 0");
    std::int64_t integer = 0;
    std::int64_t fraction = 0;
    int decimals = 0;
    bool seen_dot = false;
    bool integer_digits = false;
    for (const char c : text) {
        if (c == '.') {
            if (seen_dot) return fail(quoted + " has more than one '.'");
            seen_dot = true;
            continue;
        }
        if (c < '0' || c > '9') {
            return fail(quoted + " has '" + std::string(1, c) +
                        "'; expected digits with at most one '.'");
        }
        const int d = c - '0';
        if (seen_dot) {
            if (++decimals > 6) return fail(quoted + " has more than 6 decimals");
            fraction = fraction * 10 + d;
        } else {
            integer_digits = true;
            if (integer > (kMaxInt / 1'000'000 - d) / 10) return fail(quoted + " is too large");
            integer = integer * 10 + d;
        }
    }
    if (!integer_digits) return fail(quoted + " needs a digit before '.'");
    if (seen_dot && decimals == 0) return fail(quoted + " needs a digit after '.'");
    for (int i = decimals; i < 6; ++i) fraction *= 10;
    return Price{integer * 1'000'000 + fraction};
}

std::string Price::to_string() const {
    const std::uint64_t v = micro_yuan < 0 ? 0 - static_cast<std::uint64_t>(micro_yuan)
                                           : static_cast<std::uint64_t>(micro_yuan);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%llu.%06llu", micro_yuan < 0 ? "-" : "",
                  static_cast<unsigned long long>(v / 1'000'000),
                  static_cast<unsigned long long>(v % 1'000'000));
    return buf;
}

const TariffVersion& Tariff::version_at(std::int64_t utc_ms) const {
    static const TariffVersion kNone{};
    if (versions.empty()) return kNone;  // an invalid tariff; validate() says so
    // The last version that started at or before utc_ms; the first one before all.
    auto after = std::upper_bound(
        versions.begin(), versions.end(), utc_ms,
        [](std::int64_t t, const TariffVersion& v) { return t < v.effective_from_ms; });
    if (after == versions.begin()) return versions.front();
    return *(after - 1);
}

Expected<std::int64_t> to_micro_units(const Decimal& q) {
    if (q.scale > 6) {
        return fail("quantity " + q.to_string() + " has more than 6 decimals");
    }
    std::int64_t factor = 1;
    for (int i = q.scale; i < 6; ++i) factor *= 10;
    if (q.mantissa > kMaxInt / factor || q.mantissa < -(kMaxInt / factor)) {
        return fail("quantity " + q.to_string() + " is too large");
    }
    return q.mantissa * factor;
}

Result validate(const TariffVersion& v) {
    if (auto r = validate_tiers(v.tiers); !r) return r;
    for (std::size_t k = 0; k < kDayKindCount; ++k) {
        if (auto r = validate_day_table(v.day_tables[k], static_cast<DayKind>(k)); !r) return r;
    }
    // Every period some day can be in needs a price in every tier: the periods of
    // the day tables, or flat for a day without a table (an empty weekend or holiday
    // table falls back to the weekday table, an empty weekday table is all flat).
    const std::vector<TouRange>& weekday = v.day_tables[static_cast<std::size_t>(DayKind::Weekday)];
    for (std::size_t k = 0; k < kDayKindCount; ++k) {
        const std::vector<TouRange>& own = v.day_tables[k];
        const std::vector<TouRange>& table = own.empty() ? weekday : own;
        const std::string user =
            table.empty()
                ? std::string("the whole day (no day table)")
                : std::string("day table '") +
                      day_kind_name(own.empty() ? DayKind::Weekday : static_cast<DayKind>(k)) + "'";
        std::array<bool, kPeriodCount> used{};
        if (table.empty()) used[static_cast<std::size_t>(Period::Flat)] = true;
        for (const TouRange& r : table) used[static_cast<std::size_t>(r.period)] = true;
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            if (!used[p]) continue;
            for (std::size_t i = 0; i < v.tiers.size(); ++i) {
                if (!v.tiers[i].prices[p]) {
                    return fail(std::string("period ") + period_name(static_cast<Period>(p)) +
                                " is used by " + user + " but " + tier_name(i) +
                                " has no price for it");
                }
            }
        }
    }
    if (v.cycle.length != BillingCycle::Length::Monthly &&
        v.cycle.length != BillingCycle::Length::Yearly) {
        return fail("billing cycle has an unknown length");
    }
    if (v.cycle.start_day < 1 || v.cycle.start_day > 28) {
        return fail("billing cycle start_day " + std::to_string(v.cycle.start_day) +
                    " is outside 1..28");
    }
    if (v.cycle.start_month < 1 || v.cycle.start_month > 12) {
        return fail("billing cycle start_month " + std::to_string(v.cycle.start_month) +
                    " is outside 1..12");
    }
    if (v.fixed_daily_fen < 0) {
        return fail("negative daily fixed charge (" + std::to_string(v.fixed_daily_fen) + " fen)");
    }
    if (v.fixed_monthly_fen < 0) {
        return fail("negative monthly fixed charge (" + std::to_string(v.fixed_monthly_fen) +
                    " fen)");
    }
    return {};
}

Result validate(const Tariff& t) {
    if (t.id.empty()) return fail("tariff has no id");
    if (t.utility != Utility::Electricity && t.utility != Utility::Water) {
        return fail("unknown utility");
    }
    if (t.versions.empty()) return fail("no versions");
    for (std::size_t i = 1; i < t.versions.size(); ++i) {
        const std::int64_t before = t.versions[i - 1].effective_from_ms;
        const std::int64_t from = t.versions[i].effective_from_ms;
        if (from <= before) {
            return fail("versions out of order: version " + std::to_string(i + 1) +
                        " effective_from " + utc_text(from) + " is not after version " +
                        std::to_string(i) + " effective_from " + utc_text(before));
        }
    }
    for (std::size_t i = 0; i < t.versions.size(); ++i) {
        if (auto r = validate(t.versions[i]); !r) {
            if (t.versions.size() == 1) return r;
            return fail("version " + std::to_string(i + 1) + " (effective_from " +
                        utc_text(t.versions[i].effective_from_ms) + "): " + r.error().message);
        }
    }
    return {};
}

}  // namespace ecmgw::prepaid
