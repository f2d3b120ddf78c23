// The prepaid part of the config: [[tariff]], [[account]], [prepaid] and the
// prepaid keys of [[meter]]. Valid files give the right values; each mistake is
// reported at its line with a message that says what was found and what was expected.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "config_doc.hpp"
#include "ecmgw/config/config.hpp"

using namespace ecmgw;
using namespace ecmgw::config;
using namespace ecmgw::test;
using prepaid::DayKind;
using prepaid::Period;
using prepaid::Price;
using prepaid::TouRange;
using prepaid::Utility;

namespace {

constexpr std::string_view kFile = ecmgw::test::kConfigFile;

// The 1-based line of `doc` holding `needle` (its first occurrence).
int line_with(const std::string& doc, std::string_view needle) {
    const std::size_t at = doc.find(needle);
    REQUIRE(at != std::string::npos);
    int line = 1;
    for (std::size_t i = 0; i < at; ++i) line += doc[i] == '\n' ? 1 : 0;
    return line;
}

const std::string kGateway = "[gateway]\nid = \"gw-0001\"\ntimezone = \"UTC\"\n";
const std::string kBus = "[[bus]]\nname = \"floor1\"\ndevice = \"/dev/ttyUSB0\"\n";

std::string meter(std::string_view id, std::string_view address, std::string_view extra = "") {
    return "[[meter]]\nid = \"" + std::string(id) + "\"\nbus = \"floor1\"\n" +
           "protocol = \"dlt645-2007\"\naddress = \"" + std::string(address) + "\"\n" +
           std::string(extra);
}

std::string water_meter(std::string_view id, std::string_view address,
                        std::string_view extra = "") {
    return "[[meter]]\nid = \"" + std::string(id) + "\"\nbus = \"floor1\"\n" +
           "protocol = \"cjt188\"\naddress = \"" + std::string(address) + "\"\n" +
           std::string(extra);
}

const std::string kFlat =
    "[[tariff]]\nid = \"res-flat\"\nutility = \"electricity\"\nprice = \"0.5283\"\n";
const std::string kWater = "[[tariff]]\nid = \"water\"\nutility = \"water\"\nprice = \"3.45\"\n";

// A time-of-use tariff with `periods` (and whatever else `extra` adds).
std::string tou(std::string_view periods, std::string_view extra = "") {
    return "[[tariff]]\nid = \"res-tou\"\nutility = \"electricity\"\n"
           "prices = { peak = \"0.8\", flat = \"0.6\", valley = \"0.3\" }\n"
           "periods = " +
           std::string(periods) + "\n" + std::string(extra);
}

Price yuan(std::string_view text) { return Price::parse(text).value(); }

constexpr auto kFlatIndex = static_cast<std::size_t>(Period::Flat);
constexpr auto kPeakIndex = static_cast<std::size_t>(Period::Peak);
constexpr auto kValleyIndex = static_cast<std::size_t>(Period::Valley);
constexpr auto kSharpIndex = static_cast<std::size_t>(Period::Sharp);

}  // namespace

// --- valid files -------------------------------------------------------------

TEST_CASE("the issue's minimal prepaid config parses with the right values") {
    const std::string doc = kGateway + kBus +
                            "[[tariff]]\n"
                            "id = \"res-flat\"\n"
                            "utility = \"electricity\"        # or \"water\"\n"
                            "price = \"0.5283\"               # yuan per kWh\n"
                            "[[account]]\n"
                            "id = \"A-0101\"\n"
                            "tariff = \"res-flat\"\n"
                            "warn_fen = [2000, 500]         # low-balance warning thresholds\n"
                            "credit_limit_fen = 0\n"
                            "[[meter]]\n"
                            "id = \"E-0101\"\n"
                            "account = \"A-0101\"\n"
                            "bus = \"floor1\"\n"
                            "protocol = \"dlt645-2007\"\n"
                            "address = \"000000000101\"\n";
    const Config c = parse_ok(doc);

    REQUIRE(c.tariffs.size() == 1);
    const prepaid::Tariff& t = c.tariffs[0];
    CHECK(t.id == "res-flat");
    CHECK(t.utility == Utility::Electricity);
    REQUIRE(t.versions.size() == 1);
    const prepaid::TariffVersion& v = t.versions[0];
    CHECK(v.effective_from_ms == 0);
    REQUIRE(v.tiers.size() == 1);
    CHECK_FALSE(v.tiers[0].upper_micro.has_value());
    CHECK(v.tiers[0].prices[kFlatIndex] == Price::from_micro_yuan(528300));
    CHECK_FALSE(v.tiers[0].prices[kPeakIndex].has_value());
    for (const auto& table : v.day_tables) CHECK(table.empty());
    CHECK(v.cycle == prepaid::BillingCycle{});
    CHECK(v.fixed_daily_fen == 0);
    CHECK(v.fixed_monthly_fen == 0);

    REQUIRE(c.accounts.size() == 1);
    const AccountConfig& a = c.accounts[0];
    CHECK(a.id == "A-0101");
    CHECK(a.tariffs == std::vector<std::string>{"res-flat"});
    CHECK(a.credit.warn_fen == std::vector<std::int64_t>{2000, 500});
    CHECK(a.credit.credit_limit_fen == 0);
    CHECK(a.credit.emergency_credit_fen == 0);
    CHECK(a.credit.restore_above_fen == 0);
    CHECK_FALSE(a.keep_power);
    CHECK(a.opening_balance_fen == 0);

    REQUIRE(c.meters.size() == 1);
    const MeterConfig& m = c.meters[0];
    CHECK(m.account == "A-0101");
    CHECK(m.tariff.empty());
    CHECK(m.max_rate_per_hour == Decimal{100, 0});
    CHECK(c.find_account("A-0101") == &a);
    CHECK(c.find_account("A-0102") == nullptr);
    CHECK(c.find_tariff("res-flat") == &t);
    CHECK(c.find_tariff("nope") == nullptr);
    CHECK(c.tariff_of(m) == &t);

    // [prepaid] absent: every default.
    CHECK(c.prepaid.friendly == prepaid::FriendlyPeriods{});
    CHECK(c.prepaid.holidays.empty());
    CHECK(c.prepaid.workdays.empty());
    CHECK(c.prepaid.relay.min_interval_s == 60);
    CHECK(c.prepaid.relay.daily_max == 10);
    CHECK(c.prepaid.check_interval_s == 30);
    CHECK(c.prepaid.switch_attempts == 3);
    CHECK(c.prepaid.supply_check_interval_s == 300);
}

