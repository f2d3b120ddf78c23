#include "bus/dlt645_client.hpp"

#include <algorithm>
#include <array>

namespace ecmgw::bus {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// However noisy the line, one exchange ends after this much beyond its timeouts.
constexpr milliseconds kExchangeCeiling{3000};

Unexpected<ReadError> read_error(ReadFailure kind, std::string message) {
    return unexpected(ReadError{kind, std::move(message)});
}

ReadError from_answer_error(const dlt645::AnswerError& e) {
    const auto kind =
        e.kind == dlt645::AnswerErrorKind::Abnormal ? ReadFailure::Refused : ReadFailure::Mismatch;
    return ReadError{kind, e.message};
}

}  // namespace

void Dlt645Client::account_scan(const dlt645::ScanResult& result, dlt645::ByteView scanned) {
    counters_.checksum_errors += result.checksum_errors;
    const auto skipped = scanned.first(std::min(result.skipped, scanned.size()));
    counters_.noise_bytes += static_cast<std::uint64_t>(
        std::count_if(skipped.begin(), skipped.end(), [](std::uint8_t b) { return b != 0xFE; }));
}

Expected<dlt645::Frame, ReadError> Dlt645Client::exchange(const dlt645::Bytes& request,
                                                          const AnswerFilter& is_answer) {
    if (auto r = link_.flush_input(); !r)
        return read_error(ReadFailure::LinkError, r.error().message);
    ++counters_.requests;
    if (auto r = link_.write(request); !r)
        return read_error(ReadFailure::LinkError, r.error().message);

    const auto start = Clock::now();
    const auto first_byte_deadline = start + timing_.response_timeout;
    const auto ceiling = first_byte_deadline + timing_.inter_byte_timeout + kExchangeCeiling;
    dlt645::Bytes pending;
    bool noise_seen = false;
    std::array<std::uint8_t, 256> chunk{};

    while (true) {
        // Our answer has started once bytes wait in `pending` or noise was dropped. Our own
        // echoed request and other meters' whole frames are not our answer: after them the
        // response timeout still runs, and silence is a Timeout (the meter did not answer).
        const bool answer_started = noise_seen || !pending.empty();
        const auto now = Clock::now();
        const auto wait = answer_started
                              ? timing_.inter_byte_timeout
                              : std::chrono::duration_cast<milliseconds>(first_byte_deadline - now);
        auto n = now >= ceiling ? Expected<std::size_t>(std::size_t{0})
                                : link_.read(chunk, std::max(wait, milliseconds(1)));
        if (!n) return read_error(ReadFailure::LinkError, n.error().message);
        if (*n == 0) {
            if (!answer_started) {
                ++counters_.timeouts;
                return read_error(
                    ReadFailure::Timeout,
                    "no answer within " + std::to_string(timing_.response_timeout.count()) + " ms");
            }
            counters_.noise_bytes += pending.size();
            return read_error(ReadFailure::Garbled,
                              "no valid answer; " + std::to_string(pending.size()) +
                                  " unusable bytes left when the line went quiet");
        }
        pending.insert(pending.end(), chunk.begin(), chunk.begin() + static_cast<long>(*n));
        const auto noise_before = counters_.noise_bytes;

        while (!pending.empty()) {
            const auto result = dlt645::scan(pending);
            account_scan(result, pending);
            if (result.status == dlt645::ScanStatus::Incomplete) {
                pending.erase(pending.begin(), pending.begin() + static_cast<long>(result.skipped));
                break;
            }
            const std::size_t used =
                result.skipped +
                (result.status == dlt645::ScanStatus::Complete ? result.length : 0);
            pending.erase(pending.begin(),
                          pending.begin() + static_cast<long>(std::min(used, pending.size())));
            if (result.status != dlt645::ScanStatus::Complete) break;
            // Half-duplex adapters echo our own request; other meters may chatter.
            if (result.frame.from_meter() && is_answer(result.frame)) {
                ++counters_.answers;
                return result.frame;
            }
            ++counters_.foreign_frames;
        }
        noise_seen = noise_seen || counters_.noise_bytes != noise_before;
    }
}

Expected<dlt645::Value, ReadError> Dlt645Client::read(const dlt645::Address& meter,
                                                      const dlt645::DataItem& item) {
    auto frame = exchange(dlt645::encode_read(meter, item.di), [&](const dlt645::Frame& f) {
        return meter.is_wildcard() || f.address == meter;
    });
    if (!frame) return unexpected(frame.error());
    auto answer = dlt645::decode_read_answer(*frame, meter, item.di);
    if (!answer) return unexpected(from_answer_error(answer.error()));
    auto value = dlt645::decode_value(item, answer->value);
    if (!value) return read_error(ReadFailure::Garbled, value.error().message);
    return *value;
}

Expected<dlt645::Address, ReadError> Dlt645Client::read_address() {
    auto frame = exchange(dlt645::encode_read_address(), [](const dlt645::Frame& f) {
        return f.function() == static_cast<std::uint8_t>(dlt645::Function::ReadAddress);
    });
    if (!frame) return unexpected(frame.error());
    auto address = dlt645::decode_read_address_answer(*frame);
    if (!address) return unexpected(from_answer_error(address.error()));
    return *address;
}

Result Dlt645Client::broadcast_time(const dlt645::DateTime& when) {
    if (auto r = link_.write(dlt645::encode_broadcast_time(when)); !r) return r;
    ++counters_.requests;
    return {};
}

}  // namespace ecmgw::bus
