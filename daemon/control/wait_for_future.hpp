// Waiting for a bus command or an ingest job on behalf of a client: the wait
// ends early when the client hangs up or the daemon stops, so a handler thread
// never outlives either by more than a slice.
#pragma once

#include <chrono>
#include <future>
#include <optional>

#include "control/connection.hpp"

namespace ecmgw::control {

inline constexpr std::chrono::milliseconds kWaitSlice{100};

// The future's value; nullopt when the client or daemon went (Connection::closed),
// or after `limit` (then the caller's answer says so).
template <class T>
std::optional<T> wait_for_future(Connection& c, std::future<T> f, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        if (std::chrono::steady_clock::now() >= until) return std::nullopt;
        if (!c.wait(kWaitSlice)) return std::nullopt;
    }
    try {
        return f.get();
    } catch (const std::future_error&) {
        return std::nullopt;  // dropped unrun: the daemon is stopping
    }
}

}  // namespace ecmgw::control