TEST_CASE("a file without prepaid tables has none, and meters get the default max rate") {
    const Config c = parse_ok(kGateway + kBus + meter("E-0101", "000000000101") +
                              water_meter("W-0101", "12345678901234"));
    CHECK(c.tariffs.empty());
    CHECK(c.accounts.empty());
    CHECK(c.meters[0].max_rate_per_hour == Decimal{100, 0});
    CHECK(c.meters[1].max_rate_per_hour == Decimal{20, 0});
    CHECK(c.tariff_of(c.meters[0]) == nullptr);
}

TEST_CASE("a time-of-use tariff: prices by period and day tables") {
    const Config c =
        parse_ok(kGateway +
                 "[[tariff]]\n"
                 "id = \"res-tou\"\n"
                 "utility = \"electricity\"\n"
                 "prices = { sharp = \"1.2\", peak = \"0.8\", flat = \"0.6\", valley = \"0.3\" }\n"
                 "periods = [\"08:00-10:00 flat\", \"22:00-06:00 valley\", \"06:00-08:00 flat\",\n"
                 "           \"10:00-12:00 peak\", \"12:00-14:00 sharp\", \"14:00-22:00 PEAK\"]\n"
                 "weekend_periods = [\"00:00-24:00 flat\"]\n"
                 "holiday_periods = [\"00:00-12:00 谷\", \"12:00-00:00 平\"]\n");
    REQUIRE(c.tariffs.size() == 1);
    const auto& v = c.tariffs[0].versions.at(0);
    REQUIRE(v.tiers.size() == 1);
    CHECK(v.tiers[0].prices[kSharpIndex] == yuan("1.2"));
    CHECK(v.tiers[0].prices[kPeakIndex] == yuan("0.8"));
    CHECK(v.tiers[0].prices[kFlatIndex] == yuan("0.6"));
    CHECK(v.tiers[0].prices[kValleyIndex] == yuan("0.3"));
    // Sorted by start; a range across midnight is two pieces.
    const std::vector<TouRange> weekday{
        {0, 360, Period::Valley},     {360, 480, Period::Flat},  {480, 600, Period::Flat},
        {600, 720, Period::Peak},     {720, 840, Period::Sharp}, {840, 1320, Period::Peak},
        {1320, 1440, Period::Valley},
    };
    CHECK(v.day_tables[static_cast<std::size_t>(DayKind::Weekday)] == weekday);
    CHECK(v.day_tables[static_cast<std::size_t>(DayKind::Weekend)] ==
          std::vector<TouRange>{{0, 1440, Period::Flat}});
    CHECK(v.day_tables[static_cast<std::size_t>(DayKind::Holiday)] ==
          std::vector<TouRange>{{0, 720, Period::Valley}, {720, 1440, Period::Flat}});
}

