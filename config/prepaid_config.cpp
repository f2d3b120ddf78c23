// The prepaid part of the gateway's config: [[tariff]] (what consumption costs),
// [[account]] (the wallets meters are charged to), [prepaid] (gateway-wide
// settings) and the prepaid keys of each [[meter]].
//
// Prices and quantities are decimal strings and stay exact: a TOML float is
// refused, since 0.5283 has no exact binary form. Tariffs are validated at load,
// so a day table with a gap, overlapping periods or tiers out of order stop the
// daemon with the place in the file rather than mis-charging a tenant later.
#include "prepaid_config.hpp"

#include "ecmgw/prepaid/calendar.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <sstream>
#include <utility>

namespace ecmgw::config::check {

namespace {

using prepaid::Period;
using prepaid::Utility;

// 10 billion yuan: far beyond any real account, small enough that sums cannot overflow.
constexpr std::int64_t kMaxFen = 1'000'000'000'000;
constexpr std::int64_t kMinutesPerDay = prepaid::kMinutesPerDay;
constexpr int kMaxDecimals = 6;

constexpr std::array<std::string_view, 4> kPeriodNames{"sharp", "peak", "flat", "valley"};
// What Chinese tariff sheets call them: 尖, 峰, 平, 谷.
constexpr std::array<std::string_view, 4> kPeriodNamesZh{"尖", "峰", "平", "谷"};
constexpr std::array<std::string_view, 3> kTierKeys{"up_to", "price", "prices"};
constexpr std::array<std::string_view, 2> kUtilities{"electricity", "water"};
constexpr std::array<std::string_view, 2> kCycles{"monthly", "yearly"};
// The day tables' keys, by prepaid::DayKind.
constexpr std::array<std::string_view, prepaid::kDayKindCount> kDayTableKeys{
    "periods", "weekend_periods", "holiday_periods"};

constexpr std::string_view kPriceRule =
    "prices are decimal strings, e.g. \"0.5283\", so they never pass through binary floating "
    "point";

// ---------------------------------------------------------------------------
// Values written as text.

std::string clock_text(std::int64_t minute) {
    std::string out(5, '0');
    out[0] = static_cast<char>('0' + minute / 600);
    out[1] = static_cast<char>('0' + minute / 60 % 10);
    out[2] = ':';
    out[3] = static_cast<char>('0' + minute % 60 / 10);
    out[4] = static_cast<char>('0' + minute % 10);
    return out;
}

std::string range_text(std::int64_t from, std::int64_t to) {
    return clock_text(from) + "-" + clock_text(to);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "HH:MM" → minutes since midnight, 0..1440 ("24:00" is the end of the day).
std::optional<std::int64_t> parse_clock(std::string_view s) {
    if (s.size() != 5 || s[2] != ':' || !is_digits(s.substr(0, 2)) || !is_digits(s.substr(3))) {
        return std::nullopt;
    }
    const int h = (s[0] - '0') * 10 + (s[1] - '0');
    const int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
}

struct ClockRange {
    std::int64_t start = 0;
    std::int64_t end = 0;  // may be <= start: the range wraps midnight
};

// "HH:MM-HH:MM" (spaces around '-' allowed); the reason when it is not one.
Expected<ClockRange> parse_clock_range(std::string_view text) {
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) return fail("no '-' between the start and the end");
    const std::string_view from = trim(text.substr(0, dash));
    const std::string_view to = trim(text.substr(dash + 1));
    const auto start = parse_clock(from);
    if (!start) return fail(in_quotes(from) + " is not a time of day HH:MM (00:00..23:59)");
    const auto end = parse_clock(to);
    if (!end) return fail(in_quotes(to) + " is not a time of day HH:MM (00:00..24:00)");
    if (*start == kMinutesPerDay) return fail("24:00 can only end a range (write 00:00)");
    if (*start == *end) return fail("the range is empty: it starts where it ends");
    return ClockRange{*start, *end == 0 && *start > 0 ? kMinutesPerDay : *end};
}

std::optional<Period> parse_period(std::string_view name) {
    const std::string lower = lowercase(name);
    for (std::size_t i = 0; i < kPeriodNames.size(); ++i) {
        if (lower == kPeriodNames[i] || name == kPeriodNamesZh[i]) return static_cast<Period>(i);
    }
    return std::nullopt;
}

// A non-negative decimal written as text ("2760", "0.5"), at most 6 decimals.
std::optional<Decimal> parse_quantity(std::string_view s) {
    const std::size_t point = s.find('.');
    const std::string_view whole = s.substr(0, point);
    const std::string_view fraction = point == std::string_view::npos ? "" : s.substr(point + 1);
    if (!is_digits(whole)) return std::nullopt;
    if (point != std::string_view::npos && !is_digits(fraction)) return std::nullopt;
    if (fraction.size() > static_cast<std::size_t>(kMaxDecimals)) return std::nullopt;
    const std::string digits = std::string(whole) + std::string(fraction);
    const std::size_t first = digits.find_first_not_of('0');
    if (first != std::string::npos && digits.size() - first > 15) return std::nullopt;
    Decimal d{0, static_cast<std::uint8_t>(fraction.size())};
    for (const char c : digits) d.mantissa = d.mantissa * 10 + (c - '0');
    return d;
}

bool valid_date(int y, int m, int d) {
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
    return d <= prepaid::days_in_month(y, m);
}

// 0 = Monday .. 6 = Sunday.
int weekday_of(int y, int m, int d) {
    return prepaid::civil_from_days(prepaid::days_from_civil(y, m, d)).weekday;
}

constexpr std::array<std::string_view, 7> kWeekdays{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};

// yyyymmdd → "YYYY-MM-DD".
std::string date_text(int key) {
    std::string out = std::to_string(key);
    out.insert(6, "-");
    out.insert(4, "-");
    return out;
}

int two_digits(std::string_view s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

// "YYYY-MM-DD" → yyyymmdd.
std::optional<int> parse_date_key(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !is_digits(s.substr(0, 4)) ||
        !is_digits(s.substr(5, 2)) || !is_digits(s.substr(8, 2))) {
        return std::nullopt;
    }
    const int y = std::stoi(std::string(s.substr(0, 4)));
    const int m = two_digits(s.substr(5, 2));
    const int d = two_digits(s.substr(8, 2));
    if (!valid_date(y, m, d)) return std::nullopt;
    return y * 10000 + m * 100 + d;
}

std::int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, std::int64_t ms,
                    std::int64_t offset_minutes) {
    const std::int64_t days = prepaid::days_from_civil(y, mo, d);
    return ((days * 86400 + h * 3600 + mi * 60 + s) - offset_minutes * 60) * 1000 + ms;
}

// RFC 3339: "2026-12-01T00:00:00+08:00", "2026-12-01T00:00:00.5Z"; also ' ' for 'T'.
Expected<std::int64_t> parse_rfc3339(std::string_view s) {
    auto bad = [&](std::string_view why) -> Expected<std::int64_t> {
        return fail("found " + in_quotes(s) + ": " + std::string(why) +
                    "; expected a date and time with its UTC offset, e.g. "
                    "\"2026-12-01T00:00:00+08:00\"");
    };
    if (s.size() < 19) return bad("too short");
    const auto date = parse_date_key(s.substr(0, 10));
    if (!date) return bad("the date is not a valid YYYY-MM-DD");
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return bad("no 'T' after the date");
    const std::string_view time = s.substr(11);
    if (time.size() < 8 || time[2] != ':' || time[5] != ':' || !is_digits(time.substr(0, 2)) ||
        !is_digits(time.substr(3, 2)) || !is_digits(time.substr(6, 2))) {
        return bad("the time is not HH:MM:SS");
    }
    const int h = two_digits(time.substr(0, 2));
    const int mi = two_digits(time.substr(3, 2));
    const int sec = two_digits(time.substr(6, 2));
    if (h > 23 || mi > 59 || sec > 59) return bad("the time is not HH:MM:SS");
    std::string_view rest = time.substr(8);
    std::int64_t ms = 0;
    if (rest.starts_with('.')) {
        std::size_t n = 1;
        int scale = 100;
        while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') {
            ms += (rest[n] - '0') * scale;
            scale /= 10;
            ++n;
        }
        if (n == 1) return bad("no digits after '.'");
        rest.remove_prefix(n);
    }
    std::int64_t offset = 0;
    if (rest == "Z" || rest == "z") {
        offset = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
               is_digits(rest.substr(1, 2)) && is_digits(rest.substr(4, 2))) {
        const int oh = two_digits(rest.substr(1, 2));
        const int om = two_digits(rest.substr(4, 2));
        if (oh > 23 || om > 59) return bad("the UTC offset is not ±HH:MM");
        offset = (oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
    } else if (rest.empty()) {
        return bad("the UTC offset is missing (it says which time zone the time is in)");
    } else {
        return bad("the UTC offset is not Z or ±HH:MM");
    }
    return utc_ms(*date / 10000, *date / 100 % 100, *date % 100, h, mi, sec, ms, offset);
}

// A TOML number as the technician probably wrote it: the shortest text that reads
// back as the same double ("0.5283", not toml++'s "0.52829999999999999").
std::string number_text(const toml::node& node) {
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    const auto* f = node.as_floating_point();
    if (f == nullptr) return {};
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), f->get());
    if (ec != std::errc{}) return {};
    return std::string(buffer.data(), end);
}

