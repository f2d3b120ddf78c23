// When each meter on a bus is read next. Pure: the caller passes the time.
//
// A meter that stops answering is declared dead after `dead_after` cycles in a
// row without an answer. A dead meter is then only probed (one short request,
// no retries), at exponentially growing intervals up to `max_backoff`, so it
// costs at most one timeout per backoff period and the live meters keep their
// cadence. The first answer brings it back to its normal schedule.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ecmgw::bus {

struct BackoffPolicy {
    int dead_after = 3;                               // silent cycles in a row before "dead"
    std::chrono::milliseconds first_backoff{60'000};  // the first probe interval once dead
    std::chrono::milliseconds max_backoff{900'000};   // the cap (15 min)
};

class PollSchedule {
  public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    struct Turn {
        std::size_t meter = 0;
        TimePoint due;
        bool probe = false;  // a dead meter: one request, no retries
    };

    PollSchedule(std::vector<std::chrono::milliseconds> intervals, TimePoint start,
                 BackoffPolicy policy = {});

    bool empty() const { return meters_.empty(); }
    // The turn due first (ties: the lower meter index).
    Turn next() const;
    // Records the outcome of `meter`'s turn that ended at `now`, and schedules its next.
    void answered(std::size_t meter, TimePoint now);
    void silent(std::size_t meter, TimePoint now);
    // A command read the meter out of turn: counts like a turn, keeps the cadence.
    void read_out_of_turn(std::size_t meter, bool answered_ok, TimePoint now);

    bool dead(std::size_t meter) const { return meters_[meter].dead; }
    int silent_cycles(std::size_t meter) const { return meters_[meter].silent_cycles; }
    std::chrono::milliseconds current_backoff(std::size_t meter) const {
        return meters_[meter].backoff;
    }

  private:
    struct MeterState {
        std::chrono::milliseconds interval;
        TimePoint due;
        int silent_cycles = 0;
        bool dead = false;
        std::chrono::milliseconds backoff{0};
    };
    void advance_on_cadence(MeterState& m, TimePoint now);

    std::vector<MeterState> meters_;
    BackoffPolicy policy_;
};

}  // namespace ecmgw::bus
