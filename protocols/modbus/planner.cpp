// Planning the reads that cover a register map.
//
// On a 9600-baud line each request costs a few milliseconds of request, turnaround and
// frame gaps on top of its data, and a bus carries up to 250 meters, so the number of
// requests is what decides how often each meter can be read.
//
// Why the plan is optimal (fewest requests). Call a register "unread" when no point of
// the table occupies it; a request [s, e) is allowed when e - s is within the length
// limit and every run of unread registers inside it is at most max_gap long. Whether a
// range is allowed depends on nothing but the range, and a sub-range that starts and
// ends on occupied registers is allowed whenever the range is. Now take the point P
// with the lowest start that no request has read yet. Some request of any plan holds
// P; moving that request's start up to P's start keeps it allowed and keeps every
// still-unread point it held (none of them starts before P). Among the requests that
// start at P's start, the longest allowed one holds a superset of the points any
// shorter one holds. So a plan that always takes the longest allowed request from the
// lowest unread point is never behind any other plan, request for request. Telegraf's
// max_insert merges neighbours in address order under the same two limits, which is
// one of those other plans.
#include <algorithm>
#include <array>
#include <tuple>

#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::modbus {

namespace {

constexpr std::uint32_t kMaxRegistersPerRead = 125;  // function 03/04
constexpr std::uint32_t kMaxBitsPerRead = 2000;      // function 01/02

// A point's registers [start, end); end may be 65536.
struct Span {
    std::uint32_t start;
    std::uint32_t end;
    std::size_t index;
};

// Runs of occupied registers: the union of all spans, merged when they touch.
std::vector<std::pair<std::uint32_t, std::uint32_t>> occupied(const std::vector<Span>& spans) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> runs;
    for (const Span& s : spans) {  // sorted by start
        if (!runs.empty() && s.start <= runs.back().second) {
            runs.back().second = std::max(runs.back().second, s.end);
        } else {
            runs.emplace_back(s.start, s.end);
        }
    }
    return runs;
}

// How far a request starting at `start` may reach: up to the length limit, and not
// across a run of more than `max_gap` unread registers.
std::uint32_t reach(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& runs,
                    std::uint32_t start, std::uint32_t limit, std::uint32_t max_gap) {
    auto run = std::find_if(runs.begin(), runs.end(), [start](const auto& r) {
        return r.first <= start && start < r.second;
    });
    std::uint32_t end = run->second;
    for (auto next = std::next(run); next != runs.end() && next->first - end <= max_gap; ++next) {
        end = next->second;
    }
    return std::min(end, start + limit);
}

void plan_table(Table table, std::span<const Point> points, const PlanLimits& limits,
                std::vector<ReadRequest>& out) {
    std::vector<Span> spans;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].table != table) continue;
        spans.push_back(
            {points[i].address, std::uint32_t{points[i].address} + width(points[i]), i});
    }
    if (spans.empty()) return;
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
        return std::tie(a.start, a.end, a.index) < std::tie(b.start, b.end, b.index);
    });
    const auto runs = occupied(spans);
    const std::uint32_t limit =
        is_bit_table(table)
            ? std::clamp<std::uint32_t>(limits.max_bits, 1, kMaxBitsPerRead)
            : std::clamp<std::uint32_t>(limits.max_registers, 1, kMaxRegistersPerRead);
    std::vector<bool> done(spans.size(), false);
    for (std::size_t first = 0; first < spans.size(); ++first) {
        if (done[first]) continue;
        const std::uint32_t start = spans[first].start;
        // A point wider than the limit still gets read, alone, at its own width.
        const std::uint32_t end_limit =
            std::max(reach(runs, start, limit, limits.max_gap), spans[first].end);
        ReadRequest request{table, static_cast<std::uint16_t>(start), 0, {}};
        std::uint32_t end = start;
        for (std::size_t i = first; i < spans.size(); ++i) {
            if (done[i] || spans[i].end > end_limit) continue;
            done[i] = true;
            end = std::max(end, spans[i].end);
            request.points.push_back(spans[i].index);
        }
        request.count = static_cast<std::uint16_t>(end - start);
        out.push_back(std::move(request));
    }
}

}  // namespace

std::vector<ReadRequest> plan_reads(std::span<const Point> points, const PlanLimits& limits) {
    std::vector<ReadRequest> requests;
    for (const Table table :
         {Table::Coil, Table::DiscreteInput, Table::HoldingRegister, Table::InputRegister}) {
        plan_table(table, points, limits, requests);
    }
    return requests;
}

std::size_t naive_request_count(std::span<const Point> points) { return points.size(); }

}  // namespace ecmgw::modbus