// "found floating-point number 0.5283, expected a decimal string".
std::string found_number(const toml::node& node) {
    const std::string kind = node.is_integer() ? "integer " : "floating-point number ";
    return "found " + kind + number_text(node) + ", expected a decimal string";
}

std::string written(const toml::node& node) {
    if (const auto* s = node.as_string()) return in_quotes(s->get());
    std::ostringstream out;
    if (const auto* dt = node.as_date_time()) out << *dt;
    return out.str();
}

template <class Read>
void for_each_table(Errors& errors, const toml::array& array, std::string_view name, Read read) {
    for (std::size_t i = 0; i < array.size(); ++i) {
        const toml::node& element = *array.get(i);
        const std::string path = indexed(name, i);
        if (const auto* table = element.as_table()) {
            read(*table, path);
        } else {
            errors.add(element.source(), path, found_expected(element, "a table"));
        }
    }
}

// A price in yuan per unit, as a decimal string.
std::optional<prepaid::Price> read_price(const Section& s, std::string_view key) {
    const toml::node* node = s.find(key);
    if (node == nullptr) return std::nullopt;
    if (const auto* text = node->as_string()) {
        auto price = prepaid::Price::parse(text->get());
        if (price) return *price;
        s.error(key, *node,
                price.error().message +
                    "; expected yuan per kWh or m³ as a decimal string, e.g. \"0.5283\"");
        return std::nullopt;
    }
    if (node->is_floating_point() || node->is_integer()) {
        s.error(key, *node,
                found_number(*node) + ": " + std::string(kPriceRule) + " (write " +
                    std::string(key) + " = \"" + number_text(*node) + "\")");
    } else {
        s.error(key, *node, found_expected(*node, "a decimal string, e.g. \"0.5283\""));
    }
    return std::nullopt;
}

// A quantity (kWh, m³) as a decimal string, converted to micro-units; `positive`
// refuses zero.
std::optional<Decimal> read_quantity(const Section& s, std::string_view key,
                                     std::string_view example) {
    const toml::node* node = s.find(key);
    if (node == nullptr) return std::nullopt;
    const auto* text = node->as_string();
    if (text == nullptr) {
        if (node->is_floating_point() || node->is_integer()) {
            s.error(key, *node,
                    found_number(*node) + " (write it in quotes: " + std::string(key) + " = \"" +
                        number_text(*node) +
                        "\"; quantities are exact decimals, never binary floating point)");
        } else {
            s.error(key, *node,
                    found_expected(*node, "a decimal string, e.g. " + std::string(example)));
        }
        return std::nullopt;
    }
    const auto value = parse_quantity(text->get());
    if (!value || value->mantissa <= 0) {
        s.error(key, *node,
                "found " + in_quotes(text->get()) +
                    ", expected a number above 0 with at most 6 decimals, e.g. " +
                    std::string(example));
        return std::nullopt;
    }
    return value;
}

