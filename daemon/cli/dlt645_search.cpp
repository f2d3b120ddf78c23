#include "cli/dlt645_search.hpp"

#include <array>

#include "bus/frame_exchange.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::cli {

namespace {

constexpr std::uint8_t kWildcardByte = 0xAA;
// What the search asks: forward active energy, which every meter has. Any
// answer, a refusal included, carries the meter's address.
constexpr dlt645::DataId kProbe2007 = 0x00010000;
constexpr std::uint16_t kProbe1997 = 0x9010;

std::uint8_t bcd(int v) { return static_cast<std::uint8_t>((v / 10) << 4 | (v % 10)); }

// Bytes after a complete answer, within the time any meter may take to answer,
// mean a second meter answered too; so do bad frames before it.
bool heard_more(bus::Exchange& ex, const bus::LinkCounters& before) {
    if (ex.counters.checksum_errors != before.checksum_errors ||
        ex.counters.noise_bytes != before.noise_bytes) {
        return true;
    }
    std::array<std::uint8_t, 64> rest{};
    auto n = ex.link.read(rest, ex.timing.response_timeout);
    return n && *n > 0;
}

Expected<Hearing, CommandError> hearing_of(DirectLink& link, const bus::ReadError& e) {
    switch (e.kind) {
        case bus::ReadFailure::Timeout:
            return Hearing{};
        case bus::ReadFailure::LinkError:
            return unexpected(link.failure(e));
        case bus::ReadFailure::Garbled:
            return Hearing{Heard::Several, "", ""};  // collided
        default:
            return Hearing{Heard::One, "", e.message};  // a meter, in other words
    }
}

Expected<Hearing, CommandError> ask_pattern(DirectLink& link, const dlt645::Address& pattern) {
    auto& ex = link.exchange();
    const bool v1997 = link.setup().meter.protocol == config::Protocol::Dlt645_1997;
    const auto request = v1997 ? dlt645_1997::encode_read(pattern, kProbe1997)
                               : dlt645::encode_read(pattern, kProbe2007);
    const bus::LinkCounters before = ex.counters;
    auto frame = bus::exchange_frame<dlt645::Frame>(
        ex, request, [](dlt645::ByteView b) { return dlt645::scan(b); },
        [&](const dlt645::Frame& f) { return matches(pattern, f.address); });
    if (!frame) return hearing_of(link, frame.error());
    const auto heard = heard_more(ex, before) ? Heard::Several : Heard::One;
    return Hearing{heard, frame->address.to_string(), ""};
}

struct Search {
    DirectLink& link;
    Progress& progress;
    const std::function<void(FoundMeter)>& found;
    const std::function<bool()>& stop;

    // Tries every value of byte `fixed.size()` under the bytes already fixed.
    Expected<void, CommandError> level(std::vector<std::uint8_t> fixed) {
        const std::size_t byte = fixed.size();
        fixed.push_back(0);
        for (int v = 0; v < 100 && !stop(); ++v) {
            fixed[byte] = bcd(v);
            auto hearing = ask_pattern(link, partial_wildcard(fixed));
            progress.step();
            if (!hearing) return unexpected(hearing.error());
            const bool several = hearing->heard == Heard::Several;
            if (several && byte + 1 == dlt645::Address{}.wire.size()) {
                // No byte left to tell meters apart.
                found({partial_wildcard(fixed).to_string(), 0,
                       "answers garbled: two meters with this one address, or the wrong baud "
                       "rate or parity"});
                continue;
            }
            if (!hearing->address.empty()) found({hearing->address, 0, ""});
            if (!several) continue;
            progress.add_to_total(kSearchFanOut);
            if (auto r = level(fixed); !r) return r;
        }
        return {};
    }
};

}  // namespace

dlt645::Address partial_wildcard(const std::vector<std::uint8_t>& fixed) {
    dlt645::Address a = dlt645::Address::wildcard();
    for (std::size_t i = 0; i < fixed.size() && i < a.wire.size(); ++i) a.wire[i] = fixed[i];
    return a;
}

bool matches(const dlt645::Address& pattern, const dlt645::Address& meter) {
    for (std::size_t i = 0; i < pattern.wire.size(); ++i) {
        if (pattern.wire[i] != kWildcardByte && pattern.wire[i] != meter.wire[i]) return false;
    }
    return true;
}

Expected<Hearing, CommandError> ask_wildcard(DirectLink& link) {
    auto& ex = link.exchange();
    const bus::LinkCounters before = ex.counters;
    auto address = read_wildcard_address(ex, link.setup().meter.protocol);
    if (!address) return hearing_of(link, address.error());
    return Hearing{heard_more(ex, before) ? Heard::Several : Heard::One, *address, ""};
}

Expected<void, CommandError> search_addresses(DirectLink& link, Progress& progress,
                                              const std::function<void(FoundMeter)>& found,
                                              const std::function<bool()>& stop) {
    return Search{link, progress, found, stop}.level({});
}

}  // namespace ecmgw::cli
