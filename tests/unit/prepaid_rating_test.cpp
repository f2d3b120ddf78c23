#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "prepaid/rating.hpp"
#include "prepaid/tariff.hpp"

using ecmgw::Decimal;
using namespace ecmgw::prepaid;

namespace {

Price price(const char* text) {
    auto p = Price::parse(text);
    REQUIRE(p.has_value());
    return *p;
}

Tariff flat(const char* p) {
    Tariff t;
    t.id = "flat";
    t.kind = TariffKind::Flat;
    t.flat_price = price(p);
    return t;
}

Tariff tiered() {
    Tariff t;
    t.id = "tiers";
    t.kind = TariffKind::Tiered;
    t.tiers = {{Decimal{200, 0}, price("0.5283")},
               {Decimal{400, 0}, price("0.5783")},
               {std::nullopt, price("0.8283")}};
    return t;
}

// valley 00-08, flat 08-10, peak 10-18, sharp 18-19, flat 19-23, valley 23-24
Tariff tou() {
    Tariff t;
    t.id = "tou";
    t.kind = TariffKind::TimeOfUse;
    t.period_prices[static_cast<std::size_t>(Period::Sharp)] = price("1.2");
    t.period_prices[static_cast<std::size_t>(Period::Peak)] = price("0.9");
    t.period_prices[static_cast<std::size_t>(Period::Flat)] = price("0.6");
    t.period_prices[static_cast<std::size_t>(Period::Valley)] = price("0.3");
    t.day_table = {{0, 480, Period::Valley},   {480, 600, Period::Flat},
                   {600, 1080, Period::Peak},  {1080, 1140, Period::Sharp},
                   {1140, 1380, Period::Flat}, {1380, 1440, Period::Valley}};
    return t;
}

Interval reading(std::int64_t from, std::int64_t to, std::uint8_t scale) {
    Interval iv;
    iv.start_register = Decimal{from, scale};
    iv.end_register = Decimal{to, scale};
    return iv;
}

std::string error_of(const Tariff& t) {
    auto r = validate(t);
    REQUIRE_FALSE(r.has_value());
    return r.error().message;
}

std::string parse_error(const char* text) {
    auto p = Price::parse(text);
    REQUIRE_FALSE(p.has_value());
    return p.error().message;
}

const ChargeLine* find_line(const Charge& c, ChargeLine::Kind kind, std::size_t index) {
    for (const ChargeLine& l : c.lines) {
        if (l.kind == kind && l.index == index) return &l;
    }
    return nullptr;
}

std::int64_t consumption_in(const Charge& c, Period p) {
    const ChargeLine* l = find_line(c, ChargeLine::Kind::Period, static_cast<std::size_t>(p));
    return l ? l->consumption_micro : 0;
}

}  // namespace

