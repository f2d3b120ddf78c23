#include "uplink/acked_seqs.hpp"

#include <algorithm>
#include <iterator>

namespace ecmgw::uplink {

void AckedSeqs::add(std::int64_t first, std::int64_t last) {
    first = std::max(first, through_ + 1);
    if (last < first) return;
    // Merge with every range that overlaps or touches [first, last].
    auto it = ranges_.upper_bound(first);
    if (it != ranges_.begin()) {
        auto before = std::prev(it);
        if (before->second + 1 >= first) {
            first = before->first;
            last = std::max(last, before->second);
            it = ranges_.erase(before);
        }
    }
    while (it != ranges_.end() && it->first <= last + 1) {
        last = std::max(last, it->second);
        it = ranges_.erase(it);
    }
    if (first == through_ + 1) {
        through_ = last;
    } else {
        ranges_.emplace(first, last);
    }
}

std::optional<std::int64_t> AckedSeqs::covering(std::int64_t seq) const {
    if (seq <= through_) return through_;
    auto it = ranges_.upper_bound(seq);
    if (it == ranges_.begin()) return std::nullopt;
    --it;
    if (seq <= it->second) return it->second;
    return std::nullopt;
}

std::optional<std::int64_t> AckedSeqs::next_after(std::int64_t seq) const {
    auto it = ranges_.upper_bound(seq);
    if (it == ranges_.end()) return std::nullopt;
    return it->first;
}

std::int64_t AckedSeqs::beyond_prefix() const {
    std::int64_t n = 0;
    for (const auto& [first, last] : ranges_) n += last - first + 1;
    return n;
}

}  // namespace ecmgw::uplink
