#include "bus/poll_schedule.hpp"

#include <algorithm>

namespace ecmgw::bus {

PollSchedule::PollSchedule(std::vector<std::chrono::milliseconds> intervals, TimePoint start,
                           BackoffPolicy policy)
    : policy_(policy) {
    meters_.reserve(intervals.size());
    for (auto interval : intervals) meters_.push_back({interval, start});
}

PollSchedule::Turn PollSchedule::next() const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < meters_.size(); ++i) {
        if (meters_[i].due < meters_[best].due) best = i;
    }
    return {best, meters_[best].due, meters_[best].dead};
}

// Keeps the meter's own cadence: the next turn is a whole number of intervals
// after the last due time, so late turns are skipped rather than bunched.
void PollSchedule::advance_on_cadence(MeterState& m, TimePoint now) {
    auto next = m.due + m.interval;
    if (next <= now) {
        const auto behind = now - m.due;
        const auto turns = behind / m.interval + 1;
        next = m.due + turns * m.interval;
    }
    m.due = next;
}

void PollSchedule::answered(std::size_t meter, TimePoint now) {
    MeterState& m = meters_[meter];
    const bool was_dead = m.dead;
    m.silent_cycles = 0;
    m.dead = false;
    m.backoff = std::chrono::milliseconds(0);
    if (was_dead) {
        m.due = now;  // back from the dead: read it fully at once
    } else {
        advance_on_cadence(m, now);
    }
}

void PollSchedule::silent(std::size_t meter, TimePoint now) {
    MeterState& m = meters_[meter];
    ++m.silent_cycles;
    if (!m.dead && m.silent_cycles < policy_.dead_after) {
        advance_on_cadence(m, now);
        return;
    }
    if (!m.dead) {
        m.dead = true;
        m.backoff = std::max(policy_.first_backoff, m.interval);
    } else {
        m.backoff = std::min(m.backoff * 2, std::max(policy_.max_backoff, m.interval));
    }
    m.due = now + m.backoff;
}

void PollSchedule::read_out_of_turn(std::size_t meter, bool answered_ok, TimePoint now) {
    MeterState& m = meters_[meter];
    if (answered_ok && m.dead) {
        answered(meter, now);
        advance_on_cadence(m, now);
    } else if (answered_ok) {
        m.silent_cycles = 0;
    }
    // A silent out-of-turn read does not push a dead meter's probe further out.
}

}  // namespace ecmgw::bus