// What one tier (or a tariff without tiers) says about its prices.
struct TierPrices {
    prepaid::Tier tier;
    bool per_period = false;                             // `prices`, not `price`
    std::array<bool, prepaid::kPeriodCount> declared{};  // written, even if wrong
    const toml::node* where = nullptr;                   // the price or prices value
};

// `price = "…"` or `prices = { peak = "…", … }` in table `s`.
std::optional<TierPrices> read_prices(const Section& s, std::string_view one_price_example) {
    const bool has_price = s.has("price");
    const bool has_prices = s.has("prices");
    if (has_price && has_prices) {
        s.error("prices", *s.find("prices"),
                "write 'price' (one price all day) or 'prices' (a price per time-of-use "
                "period), not both");
        return std::nullopt;
    }
    TierPrices out;
    if (has_price) {
        out.where = s.find("price");
        out.declared[static_cast<std::size_t>(Period::Flat)] = true;
        if (auto p = read_price(s, "price")) {
            out.tier.prices[static_cast<std::size_t>(Period::Flat)] = *p;
        }
        return out;
    }
    if (!has_prices) {
        s.error_at_header("price",
                          "missing required key 'price' (or 'prices' for time-of-use "
                          "prices), e.g. " +
                              std::string(one_price_example));
        return std::nullopt;
    }
    out.per_period = true;
    out.where = s.find("prices");
    const toml::table* table =
        s.table("prices",
                "a table of prices by period, e.g. prices = { peak = \"0.8\", valley = \"0.3\" }");
    if (table == nullptr) return std::nullopt;
    const Section p(s.errors(), *table, s.path_of("prices"), kPeriodNames);
    p.check_unknown_keys();
    if (table->empty()) {
        s.error("prices", *table,
                "no price: expected a price for some of " + quoted_list(kPeriodNames) +
                    ", e.g. prices = { peak = \"0.8\", valley = \"0.3\" }");
        return std::nullopt;
    }
    for (std::size_t i = 0; i < kPeriodNames.size(); ++i) {
        if (!p.has(kPeriodNames[i])) continue;
        out.declared[i] = true;
        if (auto price = read_price(p, kPeriodNames[i])) out.tier.prices[i] = *price;
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// [[tariff]]

void PrepaidReader::read_tariffs(const toml::array* array) {
    if (array != nullptr) {
        for_each_table(errors_, *array, "tariff",
                       [&](const toml::table& table, const std::string& path) {
                           read_tariff(Section(errors_, table, path, kTariffKeys), path);
                       });
    }
    merge_versions();
}

namespace {

// A tariff's `tiers`: those whose prices could be read. `ok` is false when any
// tier is wrong (then the list may miss some).
std::vector<TierPrices> read_tiers(const Section& s, bool& ok) {
    std::vector<TierPrices> tiers;
    ok = false;
    const toml::node* node = s.find("tiers");
    for (std::string_view key : {"price", "prices"}) {
        if (const toml::node* other = s.find(key)) {
            s.error(key, *other,
                    "'" + std::string(key) +
                        "' and 'tiers' cannot both be written: with tiers, each tier has its "
                        "own price (or prices); move it into the tiers");
        }
    }
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
        s.error("tiers", *node,
                found_expected(*node,
                               "an array of tiers from the lowest consumption up, e.g. tiers = "
                               "[{ up_to = \"2760\", price = \"0.5283\" }, { price = "
                               "\"0.8283\" }]"));
        return {};
    }
    ok = true;
    std::optional<std::int64_t> previous;  // the previous tier's up_to, micro-units
    std::string previous_text;
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string key = indexed("tiers", i);
        const auto* table = element.as_table();
        if (table == nullptr) {
            s.error(
                key, element,
                found_expected(element, "a table, e.g. { up_to = \"2760\", price = \"0.5283\" }"));
            ok = false;
            continue;
        }
        const Section t(s.errors(), *table, s.path_of(key), kTierKeys);
        t.check_unknown_keys();
        const bool last = i + 1 == array->size();
        auto prices = read_prices(t, "price = \"0.5283\"");
        if (!prices) {
            ok = false;
        } else {
            if (!tiers.empty() && prices->per_period != tiers.front().per_period) {
                t.error(prices->per_period ? "prices" : "price", *prices->where,
                        std::string("tier 1 has ") +
                            (tiers.front().per_period ? "a price per period (prices)"
                                                      : "one price (price)") +
                            " and this tier has " +
                            (prices->per_period ? "a price per period" : "one price") +
                            "; expected the same in every tier");
                ok = false;
            }
            tiers.push_back(std::move(*prices));
        }
        const toml::node* up_to = t.find("up_to");
        if (last) {
            if (up_to != nullptr) {
                t.error("up_to", *up_to,
                        "the last tier has no up_to: it takes all consumption above the tier "
                        "before it; add a tier without up_to after this one, or remove up_to");
                ok = false;
            }
            continue;
        }
        if (up_to == nullptr) {
            t.error_at_header("up_to",
                              "missing required key 'up_to' (the cycle's consumption this tier "
                              "ends at, e.g. up_to = \"2760\"); only the last tier has none");
            ok = false;
            continue;
        }
        const auto bound = read_quantity(t, "up_to", "up_to = \"2760\"");
        if (!bound) {
            ok = false;
            continue;
        }
        const auto micro = prepaid::to_micro_units(*bound);
        if (!micro) {
            t.error("up_to", *up_to, micro.error().message);
            ok = false;
            continue;
        }
        if (previous && *micro <= *previous) {
            t.error("up_to", *up_to,
                    "tiers out of order: up_to " + bound->to_string() + " is not above tier " +
                        std::to_string(i) + "'s up_to " + previous_text +
                        "; expected tiers from the lowest consumption up, each up_to above the "
                        "one before");
            ok = false;
        }
        previous = *micro;
        previous_text = bound->to_string();
        if (!tiers.empty() && tiers.size() == i + 1) tiers.back().tier.upper_micro = *micro;
    }
    return tiers;
}

struct DayPiece {
    ClockRange range;
    Period period = Period::Flat;
    std::size_t index = 0;  // in the array
};

// periods = ["00:00-08:00 valley", ...]: one day table. Every minute of the day in
// exactly one period, each period priced in every tier (checked when `tiers` is
// not null: a list with a broken tier would only add follow-on errors).
std::optional<std::vector<prepaid::TouRange>> read_day_table(const Section& s, std::string_view key,
                                                             const std::vector<TierPrices>* tiers,
                                                             bool tiered) {
    const toml::node* node = s.find(key);
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
        s.error(key, *node,
                found_expected(*node,
                               "an array of \"HH:MM-HH:MM period\" covering the whole day, e.g. "
                               "[\"00:00-08:00 valley\", \"08:00-22:00 peak\", \"22:00-24:00 "
                               "valley\"]"));
        return std::nullopt;
    }
    bool ok = true;
    std::vector<DayPiece> pieces;
    std::vector<std::string> texts(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string element_key = indexed(key, i);
        const auto* text = element.as_string();
        if (text == nullptr) {
            s.error(element_key, element,
                    found_expected(element, "\"HH:MM-HH:MM period\", e.g. \"08:00-10:00 peak\""));
            ok = false;
            continue;
        }
        texts[i] = text->get();
        const std::string_view whole = trim(text->get());
        const std::size_t space = whole.find_last_of(" \t");
        auto bad = [&](const std::string& why) {
            s.error(element_key, element,
                    "found " + in_quotes(text->get()) + ": " + why +
                        "; expected \"HH:MM-HH:MM period\", e.g. \"08:00-10:00 peak\" (period: "
                        "sharp, peak, flat or valley)");
            ok = false;
        };
        if (space == std::string_view::npos) {
            bad("no period after the times");
            continue;
        }
        const std::string_view name = whole.substr(space + 1);
        const auto range = parse_clock_range(trim(whole.substr(0, space)));
        if (!range) {
            bad(range.error().message);
            continue;
        }
        const auto period = parse_period(name);
        if (!period) {
            bad("unknown period " + in_quotes(name) + did_you_mean(name, kPeriodNames));
            continue;
        }
        const auto p = static_cast<std::size_t>(*period);
        for (std::size_t t = 0; tiers != nullptr && t < tiers->size(); ++t) {
            if ((*tiers)[t].declared[p]) continue;
            const std::string where =
                tiered ? "tiers[" + std::to_string(t + 1) + "].prices" : std::string("prices");
            s.error(element_key, element,
                    "period " + std::string(kPeriodNames[p]) + " has no price: add " +
                        std::string(kPeriodNames[p]) + " = \"…\" to " + where);
            ok = false;
            break;
        }
        // A range across midnight is two pieces of the day.
        if (range->end <= range->start) {
            pieces.push_back({{range->start, kMinutesPerDay}, *period, i});
            if (range->end > 0) pieces.push_back({{0, range->end}, *period, i});
        } else {
            pieces.push_back({*range, *period, i});
        }
    }
    if (!ok) return std::nullopt;
    std::stable_sort(pieces.begin(), pieces.end(), [](const DayPiece& a, const DayPiece& b) {
        return a.range.start < b.range.start;
    });
    std::int64_t covered = 0;  // the day is covered up to here
    const DayPiece* reaching = nullptr;
    for (const DayPiece& piece : pieces) {
        if (piece.range.start > covered) {
            s.error(key, *node,
                    "gap at " + range_text(covered, piece.range.start) +
                        ": no period covers it; expected every minute of the day in one period");
            ok = false;
        } else if (piece.range.start < covered) {
            s.error(indexed(key, piece.index), *array->get(piece.index),
                    in_quotes(texts[piece.index]) + " overlaps " +
                        s.path_of(indexed(key, reaching->index)) + " " +
                        in_quotes(texts[reaching->index]) + " at " +
                        range_text(piece.range.start, std::min(covered, piece.range.end)) +
                        "; expected each minute of the day in exactly one period");
            ok = false;
        }
        if (piece.range.end > covered) {
            covered = piece.range.end;
            reaching = &piece;
        }
    }
    if (covered < kMinutesPerDay) {
        s.error(key, *node,
                "gap at " + range_text(covered, kMinutesPerDay) +
                    ": no period covers it; expected every minute of the day in one period");
        ok = false;
    }
    if (!ok) return std::nullopt;
    std::vector<prepaid::TouRange> table;
    for (const DayPiece& piece : pieces) {
        table.push_back({piece.range.start, piece.range.end, piece.period});
    }
    return table;
}

