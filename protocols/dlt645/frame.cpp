// Framing: building request frames and finding frames in a received byte stream.
#include <algorithm>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

constexpr std::uint8_t kWakeup = 0xFE;
constexpr std::uint8_t kStart = 0x68;
constexpr std::uint8_t kEnd = 0x16;
constexpr std::uint8_t kScramble = 0x33;

// Offsets inside a frame, counted from the first 68.
constexpr std::size_t kSecondStart = 7;
constexpr std::size_t kControl = 8;
constexpr std::size_t kLength = 9;
constexpr std::size_t kData = 10;
constexpr std::size_t kOverhead = 12;  // 68, 6 address bytes, 68, C, L, CS, 16

std::uint8_t checksum(ByteView bytes) {
    unsigned sum = 0;
    for (std::uint8_t b : bytes) sum += b;
    return static_cast<std::uint8_t>(sum);
}

// Fields out of range wrap into two digits: callers validate times before they send them.
std::uint8_t bcd_byte(int value) {
    const int v = ((value % 100) + 100) % 100;
    return static_cast<std::uint8_t>((v / 10) << 4 | (v % 10));
}

Bytes di_bytes(DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8),
            static_cast<std::uint8_t>(di >> 16), static_cast<std::uint8_t>(di >> 24)};
}

enum class Candidate {
    Valid,        // a whole frame with a good checksum and end byte
    Partial,      // consistent so far; more bytes may complete it
    NotAFrame,    // the header structure is wrong (second 68, L)
    BadChecksum,  // the structure holds but CS or the end byte is wrong
};

// Judges the frame that would start at bytes[0] (a 68).
Candidate judge(ByteView bytes) {
    if (bytes.size() <= kSecondStart) return Candidate::Partial;
    if (bytes[kSecondStart] != kStart) return Candidate::NotAFrame;
    if (bytes.size() <= kLength) return Candidate::Partial;
    const std::size_t length = bytes[kLength];
    if (length > kMaxDataLength) return Candidate::NotAFrame;
    const std::size_t cs_at = kData + length;
    if (bytes.size() <= cs_at) return Candidate::Partial;
    if (checksum(bytes.first(cs_at)) != bytes[cs_at]) return Candidate::BadChecksum;
    if (bytes.size() <= cs_at + 1) return Candidate::Partial;
    if (bytes[cs_at + 1] != kEnd) return Candidate::BadChecksum;
    return Candidate::Valid;
}

// `bytes` is a frame that judge() found Valid.
Frame unpack(ByteView bytes) {
    Frame frame;
    std::copy_n(bytes.begin() + 1, frame.address.wire.size(), frame.address.wire.begin());
    frame.control = bytes[kControl];
    const auto data = bytes.subspan(kData, bytes[kLength]);
    frame.data.reserve(data.size());
    for (std::uint8_t b : data) frame.data.push_back(static_cast<std::uint8_t>(b - kScramble));
    return frame;
}

}  // namespace

Bytes encode_frame(const Frame& frame, std::size_t wakeup) {
    // L is one byte and no receiver takes more than kMaxDataLength: longer DATA is cut so
    // that the frame at least stays self-consistent. Callers never send that much.
    const std::size_t length = std::min(frame.data.size(), kMaxDataLength);
    Bytes out(wakeup, kWakeup);
    out.reserve(wakeup + kOverhead + length);
    out.push_back(kStart);
    out.insert(out.end(), frame.address.wire.begin(), frame.address.wire.end());
    out.push_back(kStart);
    out.push_back(frame.control);
    out.push_back(static_cast<std::uint8_t>(length));
    for (std::size_t i = 0; i < length; ++i) {
        out.push_back(static_cast<std::uint8_t>(frame.data[i] + kScramble));
    }
    out.push_back(checksum(ByteView(out).subspan(wakeup)));
    out.push_back(kEnd);
    return out;
}

Bytes encode_read(const Address& meter, DataId di, std::size_t wakeup) {
    return encode_frame(Frame{meter, static_cast<std::uint8_t>(Function::Read), di_bytes(di)},
                        wakeup);
}

Bytes encode_read_follow_up(const Address& meter, DataId di, std::uint8_t seq, std::size_t wakeup) {
    Bytes data = di_bytes(di);
    data.push_back(seq);
    return encode_frame(
        Frame{meter, static_cast<std::uint8_t>(Function::ReadFollowUp), std::move(data)}, wakeup);
}

Bytes encode_read_address(std::size_t wakeup) {
    return encode_frame(
        Frame{Address::wildcard(), static_cast<std::uint8_t>(Function::ReadAddress), {}}, wakeup);
}

Bytes encode_broadcast_time(const DateTime& t, std::size_t wakeup) {
    Bytes data{bcd_byte(t.second), bcd_byte(t.minute), bcd_byte(t.hour),
               bcd_byte(t.day),    bcd_byte(t.month),  bcd_byte(t.year)};
    return encode_frame(Frame{Address::broadcast(),
                              static_cast<std::uint8_t>(Function::BroadcastTime), std::move(data)},
                        wakeup);
}

Bytes encode_control(const Address& meter, const ControlAuth& auth, ControlCommand command,
                     const DateTime& valid_until, std::size_t wakeup) {
    constexpr std::uint8_t kReserved = 0x00;  // N2
    Bytes data{auth.privilege};
    data.insert(data.end(), auth.password.begin(), auth.password.end());
    data.insert(data.end(), auth.operator_code.begin(), auth.operator_code.end());
    data.push_back(static_cast<std::uint8_t>(command));
    data.push_back(kReserved);
    for (int field : {valid_until.second, valid_until.minute, valid_until.hour, valid_until.day,
                      valid_until.month, valid_until.year}) {
        data.push_back(bcd_byte(field));
    }
    return encode_frame(Frame{meter, static_cast<std::uint8_t>(Function::Control), std::move(data)},
                        wakeup);
}

ScanResult scan(ByteView bytes) {
    ScanResult result;
    std::size_t checksum_errors = 0;
    std::optional<std::size_t> partial_at;  // the first candidate still waiting for bytes
    std::size_t errors_before_partial = 0;
    for (std::size_t at = 0; at < bytes.size(); ++at) {
        if (bytes[at] != kStart) continue;
        const ByteView rest = bytes.subspan(at);
        switch (judge(rest)) {
            case Candidate::Valid: {
                // A complete frame wins over an earlier partial candidate: that 68 was noise
                // (or a frame cut short), and waiting on it would stall a real answer.
                result.status = ScanStatus::Complete;
                result.skipped = at;
                result.length = kOverhead + rest[kLength];
                result.checksum_errors = checksum_errors;
                result.frame = unpack(rest);
                return result;
            }
            case Candidate::Partial:
                if (!partial_at) {
                    partial_at = at;
                    errors_before_partial = checksum_errors;
                }
                break;
            case Candidate::BadChecksum:
                ++checksum_errors;
                break;
            case Candidate::NotAFrame:
                break;
        }
    }
    // Only the candidates in the bytes the caller drops are counted, so a rescan after more
    // bytes arrive does not count the same bad candidate twice.
    if (partial_at) {
        result.status = ScanStatus::Incomplete;
        result.skipped = *partial_at;
        result.checksum_errors = errors_before_partial;
    } else {
        result.status = ScanStatus::NoFrame;
        result.skipped = bytes.size();
        result.checksum_errors = checksum_errors;
    }
    return result;
}

}  // namespace ecmgw::dlt645
