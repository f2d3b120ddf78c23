#include "prepaid/tariff.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace ecmgw::prepaid {
namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

std::string clock_text(std::int64_t minute) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(minute / 60),
                  static_cast<int>(minute % 60));
    return buf;
}

std::string range_text(std::int64_t from, std::int64_t to) {
    return clock_text(from) + "-" + clock_text(to);
}

Result validate_price(const Price& p, const std::string& where) {
    if (p.micro_yuan < 0) {
        return fail("negative price " + std::to_string(p.micro_yuan) + " micro-yuan in " + where);
    }
    return {};
}

Result validate_tiers(const Tariff& t) {
    if (t.tiers.empty()) return fail("tiered tariff '" + t.id + "' has no tiers");
    std::optional<std::int64_t> previous;
    for (std::size_t i = 0; i < t.tiers.size(); ++i) {
        const Tier& tier = t.tiers[i];
        const std::string name = "tier " + std::to_string(i + 1);
        if (auto r = validate_price(tier.price, name); !r) return r;
        const bool last = i + 1 == t.tiers.size();
        if (!tier.upper_bound) {
            if (!last) return fail(name + " is unbounded but only the last tier may be");
            continue;
        }
        if (last) return fail("the last tier (" + name + ") must be unbounded");
        auto bound = to_micro_units(*tier.upper_bound);
        if (!bound) return fail(name + " upper bound: " + bound.error().message);
        if (*bound <= 0) {
            return fail(name + " upper bound " + tier.upper_bound->to_string() +
                        " must be positive");
        }
        if (previous && *bound <= *previous) {
            return fail("tiers out of order: " + name + " upper bound " +
                        tier.upper_bound->to_string() + " is not above tier " + std::to_string(i) +
                        " upper bound " + t.tiers[i - 1].upper_bound->to_string());
        }
        previous = *bound;
    }
    return {};
}

Result validate_tou(const Tariff& t) {
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        if (t.period_prices[p]) {
            auto r = validate_price(*t.period_prices[p],
                                    std::string("period ") + period_name(static_cast<Period>(p)));
            if (!r) return r;
        }
    }
    if (t.day_table.empty()) return fail("time-of-use tariff '" + t.id + "' has no day table");
    for (const TouRange& r : t.day_table) {
        if (r.start_minute < 0 || r.end_minute > kMinutesPerDay || r.start_minute >= r.end_minute) {
            return fail("time-of-use range [" + std::to_string(r.start_minute) + ", " +
                        std::to_string(r.end_minute) +
                        ") is not a non-empty range of minutes within 0..1440");
        }
        if (static_cast<std::size_t>(r.period) >= kPeriodCount) {
            return fail("time-of-use range " + range_text(r.start_minute, r.end_minute) +
                        " has an unknown period");
        }
        if (!t.period_prices[static_cast<std::size_t>(r.period)]) {
            return fail("time-of-use range " + range_text(r.start_minute, r.end_minute) +
                        " uses period " + period_name(r.period) + ", which has no price");
        }
    }
    std::vector<TouRange> sorted = t.day_table;
    std::sort(sorted.begin(), sorted.end(),
              [](const TouRange& a, const TouRange& b) { return a.start_minute < b.start_minute; });
    std::int64_t covered = 0;  // the day is covered up to here
    const TouRange* reaching = nullptr;
    for (const TouRange& r : sorted) {
        if (r.start_minute > covered) {
            return fail("gap at " + range_text(covered, r.start_minute) +
                        ": no time-of-use period covers it");
        }
        if (r.start_minute < covered) {
            return fail("overlapping periods at " +
                        range_text(r.start_minute, std::min(covered, r.end_minute)) + " (" +
                        period_name(reaching->period) + " and " + period_name(r.period) + ")");
        }
        covered = r.end_minute;
        reaching = &r;
    }
    if (covered < kMinutesPerDay) {
        return fail("gap at " + range_text(covered, kMinutesPerDay) +
                    ": no time-of-use period covers it");
    }
    return {};
}

}  // namespace

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
    const std::int64_t v = micro_yuan < 0 ? -micro_yuan : micro_yuan;
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%lld.%06lld", micro_yuan < 0 ? "-" : "",
                  static_cast<long long>(v / 1'000'000), static_cast<long long>(v % 1'000'000));
    return buf;
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

Result validate(const Tariff& t) {
    if (t.id.empty()) return fail("tariff has no id");
    switch (t.kind) {
        case TariffKind::Flat:
            return validate_price(t.flat_price, "flat tariff '" + t.id + "'");
        case TariffKind::Tiered:
            return validate_tiers(t);
        case TariffKind::TimeOfUse:
            return validate_tou(t);
    }
    return fail("tariff '" + t.id + "' has an unknown kind");
}

}  // namespace ecmgw::prepaid