void read_cycle(const Section& s, prepaid::BillingCycle& cycle) {
    bool known = true;
    if (const auto* c = s.string("cycle")) {
        if (c->get() == "monthly") {
            cycle.length = prepaid::BillingCycle::Length::Monthly;
        } else if (c->get() == "yearly") {
            cycle.length = prepaid::BillingCycle::Length::Yearly;
        } else {
            s.error("cycle", *c,
                    "found " + in_quotes(c->get()) + did_you_mean(c->get(), kCycles) +
                        ", expected \"monthly\" or \"yearly\" (how long tiers accumulate)");
            known = false;
        }
    } else if (s.has("cycle")) {
        known = false;
    }
    const toml::node* start = s.find("cycle_start");
    if (start == nullptr || !known) return;
    if (cycle.length == prepaid::BillingCycle::Length::Monthly) {
        const auto* day = start->as_integer();
        if (day == nullptr) {
            std::string message =
                found_expected(*start, "a day of the month, 1..28") + integer_type_hint(*start);
            if (start->is_string() && start->as_string()->get().find('-') != std::string::npos) {
                message += " (\"MM-DD\" is for cycle = \"yearly\")";
            }
            s.error("cycle_start", *start, std::move(message));
            return;
        }
        if (day->get() < 1 || day->get() > 28) {
            s.error(
                "cycle_start", *start,
                "found " + std::to_string(day->get()) + ", expected 1..28 (a day every month has)");
            return;
        }
        cycle.start_day = static_cast<int>(day->get());
        return;
    }
    const auto* text = start->as_string();
    const std::string_view v = text != nullptr ? std::string_view(text->get()) : "";
    const bool shaped =
        v.size() == 5 && v[2] == '-' && is_digits(v.substr(0, 2)) && is_digits(v.substr(3, 2));
    const int month = shaped ? two_digits(v.substr(0, 2)) : 0;
    const int day = shaped ? two_digits(v.substr(3, 2)) : 0;
    if (month < 1 || month > 12 || day < 1 || day > 28) {
        s.error("cycle_start", *start,
                (text != nullptr ? "found " + in_quotes(v) + ", expected"
                                 : "found " + describe(*start) + ", expected") +
                    std::string(" a month and day \"MM-DD\" with the day 01..28, e.g. "
                                "cycle_start = \"01-01\" (a yearly cycle)"));
        return;
    }
    cycle.start_month = month;
    cycle.start_day = day;
}

