#include "control/reload_desk.hpp"

#include <signal.h>
#include <unistd.h>

namespace ecmgw::control {

std::uint64_t ReloadDesk::ask() {
    std::uint64_t ticket = 0;
    {
        std::lock_guard lock(mutex_);
        ticket = ++asked_;
    }
    // Signals are blocked in every thread but taken by the main loop's sigtimedwait:
    // a reload asked for here is the same as systemctl's SIGHUP, and coalesces with it.
    ::kill(::getpid(), SIGHUP);
    return ticket;
}

void ReloadDesk::begin() {
    std::lock_guard lock(mutex_);
    serving_ = asked_;
}

void ReloadDesk::finish(ReloadOutcome outcome) {
    std::lock_guard lock(mutex_);
    served_ = serving_;
    last_ = std::move(outcome);
}

std::optional<ReloadOutcome> ReloadDesk::outcome_for(std::uint64_t ticket) const {
    std::lock_guard lock(mutex_);
    if (served_ < ticket) return std::nullopt;
    return last_;
}

}  // namespace ecmgw::control
