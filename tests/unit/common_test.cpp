#include <doctest/doctest.h>

#include <cstdint>
#include <limits>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"

using ecmgw::Decimal;

TEST_CASE("Decimal prints every digit the meter sent") {
    CHECK(Decimal{12345, 2}.to_string() == "123.45");
    CHECK(Decimal{5, 3}.to_string() == "0.005");
    CHECK(Decimal{-500, 3}.to_string() == "-0.500");
    CHECK(Decimal{42, 0}.to_string() == "42");
    CHECK(Decimal{std::numeric_limits<std::int64_t>::min(), 0}.to_string() ==
          "-9223372036854775808");
}

TEST_CASE("Decimal compares across scales and rescales exactly") {
    CHECK(Decimal{12300, 2} == Decimal{123, 0});
    CHECK_FALSE(Decimal{12301, 2} == Decimal{123, 0});
    CHECK(Decimal{12345, 2}.rescaled(4) == 1234500);
    CHECK(Decimal{12345, 2}.rescaled(0) == 123);
}

TEST_CASE("Expected carries a value or an error") {
    ecmgw::Expected<int> ok = 3;
    ecmgw::Expected<int> bad = ecmgw::fail("no answer");
    CHECK(ok.has_value());
    CHECK(*ok == 3);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().message == "no answer");
    ecmgw::Result done;
    CHECK(done.has_value());
}