TEST_CASE("Price parse keeps the exact micro-yuan") {
    CHECK(price("0.5283").micro_yuan == 528'300);
    CHECK(price("12").micro_yuan == 12'000'000);
    CHECK(price("0.000001").micro_yuan == 1);
    CHECK(price("0").micro_yuan == 0);
    CHECK(price("3.14").to_string() == "3.140000");
}

TEST_CASE("Price parse rejects malformed text with clear errors") {
    CHECK(parse_error("") == "price is empty");
    CHECK(parse_error("-0.5").find("negative") != std::string::npos);
    CHECK(parse_error("1.2.3").find("more than one '.'") != std::string::npos);
    CHECK(parse_error("0,5").find("','") != std::string::npos);
    CHECK(parse_error("1e3").find("'e'") != std::string::npos);
    CHECK(parse_error(" 1").find("' '") != std::string::npos);
    CHECK(parse_error("0.1234567").find("more than 6 decimals") != std::string::npos);
    CHECK(parse_error(".5").find("digit before") != std::string::npos);
    CHECK(parse_error("1.").find("digit after") != std::string::npos);
    CHECK(parse_error("99999999999999999999").find("too large") != std::string::npos);
}

TEST_CASE("flat tariff charges whole fen and carries the exact remainder") {
    const Tariff t = flat("0.5283");
    RatingCarry carry;
    // 123.45 kWh x 0.5283 = 65.218635 yuan = 6521.8635 fen
    auto c = rate(t, reading(100000, 112345, 2), carry);
    REQUIRE(c.has_value());
    CHECK(c->fen == 6521);
    CHECK(c->consumption_micro == 123'450'000);
    CHECK(c->total_pico_yuan() == 65'218'635'000'000);
    CHECK(carry.remainder_pico_yuan == 8'635'000'000);
    // 0.26 kWh more = 13.7358 fen; with the carried 0.8635 fen: 14.5993
    auto c2 = rate(t, reading(112345, 112371, 2), carry);
    REQUIRE(c2.has_value());
    CHECK(c2->fen == 14);
    CHECK(carry.remainder_pico_yuan == 5'993'000'000);
}

TEST_CASE("1000 intervals of 0.01 kWh cost the same as one of 10 kWh") {
    const Tariff t = flat("0.5283");
    RatingCarry whole_carry;
    auto whole = rate(t, reading(0, 1000, 2), whole_carry);
    REQUIRE(whole.has_value());
    CHECK(whole->fen == 528);  // 5.283 yuan
    RatingCarry parts_carry;
    std::int64_t parts = 0;
    for (std::int64_t i = 0; i < 1000; ++i) {
        auto c = rate(t, reading(i, i + 1, 2), parts_carry);
        REQUIRE(c.has_value());
        parts += c->fen;
    }
    CHECK(parts == whole->fen);
    CHECK(parts_carry == whole_carry);
}

TEST_CASE("tiers split exactly at the boundary by consumption") {
    const Tariff t = tiered();
    RatingCarry carry;
    Interval iv = reading(1000, 1250, 1);  // 25.0 kWh
    iv.consumed_before_in_period = Decimal{190, 0};
    auto c = rate(t, iv, carry);
    REQUIRE(c.has_value());
    REQUIRE(c->lines.size() == 2);
    CHECK(find_line(*c, ChargeLine::Kind::Tier, 0)->consumption_micro == 10'000'000);
    CHECK(find_line(*c, ChargeLine::Kind::Tier, 1)->consumption_micro == 15'000'000);
    // 10 x 0.5283 + 15 x 0.5783 = 5.283 + 8.6745 = 13.9575 yuan
    CHECK(c->fen == 1395);
    CHECK(carry.remainder_pico_yuan == 7'500'000'000);

    // across all three tiers: 150 + 200 + 50 kWh
    RatingCarry carry2;
    Interval iv2 = reading(0, 400000, 3);
    iv2.consumed_before_in_period = Decimal{5000, 2};
    auto c2 = rate(t, iv2, carry2);
    REQUIRE(c2.has_value());
    REQUIRE(c2->lines.size() == 3);
    CHECK(c2->lines[0].consumption_micro == 150'000'000);
    CHECK(c2->lines[1].consumption_micro == 200'000'000);
    CHECK(c2->lines[2].consumption_micro == 50'000'000);
    CHECK(c2->fen == 23632);  // 79.245 + 115.66 + 41.415 = 236.32 yuan, no per-tier rounding
    CHECK(carry2.remainder_pico_yuan == 0);
}

TEST_CASE("time of use splits an interval straddling a boundary by time") {
    const Tariff t = tou();
    RatingCarry carry;
    Interval iv = reading(0, 600, 2);  // 6.00 kWh over 17:50-18:20
    iv.start_local_minute_of_day = 17 * 60 + 50;
    iv.duration_minutes = 30;
    auto c = rate(t, iv, carry);
    REQUIRE(c.has_value());
    CHECK(consumption_in(*c, Period::Peak) == 2'000'000);
    CHECK(consumption_in(*c, Period::Sharp) == 4'000'000);
    CHECK(c->fen == 180 + 480);  // 2 x 0.9 + 4 x 1.2

    // across midnight: 23:30-00:30 is valley on both sides
    RatingCarry carry2;
    Interval night = reading(0, 100, 2);
    night.start_local_minute_of_day = 23 * 60 + 30;
    night.duration_minutes = 60;
    auto n = rate(t, night, carry2);
    REQUIRE(n.has_value());
    REQUIRE(n->lines.size() == 1);
    CHECK(consumption_in(*n, Period::Valley) == 1'000'000);
    CHECK(n->fen == 30);
}

TEST_CASE("time of use proportional split keeps every micro unit") {
    const Tariff t = tou();
    RatingCarry carry;
    Interval iv = reading(0, 1, 3);  // 0.001 kWh over 07:59-08:02: 1 min valley 2 min flat
    iv.start_local_minute_of_day = 7 * 60 + 59;
    iv.duration_minutes = 3;
    auto c = rate(t, iv, carry);
    REQUIRE(c.has_value());
    CHECK(consumption_in(*c, Period::Valley) == 333);
    CHECK(consumption_in(*c, Period::Flat) == 667);
}

TEST_CASE("time of use interval spanning several days counts whole days") {
    const Tariff t = tou();
    RatingCarry carry;
    Interval iv = reading(0, 2940, 0);  // 2940 kWh over 2 days + 1 hour from 00:00
    iv.start_local_minute_of_day = 0;
    iv.duration_minutes = 2 * 1440 + 60;
    auto c = rate(t, iv, carry);
    REQUIRE(c.has_value());
    // 1 kWh per minute; valley has 2 x 540 + 60 minutes, flat 2 x 360, peak 2 x 480, sharp 2 x 60
    CHECK(consumption_in(*c, Period::Valley) == 1140'000'000);
    CHECK(consumption_in(*c, Period::Flat) == 720'000'000);
    CHECK(consumption_in(*c, Period::Peak) == 960'000'000);
    CHECK(consumption_in(*c, Period::Sharp) == 120'000'000);
}

TEST_CASE("validation reports a gap in the day table") {
    Tariff t = tou();
    t.day_table = {{0, 420, Period::Valley}, {480, 1440, Period::Peak}};
    CHECK(error_of(t).find("gap at 07:00-08:00") != std::string::npos);
    t.day_table = {{0, 1380, Period::Peak}};
    CHECK(error_of(t).find("gap at 23:00-24:00") != std::string::npos);
    t.day_table = {{60, 1440, Period::Peak}};
    CHECK(error_of(t).find("gap at 00:00-01:00") != std::string::npos);
}

TEST_CASE("validation reports overlapping periods") {
    Tariff t = tou();
    t.day_table = {{0, 540, Period::Valley}, {480, 1440, Period::Peak}};
    const std::string e = error_of(t);
    CHECK(e.find("overlapping periods at 08:00-09:00") != std::string::npos);
    CHECK(e.find("valley and peak") != std::string::npos);
}

TEST_CASE("validation reports bad ranges and unpriced periods") {
    Tariff t = tou();
    t.day_table = {{600, 600, Period::Peak}};
    CHECK(error_of(t).find("not a non-empty range") != std::string::npos);
    t = tou();
    t.period_prices[static_cast<std::size_t>(Period::Sharp)].reset();
    CHECK(error_of(t).find("sharp, which has no price") != std::string::npos);
}

TEST_CASE("validation reports tiers out of order") {
    Tariff t = tiered();
    t.tiers[1].upper_bound = Decimal{150, 0};
    CHECK(error_of(t).find("tiers out of order: tier 2 upper bound 150") != std::string::npos);
    t = tiered();
    t.tiers[1].upper_bound = Decimal{2000, 1};  // equal to tier 1's 200
    CHECK(error_of(t).find("tiers out of order") != std::string::npos);
    t = tiered();
    t.tiers[2].upper_bound = Decimal{900, 0};
    CHECK(error_of(t).find("last tier") != std::string::npos);
    t = tiered();
    t.tiers[0].upper_bound.reset();
    CHECK(error_of(t).find("only the last tier") != std::string::npos);
}

TEST_CASE("validation reports a negative price") {
    Tariff f = flat("0.5");
    f.flat_price = Price::from_micro_yuan(-1);
    CHECK(error_of(f).find("negative price") != std::string::npos);
    Tariff t = tiered();
    t.tiers[1].price = Price::from_micro_yuan(-5);
    CHECK(error_of(t).find("negative price -5 micro-yuan in tier 2") != std::string::npos);
    Tariff u = tou();
    u.period_prices[static_cast<std::size_t>(Period::Peak)] = Price::from_micro_yuan(-1);
    CHECK(error_of(u).find("negative price -1 micro-yuan in period peak") != std::string::npos);
    CHECK(validate(tou()).has_value());
    CHECK(validate(tiered()).has_value());
}

TEST_CASE("rating rejects bad intervals and leaves the carry alone") {
    RatingCarry carry{123};
    CHECK_FALSE(rate(flat("0.5"), reading(10, 9, 0), carry).has_value());
    CHECK_FALSE(rate(flat("0.5"), reading(0, 1, 7), carry).has_value());
    Interval iv = reading(0, 10, 0);
    CHECK_FALSE(rate(tou(), iv, carry).has_value());  // no duration
    iv.duration_minutes = 10;
    iv.start_local_minute_of_day = 1440;
    CHECK_FALSE(rate(tou(), iv, carry).has_value());
    Tariff bad = tou();
    bad.day_table.pop_back();
    iv.start_local_minute_of_day = 0;
    auto r = rate(bad, iv, carry);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("gap at 23:00-24:00") != std::string::npos);
    CHECK(carry.remainder_pico_yuan == 123);
    auto zero = rate(flat("0.5"), reading(5, 5, 0), carry);
    REQUIRE(zero.has_value());
    CHECK(zero->fen == 0);
    CHECK(zero->lines.empty());
    CHECK(carry.remainder_pico_yuan == 123);
}

TEST_CASE("random splits cost the same as the whole for random tariffs") {
    std::mt19937 rng(20240611);
    auto uniform = [&rng](std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
    };
    auto random_price = [&] { return Price::from_micro_yuan(uniform(0, 3'000'000)); };
    int checked = 0;
    for (int round = 0; round < 300; ++round) {
        Tariff t;
        t.id = "random";
        t.kind = static_cast<TariffKind>(round % 3);
        if (t.kind == TariffKind::Flat) {
            t.flat_price = random_price();
        } else if (t.kind == TariffKind::Tiered) {
            std::int64_t bound = 0;
            const std::int64_t n = uniform(1, 4);
            for (std::int64_t i = 0; i + 1 < n; ++i) {
                bound += uniform(1, 50'000);
                t.tiers.push_back({Decimal{bound, 2}, random_price()});
            }
            t.tiers.push_back({std::nullopt, random_price()});
        } else {
            for (auto& p : t.period_prices) p = random_price();
            std::set<std::int64_t> cuts{0, 1440};
            const std::int64_t n = uniform(0, 8);
            for (std::int64_t i = 0; i < n; ++i) cuts.insert(uniform(1, 1439));
            std::vector<std::int64_t> c(cuts.begin(), cuts.end());
            for (std::size_t i = 0; i + 1 < c.size(); ++i) {
                t.day_table.push_back({c[i], c[i + 1], static_cast<Period>(uniform(0, 3))});
            }
        }
        REQUIRE(validate(t).has_value());

        // One interval of D minutes and C thousandths of a unit, consumed at a
        // steady rate; the parts are its readings at random minutes in between.
        const std::uint8_t scale = 3;
        const std::int64_t start_register = uniform(0, 1'000'000);
        const std::int64_t consumption = uniform(0, 2'000'000);
        const std::int64_t duration = uniform(1, 4000);
        const std::int64_t start_minute = uniform(0, 1439);
        const std::int64_t before = uniform(0, 300'000);
        auto make = [&](std::int64_t t0, std::int64_t t1) {
            Interval iv;
            const std::int64_t r0 = consumption * t0 / duration;
            const std::int64_t r1 = consumption * t1 / duration;
            iv.start_register = Decimal{start_register + r0, scale};
            iv.end_register = Decimal{start_register + r1, scale};
            iv.start_local_minute_of_day = (start_minute + t0) % 1440;
            iv.duration_minutes = t1 - t0;
            iv.consumed_before_in_period = Decimal{before + r0, scale};
            return iv;
        };
        RatingCarry carry0{uniform(0, kPicoYuanPerFen - 1)};
        RatingCarry whole_carry = carry0;
        auto whole = rate(t, make(0, duration), whole_carry);
        REQUIRE(whole.has_value());

        std::set<std::int64_t> split{0, duration};
        const std::int64_t pieces = uniform(0, std::min<std::int64_t>(duration - 1, 200));
        for (std::int64_t i = 0; i < pieces; ++i) split.insert(uniform(1, duration - 1));
        std::vector<std::int64_t> s(split.begin(), split.end());
        RatingCarry parts_carry = carry0;
        std::int64_t parts = 0;
        for (std::size_t i = 0; i + 1 < s.size(); ++i) {
            auto c = rate(t, make(s[i], s[i + 1]), parts_carry);
            REQUIRE(c.has_value());
            parts += c->fen;
        }
        INFO("round " << round << " kind " << static_cast<int>(t.kind));
        if (t.kind == TariffKind::TimeOfUse) {
            CHECK(std::abs(parts - whole->fen) <= 1);
        } else {
            CHECK(parts == whole->fen);
            CHECK(parts_carry == whole_carry);
        }
        ++checked;
    }
    CHECK(checked == 300);
}
