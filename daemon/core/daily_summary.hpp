// Daily summaries for the cloud's reports: after each local midnight, per charged
// meter, the day's consumption and cost by time-of-use period with the closing
// register, and per account the day's charges, top-ups and closing balance. Days
// the gateway was down are summarised when it comes back, from the charges of the
// readings on both sides of the gap (rating shares such an interval among its
// days by time), and are marked "gap": true. A meter that froze its billing register
// at the day's closing midnight (DL/T 645 daily freeze, stored as frozen_<register>)
// gives the closing register, and with a freeze at the opening midnight the day's
// consumption: "source": "frozen".
#pragma once

#include <cstdint>

#include "core/prepaid_engine.hpp"

namespace ecmgw::core {

// Writes the summaries of every whole local day not summarised yet, up to
// `now_ms`, as outbox records (kind "summary"), in `tx`. The first call only
// marks where summaries start.
Result write_daily_summaries(store::Transaction& tx, store::Store& store, PrepaidEngine& engine,
                             std::int64_t now_ms);

}  // namespace ecmgw::core
