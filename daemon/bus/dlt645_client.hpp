// One DL/T 645-2007 master on one byte link: sends a request, collects the
// answer within the response and inter-byte timeouts, resyncs after noise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/transport.hpp"

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

class Dlt645Client {
  public:
    Dlt645Client(transport::ByteLink& link, LinkTiming timing) : link_(link), timing_(timing) {}

    Expected<dlt645::Value, ReadError> read(const dlt645::Address& meter,
                                            const dlt645::DataItem& item);
    Expected<dlt645::Address, ReadError> read_address();
    // Broadcast frames are never answered: sends and returns.
    Result broadcast_time(const dlt645::DateTime& when);

    const LinkCounters& counters() const { return counters_; }
    void restore_counters(const LinkCounters& c) { counters_ = c; }

  private:
    using AnswerFilter = std::function<bool(const dlt645::Frame&)>;
    Expected<dlt645::Frame, ReadError> exchange(const dlt645::Bytes& request,
                                                const AnswerFilter& is_answer);
    void account_scan(const dlt645::ScanResult& result, dlt645::ByteView scanned);

    transport::ByteLink& link_;
    LinkTiming timing_;
    LinkCounters counters_;
};

}  // namespace ecmgw::bus
