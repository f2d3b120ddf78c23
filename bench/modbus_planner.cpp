// Modbus requests per meter read, with and without the request planner, for
// every shipped profile. Fewer requests = less bus time per meter: at 9600 8N1
// each request costs its wire time plus the meter's answer delay (~20-50 ms).
//
//   bench_modbus_planner [PROFILES_DIR]
#include <fmt/core.h>

#include <cstdio>

#include "ecmgw/config/profile.hpp"
#include "ecmgw/protocols/modbus_map.hpp"

#ifndef ECMGW_PROFILES_DIR
#define ECMGW_PROFILES_DIR "config/profiles"
#endif

namespace {

// Registers (or bits) on the wire for a plan: what the meter has to send back.
std::size_t registers_read(const std::vector<ecmgw::modbus::ReadRequest>& plan) {
    std::size_t n = 0;
    for (const auto& r : plan) n += r.count;
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : ECMGW_PROFILES_DIR;
    auto profiles = ecmgw::config::load_profiles(dir);
    if (!profiles) {
        for (const auto& e : profiles.error()) fmt::print(stderr, "{}\n", e.to_string());
        return 1;
    }
    fmt::print("bench_modbus_planner: requests per meter read ({})\n\n", dir);
    fmt::print("{:<24} {:>6} {:>9} {:>9} {:>9} {:>10}\n", "profile", "points", "one each", "gap 0",
               "planned", "registers");
    std::size_t naive_total = 0, planned_total = 0;
    for (const auto& p : *profiles) {
        const auto naive = ecmgw::modbus::naive_request_count(p.points);
        auto no_gap = p.limits;
        no_gap.max_gap = 0;
        const auto contiguous = ecmgw::modbus::plan_reads(p.points, no_gap);
        const auto planned = ecmgw::modbus::plan_reads(p.points, p.limits);
        naive_total += naive;
        planned_total += planned.size();
        fmt::print("{:<24} {:>6} {:>9} {:>9} {:>9} {:>10}\n", p.name, p.points.size(), naive,
                   contiguous.size(), planned.size(), registers_read(planned));
    }
    fmt::print("\nall profiles: {} requests one point each, {} planned ({:.1f}x fewer)\n",
               naive_total, planned_total,
               planned_total == 0
                   ? 0.0
                   : static_cast<double>(naive_total) / static_cast<double>(planned_total));
    fmt::print(
        "'gap 0' merges only adjacent registers; 'planned' also spans gaps up to the "
        "profile's max_gap.\n");
    return 0;
}
