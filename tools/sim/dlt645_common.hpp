// What the simulated DL/T 645-2007 and DL/T 645-1997 meters share: they speak the same
// frame and value formats and differ in function codes and data identifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ecmgw/protocols/dlt645.hpp"
#include "sim/answered_value.hpp"
#include "sim/quantities.hpp"

namespace ecmgw::sim {

// An answer a DL/T 645 meter sends, and what it reported (for the answer log).
struct Answer {
    dlt645::Frame frame;
    std::vector<AnsweredValue> values;  // one per data item; empty for other answers
};

Answer normal_answer(const dlt645::Address& meter, std::uint8_t function, dlt645::Bytes data);
Answer abnormal_answer(const dlt645::Address& meter, std::uint8_t function,
                       std::uint8_t error_byte);

// What the meter shows for `item`: a number from the shared physics, its clock, its
// address, or `status_word` for status items.
struct Dlt645Face {
    const MeterState& state;
    std::int64_t clock_ms;
    const dlt645::Address& address;
    std::uint16_t status_word;
};
dlt645::Value value_of(const dlt645::DataItem& item, const Dlt645Face& face);

// The value as the gateway stores it: status words as numbers, like its readings.
AnsweredValue answered(const dlt645::DataItem& item, const dlt645::Value& value);

// The values of `items`, back to back (a block answer's value part); nothing when one of
// them does not encode.
std::optional<dlt645::Bytes> encode_items(std::span<const dlt645::DataItem* const> items,
                                          const Dlt645Face& face,
                                          std::vector<AnsweredValue>& answered_values);

// The time a broadcast-time frame (08, DATA ss mm hh DD MM YY) sets; nothing when the
// DATA is not six bytes.
std::optional<dlt645::DateTime> broadcast_time(const dlt645::Frame& request);

// The DI of a read request, low byte first on the wire; nothing when DATA is too short.
std::optional<std::uint32_t> request_di(const dlt645::Frame& request, std::size_t length);

}  // namespace ecmgw::sim
