// Framing: building request frames and finding frames in a received byte stream.
#include <algorithm>
#include <optional>

#include "ecmgw/protocols/cjt188.hpp"

namespace ecmgw::cjt188 {

namespace {

constexpr std::uint8_t kWakeup = 0xFE;
constexpr std::uint8_t kStart = 0x68;
constexpr std::uint8_t kEnd = 0x16;
constexpr std::uint8_t kValveOpen = 0x55;
constexpr std::uint8_t kValveClose = 0x99;

// Offsets inside a frame, counted from the 68.
constexpr std::size_t kType = 1;
constexpr std::size_t kAddress = 2;
constexpr std::size_t kControl = 9;
constexpr std::size_t kLength = 10;
constexpr std::size_t kData = 11;
constexpr std::size_t kOverhead = 13;  // 68, T, 7 address bytes, C, L, CS, 16

std::uint8_t checksum(ByteView bytes) {
    unsigned sum = 0;
    for (std::uint8_t b : bytes) sum += b;
    return static_cast<std::uint8_t>(sum);
}

// DI low byte first, then the sequence byte the meter echoes.
Bytes di_and_ser(DataId di, std::uint8_t ser) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8), ser};
}

Bytes request(MeterType type, const Address& meter, Function function, Bytes data,
              std::size_t wakeup) {
    return encode_frame(Frame{static_cast<std::uint8_t>(type), meter,
                              static_cast<std::uint8_t>(function), std::move(data)},
                        wakeup);
}

enum class Candidate {
    Valid,        // a whole frame with a good checksum and end byte
    Partial,      // consistent so far; more bytes may complete it
    NotAFrame,    // L is out of range
    BadChecksum,  // the structure holds but CS or the end byte is wrong
};

// Judges the frame that would start at bytes[0] (a 68). Unlike DL/T 645 there is no second
// 68 to check, so L, the checksum and the end byte carry the whole judgement.
Candidate judge(ByteView bytes) {
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
    frame.type = bytes[kType];
    std::copy_n(bytes.begin() + kAddress, frame.address.wire.size(), frame.address.wire.begin());
    frame.control = bytes[kControl];
    const auto data = bytes.subspan(kData, bytes[kLength]);
    frame.data.assign(data.begin(), data.end());
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
    out.push_back(frame.type);
    out.insert(out.end(), frame.address.wire.begin(), frame.address.wire.end());
    out.push_back(frame.control);
    out.push_back(static_cast<std::uint8_t>(length));
    out.insert(out.end(), frame.data.begin(),
               frame.data.begin() + static_cast<std::ptrdiff_t>(length));
    out.push_back(checksum(ByteView(out).subspan(wakeup)));
    out.push_back(kEnd);
    return out;
}

Bytes encode_read_data(MeterType type, const Address& meter, std::uint8_t ser, std::size_t wakeup) {
    return request(type, meter, Function::ReadData, di_and_ser(kDiReadData, ser), wakeup);
}

Bytes encode_read_address(std::uint8_t ser, std::size_t wakeup) {
    return request(MeterType::Any, Address::wildcard(), Function::ReadAddress,
                   di_and_ser(kDiReadAddress, ser), wakeup);
}

Bytes encode_valve(MeterType type, const Address& meter, std::uint8_t ser, bool open,
                   std::size_t wakeup) {
    Bytes data = di_and_ser(kDiValve, ser);
    data.push_back(open ? kValveOpen : kValveClose);
    return request(type, meter, Function::WriteData, std::move(data), wakeup);
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
            case Candidate::Valid:
                // A complete frame wins over an earlier partial candidate: that 68 was noise
                // (or a frame cut short), and waiting on it would stall a real answer.
                result.status = ScanStatus::Complete;
                result.skipped = at;
                result.length = kOverhead + rest[kLength];
                result.checksum_errors = checksum_errors;
                result.frame = unpack(rest);
                return result;
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

}  // namespace ecmgw::cjt188