// effective_from: a TOML offset date-time or an RFC 3339 string, as UTC milliseconds.
std::optional<std::int64_t> read_effective_from(const Section& s) {
    const toml::node* node = s.find("effective_from");
    if (node == nullptr) return std::nullopt;
    constexpr std::string_view kExample = "effective_from = 2026-12-01T00:00:00+08:00";
    if (const auto* dt = node->as_date_time()) {
        const toml::date_time& v = dt->get();
        if (!v.offset) {
            s.error("effective_from", *node,
                    found_expected(*node, "a date and time with its UTC offset, e.g. " +
                                              std::string(kExample)) +
                        " (without the offset the time zone is unknown)");
            return std::nullopt;
        }
        if (!valid_date(v.date.year, v.date.month, v.date.day)) {
            s.error("effective_from", *node,
                    found_expected(*node, "a date from 1970 on, e.g. " + std::string(kExample)));
            return std::nullopt;
        }
        return utc_ms(v.date.year, v.date.month, v.date.day, v.time.hour, v.time.minute,
                      v.time.second, v.time.nanosecond / 1'000'000, v.offset->minutes);
    }
    if (const auto* text = node->as_string()) {
        auto ms = parse_rfc3339(text->get());
        if (ms) return *ms;
        s.error("effective_from", *node, ms.error().message);
        return std::nullopt;
    }
    s.error("effective_from", *node,
            found_expected(*node,
                           "a date and time with its UTC offset, e.g. " + std::string(kExample)));
    return std::nullopt;
}

}  // namespace

void PrepaidReader::read_tariff(const Section& s, const std::string& path) {
    const std::size_t errors_before = errors_.count();
    TariffEntry entry;
    entry.table = &s.table();
    entry.path = path;
    entry.line = line_of(s.table());
    s.check_unknown_keys();
    if (const auto* id = s.required_string("id", "the tariff's id, e.g. id = \"res-flat\"")) {
        entry.id = id->get();
        if (!is_identifier(id->get())) {
            s.error("id", *id,
                    "found " + in_quotes(id->get()) + ", expected " + std::string(kIdentifierRule));
        }
    }
    entry.utility_node = s.find("utility");
    if (const auto* u = s.required_string(
            "utility", "what it prices: utility = \"electricity\" or \"water\"")) {
        if (u->get() == "electricity") {
            entry.utility = Utility::Electricity;
        } else if (u->get() == "water") {
            entry.utility = Utility::Water;
        } else {
            s.error("utility", *u,
                    "found " + in_quotes(u->get()) + did_you_mean(u->get(), kUtilities) +
                        ", expected \"electricity\" (prices per kWh) or \"water\" (per m³)");
        }
    }

    // The prices: one (price), per period (prices), or per tier (tiers).
    std::vector<TierPrices> tiers;
    bool tiers_ok = true;
    const bool tiered = s.has("tiers");
    if (tiered) {
        tiers = read_tiers(s, tiers_ok);
    } else if (auto prices = read_prices(s,
                                         "price = \"0.5283\" (or tiers = [ … ] for tiered "
                                         "prices)")) {
        tiers.push_back(std::move(*prices));
    }
    const bool per_period = !tiers.empty() && tiers.front().per_period;
    for (std::size_t k = 0; k < kDayTableKeys.size(); ++k) {
        const std::string_view key = kDayTableKeys[k];
        const toml::node* node = s.find(key);
        if (node == nullptr || tiers.empty()) continue;
        if (!per_period) {
            s.error(key, *node,
                    "a day table says which time-of-use price applies when, but this tariff "
                    "has one price; write prices = { peak = \"…\", valley = \"…\" } instead of "
                    "price, or remove '" +
                        std::string(key) + "'");
            continue;
        }
        if (auto table = read_day_table(s, key, tiers_ok ? &tiers : nullptr, tiered)) {
            entry.version.day_tables[k] = *table;
        }
    }
    if (per_period && !s.has("periods")) {
        s.error_at_header("periods",
                          "missing required key 'periods': prices per period need a day table "
                          "saying when each applies, e.g. periods = [\"00:00-08:00 valley\", "
                          "\"08:00-22:00 peak\", \"22:00-24:00 valley\"]");
    }
    for (TierPrices& t : tiers) entry.version.tiers.push_back(t.tier);

    read_cycle(s, entry.version.cycle);
    if (auto v = s.integer_in("fixed_daily_fen", {0, kMaxFen, "fen"})) {
        entry.version.fixed_daily_fen = *v;
    }
    if (auto v = s.integer_in("fixed_monthly_fen", {0, kMaxFen, "fen"})) {
        entry.version.fixed_monthly_fen = *v;
    }
    entry.effective_from = s.find("effective_from");
    entry.from_ms = read_effective_from(s);
    entry.version.effective_from_ms = entry.from_ms.value_or(0);

    entry.ok = errors_.count() == errors_before;
    if (entry.ok) {
        // What the checks above do not see, in the prepaid library's words.
        if (auto valid = prepaid::validate(entry.version); !valid) {
            errors_.add(s.table().source(), path,
                        "tariff " + in_quotes(entry.id) + ": " + valid.error().message);
            entry.ok = false;
        }
    }
    versions_.push_back(std::move(entry));
}