TEST_CASE("a tiered tariff: cumulative up_to bounds in micro-units, the last unbounded") {
    const Config c = parse_ok(kGateway +
                              "[[tariff]]\n"
                              "id = \"res-tier\"\n"
                              "utility = \"electricity\"\n"
                              "tiers = [ { up_to = \"2760\", price = \"0.5283\" },\n"
                              "          { up_to = \"4800.5\", price = \"0.5783\" },\n"
                              "          { price = \"0.8283\" } ]\n"
                              "cycle = \"yearly\"\n"
                              "cycle_start = \"03-15\"\n"
                              "fixed_daily_fen = 12\n"
                              "fixed_monthly_fen = 500\n");
    const auto& v = c.tariffs.at(0).versions.at(0);
    REQUIRE(v.tiers.size() == 3);
    CHECK(v.tiers[0].upper_micro == 2'760'000'000);
    CHECK(v.tiers[1].upper_micro == 4'800'500'000);
    CHECK_FALSE(v.tiers[2].upper_micro.has_value());
    CHECK(v.tiers[0].prices[kFlatIndex] == yuan("0.5283"));
    CHECK(v.tiers[1].prices[kFlatIndex] == yuan("0.5783"));
    CHECK(v.tiers[2].prices[kFlatIndex] == yuan("0.8283"));
    CHECK(v.cycle.length == prepaid::BillingCycle::Length::Yearly);
    CHECK(v.cycle.start_month == 3);
    CHECK(v.cycle.start_day == 15);
    CHECK(v.fixed_daily_fen == 12);
    CHECK(v.fixed_monthly_fen == 500);
}

TEST_CASE("tiers combined with time of use: each tier has prices by period") {
    const Config c = parse_ok(kGateway +
                              "[[tariff]]\n"
                              "id = \"res-tier-tou\"\n"
                              "utility = \"electricity\"\n"
                              "cycle = \"monthly\"\n"
                              "cycle_start = 15\n"
                              "periods = [\"00:00-08:00 valley\", \"08:00-24:00 peak\"]\n"
                              "[[tariff.tiers]]\n"
                              "up_to = \"200\"\n"
                              "prices = { peak = \"0.6\", valley = \"0.3\" }\n"
                              "[[tariff.tiers]]\n"
                              "prices = { peak = \"0.9\", valley = \"0.5\" }\n");
    const auto& v = c.tariffs.at(0).versions.at(0);
    REQUIRE(v.tiers.size() == 2);
    CHECK(v.tiers[0].upper_micro == 200'000'000);
    CHECK(v.tiers[0].prices[kPeakIndex] == yuan("0.6"));
    CHECK(v.tiers[1].prices[kValleyIndex] == yuan("0.5"));
    CHECK_FALSE(v.tiers[1].prices[kFlatIndex].has_value());
    CHECK(v.day_tables[0].size() == 2);
    CHECK(v.cycle.length == prepaid::BillingCycle::Length::Monthly);
    CHECK(v.cycle.start_day == 15);
}

TEST_CASE("effective_from: a TOML offset date-time or an RFC 3339 string, as UTC ms") {
    SUBCASE("TOML date-time") {
        const Config c =
            parse_ok(kGateway + kFlat + "effective_from = 2026-12-01T00:00:00+08:00\n");
        CHECK(c.tariffs.at(0).versions.at(0).effective_from_ms == 1796054400000);
    }
    SUBCASE("string with an offset") {
        const Config c =
            parse_ok(kGateway + kFlat + "effective_from = \"2026-06-01T08:30:00.250-02:00\"\n");
        CHECK(c.tariffs.at(0).versions.at(0).effective_from_ms == 1780309800250);
    }
    SUBCASE("string in UTC") {
        const Config c = parse_ok(kGateway + kFlat + "effective_from = \"2027-07-01T00:00:00Z\"\n");
        CHECK(c.tariffs.at(0).versions.at(0).effective_from_ms == 1814400000000);
    }
}

TEST_CASE("[[tariff]] tables with one id are versions, merged and sorted by effective_from") {
    const Config c = parse_ok(kGateway +
                              "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\n"
                              "price = \"0.60\"\neffective_from = 2026-12-01T00:00:00+08:00\n" +
                              kWater +
                              "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\n"
                              "price = \"0.50\"\neffective_from = 2025-01-01T00:00:00+08:00\n"
                              "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\n"
                              "price = \"0.70\"\neffective_from = \"2027-07-01T00:00:00Z\"\n");
    REQUIRE(c.tariffs.size() == 2);
    CHECK(c.tariffs[0].id == "res");
    CHECK(c.tariffs[1].id == "water");
    const prepaid::Tariff& t = c.tariffs[0];
    REQUIRE(t.versions.size() == 3);
    CHECK(t.versions[0].effective_from_ms == 1735660800000);
    CHECK(t.versions[1].effective_from_ms == 1796054400000);
    CHECK(t.versions[2].effective_from_ms == 1814400000000);
    CHECK(t.versions[0].tiers[0].prices[kFlatIndex] == yuan("0.50"));
    CHECK(t.versions[1].tiers[0].prices[kFlatIndex] == yuan("0.60"));
    CHECK(t.versions[2].tiers[0].prices[kFlatIndex] == yuan("0.70"));
    CHECK(&t.version_at(1796054400000 - 1) == &t.versions[0]);
    CHECK(&t.version_at(1796054400000) == &t.versions[1]);
}

TEST_CASE("[[account]] with every key") {
    const Config c = parse_ok(kGateway + kFlat + kWater +
                              "[[account]]\n"
                              "id = \"A-0101\"\n"
                              "tariff = [\"res-flat\", \"water\"]\n"
                              "warn_fen = [500, 3000, 1000]\n"
                              "credit_limit_fen = 1000\n"
                              "emergency_credit_fen = 2000\n"
                              "restore_above_fen = 300\n"
                              "keep_power = true\n"
                              "opening_balance_fen = 10000\n"
                              "[[account]]\n"
                              "id = \"A-0102\"\n"
                              "warn_fen = []\n");
    REQUIRE(c.accounts.size() == 2);
    const AccountConfig& a = c.accounts[0];
    CHECK(a.tariffs == std::vector<std::string>{"res-flat", "water"});
    CHECK(a.credit.warn_fen == std::vector<std::int64_t>{3000, 1000, 500});
    CHECK(a.credit.credit_limit_fen == 1000);
    CHECK(a.credit.emergency_credit_fen == 2000);
    CHECK(a.credit.restore_above_fen == 300);
    CHECK(a.keep_power);
    CHECK(a.opening_balance_fen == 10000);
    const AccountConfig& b = c.accounts[1];
    CHECK(b.tariffs.empty());
    CHECK(b.credit.warn_fen.empty());
}

TEST_CASE("meters: account, tariff override, max_rate_per_hour, tariff_of") {
    const std::string tariffs =
        kFlat + kWater + "[[tariff]]\nid = \"shop\"\nutility = \"electricity\"\nprice = \"0.9\"\n";
    const Config c =
        parse_ok(kGateway + kBus + tariffs +
                 "[[account]]\nid = \"A-0101\"\ntariff = [\"water\", \"res-flat\"]\n"
                 "[[account]]\nid = \"A-0102\"\n" +
                 meter("E-0101", "000000000101", "account = \"A-0101\"\nrelay = true\n") +
                 meter("E-0102", "000000000102",
                       "account = \"A-0101\"\ntariff = \"shop\"\nmax_rate_per_hour = \"35.5\"\n") +
                 water_meter("W-0101", "12345678901234", "account = \"A-0101\"\n") +
                 // An account without tariffs: the meter names its own. relay = false:
                 // charged, but never cut.
                 meter("E-0201", "000000000201", "account = \"A-0102\"\ntariff = \"res-flat\"\n") +
                 meter("E-0301", "000000000301"));
    REQUIRE(c.meters.size() == 5);
    CHECK(c.tariff_of(c.meters[0]) == c.find_tariff("res-flat"));
    CHECK(c.meters[0].max_rate_per_hour == Decimal{100, 0});
    CHECK(c.meters[1].tariff == "shop");
    CHECK(c.tariff_of(c.meters[1]) == c.find_tariff("shop"));
    CHECK(c.meters[1].max_rate_per_hour == Decimal{355, 1});
    CHECK(c.tariff_of(c.meters[2]) == c.find_tariff("water"));
    CHECK(c.meters[2].max_rate_per_hour == Decimal{20, 0});
    CHECK_FALSE(c.meters[3].relay);
    CHECK(c.tariff_of(c.meters[3]) == c.find_tariff("res-flat"));
    CHECK(c.meters[4].account.empty());
    CHECK(c.tariff_of(c.meters[4]) == nullptr);
}

TEST_CASE("[prepaid] with every key") {
    const Config c =
        parse_ok(kGateway +
                 "[prepaid]\n"
                 "friendly_hours = [\"22:00-06:00\", \"12:00-13:30\", \"18:00-24:00\"]\n"
                 "friendly_weekends = true\n"
                 "friendly_holidays = true\n"
                 "holidays = [\"2026-10-01\", 2026-10-02, \"2028-02-29\"]\n"
                 "workdays = [\"2026-09-27\", 2026-10-10]\n"
                 "relay_min_interval_s = 0\n"
                 "relay_daily_max = 4\n"
                 "check_interval_s = 5\n"
                 "switch_attempts = 20\n"
                 "supply_check_interval_s = 0\n");
    const PrepaidConfig& p = c.prepaid;
    using Range = prepaid::FriendlyPeriods::Range;
    CHECK(p.friendly.daily == std::vector<Range>{{1320, 360}, {720, 810}, {1080, 1440}});
    CHECK(p.friendly.weekends);
    CHECK(p.friendly.holidays);
    CHECK(p.holidays == std::set<int>{20261001, 20261002, 20280229});
    CHECK(p.workdays == std::set<int>{20260927, 20261010});
    CHECK(p.relay.min_interval_s == 0);
    CHECK(p.relay.daily_max == 4);
    CHECK(p.check_interval_s == 5);
    CHECK(p.switch_attempts == 20);
    CHECK(p.supply_check_interval_s == 0);
}

TEST_CASE("the shipped example's prepaid tables parse, with its meters charged") {
    const std::string dir =
        (std::filesystem::path(ECMGW_TESTDATA).parent_path().parent_path() / "config").string();
    std::ifstream in(dir + "/ecmgw.example.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_FALSE(text.empty());
    auto replace_all = [&text](const std::string& from, const std::string& to) {
        int count = 0;
        for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
            text.replace(at, from.size(), to);
            at += to.size();
            ++count;
        }
        return count;
    };
    CHECK(replace_all("profiles_dir = \"/usr/share/ecmgw/profiles\"",
                      "profiles_dir = \"" + dir + "/profiles\"") == 1);
    // The meters' prepaid keys are commented out; the example must hold with them too.
    CHECK(replace_all("\n# account = \"A-0101\"", "\naccount = \"A-0101\"") == 2);
    CHECK(replace_all("\n# tariff = \"res-flat\"", "\ntariff = \"res-flat\"") == 1);
    const Config c = parse_ok(text);
    REQUIRE(c.tariffs.size() == 5);
    CHECK(c.find_tariff("res-flat")->versions.size() == 2);
    REQUIRE(c.accounts.size() == 1);
    const MeterConfig* e = c.find_meter("E-0101");
    const MeterConfig* w = c.find_meter("W-0101");
    REQUIRE(e != nullptr);
    REQUIRE(w != nullptr);
    CHECK(c.tariff_of(*e) == c.find_tariff("res-flat"));
    CHECK(c.tariff_of(*w) == c.find_tariff("water-res"));
    CHECK(c.prepaid.holidays.size() == 7);
    CHECK(c.prepaid.friendly.holidays);
}

// --- the catalogue of mistakes -----------------------------------------

TEST_CASE("a day table with a gap is refused at its line") {
    const std::string doc =
        kGateway + tou("[\"00:00-07:00 valley\", \"08:00-22:00 peak\", \"22:00-24:00 valley\"]");
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "periods ="));
    CHECK(e.key == "tariff[1].periods");
    CHECK(has(e.message, "gap at 07:00-08:00"));
    CHECK(has(e.to_string(), "t.toml:" + std::to_string(e.line) + ":"));
}

