#include "core/outbox_format.hpp"

#include <fmt/core.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace ecmgw::core {

std::string rfc3339_utc(std::int64_t unix_ms) {
    const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       static_cast<int>(unix_ms % 1000));
}

std::string reading_body(const store::Reading& r) {
    return fmt::format(R"({{"meter":{},"ts":"{}","quantity":{},"value":{}}})",
                       nlohmann::json(r.meter).dump(), rfc3339_utc(r.ts_ms),
                       nlohmann::json(r.quantity).dump(), r.value.to_string());
}

std::string event_body(std::string_view type, std::int64_t ts_ms, const nlohmann::json& details) {
    return nlohmann::json{{"event", type}, {"ts", rfc3339_utc(ts_ms)}, {"details", details}}.dump();
}

std::string topic_suffix(const std::string& kind) {
    if (kind == kKindLedger) return "ledger";
    if (kind == kKindSummary) return "summaries";
    return kind + "s";
}

std::string batch_message(const std::string& gateway,
                          const std::vector<store::OutboxRecord>& records) {
    std::string out =
        fmt::format(R"({{"gateway":{},"seq":{},"count":{},"{}":[)", nlohmann::json(gateway).dump(),
                    records.empty() ? 0 : records.front().seq, records.size(),
                    records.empty() ? "records" : topic_suffix(records.front().kind));
    for (std::size_t i = 0; i < records.size(); ++i) {
        if (i > 0) out += ',';
        // Every body is an object we wrote: put the record's seq first inside it.
        const std::string& body = records[i].body;
        out += fmt::format(R"({{"seq":{}{}{})", records[i].seq, body.size() > 2 ? "," : "",
                           std::string_view(body).substr(1));
    }
    out += "]}";
    return out;
}

}  // namespace ecmgw::core