// [[tariff]] tables with one id are versions of one tariff.
void PrepaidReader::merge_versions() {
    std::vector<std::string> ids;  // in order of first appearance
    for (const TariffEntry& e : versions_) {
        if (!e.id.empty() && std::find(ids.begin(), ids.end(), e.id) == ids.end()) {
            ids.push_back(e.id);
        }
    }
    for (const std::string& id : ids) {
        std::vector<const TariffEntry*> group;
        for (const TariffEntry& e : versions_) {
            if (e.id == id) group.push_back(&e);
        }
        bool ok =
            std::all_of(group.begin(), group.end(), [](const TariffEntry* e) { return e->ok; });
        const TariffEntry& first = *group.front();
        if (group.size() > 1) {
            std::vector<std::string> lines;
            for (const TariffEntry* e : group) lines.push_back(std::to_string(e->line));
            for (const TariffEntry* e : group) {
                if (e->effective_from != nullptr) continue;
                errors_.add(
                    e->table->source(), e->path + ".effective_from",
                    "missing required key 'effective_from': " + std::to_string(group.size()) +
                        " [[tariff]] tables have id " + in_quotes(id) + " (lines " + join(lines) +
                        "), each a version of the tariff that needs the time it takes "
                        "effect, e.g. effective_from = 2026-12-01T00:00:00+08:00");
                ok = false;
            }
        }
        const TariffEntry* reference = nullptr;  // the first version with a valid utility
        for (const TariffEntry* e : group) {
            if (!e->utility) continue;
            if (reference == nullptr) {
                reference = e;
                continue;
            }
            if (*e->utility != *reference->utility) {
                errors_.add(e->utility_node->source(), e->path + ".utility",
                            "found " + in_quotes(prepaid::utility_name(*e->utility)) + ", but " +
                                reference->path + " (line " + std::to_string(reference->line) +
                                "), a version of tariff " + in_quotes(id) + " too, is " +
                                prepaid::utility_name(*reference->utility) +
                                "; expected every version of a tariff to price the same utility "
                                "(give a tariff for the other one its own id)");
                ok = false;
            }
        }
        for (std::size_t j = 0; j < group.size(); ++j) {
            const TariffEntry& later = *group[j];
            if (!later.from_ms) continue;
            for (std::size_t i = 0; i < j; ++i) {
                if (group[i]->from_ms != later.from_ms) continue;
                errors_.add(later.effective_from->source(), later.path + ".effective_from",
                            "found " + written(*later.effective_from) + ", but " + group[i]->path +
                                " (line " + std::to_string(group[i]->line) +
                                "), a version of tariff " + in_quotes(id) +
                                " too, takes effect at the same time; expected a different "
                                "effective_from for each version");
                ok = false;
                break;
            }
        }
        if (!ok || reference == nullptr) continue;
        prepaid::Tariff tariff;
        tariff.id = id;
        tariff.utility = *reference->utility;
        for (const TariffEntry* e : group) tariff.versions.push_back(e->version);
        std::stable_sort(tariff.versions.begin(), tariff.versions.end(),
                         [](const prepaid::TariffVersion& a, const prepaid::TariffVersion& b) {
                             return a.effective_from_ms < b.effective_from_ms;
                         });
        if (auto valid = prepaid::validate(tariff); !valid) {
            errors_.add(first.table->source(), first.path,
                        "tariff " + in_quotes(id) + ": " + valid.error().message);
            continue;
        }
        tariffs_.push_back(std::move(tariff));
    }
}

const TariffEntry* PrepaidReader::first_version(std::string_view id) const {
    auto it = std::find_if(versions_.begin(), versions_.end(),
                           [id](const TariffEntry& e) { return e.id == id; });
    return it == versions_.end() ? nullptr : &*it;
}

namespace {

std::string unknown_reference(std::string_view table, std::string_view id,
                              const std::vector<std::string>& known) {
    std::string message = "no [[" + std::string(table) + "]] has id " + in_quotes(id);
    if (known.empty()) {
        return message + "; no [[" + std::string(table) +
               "]] is defined: add one with id = " + in_quotes(id);
    }
    std::vector<std::string_view> views(known.begin(), known.end());
    std::vector<std::string> quoted;
    for (const std::string& k : known) quoted.push_back(in_quotes(k));
    return message + did_you_mean(id, views) + "; known: " + join(quoted);
}

}  // namespace

// ---------------------------------------------------------------------------
// [[account]]

void PrepaidReader::read_accounts(const toml::array* array) {
    if (array == nullptr) return;
    for_each_table(errors_, *array, "account",
                   [&](const toml::table& table, const std::string& path) {
                       read_account(Section(errors_, table, path, kAccountKeys), path);
                   });
}

void PrepaidReader::read_account(const Section& s, const std::string& path) {
    AccountConfig account;
    AccountEntry entry;
    entry.path = path;
    entry.line = line_of(s.table());
    bool id_ok = false;
    bool duplicate = false;
    s.check_unknown_keys();
    if (const auto* id = s.required_string("id", "the account's id, e.g. id = \"A-0101\"")) {
        entry.id = id->get();
        if (const AccountEntry* first = find_account(id->get())) {
            s.error("id", *id,
                    "duplicate account id " + in_quotes(id->get()) + ": " + first->path +
                        " (line " + std::to_string(first->line) +
                        ") already has it; every account needs its own id");
            duplicate = true;
        } else if (!is_identifier(id->get())) {
            s.error("id", *id,
                    "found " + in_quotes(id->get()) + ", expected " + std::string(kIdentifierRule));
        } else {
            id_ok = true;
            account.id = id->get();
        }
    }
    read_account_tariffs(s, account, entry);
    entry.ok = entry.ok && id_ok;

    if (const toml::node* node = s.find("warn_fen")) {
        if (const toml::array* array = node->as_array()) {
            std::vector<std::int64_t> levels;
            for (std::size_t i = 0; i < array->size(); ++i) {
                const toml::node& element = *array->get(i);
                const std::string key = indexed("warn_fen", i);
                const auto* v = element.as_integer();
                if (v == nullptr) {
                    s.error(key, element,
                            found_expected(element, "an amount in fen (an integer)") +
                                integer_type_hint(element));
                    continue;
                }
                if (v->get() < 0 || v->get() > kMaxFen) {
                    s.error(key, element,
                            "found " + std::to_string(v->get()) + ", expected 0.." +
                                std::to_string(kMaxFen) + " fen");
                    continue;
                }
                if (std::find(levels.begin(), levels.end(), v->get()) != levels.end()) {
                    s.error(key, element, std::to_string(v->get()) + " is listed twice");
                    continue;
                }
                levels.push_back(v->get());
            }
            std::sort(levels.begin(), levels.end(), std::greater<>());
            account.credit.warn_fen = std::move(levels);
        } else {
            std::string message = found_expected(
                *node, "a list of balances in fen to warn at, e.g. warn_fen = [2000, 500]");
            if (const auto* v = node->as_integer()) {
                message += " (write warn_fen = [" + std::to_string(v->get()) + "])";
            }
            s.error("warn_fen", *node, std::move(message));
        }
    }
    if (auto v = s.integer_in("credit_limit_fen", {0, kMaxFen, "fen"})) {
        account.credit.credit_limit_fen = *v;
    }
    if (auto v = s.integer_in("emergency_credit_fen", {0, kMaxFen, "fen"})) {
        account.credit.emergency_credit_fen = *v;
    }
    if (auto v = s.integer_in("restore_above_fen", {0, kMaxFen, "fen"})) {
        account.credit.restore_above_fen = *v;
    }
    if (const auto* keep = s.boolean("keep_power")) account.keep_power = keep->get();
    if (auto v = s.integer_in("opening_balance_fen", {0, kMaxFen, "fen"})) {
        account.opening_balance_fen = *v;
    }
    // A malformed id is remembered too, so meters naming it are not also "unknown".
    if (!duplicate && !entry.id.empty()) accounts_.push_back(std::move(entry));
    account_configs_.push_back(std::move(account));
}