TEST_CASE("a day table that stops before midnight has a gap at its end") {
    const std::string doc = kGateway + tou("[\"00:00-08:00 valley\", \"08:00-23:00 peak\"]");
    const ConfigError e = only_error(doc);
    CHECK(e.key == "tariff[1].periods");
    CHECK(has(e.message, "gap at 23:00-24:00"));
}

TEST_CASE("overlapping periods are refused at the overlapping entry") {
    const std::string doc = kGateway + tou("[\"00:00-08:00 valley\",\n"
                                           "  \"08:00-12:00 peak\",\n"
                                           "  \"10:00-24:00 flat\"]");
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "\"10:00-24:00 flat\""));
    CHECK(e.key == "tariff[1].periods[3]");
    CHECK(has(e.message,
              "\"10:00-24:00 flat\" overlaps tariff[1].periods[2] \"08:00-12:00 peak\" "
              "at 10:00-12:00"));
}

TEST_CASE("a negative price is refused") {
    const std::string doc = kGateway +
                            "[[tariff]]\nid = \"res-flat\"\nutility = \"electricity\"\n"
                            "price = \"-0.5283\"\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "price ="));
    CHECK(e.key == "tariff[1].price");
    CHECK(has(e.message, "negative"));
}

TEST_CASE("a price written as a TOML number is refused with the reason") {
    SUBCASE("float") {
        const std::string doc = kGateway +
                                "[[tariff]]\nid = \"res-flat\"\nutility = \"electricity\"\n"
                                "price = 0.5283\n";
        const ConfigError e = only_error(doc);
        CHECK(e.line == line_with(doc, "price ="));
        CHECK(e.key == "tariff[1].price");
        CHECK(has(e.message, "found floating-point number 0.5283"));
        CHECK(has(e.message,
                  "prices are decimal strings, e.g. \"0.5283\", so they never pass "
                  "through binary floating point"));
        CHECK(has(e.message, "write price = \"0.5283\""));
    }
    SUBCASE("integer, inside a prices table") {
        const std::string doc = kGateway +
                                "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                                "prices = { peak = 1, valley = \"0.3\" }\n"
                                "periods = [\"00:00-08:00 valley\", \"08:00-24:00 peak\"]\n";
        const ConfigError e = only_error(doc);
        CHECK(e.key == "tariff[1].prices.peak");
        CHECK(has(e.message, "found integer 1"));
        CHECK(has(e.message, "prices are decimal strings"));
    }
}

TEST_CASE("tiers out of order are refused at the tier's up_to") {
    const std::string doc = kGateway +
                            "[[tariff]]\nid = \"res-tier\"\nutility = \"electricity\"\n"
                            "tiers = [ { up_to = \"4800\", price = \"0.5283\" },\n"
                            "          { up_to = \"2760\", price = \"0.5783\" },\n"
                            "          { price = \"0.8283\" } ]\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "\"2760\""));
    CHECK(e.key == "tariff[1].tiers[2].up_to");
    CHECK(has(e.message, "tiers out of order: up_to 2760 is not above tier 1's up_to 4800"));
}

