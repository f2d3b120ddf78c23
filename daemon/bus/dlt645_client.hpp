// One DL/T 645-2007 master on one byte link: sends a request, collects the
// answer within the response and inter-byte timeouts, resyncs after noise.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "bus/frame_exchange.hpp"
#include "bus/link_types.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/transport.hpp"

namespace ecmgw::bus {

class Dlt645Client {
  public:
    // A client with counters of its own (the technician's commands).
    Dlt645Client(transport::ByteLink& link, LinkTiming timing)
        : own_(std::make_unique<Owned>(link, timing)), ex_(own_->exchange) {}
    // A client on a bus's shared exchange, so the bus counts every request.
    explicit Dlt645Client(Exchange& exchange) : ex_(exchange) {}

    Expected<dlt645::Value, ReadError> read(const dlt645::Address& meter,
                                            const dlt645::DataItem& item);
    // The value bytes of `di` as the meter sent them (block reads split them).
    Expected<dlt645::ReadAnswer, ReadError> read_raw(const dlt645::Address& meter,
                                                     dlt645::DataId di);
    // DL/T 645-1997: two-byte DIs, function 01.
    Expected<dlt645::ReadAnswer, ReadError> read_raw_1997(const dlt645::Address& meter,
                                                          std::uint16_t di);
    Expected<dlt645::Value, ReadError> read_1997(const dlt645::Address& meter,
                                                 const dlt645::DataItem& item);
    Expected<dlt645::Address, ReadError> read_address();
    // Relay and alarm control (0x1C); `valid_until` in the meter's local time.
    Expected<void, ReadError> control(const dlt645::Address& meter, const dlt645::ControlAuth& auth,
                                      dlt645::ControlCommand command,
                                      const dlt645::DateTime& valid_until);
    // Broadcast frames are never answered: sends and returns.
    Result broadcast_time(const dlt645::DateTime& when);

    const LinkCounters& counters() const { return ex_.counters; }
    void restore_counters(const LinkCounters& c) { ex_.counters = c; }
    std::chrono::microseconds last_latency() const { return ex_.last_latency; }

  private:
    struct Owned {
        Owned(transport::ByteLink& link, LinkTiming timing) : exchange{link, timing, counters} {}
        LinkCounters counters;
        Exchange exchange;
    };
    Expected<dlt645::Frame, ReadError> exchange(
        const dlt645::Bytes& request, const std::function<bool(const dlt645::Frame&)>& is_answer);

    std::unique_ptr<Owned> own_;
    Exchange& ex_;
};

// The ReadError for a codec's answer error: abnormal answers are the meter's
// refusal, everything else a mismatch with the request.
ReadError from_answer_error(const dlt645::AnswerError& e);

}  // namespace ecmgw::bus
