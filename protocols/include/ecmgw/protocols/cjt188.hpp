// CJ/T 188-2004 codec: water, gas and heat meters. Bytes to typed values and back. Pure:
// no file descriptors, no clocks. See shared/protocols.md for the facts it builds to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"
#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::cjt188 {

using Bytes = dlt645::Bytes;
using ByteView = dlt645::ByteView;

// A meter address as on the wire: seven packed-BCD bytes, A0 (lowest two digits) first.
// A5 A6 are the manufacturer's code.
struct Address {
    std::array<std::uint8_t, 7> wire{};

    // "12345678901234" (14 decimal digits, most significant first). Also accepts
    // "AAAAAAAAAAAAAA" (wildcard, for a single meter on the bus).
    static Expected<Address> parse(std::string_view digits);
    static Address wildcard();      // AA × 7
    std::string to_string() const;  // 14 digits, most significant first
    bool is_wildcard() const;
    friend bool operator==(const Address&, const Address&) = default;
};

// T, the meter type. Meters answer with their own type; Any goes with the wildcard address.
enum class MeterType : std::uint8_t {
    ColdWater = 0x10,
    HotWater = 0x11,
    DrinkingWater = 0x12,
    ReclaimedWater = 0x13,
    Heat = 0x20,
    Cooling = 0x21,
    Gas = 0x30,
    Other = 0x40,
    Any = 0xAA,
};

// Function codes (bits 5-0 of the control byte).
enum class Function : std::uint8_t {
    ReadData = 0x01,
    ReadAddress = 0x03,
    WriteData = 0x04,
    ReadKeyVersion = 0x09,
    WriteAddress = 0x15,
    WriteSyncData = 0x16,
};

inline constexpr std::uint8_t kDirectionFromMeter = 0x80;
inline constexpr std::uint8_t kAbnormal = 0x40;
inline constexpr std::uint8_t kFunctionMask = 0x3F;
// CJ/T 188-2004 bounds L at 64H (100) for reads and 32H (50) for writes. A longer L is
// noise, and refusing it keeps a fake header from making the scanner wait for 255 bytes.
inline constexpr std::size_t kMaxDataLength = 0x64;

// A data identifier DI1 DI0 written as one number; sent on the wire low byte (DI0) first.
using DataId = std::uint16_t;
inline constexpr DataId kDiReadData = 0x901F;     // current and settlement flow, time, status
inline constexpr DataId kDiValve = 0xA017;        // valve control
inline constexpr DataId kDiReadAddress = 0x810A;  // read address

// One frame. There is no scrambling in CJ/T 188: DATA is as on the wire.
struct Frame {
    std::uint8_t type = 0;  // T: a MeterType as on the wire (vendors use other codes too)
    Address address;
    std::uint8_t control = 0;
    Bytes data;

    std::uint8_t function() const { return control & kFunctionMask; }
    bool from_meter() const { return (control & kDirectionFromMeter) != 0; }
    bool abnormal() const { return (control & kAbnormal) != 0; }
    friend bool operator==(const Frame&, const Frame&) = default;
};

// --- encoding ----------------------------------------------------------------

// The whole frame: `wakeup` FE bytes, 68 T A0..A6 C L DATA CS 16.
Bytes encode_frame(const Frame& frame, std::size_t wakeup = 2);
// Read data (C=01): DATA = 1F 90 SER.
Bytes encode_read_data(MeterType type, const Address& meter, std::uint8_t ser,
                       std::size_t wakeup = 2);
// Read address (C=03) to the wildcard with T=AA: DATA = 0A 81 SER.
Bytes encode_read_address(std::uint8_t ser, std::size_t wakeup = 2);
// Valve control (C=04): DATA = 17 A0 SER 55 (open) or 99 (close).
Bytes encode_valve(MeterType type, const Address& meter, std::uint8_t ser, bool open,
                   std::size_t wakeup = 2);

// --- finding frames in a byte stream -----------------------------------------

using ScanStatus = dlt645::ScanStatus;  // Complete, Incomplete, NoFrame as in DL/T 645

