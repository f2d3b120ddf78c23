#include "bus/bus_health.hpp"

#include <fmt/core.h>

#include "core/outbox_format.hpp"

namespace ecmgw::bus {

BusHealth::BusHealth(std::string bus, std::string link, std::vector<Meter> meters,
                     std::int64_t start_ms)
    : bus_(std::move(bus)), link_(std::move(link)), start_ms_(start_ms) {
    meters_.reserve(meters.size());
    for (auto& m : meters) meters_.push_back({std::move(m)});
}

core::BusEvent BusHealth::event(const char* type, std::int64_t now_ms,
                                const std::string& meter) const {
    return {type, now_ms, bus_, meter, nlohmann::json::object()};
}

std::int64_t BusHealth::silent_since(const MeterState& m) const {
    return m.last_answer_ms != 0 ? m.last_answer_ms : start_ms_;
}

std::optional<core::BusEvent> BusHealth::answered(std::size_t meter, std::int64_t now_ms) {
    MeterState& m = meters_[meter];
    std::optional<core::BusEvent> out;
    if (m.offline) {
        const std::int64_t offline_s = (now_ms - silent_since(m)) / 1000;
        out = event("meter_online", now_ms, m.meter.id);
        out->details["offline_s"] = offline_s;
        out->details["message"] = fmt::format("meter {} ({}) on bus {} answers again after {} s",
                                              m.meter.id, m.meter.describe, bus_, offline_s);
    }
    m.last_answer_ms = now_ms;
    m.offline = false;
    return out;
}

std::optional<core::BusEvent> BusHealth::silent(std::size_t meter, const std::string& error,
                                                bool dead, int silent_turns,
                                                std::chrono::milliseconds probe_in,
                                                std::int64_t now_ms) {
    MeterState& m = meters_[meter];
    if (!dead || m.offline) return std::nullopt;
    m.offline = true;
    const std::int64_t silent_s = (now_ms - silent_since(m)) / 1000;
    auto out = event("meter_offline", now_ms, m.meter.id);
    out.details["last_error"] = error;
    out.details["silent_s"] = silent_s;
    out.details["silent_turns"] = silent_turns;
    out.details["probe_in_s"] = probe_in.count() / 1000;
    if (m.last_answer_ms != 0) out.details["last_answer"] = core::rfc3339_utc(m.last_answer_ms);
    out.details["message"] = fmt::format(
        "meter {} ({}) on bus {} has not answered {} turns in a row ({} s, {}; last: {}); it is "
        "only probed from now on, the first time in {} s",
        m.meter.id, m.meter.describe, bus_, silent_turns, silent_s,
        m.last_answer_ms != 0 ? "since its last answer" : "never answered since the bus started",
        error, probe_in.count() / 1000);
    return out;
}

void BusHealth::link_failed(const std::string& why, std::int64_t now_ms) {
    if (down_since_ms_ == 0) down_since_ms_ = now_ms;
    if (cause_.empty()) cause_ = why;
}

std::optional<core::BusEvent> BusHealth::open_failed(const std::string& error,
                                                     std::int64_t now_ms) {
    if (down_since_ms_ == 0) down_since_ms_ = now_ms;
    ++failed_opens_;
    if (link_lost_) return std::nullopt;
    link_lost_ = true;
    auto out = event("bus_link_lost", now_ms, "");
    out.details["link"] = link_;
    out.details["error"] = error;
    if (!cause_.empty()) out.details["cause"] = cause_;
    out.details["since"] = core::rfc3339_utc(down_since_ms_);
    out.details["message"] =
        cause_.empty() ? fmt::format(
                             "bus {}: the port {} cannot be opened ({}); its meters are not read "
                             "until it opens, retried with backoff",
                             bus_, link_, error)
                       : fmt::format(
                             "bus {}: the port {} failed ({}) and cannot be opened again ({}); its "
                             "meters are not read until it opens, retried with backoff",
                             bus_, link_, cause_, error);
    return out;
}

std::optional<core::BusEvent> BusHealth::opened(std::int64_t now_ms) {
    std::optional<core::BusEvent> out;
    if (link_lost_) {
        const std::int64_t lost_s = (now_ms - down_since_ms_) / 1000;
        out = event("bus_link_restored", now_ms, "");
        out->details["link"] = link_;
        out->details["lost_s"] = lost_s;
        out->details["failed_attempts"] = failed_opens_;
        out->details["message"] =
            fmt::format("bus {}: the port {} is open again after {} s ({} failed attempts)", bus_,
                        link_, lost_s, failed_opens_);
    }
    link_lost_ = false;
    down_since_ms_ = 0;
    cause_.clear();
    failed_opens_ = 0;
    return out;
}

}  // namespace ecmgw::bus
