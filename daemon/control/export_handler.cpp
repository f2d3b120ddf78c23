// `export readings`: the stored readings of a time range, oldest first, streamed
// one row a line so that a month of readings never sits in memory at once.
#include "control/handlers.hpp"

namespace ecmgw::control {

namespace {

constexpr std::size_t kPage = 5000;

}  // namespace

void handle_export(Session& s, const ExportRequest& r) {
    auto st = s.store();
    if (!st) return s.error(st.error().message, kExitUsage);
    std::int64_t from = r.from_ms;
    std::uint64_t rows = 0;
    while (from < r.to_ms) {
        auto page = (*st)->query_readings(r.meter, from, r.to_ms, kPage);
        if (!page) return s.error("store: " + page.error().message, kExitUsage);
        std::size_t take = page->size();
        std::int64_t next = r.to_ms;
        // A page cut inside one read's timestamp is finished by the next page,
        // which starts at that timestamp: leave that read's rows to it.
        if (page->size() == kPage) {
            const std::int64_t last_ts = page->back().ts_ms;
            while (take > 0 && (*page)[take - 1].ts_ms == last_ts) --take;
            next = take > 0 ? last_ts : last_ts + 1;
            if (take == 0) take = page->size();  // one timestamp fills a page
        }
        for (std::size_t i = 0; i < take; ++i) {
            const auto& reading = (*page)[i];
            if (!s.item({{"meter", reading.meter},
                         {"ts_ms", reading.ts_ms},
                         {"quantity", reading.quantity},
                         {"value", reading.value.to_string()}})) {
                return;
            }
            ++rows;
        }
        from = next;
    }
    s.ok({{"rows", rows}});
}

}  // namespace ecmgw::control