TEST_CASE("an account naming an unknown tariff") {
    const std::string doc =
        kGateway + kFlat + "[[account]]\nid = \"A-0101\"\ntariff = \"res-flt\"\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "tariff = \"res-flt\""));
    CHECK(e.key == "account[1].tariff");
    CHECK(has(e.message,
              "no [[tariff]] has id \"res-flt\" (did you mean 'res-flat'?); known: "
              "\"res-flat\""));
}

TEST_CASE("a meter naming an unknown account") {
    const std::string doc = kGateway + kBus + kFlat +
                            "[[account]]\nid = \"A-0101\"\ntariff = \"res-flat\"\n" +
                            meter("E-0101", "000000000101", "account = \"A-0110\"\n");
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "account = \"A-0110\""));
    CHECK(e.key == "meter[1].account");
    CHECK(has(e.message, "no [[account]] has id \"A-0110\""));
    CHECK(has(e.message, "known: \"A-0101\""));
}

TEST_CASE("two tariffs of one utility on an account") {
    const std::string doc =
        kGateway + kFlat +
        "[[tariff]]\nid = \"shop\"\nutility = \"electricity\"\nprice = \"0.9\"\n" +
        "[[account]]\nid = \"A-0101\"\ntariff = [\"res-flat\", \"shop\"]\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "tariff = [\"res-flat\""));
    CHECK(e.key == "account[1].tariff[2]");
    CHECK(has(e.message,
              "account \"A-0101\" already has an electricity tariff, \"res-flat\"; expected at "
              "most one tariff per utility"));
}

TEST_CASE("a water meter whose account has no water tariff") {
    const std::string doc = kGateway + kBus + kFlat +
                            "[[account]]\nid = \"A-0101\"\ntariff = \"res-flat\"\n" +
                            water_meter("W-0101", "12345678901234", "account = \"A-0101\"\n");
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "account = \"A-0101\""));
    CHECK(e.key == "meter[1].account");
    CHECK(e.message ==
          "account A-0101 has no water tariff for water meter W-0101; add one to the account's "
          "tariff list or set tariff on the meter");
}

TEST_CASE("a bad date in holidays") {
    const std::string doc = kGateway + "[prepaid]\nholidays = [\"2026-10-01\", \"2026-02-30\"]\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "holidays ="));
    CHECK(e.key == "prepaid.holidays[2]");
    CHECK(has(e.message, "found \"2026-02-30\", expected a valid date \"YYYY-MM-DD\""));
}

TEST_CASE("bad friendly hours") {
    const std::string doc = kGateway + "[prepaid]\nfriendly_hours = [\"25:00-06:00\"]\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "friendly_hours"));
    CHECK(e.key == "prepaid.friendly_hours[1]");
    CHECK(has(e.message, "found \"25:00-06:00\": \"25:00\" is not a time of day"));
    CHECK(has(e.message, "expected \"HH:MM-HH:MM\", e.g. \"22:00-06:00\""));
}

TEST_CASE("a duplicate account id") {
    const std::string doc = kGateway + kFlat +
                            "[[account]]\nid = \"A-0101\"\ntariff = \"res-flat\"\n"
                            "[[account]]\nid = \"A-0101\"\n\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "[[account]]\nid = \"A-0101\"\n\n") + 1);
    CHECK(e.key == "account[2].id");
    CHECK(has(e.message, "duplicate account id \"A-0101\": account[1] (line " +
                             std::to_string(line_with(doc, "[[account]]")) + ") already has it"));
}

TEST_CASE("two versions of a tariff with the same effective_from") {
    const std::string doc = kGateway +
                            "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\n"
                            "price = \"0.5\"\neffective_from = 2026-12-01T00:00:00+08:00\n"
                            "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\n"
                            "price = \"0.6\"\neffective_from = \"2026-11-30T16:00:00Z\"\n";
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "\"2026-11-30T16:00:00Z\""));
    CHECK(e.key == "tariff[2].effective_from");
    CHECK(has(e.message,
              "tariff[1] (line 4), a version of tariff \"res\" too, takes effect at "
              "the same time"));
}

// --- more mistakes ------------------------------------------------------------

