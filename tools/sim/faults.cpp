#include "sim/faults.hpp"

#include <charconv>
#include <vector>

#include "sim/modbus_rtu.hpp"
#include "sim/sim_clock.hpp"

namespace ecmgw::sim {

namespace {

std::optional<double> number(std::string_view text) {
    double v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return v;
}

// The frame's layout: where its address is, which bytes are structure, where the sum is.
struct Layout {
    std::size_t address = 0, address_length = 0;
    std::vector<std::size_t> eligible;  // bytes whose flip only breaks the checksum
    std::size_t checksum_at = 0;        // DL/T 645 and CJ/T 188: the CS byte
    std::size_t length = 0;
};

Layout layout_of(const dlt645::Bytes& b, std::size_t s, WireFormat format) {
    Layout l;
    const std::size_t size = b.size() - s;
    switch (format) {
        case WireFormat::Dlt645: {  // 68 A0..A5 68 C L DATA CS 16
            if (size < 12) return l;
            l.address = s + 1;
            l.address_length = 6;
            l.checksum_at = s + 10 + b[s + 9];
            for (std::size_t i = s + 1; i <= l.checksum_at; ++i) {
                if (i != s + 7 && i != s + 9) l.eligible.push_back(i);
            }
            break;
        }
        case WireFormat::Cjt188: {  // 68 T A0..A6 C L DATA CS 16
            if (size < 13) return l;
            l.address = s + 2;
            l.address_length = 7;
            l.checksum_at = s + 11 + b[s + 10];
            for (std::size_t i = s + 1; i <= l.checksum_at; ++i) {
                if (i != s + 10) l.eligible.push_back(i);
            }
            break;
        }
        case WireFormat::ModbusRtu: {  // unit fn [count] DATA CRC-lo CRC-hi
            if (size < 4) return l;
            l.address = s;
            l.address_length = 1;
            // A read answer's byte count sets the length the master waits for.
            const std::uint8_t fn = b[s + 1];
            const std::size_t first = (fn >= 1 && fn <= 4) ? s + 3 : s + 2;
            for (std::size_t i = first; i < b.size(); ++i) l.eligible.push_back(i);
            break;
        }
    }
    l.length = size;
    if (l.checksum_at >= b.size()) l.eligible.clear();
    return l;
}

std::uint8_t sum(const dlt645::Bytes& b, std::size_t from, std::size_t to) {
    unsigned total = 0;
    for (std::size_t i = from; i < to; ++i) total += b[i];
    return static_cast<std::uint8_t>(total);
}

}  // namespace

Expected<FaultRule> parse_fault(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        return fail("--fault " + std::string(text) + ": expected METER:KIND[=VALUE]");
    }
    FaultRule rule;
    rule.meter = std::string(text.substr(0, colon));
    std::string_view kind = text.substr(colon + 1);
    std::optional<std::string_view> value;
    if (const auto eq = kind.find('='); eq != std::string_view::npos) {
        value = kind.substr(eq + 1);
        kind = kind.substr(0, eq);
    }
    rule.kind = std::string(kind);
    const std::string where = "--fault " + std::string(text) + ": ";
    if (kind == "dead") {
        if (value) return fail(where + "dead takes no value");
        return rule;
    }
    if (kind == "drop" || kind == "corrupt" || kind == "wrong-address") {
        const auto p = value ? number(*value) : std::nullopt;
        if (!p || *p < 0 || *p > 1) {
            return fail(where + std::string(kind) + " takes a fraction from 0 to 1, e.g. " +
                        std::string(kind) + "=0.25");
        }
        rule.value = *p;
        return rule;
    }
    if (kind == "delay") {
        const auto ms = value ? number(*value) : std::nullopt;
        if (!ms || *ms < 0 || *ms > 60000) {
            return fail(where + "delay takes milliseconds from 0 to 60000, e.g. delay=400");
        }
        rule.value = *ms;
        return rule;
    }
    return fail(where + "unknown kind '" + std::string(kind) +
                "'; expected dead, drop=P, corrupt=P, wrong-address=P or delay=MS");
}

void apply(const FaultRule& rule, FaultSpec& spec) {
    if (rule.kind == "dead") spec.dead = true;
    if (rule.kind == "drop") spec.drop = rule.value;
    if (rule.kind == "corrupt") spec.corrupt = rule.value;
    if (rule.kind == "wrong-address") spec.wrong_address = rule.value;
    if (rule.kind == "delay") spec.delay_ms = static_cast<int>(rule.value);
}

FaultDice::FaultDice(std::uint64_t seed, std::size_t meter_index)
    : rng_(seed * 0x9E3779B97F4A7C15ULL + meter_index) {}

bool FaultDice::chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
}

Fate FaultDice::roll(const FaultSpec& spec) {
    Fate f;
    f.drop = chance(spec.drop);
    f.corrupt = chance(spec.corrupt);
    f.wrong_address = chance(spec.wrong_address);
    return f;
}

std::size_t FaultDice::pick(std::size_t n) {
    return static_cast<std::size_t>(rng_() % (n == 0 ? 1 : n));
}

void corrupt_frame(dlt645::Bytes& bytes, std::size_t start, WireFormat format, std::size_t pick) {
    const Layout l = layout_of(bytes, start, format);
    if (l.eligible.empty()) return;
    // Any change of one byte changes a sum mod 256 and a CRC-16: the check fails.
    bytes[l.eligible[pick % l.eligible.size()]] ^= 0x5A;
}

void readdress_frame(dlt645::Bytes& bytes, std::size_t start, WireFormat format) {
    const Layout l = layout_of(bytes, start, format);
    if (l.address_length == 0) return;
    if (format == WireFormat::ModbusRtu) {
        bytes[start] = static_cast<std::uint8_t>(bytes[start] % 247 + 1);
        const auto crc = crc16(dlt645::ByteView(bytes).subspan(start, l.length - 2));
        bytes[bytes.size() - 2] = static_cast<std::uint8_t>(crc);
        bytes[bytes.size() - 1] = static_cast<std::uint8_t>(crc >> 8);
        return;
    }
    if (l.checksum_at >= bytes.size()) return;
    bytes[l.address] = to_bcd((from_bcd(bytes[l.address]) + 1) % 100);
    bytes[l.checksum_at] = sum(bytes, start, l.checksum_at);
}

}  // namespace ecmgw::sim
