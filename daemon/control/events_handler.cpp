// `events [--follow]`: the newest events of the store's events table, then, when
// following, every event as it is stored (the table is tailed by id).
#include <deque>

#include "control/handlers.hpp"
#include "core/outbox_format.hpp"

namespace ecmgw::control {

namespace {

using nlohmann::json;

constexpr std::size_t kPage = 1000;
// How soon a followed event shows; the store is read this often while following.
constexpr std::chrono::milliseconds kFollowEvery{200};

json event_json(const store::EventRow& e) {
    json body = json::parse(e.body, nullptr, false);
    if (body.is_discarded()) body = e.body;
    return {{"id", e.id},
            {"ts", core::rfc3339_utc(e.ts_ms)},
            {"ts_ms", e.ts_ms},
            {"type", e.type},
            {"meter", e.meter},
            {"account", e.account},
            {"body", std::move(body)}};
}

}  // namespace

void handle_events(Session& s, const EventsRequest& r) {
    auto tables = s.tables();
    if (!tables) return s.error(tables.error().message, kExitUsage);
    // Pages through to the newest id, keeping the last few: the table has no
    // "newest N" query, and events are few (state changes, not readings).
    std::deque<store::EventRow> newest;
    std::int64_t after = 0;
    while (true) {
        auto page = (*tables)->events(after, kPage);
        if (!page) return s.error("store: " + page.error().message, kExitUsage);
        for (auto& e : *page) {
            after = e.id;
            newest.push_back(std::move(e));
            if (newest.size() > static_cast<std::size_t>(r.last)) newest.pop_front();
        }
        if (page->size() < kPage) break;
    }
    for (const auto& e : newest)
        if (!s.item(event_json(e))) return;
    if (!r.follow) return s.ok({{"last_id", after}});
    while (s.connection().wait(kFollowEvery)) {
        auto page = (*tables)->events(after, kPage);
        if (!page) return s.error("store: " + page.error().message, kExitUsage);
        for (const auto& e : *page) {
            after = e.id;
            if (!s.item(event_json(e))) return;
        }
    }
}

}  // namespace ecmgw::control