void PrepaidReader::read_account_tariffs(const Section& s, AccountConfig& account,
                                         AccountEntry& entry) {
    const toml::node* node = s.find("tariff");
    entry.ok = true;
    if (node == nullptr) return;
    std::vector<std::string> known;
    for (const TariffEntry& e : versions_) {
        if (!e.id.empty() && std::find(known.begin(), known.end(), e.id) == known.end()) {
            known.push_back(e.id);
        }
    }
    auto one = [&](const toml::node& element, const std::string& key) {
        const auto* id = element.as_string();
        if (id == nullptr) {
            s.error(key, element, found_expected(element, "a tariff id as a string"));
            entry.ok = false;
            return;
        }
        const TariffEntry* tariff = first_version(id->get());
        if (tariff == nullptr) {
            s.error(key, element, unknown_reference("tariff", id->get(), known));
            entry.ok = false;
            return;
        }
        if (std::find(account.tariffs.begin(), account.tariffs.end(), id->get()) !=
            account.tariffs.end()) {
            s.error(key, element, in_quotes(id->get()) + " is listed twice");
            entry.ok = false;
            return;
        }
        account.tariffs.push_back(id->get());
        if (!tariff->utility) {  // its own error says why
            entry.ok = false;
            return;
        }
        std::string& slot = entry.tariff_by_utility[static_cast<std::size_t>(*tariff->utility)];
        if (!slot.empty()) {
            s.error(key, element,
                    "account " + in_quotes(entry.id) + " already has " +
                        (*tariff->utility == Utility::Electricity ? "an " : "a ") +
                        prepaid::utility_name(*tariff->utility) + " tariff, " + in_quotes(slot) +
                        "; expected at most one tariff per utility (a meter is rated with its "
                        "account's tariff for its utility; set tariff on a meter to rate it "
                        "differently)");
            entry.ok = false;
            return;
        }
        slot = id->get();
    };
    if (node->is_string()) {
        one(*node, "tariff");
    } else if (const toml::array* array = node->as_array()) {
        for (std::size_t i = 0; i < array->size(); ++i) one(*array->get(i), indexed("tariff", i));
    } else {
        s.error("tariff", *node,
                found_expected(*node,
                               "a tariff id or a list of them, e.g. tariff = \"res-flat\" "
                               "or tariff = [\"res-flat\", \"water-std\"]"));
        entry.ok = false;
    }
}