TEST_CASE("versions need effective_from and the same utility") {
    const std::string doc = kGateway +
                            "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\nprice = \"0.5\"\n"
                            "[[tariff]]\nid = \"res\"\nutility = \"water\"\nprice = \"0.6\"\n"
                            "effective_from = 2026-12-01T00:00:00+08:00\n";
    const ConfigErrors errors = errors_of(doc);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].line == 4);
    CHECK(errors[0].key == "tariff[1].effective_from");
    CHECK(has(errors[0].message,
              "missing required key 'effective_from': 2 [[tariff]] tables "
              "have id \"res\" (lines 4, 8)"));
    CHECK(errors[1].line == line_with(doc, "utility = \"water\""));
    CHECK(errors[1].key == "tariff[2].utility");
    CHECK(has(errors[1].message, "expected every version of a tariff to price the same utility"));
}

TEST_CASE("a meter's own tariff must be of its utility") {
    const std::string doc =
        kGateway + kBus + kFlat + kWater + "[[account]]\nid = \"A-0101\"\ntariff = \"res-flat\"\n" +
        meter("E-0101", "000000000101", "account = \"A-0101\"\ntariff = \"water\"\n");
    const ConfigError e = only_error(doc);
    CHECK(e.line == line_with(doc, "tariff = \"water\""));
    CHECK(e.key == "meter[1].tariff");
    CHECK(has(e.message,
              "tariff \"water\" is a water tariff (tariff[2], line 11), but E-0101 is "
              "an electricity meter; expected an electricity tariff"));
}

TEST_CASE("a meter with a tariff but no account") {
    const std::string doc =
        kGateway + kBus + kFlat + meter("E-0101", "000000000101", "tariff = \"res-flat\"\n");
    const ConfigError e = only_error(doc);
    CHECK(e.key == "meter[1].tariff");
    CHECK(has(e.message, "this meter has no account"));
}

TEST_CASE("max_rate_per_hour is a decimal string above 0") {
    SUBCASE("zero") {
        const ConfigError e = only_error(
            kGateway + kBus + meter("E-0101", "000000000101", "max_rate_per_hour = \"0\"\n"));
        CHECK(e.key == "meter[1].max_rate_per_hour");
        CHECK(has(e.message, "expected a number above 0"));
    }
    SUBCASE("float") {
        const ConfigError e = only_error(
            kGateway + kBus + meter("E-0101", "000000000101", "max_rate_per_hour = 60.5\n"));
        CHECK(has(e.message, "write it in quotes: max_rate_per_hour = \"60.5\""));
    }
}

TEST_CASE("unknown keys in the prepaid tables get a suggestion") {
    const std::string doc = kGateway + kBus +
                            "[[tariff]]\nid = \"res\"\nutility = \"electricity\"\nprise = \"0.5\"\n"
                            "price = \"0.5\"\n"
                            "[[account]]\nid = \"A-0101\"\ntariff = \"res\"\ncredit_limit = 100\n"
                            "[prepaid]\nfriendly_hour = []\n" +
                            meter("E-0101", "000000000101", "acount = \"A-0101\"\n");
    const ConfigErrors errors = errors_of(doc);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].key == "tariff[1].prise");
    CHECK(has(errors[0].message, "unknown key 'prise' (did you mean 'price'?)"));
    CHECK(errors[1].key == "account[1].credit_limit");
    CHECK(has(errors[1].message, "(did you mean 'credit_limit_fen'?)"));
    CHECK(errors[2].key == "prepaid.friendly_hour");
    CHECK(has(errors[2].message, "(did you mean 'friendly_hours'?)"));
    CHECK(errors[3].key == "meter[1].acount");
    CHECK(has(errors[3].message, "(did you mean 'account'?)"));
}

TEST_CASE("unknown keys in tiers and prices tables") {
    const std::string doc = kGateway +
                            "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                            "prices = { peak = \"0.8\", valey = \"0.3\" }\n"
                            "periods = [\"00:00-24:00 peak\"]\n"
                            "[[tariff]]\nid = \"u\"\nutility = \"electricity\"\n"
                            "tiers = [ { upto = \"10\", price = \"0.5\" }, { price = \"0.6\" } ]\n";
    const ConfigErrors errors = errors_of(doc);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].key == "tariff[1].prices.valey");
    CHECK(has(errors[0].message, "(did you mean 'valley'?)"));
    // The missing key is reported at the tier's opening brace, before the unknown one.
    CHECK(errors[1].key == "tariff[2].tiers[1].up_to");
    CHECK(has(errors[1].message, "missing required key 'up_to'"));
    CHECK(errors[2].key == "tariff[2].tiers[1].upto");
    CHECK(has(errors[2].message, "(did you mean 'up_to'?)"));
}

