// Rating: tariff × consumption → charge. Pure: the caller passes the interval
// (registers and UTC times), the calendar, and the meter's RatingState.
//
// An interval is cut into time segments wherever the price may change: local
// midnight, a time-of-use range boundary, a tariff version's effective_from, a
// billing cycle's start. Consumption is shared among the segments in proportion
// to their duration (largest remainder, so the parts sum exactly), then each
// segment, in time order, fills the tiers of its billing cycle. When the meter
// has its own tariff-period registers the caller may pass their deltas instead,
// and the per-period split is the meter's.
//
// No rounding drift (design invariant 3): every part of a charge is computed
// exactly in pico-yuan (micro-units × micro-yuan per unit), and only the running
// total is turned into whole fen; the sub-fen remainder stays in the meter's
// RatingState and the next interval continues from it. So N intervals cost
// exactly what one interval of their sum costs when the price is the same for
// all of it (flat, and tiers, which are split exactly by consumption); across
// time-of-use boundaries, where consumption is split in proportion to time, they
// agree within ±1 fen.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"
#include "ecmgw/prepaid/calendar.hpp"
#include "ecmgw/prepaid/tariff.hpp"

namespace ecmgw::prepaid {

inline constexpr std::int64_t kPicoYuanPerFen = 10'000'000'000;  // 1e10

// Per meter, persisted with the meter's last charged reading in the same
// transaction as the charge.
struct RatingState {
    std::int64_t remainder_pico_yuan = 0;  // 0 <= remainder < 1 fen
    int cycle_key = 0;  // yyyymmdd start of the billing cycle below; 0 = none yet
    std::int64_t cycle_consumed_micro = 0;  // consumption rated in that cycle so far
    friend bool operator==(const RatingState&, const RatingState&) = default;
};

struct Interval {
    Decimal start_register;     // the register at the start of the interval
    Decimal end_register;       // and at its end (>= start)
    std::int64_t start_ms = 0;  // UTC; start_ms <= end_ms (equal: all at that instant)
    std::int64_t end_ms = 0;
    // The meter's own per-period consumption over the interval (deltas of its
    // sharp/peak/flat/valley registers), when it has them and they sum to the total
    // register's delta within the registers' resolution. nullopt = split by time.
    std::optional<std::array<std::int64_t, kPeriodCount>> period_micro;
};

struct ChargeLine {
    int date_key = 0;         // local day (yyyymmdd) the consumption belongs to
    std::size_t version = 0;  // index into Tariff::versions
    std::size_t tier = 0;
    Period period = Period::Flat;
    std::int64_t consumption_micro = 0;  // micro-units rated at this price
    Price price;
    std::int64_t amount_pico_yuan = 0;  // exact: consumption_micro × price.micro_yuan
    friend bool operator==(const ChargeLine&, const ChargeLine&) = default;
};

struct Charge {
    std::int64_t fen = 0;                // what to debit now (>= 0)
    std::int64_t consumption_micro = 0;  // the interval's consumption
    // Non-empty parts, in time order; consecutive parts with the same day, version,
    // tier and period are merged.
    std::vector<ChargeLine> lines;
    std::int64_t total_pico_yuan() const;  // sum of the lines
};

// Fails (and leaves `state` untouched) on an invalid tariff, a register that went
// backwards, more than 6 decimals, end before start, or amounts beyond int64.
Expected<Charge> rate(const Tariff& tariff, const Calendar& calendar, const Interval& interval,
                      RatingState& state);

// A standing charge that fell due: `fen` for the local day `date_key` (daily), or
// the cycle starting that day (monthly).
struct FixedCharge {
    enum class Kind { Daily, Monthly } kind = Kind::Daily;
    int date_key = 0;
    std::int64_t fen = 0;
    friend bool operator==(const FixedCharge&, const FixedCharge&) = default;
};

// The standing charges whose local day starts in (after_ms, until_ms], oldest
// first, with the version in force at each day's start. Days with 0 fen are left out.
std::vector<FixedCharge> fixed_charges_due(const Tariff& tariff, const Calendar& calendar,
                                           std::int64_t after_ms, std::int64_t until_ms);

}  // namespace ecmgw::prepaid