const AccountEntry* PrepaidReader::find_account(std::string_view id) const {
    auto it = std::find_if(accounts_.begin(), accounts_.end(),
                           [id](const AccountEntry& e) { return e.id == id; });
    return it == accounts_.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------
// [[meter]]: account, tariff, max_rate_per_hour

void PrepaidReader::read_meter(const Section& s, bool kind_known, MeterConfig& meter) {
    const Utility utility = meter.kind == MeterKind::Water ? Utility::Water : Utility::Electricity;
    const std::string meter_name = meter.id.empty() ? std::string("this meter") : meter.id;

    const AccountEntry* account = nullptr;
    const auto* account_id = s.string("account");
    if (account_id != nullptr) {
        account = find_account(account_id->get());
        if (account == nullptr) {
            std::vector<std::string> known;
            for (const AccountEntry& a : accounts_) known.push_back(a.id);
            s.error("account", *account_id, unknown_reference("account", account_id->get(), known));
        } else {
            meter.account = account_id->get();
        }
    }

    bool tariff_ok = true;  // false: `tariff` is written but wrong
    if (s.has("tariff")) {
        tariff_ok = false;
        if (const auto* id = s.string("tariff")) {
            const TariffEntry* tariff = first_version(id->get());
            if (tariff == nullptr) {
                std::vector<std::string> known;
                for (const TariffEntry& e : versions_) {
                    if (!e.id.empty() &&
                        std::find(known.begin(), known.end(), e.id) == known.end()) {
                        known.push_back(e.id);
                    }
                }
                s.error("tariff", *id, unknown_reference("tariff", id->get(), known));
            } else if (kind_known && tariff->utility && *tariff->utility != utility) {
                s.error("tariff", *id,
                        "tariff " + in_quotes(id->get()) + " is a " +
                            prepaid::utility_name(*tariff->utility) + " tariff (" + tariff->path +
                            ", line " + std::to_string(tariff->line) + "), but " + meter_name +
                            " is " + (utility == Utility::Electricity ? "an " : "a ") +
                            std::string(to_string(meter.kind)) + " meter; expected " +
                            (utility == Utility::Electricity ? "an " : "a ") +
                            std::string(to_string(meter.kind)) + " tariff");
            } else {
                meter.tariff = id->get();
                tariff_ok = true;
            }
            if (!s.has("account")) {
                s.error("tariff", *id,
                        "'tariff' rates what the meter's account is charged, but this meter has "
                        "no account; add account = \"…\" (or remove tariff)");
            }
        }
    }

    if (auto rate = read_quantity(s, "max_rate_per_hour", "max_rate_per_hour = \"100\"")) {
        meter.max_rate_per_hour = *rate;
    } else if (!s.has("max_rate_per_hour")) {
        meter.max_rate_per_hour = meter.kind == MeterKind::Water ? Decimal{20, 0} : Decimal{100, 0};
    }

    if (account != nullptr && account->ok && kind_known && tariff_ok && meter.tariff.empty() &&
        account->tariff_by_utility[static_cast<std::size_t>(utility)].empty()) {
        s.error("account", *account_id,
                "account " + account->id + " has no " + prepaid::utility_name(utility) +
                    " tariff for " + std::string(to_string(meter.kind)) + " meter " + meter_name +
                    "; add one to the account's tariff list or set tariff on the meter");
    }
}

// ---------------------------------------------------------------------------
// [prepaid]

namespace {

// holidays = ["2026-10-01", ...]: date strings or TOML dates, as yyyymmdd keys.
std::set<int> read_dates(const Section& s, std::string_view key, bool weekends_only) {
    std::set<int> dates;
    const toml::node* node = s.find(key);
    if (node == nullptr) return dates;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
        s.error(key, *node,
                found_expected(*node, "a list of dates, e.g. " + std::string(key) +
                                          " = [\"2026-10-01\", \"2026-10-02\"]"));
        return dates;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        const std::string element_key = indexed(key, i);
        std::optional<int> date;
        if (const auto* text = element.as_string()) {
            date = parse_date_key(text->get());
            if (!date) {
                s.error(element_key, element,
                        "found " + in_quotes(text->get()) +
                            ", expected a valid date \"YYYY-MM-DD\", e.g. \"2026-10-01\"");
                continue;
            }
        } else if (const auto* d = element.as_date()) {
            const toml::date& v = d->get();
            if (!valid_date(v.year, v.month, v.day)) {
                s.error(element_key, element, found_expected(element, "a date from 1970 on"));
                continue;
            }
            date = v.year * 10000 + v.month * 100 + v.day;
        } else {
            s.error(element_key, element,
                    found_expected(element, "a date \"YYYY-MM-DD\", e.g. \"2026-10-01\""));
            continue;
        }
        if (weekends_only) {
            const int wd = weekday_of(*date / 10000, *date / 100 % 100, *date % 100);
            if (wd < 5) {
                s.error(element_key, element,
                        "found " + date_text(*date) + ", a " +
                            std::string(kWeekdays[static_cast<std::size_t>(wd)]) +
                            "; expected a Saturday or Sunday worked as a weekday (调休): "
                            "weekdays are workdays already");
                continue;
            }
        }
        if (!dates.insert(*date).second) {
            s.error(element_key, element, "this date is listed twice");
        }
    }
    return dates;
}

}  // namespace

void PrepaidReader::read_settings(const toml::table* table) {
    if (table == nullptr) return;
    const Section s(errors_, *table, "prepaid", kPrepaidKeys);
    s.check_unknown_keys();
    if (const toml::node* node = s.find("friendly_hours")) {
        if (const toml::array* array = node->as_array()) {
            for (std::size_t i = 0; i < array->size(); ++i) {
                const toml::node& element = *array->get(i);
                const std::string key = indexed("friendly_hours", i);
                const auto* text = element.as_string();
                if (text == nullptr) {
                    s.error(key, element,
                            found_expected(element, "\"HH:MM-HH:MM\", e.g. \"22:00-06:00\""));
                    continue;
                }
                const auto range = parse_clock_range(trim(text->get()));
                if (!range) {
                    s.error(key, element,
                            "found " + in_quotes(text->get()) + ": " + range.error().message +
                                "; expected \"HH:MM-HH:MM\", e.g. \"22:00-06:00\" (a range may "
                                "cross midnight)");
                    continue;
                }
                settings_.friendly.daily.push_back({range->start, range->end});
            }
        } else {
            s.error("friendly_hours", *node,
                    found_expected(*node,
                                   "a list of \"HH:MM-HH:MM\", e.g. friendly_hours = "
                                   "[\"22:00-06:00\"]"));
        }
    }
    if (const auto* b = s.boolean("friendly_weekends")) settings_.friendly.weekends = b->get();
    if (const auto* b = s.boolean("friendly_holidays")) settings_.friendly.holidays = b->get();
    settings_.holidays = read_dates(s, "holidays", false);
    settings_.workdays = read_dates(s, "workdays", true);
    if (const toml::node* node = s.find("workdays"); node != nullptr && node->is_array()) {
        const toml::array& array = *node->as_array();
        for (std::size_t i = 0; i < array.size(); ++i) {
            const toml::node& element = *array.get(i);
            std::optional<int> date;
            if (const auto* text = element.as_string()) date = parse_date_key(text->get());
            if (const auto* d = element.as_date()) {
                date = d->get().year * 10000 + d->get().month * 100 + d->get().day;
            }
            if (date && settings_.holidays.contains(*date)) {
                s.error(indexed("workdays", i), element,
                        "this date is in holidays too; expected a date to be a holiday or a "
                        "workday, not both");
            }
        }
    }
    if (auto v = s.integer_in("relay_min_interval_s", {0, 86400, "s"})) {
        settings_.relay.min_interval_s = *v;
    }
    s.integer("relay_daily_max", settings_.relay.daily_max, {1, 1000, ""});
    s.integer("check_interval_s", settings_.check_interval_s, {5, 3600, "s"});
    s.integer("switch_attempts", settings_.switch_attempts, {1, 20, ""});
    s.integer("supply_check_interval_s", settings_.supply_check_interval_s, {0, 86400, "s"});
}

void PrepaidReader::finish(Config& config) {
    config.tariffs = std::move(tariffs_);
    config.accounts = std::move(account_configs_);
    config.prepaid = std::move(settings_);
}

}  // namespace ecmgw::config::check
