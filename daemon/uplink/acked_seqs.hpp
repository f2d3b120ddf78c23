// The outbox seqs the broker has acknowledged but the store still holds. Several
// messages are in flight and two streams publish during a backlog, so PUBACKs cover
// ranges out of order; the outbox can only be cut at the contiguous prefix.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace ecmgw::uplink {

class AckedSeqs {
  public:
    // Every seq <= `through` is acknowledged (or gone from the outbox).
    void reset(std::int64_t through) {
        ranges_.clear();
        through_ = through;
    }
    void add(std::int64_t first, std::int64_t last);
    std::int64_t through() const { return through_; }
    // The last seq of the acknowledged range holding `seq`, if one does.
    std::optional<std::int64_t> covering(std::int64_t seq) const;
    // The first acknowledged seq after `seq` beyond the prefix, if any.
    std::optional<std::int64_t> next_after(std::int64_t seq) const;
    // How many seqs after the prefix are acknowledged.
    std::int64_t beyond_prefix() const;

  private:
    std::int64_t through_ = 0;
    std::map<std::int64_t, std::int64_t> ranges_;  // first → last, disjoint, above through_
};

}  // namespace ecmgw::uplink
