// What every request/answer exchange on a bus shares, whatever the protocol.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ecmgw::bus {

struct LinkTiming {
    std::chrono::milliseconds response_timeout{600};  // request sent → first byte (Td ≤ 500 ms)
    std::chrono::milliseconds inter_byte_timeout{500};  // between bytes of one answer (Tb)
};

enum class ReadFailure {
    Timeout,    // nothing came back
    Garbled,    // bytes came back but no valid frame for us
    Refused,    // the meter's abnormal answer (no such data, unauthorised, …)
    Mismatch,   // a valid frame that does not answer the request (wrong DI, function)
    Invalid,    // a valid answer whose value is nonsense (bad BCD, wrong length): never stored
    LinkError,  // the port itself failed
};

struct ReadError {
    ReadFailure kind = ReadFailure::Timeout;
    std::string message;
};

struct LinkCounters {
    std::uint64_t requests = 0;
    std::uint64_t answers = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t noise_bytes = 0;  // bytes that were neither wake-up nor frame
    std::uint64_t checksum_errors = 0;
    std::uint64_t foreign_frames = 0;  // valid frames from another meter or an echo
};

}  // namespace ecmgw::bus
