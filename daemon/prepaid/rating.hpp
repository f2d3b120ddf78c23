// Rating: tariff × consumption → charge. Pure: the caller passes the interval
// (registers, local time, what was consumed before in the billing period) and
// the meter's RatingCarry.
//
// No rounding drift (design invariant 3): every part of a charge is first
// computed exactly in pico-yuan (micro-units × micro-yuan per unit), and only
// the running total is turned into whole fen; the sub-fen remainder stays in
// the meter's RatingCarry and the next interval continues from it. So N
// intervals cost exactly what one interval of their sum costs when the price is
// the same for all of it (flat, and tiers, which are split exactly by
// consumption); across time-of-use boundaries, where consumption is split in
// proportion to time, they agree within ±1 fen.
#pragma once

#include <cstdint>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"
#include "prepaid/tariff.hpp"

namespace ecmgw::prepaid {

inline constexpr std::int64_t kPicoYuanPerFen = 10'000'000'000;  // 1e10

// Per meter; persist it with the meter's last charged reading.
struct RatingCarry {
    std::int64_t remainder_pico_yuan = 0;  // 0 <= remainder < 1 fen
    friend bool operator==(const RatingCarry&, const RatingCarry&) = default;
};

struct Interval {
    Decimal start_register;                      // the register at the start of the interval
    Decimal end_register;                        // and at its end (>= start)
    std::int64_t start_local_minute_of_day = 0;  // 0..1439, local time (time of use)
    std::int64_t duration_minutes = 0;           // > 0 for time of use; may span days
    Decimal consumed_before_in_period;           // tiers: consumption already in this period
};

struct ChargeLine {
    enum class Kind { Flat, Tier, Period } kind = Kind::Flat;
    std::size_t index = 0;               // tier index, or static_cast<size_t>(Period)
    std::int64_t consumption_micro = 0;  // micro-units rated at this price
    Price price;
    std::int64_t amount_pico_yuan = 0;  // exact: consumption_micro × price.micro_yuan
};

struct Charge {
    std::int64_t fen = 0;                  // what to debit now
    std::int64_t consumption_micro = 0;    // the interval's consumption
    std::vector<ChargeLine> lines;         // non-empty parts, in tier / period order
    std::int64_t total_pico_yuan() const;  // sum of the lines
};

// Fails (and leaves `carry` untouched) on an invalid tariff, a register that
// went backwards, more than 6 decimals, a time-of-use interval without a
// duration or with a start outside the day, or amounts beyond int64.
Expected<Charge> rate(const Tariff& tariff, const Interval& interval, RatingCarry& carry);

}  // namespace ecmgw::prepaid
