// libFuzzer target for the meter profile loader: arbitrary text goes through
// parse_profile as a profile file would. A file that is refused must come back as
// errors (never an exception, never a crash); a profile that is accepted must hold what
// the loader promises: points inside the register space, a plan that reads every point
// once within the limits, and values that decode without crashing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "ecmgw/config/profile.hpp"

namespace modbus = ecmgw::modbus;

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto profile = ecmgw::config::parse_profile(text, "fuzz.toml", "fuzz");
    if (!profile) {
        FUZZ_CHECK(!profile.error().empty());
        for (const auto& e : profile.error()) FUZZ_CHECK(!e.message.empty());
        return 0;
    }
    FUZZ_CHECK(!profile->points.empty());
    std::vector<std::size_t> seen(profile->points.size(), 0);
    for (const auto& request : modbus::plan_reads(profile->points, profile->limits)) {
        FUZZ_CHECK(request.count >= 1);
        FUZZ_CHECK(std::uint32_t{request.address} + request.count <= 65536);
        for (std::size_t i : request.points) {
            FUZZ_CHECK(i < seen.size());
            ++seen[i];
        }
    }
    for (std::size_t s : seen) FUZZ_CHECK(s == 1);
    // Decode every point from registers made of the input's own bytes.
    for (const auto& point : profile->points) {
        FUZZ_CHECK(std::uint32_t{point.address} + modbus::width(point) <= 65536);
        if (modbus::is_bit_table(point.table)) {
            FUZZ_CHECK(modbus::decode_bit(point, size % 2).has_value());
            continue;
        }
        std::vector<std::uint16_t> registers(modbus::register_count(point.type));
        for (std::size_t i = 0; i < registers.size(); ++i) {
            registers[i] = static_cast<std::uint16_t>(
                size > 2 * i + 1 ? (data[2 * i] << 8) | data[2 * i + 1] : 0x4000 + i);
        }
        (void)modbus::decode_point(point, registers);
    }
    for (const auto* control : {&profile->relay, &profile->valve}) {
        if (!control->has_value()) continue;
        FUZZ_CHECK(!modbus::plan_switch(**control, true).empty());
        FUZZ_CHECK(!modbus::plan_switch(**control, false).empty());
    }
    return 0;
}
