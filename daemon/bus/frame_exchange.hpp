// One request and its answer on a byte link, for any protocol whose codec has
// a `scan` that finds frames by structure and checksum (DL/T 645, CJ/T 188).
// Flushes stale input first (resync), then collects bytes within the response
// timeout (first byte) and the inter-byte timeout (later bytes); echoes of the
// request and other meters' frames are counted and skipped, noise is dropped.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <thread>
#include <vector>

#include "bus/link_types.hpp"
#include "ecmgw/common/expected.hpp"
#include "ecmgw/protocols/transport.hpp"

namespace ecmgw::bus {

struct Exchange {
    transport::ByteLink& link;
    LinkTiming timing;
    LinkCounters& counters;
    std::chrono::microseconds last_latency{0};  // request written → answer complete
    // When set, every answered request's latency is appended here (per-meter statistics).
    std::vector<std::chrono::microseconds>* latencies = nullptr;
    // The bus's inter-frame gap: the line stays quiet this long after a transaction
    // before the next request, whoever sends it (meters turn their transceivers round).
    std::chrono::milliseconds gap{0};
    std::chrono::steady_clock::time_point quiet_since{};

    void wait_for_quiet_line() const {
        if (gap.count() > 0) std::this_thread::sleep_until(quiet_since + gap);
    }
    void line_went_quiet() { quiet_since = std::chrono::steady_clock::now(); }

    void record_answer(std::chrono::microseconds latency) {
        ++counters.answers;
        last_latency = latency;
        if (latencies != nullptr) latencies->push_back(latency);
    }
};

namespace detail {
// However noisy the line, one exchange ends this long after its timeouts.
inline constexpr std::chrono::milliseconds kExchangeCeiling{3000};

template <class ScanResult>
void account_scan(LinkCounters& counters, const ScanResult& result,
                  std::span<const std::uint8_t> scanned) {
    counters.checksum_errors += result.checksum_errors;
    const auto skipped = scanned.first(std::min(result.skipped, scanned.size()));
    counters.noise_bytes += static_cast<std::uint64_t>(
        std::count_if(skipped.begin(), skipped.end(), [](std::uint8_t b) { return b != 0xFE; }));
}
}  // namespace detail

template <class Frame, class ScanFn>
Expected<Frame, ReadError> exchange_frame(Exchange& ex, std::span<const std::uint8_t> request,
                                          ScanFn scan,
                                          const std::function<bool(const Frame&)>& is_answer) {
    using Clock = std::chrono::steady_clock;
    using std::chrono::milliseconds;
    auto failure = [](ReadFailure kind, std::string message) {
        return unexpected(ReadError{kind, std::move(message)});
    };
    ex.wait_for_quiet_line();
    // However the exchange ends, the gap before the next request counts from now.
    struct QuietOnExit {
        Exchange& ex;
        ~QuietOnExit() { ex.line_went_quiet(); }
    } quiet_on_exit{ex};
    if (auto r = ex.link.flush_input(); !r)
        return failure(ReadFailure::LinkError, r.error().message);
    ++ex.counters.requests;
    const auto start = Clock::now();
    if (auto r = ex.link.write(request); !r)
        return failure(ReadFailure::LinkError, r.error().message);

    const auto first_byte_deadline = Clock::now() + ex.timing.response_timeout;
    const auto ceiling =
        first_byte_deadline + ex.timing.inter_byte_timeout + detail::kExchangeCeiling;
    std::vector<std::uint8_t> pending;
    bool noise_seen = false;
    std::array<std::uint8_t, 256> chunk{};

    while (true) {
        // Our answer has started once bytes wait in `pending` or noise was dropped. Our own
        // echoed request and other meters' whole frames are not our answer: after them the
        // response timeout still runs, and silence is a Timeout (the meter did not answer).
        const bool answer_started = noise_seen || !pending.empty();
        const auto now = Clock::now();
        const auto wait = answer_started
                              ? ex.timing.inter_byte_timeout
                              : std::chrono::duration_cast<milliseconds>(first_byte_deadline - now);
        auto n = now >= ceiling ? Expected<std::size_t>(std::size_t{0})
                                : ex.link.read(chunk, std::max(wait, milliseconds(1)));
        if (!n) return failure(ReadFailure::LinkError, n.error().message);
        if (*n == 0) {
            if (!answer_started) {
                ++ex.counters.timeouts;
                return failure(ReadFailure::Timeout,
                               "no answer within " +
                                   std::to_string(ex.timing.response_timeout.count()) + " ms");
            }
            ex.counters.noise_bytes += pending.size();
            return failure(ReadFailure::Garbled,
                           "no valid answer; " + std::to_string(pending.size()) +
                               " unusable bytes left when the line went quiet");
        }
        pending.insert(pending.end(), chunk.begin(), chunk.begin() + static_cast<long>(*n));
        const auto noise_before = ex.counters.noise_bytes;

        while (!pending.empty()) {
            const auto result = scan(std::span<const std::uint8_t>(pending));
            using Status = decltype(result.status);
            detail::account_scan(ex.counters, result, pending);
            if (result.status == Status::Incomplete) {
                pending.erase(pending.begin(), pending.begin() + static_cast<long>(result.skipped));
                break;
            }
            const bool complete = result.status == Status::Complete;
            const std::size_t used = result.skipped + (complete ? result.length : 0);
            pending.erase(pending.begin(),
                          pending.begin() + static_cast<long>(std::min(used, pending.size())));
            if (!complete) break;
            // Half-duplex adapters echo our own request; other meters may chatter.
            if (result.frame.from_meter() && is_answer(result.frame)) {
                ex.record_answer(
                    std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
                return result.frame;
            }
            ++ex.counters.foreign_frames;
        }
        noise_seen = noise_seen || ex.counters.noise_bytes != noise_before;
    }
}

}  // namespace ecmgw::bus