TEST_CASE("the shape of a tariff's prices") {
    SUBCASE("no price at all") {
        const ConfigError e =
            only_error(kGateway + "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n");
        CHECK(e.line == 4);
        CHECK(e.key == "tariff[1].price");
        CHECK(has(e.message, "missing required key 'price'"));
    }
    SUBCASE("price and prices") {
        const ConfigError e = only_error(kGateway +
                                         "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                                         "price = \"0.5\"\nprices = { flat = \"0.5\" }\n");
        CHECK(e.key == "tariff[1].prices");
        CHECK(has(e.message, "not both"));
    }
    SUBCASE("price and tiers") {
        const ConfigError e = only_error(kGateway +
                                         "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                                         "price = \"0.5\"\ntiers = [ { price = \"0.5\" } ]\n");
        CHECK(e.key == "tariff[1].price");
        CHECK(has(e.message, "'price' and 'tiers' cannot both be written"));
    }
    SUBCASE("a day table on a one-price tariff") {
        const ConfigError e = only_error(kGateway + kFlat + "periods = [\"00:00-24:00 flat\"]\n");
        CHECK(e.key == "tariff[1].periods");
        CHECK(has(e.message, "this tariff has one price"));
    }
    SUBCASE("prices without a day table") {
        const ConfigError e = only_error(kGateway +
                                         "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                                         "prices = { peak = \"0.8\" }\n");
        CHECK(e.line == 4);
        CHECK(e.key == "tariff[1].periods");
        CHECK(has(e.message, "missing required key 'periods'"));
    }
    SUBCASE("a period without a price") {
        const std::string doc = kGateway + tou("[\"00:00-08:00 valley\", \"08:00-24:00 sharp\"]");
        const ConfigError e = only_error(doc);
        CHECK(e.key == "tariff[1].periods[2]");
        CHECK(has(e.message, "period sharp has no price: add sharp = \"…\" to prices"));
    }
    SUBCASE("a period without a price in one tier") {
        const ConfigError e =
            only_error(kGateway +
                       "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                       "periods = [\"00:00-08:00 valley\", \"08:00-24:00 peak\"]\n"
                       "tiers = [ { up_to = \"10\", prices = { peak = \"1\", "
                       "valley = \"0.5\" } },\n"
                       "          { prices = { peak = \"2\" } } ]\n");
        CHECK(e.key == "tariff[1].periods[1]");
        CHECK(has(e.message, "period valley has no price: add valley = \"…\" to tiers[2].prices"));
    }
    SUBCASE("tiers mixing price and prices") {
        const ConfigError e =
            only_error(kGateway +
                       "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                       "periods = [\"00:00-24:00 peak\"]\n"
                       "tiers = [ { up_to = \"10\", prices = { peak = \"1\" } },\n"
                       "          { price = \"2\" } ]\n");
        CHECK(e.key == "tariff[1].tiers[2].price");
        CHECK(has(e.message, "expected the same in every tier"));
    }
    SUBCASE("the last tier with up_to") {
        const ConfigError e = only_error(kGateway +
                                         "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                                         "tiers = [ { up_to = \"10\", price = \"1\" },\n"
                                         "          { up_to = \"20\", price = \"2\" } ]\n");
        CHECK(e.line == 8);
        CHECK(e.key == "tariff[1].tiers[2].up_to");
        CHECK(has(e.message, "the last tier has no up_to"));
    }
    SUBCASE("up_to as a number") {
        const ConfigError e = only_error(kGateway +
                                         "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
                                         "tiers = [ { up_to = 2760, price = \"1\" }, { price = "
                                         "\"2\" } ]\n");
        CHECK(e.key == "tariff[1].tiers[1].up_to");
        CHECK(has(e.message, "write it in quotes: up_to = \"2760\""));
    }
}

TEST_CASE("malformed day table entries") {
    struct Case {
        const char* entry;
        const char* says;
    };
    for (const Case& c :
         {Case{"08:00-10:00", "no period after the times"},
          Case{"08:00-10:00 peek", "unknown period \"peek\" (did you mean 'peak'?)"},
          Case{"8:00-10:00 peak", "\"8:00\" is not a time of day"},
          Case{"08:00-24:30 peak", "\"24:30\" is not a time of day"},
          Case{"24:00-08:00 peak", "24:00 can only end a range"},
          Case{"08:00-08:00 peak", "the range is empty"},
          Case{"0800-1000 peak", "\"0800\" is not a time of day"}}) {
        CAPTURE(c.entry);
        const std::string doc = kGateway + tou("[\"" + std::string(c.entry) + "\"]");
        const ConfigError e = only_error(doc);
        CHECK(e.key == "tariff[1].periods[1]");
        CHECK(has(e.message, c.says));
        CHECK(has(e.message, "expected \"HH:MM-HH:MM period\""));
    }
}

TEST_CASE("billing cycle mistakes") {
    SUBCASE("unknown cycle") {
        const ConfigError e = only_error(kGateway + kFlat + "cycle = \"montly\"\n");
        CHECK(e.key == "tariff[1].cycle");
        CHECK(has(e.message, "(did you mean 'monthly'?)"));
    }
    SUBCASE("monthly start beyond 28") {
        const ConfigError e = only_error(kGateway + kFlat + "cycle_start = 31\n");
        CHECK(e.key == "tariff[1].cycle_start");
        CHECK(has(e.message, "found 31, expected 1..28"));
    }
    SUBCASE("month-day for a monthly cycle") {
        const ConfigError e = only_error(kGateway + kFlat + "cycle_start = \"01-01\"\n");
        CHECK(has(e.message, "(\"MM-DD\" is for cycle = \"yearly\")"));
    }
    SUBCASE("a yearly start that is no date") {
        const ConfigError e =
            only_error(kGateway + kFlat + "cycle = \"yearly\"\ncycle_start = \"13-01\"\n");
        CHECK(e.key == "tariff[1].cycle_start");
        CHECK(has(e.message, "found \"13-01\", expected a month and day \"MM-DD\""));
    }
    SUBCASE("a negative fixed charge") {
        const ConfigError e = only_error(kGateway + kFlat + "fixed_daily_fen = -1\n");
        CHECK(e.key == "tariff[1].fixed_daily_fen");
        CHECK(has(e.message, "found -1, expected 0.."));
    }
}

TEST_CASE("effective_from mistakes") {
    SUBCASE("a local date-time has no zone") {
        const ConfigError e =
            only_error(kGateway + kFlat + "effective_from = 2026-12-01T00:00:00\n");
        CHECK(e.key == "tariff[1].effective_from");
        CHECK(has(e.message, "without the offset the time zone is unknown"));
    }
    SUBCASE("a string without an offset") {
        const ConfigError e =
            only_error(kGateway + kFlat + "effective_from = \"2026-12-01T00:00:00\"\n");
        CHECK(has(e.message, "the UTC offset is missing"));
    }
    SUBCASE("a date only") {
        const ConfigError e = only_error(kGateway + kFlat + "effective_from = 2026-12-01\n");
        CHECK(
            has(e.message, "found date 2026-12-01, expected a date and time with its UTC offset"));
    }
}

TEST_CASE("account mistakes") {
    const std::string head = kGateway + kFlat + "[[account]]\nid = \"A-0101\"\n";
    SUBCASE("warn_fen listed twice") {
        const ConfigError e = only_error(head + "warn_fen = [500, 2000, 500]\n");
        CHECK(e.key == "account[1].warn_fen[3]");
        CHECK(has(e.message, "500 is listed twice"));
    }
    SUBCASE("warn_fen as one number") {
        const ConfigError e = only_error(head + "warn_fen = 500\n");
        CHECK(has(e.message, "(write warn_fen = [500])"));
    }
    SUBCASE("a negative credit limit") {
        const ConfigError e = only_error(head + "credit_limit_fen = -100\n");
        CHECK(e.key == "account[1].credit_limit_fen");
        CHECK(has(e.message, "found -100, expected 0.."));
    }
    SUBCASE("keep_power in quotes") {
        const ConfigError e = only_error(head + "keep_power = \"true\"\n");
        CHECK(has(e.message, "write it without quotes: true"));
    }
    SUBCASE("a malformed id") {
        const ConfigError e = only_error(kGateway + "[[account]]\nid = \"A 0101\"\n");
        CHECK(e.key == "account[1].id");
        CHECK(has(e.message, "expected 1 to 64 characters"));
    }
    SUBCASE("a tariff listed twice") {
        const ConfigError e = only_error(head + "tariff = [\"res-flat\", \"res-flat\"]\n");
        CHECK(e.key == "account[1].tariff[2]");
        CHECK(has(e.message, "\"res-flat\" is listed twice"));
    }
}

TEST_CASE("[prepaid] mistakes") {
    SUBCASE("a workday that is a weekday") {
        const ConfigError e = only_error(kGateway + "[prepaid]\nworkdays = [\"2026-10-08\"]\n");
        CHECK(e.key == "prepaid.workdays[1]");
        CHECK(has(e.message, "found 2026-10-08, a Thursday; expected a Saturday or Sunday"));
    }
    SUBCASE("a date both holiday and workday") {
        const ConfigError e = only_error(
            kGateway + "[prepaid]\nholidays = [\"2026-10-10\"]\nworkdays = [\"2026-10-10\"]\n");
        CHECK(e.key == "prepaid.workdays[1]");
        CHECK(has(e.message, "in holidays too"));
    }
    SUBCASE("a holiday listed twice") {
        const ConfigError e =
            only_error(kGateway + "[prepaid]\nholidays = [\"2026-10-01\", 2026-10-01]\n");
        CHECK(e.key == "prepaid.holidays[2]");
        CHECK(has(e.message, "listed twice"));
    }
    SUBCASE("ranges") {
        const ConfigErrors errors = errors_of(kGateway +
                                              "[prepaid]\nrelay_min_interval_s = 90000\n"
                                              "relay_daily_max = 0\ncheck_interval_s = 1\n"
                                              "switch_attempts = 21\n"
                                              "supply_check_interval_s = -1\n");
        INFO(all_errors(errors));
        REQUIRE(errors.size() == 5);
        CHECK(has(errors[0].message, "expected 0..86400 s"));
        CHECK(has(errors[1].message, "expected 1..1000"));
        CHECK(has(errors[2].message, "expected 5..3600 s"));
        CHECK(has(errors[3].message, "expected 1..20"));
        CHECK(has(errors[4].key, "supply_check_interval_s"));
        CHECK(has(errors[4].message, "expected 0..86400 s"));
    }
    SUBCASE("[[prepaid]] is one table") {
        const ConfigError e = only_error(kGateway + "[[prepaid]]\ncheck_interval_s = 60\n");
        CHECK(e.key == "prepaid");
        CHECK(has(e.message, "write [prepaid] with one pair of brackets"));
    }
}

TEST_CASE("prepaid keys above every header are placed, and [tariff] is an array") {
    SUBCASE("a tariff key at the top") {
        const ConfigError e = only_error("warn_fen = [1]\n" + kGateway);
        CHECK(has(e.message, "(it belongs below the [[account]] header)"));
        CHECK(has(e.message, "[[tariff]], [[account]], [prepaid]"));
    }
    SUBCASE("a single [tariff] table") {
        const ConfigError e = only_error(kGateway + "[tariff]\nid = \"t\"\n");
        CHECK(has(e.message, "write [[tariff]]"));
    }
}

TEST_CASE("a broken tier does not hide a broken day table") {
    const std::string doc =
        kGateway +
        "[[tariff]]\nid = \"t\"\nutility = \"electricity\"\n"
        "periods = [\"00:00-08:00 valley\", \"09:00-24:00 peak\"]\n"
        "tiers = [ { up_to = \"10\", prices = { peak = 1, valley = \"0.5\" } },\n"
        "          { prices = { peak = \"2\", valley = \"0.6\" } } ]\n";
    const ConfigErrors errors = errors_of(doc);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].key == "tariff[1].periods");
    CHECK(has(errors[0].message, "gap at 08:00-09:00"));
    CHECK(errors[1].key == "tariff[1].tiers[1].prices.peak");
}

TEST_CASE("every mistake is reported at once, without follow-on errors") {
    // A tariff with a bad price is still known by id: accounts and meters that
    // name it get no second error.
    const std::string doc = kGateway + kBus +
                            "[[tariff]]\nid = \"res-flat\"\nutility = \"electricity\"\n"
                            "price = 0.5\n"
                            "[[account]]\nid = \"A-0101\"\ntariff = \"res-flat\"\n"
                            "warn_fen = [-1]\n" +
                            meter("E-0101", "000000000101", "account = \"A-0101\"\n") +
                            "[prepaid]\nholidays = [\"2026-13-01\"]\n";
    const ConfigErrors errors = errors_of(doc);
    INFO(all_errors(errors));
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].key == "tariff[1].price");
    CHECK(errors[1].key == "account[1].warn_fen[1]");
    CHECK(errors[2].key == "prepaid.holidays[1]");
}