struct ScanResult {
    ScanStatus status = ScanStatus::NoFrame;
    std::size_t skipped = 0;          // bytes before the frame: wake-up FE, noise
    std::size_t length = 0;           // the frame's length from 68 to 16, when Complete
    std::size_t checksum_errors = 0;  // candidates that had the structure but a bad CS or end byte
    Frame frame;
};

// Finds the first well-formed frame in `bytes` by structure (68, L ≤ kMaxDataLength) and
// checksum; a 68 or 16 inside DATA, or a CS equal to 16, never ends or starts a frame.
// Consume as for dlt645::scan: Complete drops skipped + length, the others drop skipped.
ScanResult scan(ByteView bytes);

// --- decoding answers ----------------------------------------------------------

enum class AnswerErrorKind {
    WrongAddress,    // answered by another meter than asked
    WrongMeterType,  // the meter's type has another layout for this answer (heat vs flow)
    WrongFunction,   // not an answer to the request's function
    WrongDataId,     // answer for another DI
    WrongSerial,     // SER is not the request's: a late answer to an earlier request
    Malformed,       // too short, or a field that does not decode
    Abnormal,        // the meter's abnormal answer (C1, C3, C4); see error_word
};

struct AnswerError {
    AnswerErrorKind kind = AnswerErrorKind::Malformed;
    std::uint8_t error_word = 0;  // for Abnormal: status byte ST0 (or the vendor's error byte)
    std::string message;
};

// "wrong serial", "abnormal answer", ...: the kind in words, for logs and events.
std::string_view describe_answer_error_kind(AnswerErrorKind kind);

// The status word ST (2 bytes, low first) of answers.
struct MeterStatus {
    enum class Valve { Open, Closed, Abnormal, Unknown };
    Valve valve = Valve::Unknown;  // ST0 bits 0-1: 00 open, 01 closed, 11 abnormal
    bool battery_low = false;      // ST0 bit 2
    std::uint16_t raw = 0;         // ST0 | ST1 << 8, for the vendor bits
    friend bool operator==(const MeterStatus&, const MeterStatus&) = default;
};
MeterStatus decode_status(std::uint16_t raw);
std::string_view valve_name(MeterStatus::Valve valve);  // "open", "closed", ...

// The answer to read data (901F) of a water or gas meter.
struct FlowReading {
    Decimal current;  // cumulative flow, XXXXXX.XX in `current_unit`
    std::uint8_t current_unit = 0;
    Decimal settlement;  // cumulative flow on the settlement day
    std::uint8_t settlement_unit = 0;
    // The meter's clock; empty when its time bytes are not a valid date and time (2000-2099),
    // which vendors fill in their own ways.
    std::optional<dlt645::DateTime> meter_time;
    MeterStatus status;
};

// Checks that `frame` answers read data (81, DI 901F, the request's SER) from `expected`
// (any meter when it is the wildcard) and decodes it. Heat meter types (20-29) answer 901F
// in another layout: WrongMeterType.
Expected<FlowReading, AnswerError> decode_read_data_answer(const Frame& frame,
                                                           const Address& expected,
                                                           std::uint8_t ser);
// Checks that `frame` answers a valve command (84, DI A017, SER) and returns the status.
Expected<MeterStatus, AnswerError> decode_valve_answer(const Frame& frame, const Address& meter,
                                                       std::uint8_t ser);
// Checks that `frame` answers read address (83, DI 810A) and returns the meter's address.
// Any T is accepted: vendors answer with their type (10) or AA.
Expected<Address, AnswerError> decode_read_address_answer(const Frame& frame);

// --- units -----------------------------------------------------------------------

inline constexpr std::uint8_t kUnitLitre = 0x29;
inline constexpr std::uint8_t kUnitCubicMetre = 0x2C;

// "m³", "L", "kWh", ...; "unknown" for a code that is not in the standard's table.
std::string_view unit_name(std::uint8_t unit);
// A volume in m³, exactly: m³ as is, litres with the point moved three places. Fails on
// any other unit, naming its code.
Expected<Decimal> to_cubic_metres(const Decimal& value, std::uint8_t unit);

}  // namespace ecmgw::cjt188
