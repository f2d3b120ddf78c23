// DL/T 645-2007 codec: bytes to typed values and back. Pure: no file
// descriptors, no clocks. See shared/protocols.md for the facts it builds to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"

namespace ecmgw::dlt645 {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// A meter address as on the wire: six packed-BCD bytes, A0 (lowest two digits) first.
struct Address {
    std::array<std::uint8_t, 6> wire{};

    // "202012345678" (12 decimal digits, most significant first). Also accepts
    // "AAAAAAAAAAAA" (wildcard) and "999999999999" (broadcast).
    static Expected<Address> parse(std::string_view digits);
    static Address wildcard();      // AA AA AA AA AA AA
    static Address broadcast();     // 99 99 99 99 99 99
    std::string to_string() const;  // 12 digits, most significant first
    bool is_wildcard() const;
    bool is_broadcast() const;
    friend bool operator==(const Address&, const Address&) = default;
};

// Function codes (bits 4-0 of the control byte).
enum class Function : std::uint8_t {
    BroadcastTime = 0x08,
    Read = 0x11,
    ReadFollowUp = 0x12,
    ReadAddress = 0x13,
    Write = 0x14,
    WriteAddress = 0x15,
    Freeze = 0x16,
    ChangeBaud = 0x17,
    ChangePassword = 0x18,
    ClearMaxDemand = 0x19,
    ClearMeter = 0x1A,
    ClearEvents = 0x1B,
    Control = 0x1C,
};

inline constexpr std::uint8_t kDirectionFromMeter = 0x80;
inline constexpr std::uint8_t kAbnormal = 0x40;
inline constexpr std::uint8_t kFollowUp = 0x20;
inline constexpr std::size_t kMaxDataLength = 200;

// One frame with its DATA already unscrambled (the -0x33 undone).
struct Frame {
    Address address;
    std::uint8_t control = 0;
    Bytes data;

    std::uint8_t function() const { return control & 0x1F; }
    bool from_meter() const { return (control & kDirectionFromMeter) != 0; }
    bool abnormal() const { return (control & kAbnormal) != 0; }
    bool has_follow_up() const { return (control & kFollowUp) != 0; }
    friend bool operator==(const Frame&, const Frame&) = default;
};

// A data identifier DI3.DI2.DI1.DI0 written as one number, e.g. 0x00010000
// for forward active energy total. Sent on the wire low byte (DI0) first.
using DataId = std::uint32_t;

// --- encoding ----------------------------------------------------------------

// The whole frame: `wakeup` FE bytes, 68 A0..A5 68 C L DATA(+0x33) CS 16.
Bytes encode_frame(const Frame& frame, std::size_t wakeup = 4);
// Master requests (control 0x11, 0x12, 0x13, 0x08).
Bytes encode_read(const Address& meter, DataId di, std::size_t wakeup = 4);
Bytes encode_read_follow_up(const Address& meter, DataId di, std::uint8_t seq,
                            std::size_t wakeup = 4);
Bytes encode_read_address(std::size_t wakeup = 4);
struct DateTime {
    int year = 2000;  // 2000..2099
    int month = 1, day = 1, hour = 0, minute = 0, second = 0;
    int weekday = 0;  // 0 = Sunday, as the meter's WW field
    friend bool operator==(const DateTime&, const DateTime&) = default;
};
Bytes encode_broadcast_time(const DateTime& t, std::size_t wakeup = 4);

// --- finding frames in a byte stream -----------------------------------------

enum class ScanStatus {
    Complete,    // `frame` is valid; drop `skipped + length` bytes
    Incomplete,  // a frame may start at `skipped`; wait for more bytes
    NoFrame,     // nothing usable; drop `skipped` bytes (all of them)
};

struct ScanResult {
    ScanStatus status = ScanStatus::NoFrame;
    std::size_t skipped = 0;          // bytes before the frame: wake-up FE, noise
    std::size_t length = 0;           // the frame's length from 68 to 16, when Complete
    std::size_t checksum_errors = 0;  // candidates that had the structure but a bad CS or end byte
    Frame frame;
};

// Finds the first well-formed frame in `bytes` by structure and checksum; a 68
// or 16 inside DATA, or a CS equal to 16, never ends or starts a frame.
ScanResult scan(ByteView bytes);

// --- decoding answers ----------------------------------------------------------

// Bits of the error byte in an abnormal answer (D1, DC, ...).
enum ErrorBits : std::uint8_t {
    kErrOther = 0x01,
    kErrNoData = 0x02,
    kErrUnauthorised = 0x04,
    kErrBaudUnchangeable = 0x08,
    kErrYearZones = 0x10,
    kErrDayPeriods = 0x20,
    kErrTariffs = 0x40,
};

enum class AnswerErrorKind {
    WrongAddress,   // answered by another meter than asked
    WrongFunction,  // not an answer to the request's function
    WrongDataId,    // answer for another DI
    Malformed,      // too short or lengths not matching the DI's format
    Abnormal,       // the meter's abnormal answer; see error_word
};

struct AnswerError {
    AnswerErrorKind kind = AnswerErrorKind::Malformed;
    std::uint8_t error_word = 0;  // for Abnormal
    std::string message;          // "meter reports: no requested data", ...
};

// The value part of a normal read answer (the DI is checked and stripped).
struct ReadAnswer {
    DataId di = 0;
    Bytes value;                // unscrambled, low byte first as on the wire
    bool more_follows = false;  // control bit 5: send a follow-up read (0x12)
    // A follow-up answer (0x92, 0xB2) ends with the request's SEQ byte: it is taken off
    // `value` and kept here, so the poller can check the meter answered the right follow-up.
    std::optional<std::uint8_t> seq;
};

// Checks that `frame` answers a read of `di` from `meter` and returns the value bytes.
Expected<ReadAnswer, AnswerError> decode_read_answer(const Frame& frame, const Address& meter,
                                                     DataId di);
// Checks that `frame` answers read-address (0x93) and returns the address it carries.
Expected<Address, AnswerError> decode_read_address_answer(const Frame& frame);
// Words for an error byte: "no requested data; password wrong or unauthorised".
std::string describe_error_word(std::uint8_t error_word);

// "wrong address", "abnormal answer", ...: the kind in words, for logs and events.
std::string_view describe_answer_error_kind(AnswerErrorKind kind);

// --- relay and alarm control (0x1C) --------------------------------------------

// N1 of a control frame: what the meter is told to do.
enum class ControlCommand : std::uint8_t {
    Trip = 0x1A,              // open the relay: supply off
    CloseAllowed = 0x1B,      // the customer may close it (button on the meter)
    DirectClose = 0x1C,       // close the relay now
    Alarm = 0x2A,             // pre-trip alarm on
    AlarmRelease = 0x2B,      // pre-trip alarm off
    KeepPower = 0x3A,         // keep-power (保电): the meter ignores trips until released
    KeepPowerRelease = 0x3B,  // keep-power off
};

// "trip", "direct close", ...; "unknown" for a byte that is no command.
std::string_view control_command_name(ControlCommand command);

// Who gives a control command: the password (with its privilege level) and the operator code.
struct ControlAuth {
    std::uint8_t privilege = 0x02;                // PA
    std::array<std::uint8_t, 3> password{};       // P0 P1 P2 as on the wire (BCD, low first)
    std::array<std::uint8_t, 4> operator_code{};  // C0..C3 as on the wire

    // Digits most significant first, as people write them: "123456" gives P0 P1 P2 =
    // 56 34 12, operator "00000001" gives C0..C3 = 01 00 00 00. The privilege is taken
    // as given: which levels may switch the relay is the meter's (and vendor's) business.
    static Expected<ControlAuth> parse(std::uint8_t privilege, std::string_view password_6_digits,
                                       std::string_view operator_8_digits);
    friend bool operator==(const ControlAuth&, const ControlAuth&) = default;
};

// The control request: DATA = PA P0 P1 P2 C0 C1 C2 C3 N1 N2(00) N3..N8, where N3..N8 =
// ss mm hh DD MM YY (BCD) is the deadline after which the meter refuses the command. Like
// encode_broadcast_time, out-of-range fields wrap: callers validate the deadline.
Bytes encode_control(const Address& meter, const ControlAuth& auth, ControlCommand command,
                     const DateTime& valid_until, std::size_t wakeup = 4);
// Checks that `frame` is `meter`'s answer to a control request: 9C is success; DC gives an
// Abnormal error with the meter's error byte (kErrUnauthorised: wrong password).
Expected<void, AnswerError> decode_control_answer(const Frame& frame, const Address& meter);

// --- value formats -------------------------------------------------------------

// Packed BCD, low byte first, with `decimals` digits after the point. When
// `is_signed`, the top bit of the highest byte is the sign. Rejects nibbles > 9.
Expected<Decimal> decode_bcd_decimal(ByteView bytes, std::uint8_t decimals, bool is_signed);
// The inverse, for the simulator and for tests. Fails when the value does not fit.
Expected<Bytes> encode_bcd_decimal(const Decimal& value, std::size_t length, std::uint8_t decimals,
                                   bool is_signed);

enum class ValueFormat {
    Decimal,       // BCD decimal, see decimals/is_signed
    Date,          // YYMMDDWW (4 bytes)
    Time,          // hhmmss (3 bytes)
    StatusWord,    // bit field, low byte first: 2 bytes (1 byte in some DL/T 645-1997 items)
    AddressValue,  // 6-byte address
};

// What one data identifier means. `quantity` is the name used in the store and
// on MQTT (documented in docs/mqtt-readings.md), e.g. "energy_kwh".
struct DataItem {
    DataId di;
    std::string_view quantity;
    std::string_view unit;
    ValueFormat format;
    std::uint8_t length;    // bytes
    std::uint8_t decimals;  // for Decimal
    bool is_signed;         // for Decimal
};

// The data items this codec knows; nullptr when unknown.
const DataItem* find_data_item(DataId di);
const DataItem* find_data_item(std::string_view quantity);
std::span<const DataItem> known_data_items();

// A decoded value: a decimal, a date/time, a status word or an address.
struct Value {
    ValueFormat format = ValueFormat::Decimal;
    Decimal number;  // Decimal; StatusWord also sets it (mantissa = word)
    DateTime when;   // Date (y/m/d/weekday) and Time (h/m/s)
    std::uint16_t status = 0;
    Address address;
    // "000123.45" style text for people: numbers as decimals, dates as
    // 2026-11-24, times as 12:34:56, status words as 0x0010, addresses as digits.
    std::string to_string() const;
};

// Decodes `bytes` (the ReadAnswer value) as `item` says; fails with a message
// on a wrong length or on non-BCD digits.
Expected<Value> decode_value(const DataItem& item, ByteView bytes);
// The inverse (simulator, tests).
Expected<Bytes> encode_value(const DataItem& item, const Value& value);

// Relay bits of status word 3 (04000503).
struct RelayStatus {
    bool open = false;              // bit 4: relay open (supply off)
    bool open_commanded = false;    // bit 6
    bool pre_trip_alarm = false;    // bit 7
    std::uint8_t prepaid_type = 0;  // bits 8-9
};
RelayStatus decode_relay_status(std::uint16_t status_word_3);

// --- block reads ---------------------------------------------------------------

// A block identifier (DI1 = FF): one read answers the values of all `members`, back to
// back in this order, each in its own item's format.
struct DataBlock {
    DataId di;
    std::string_view name;  // "import_energy_block", ...
    std::span<const DataId> members;
};

// The blocks this codec knows; nullptr when unknown.
const DataBlock* find_block(DataId di);
// The first known block that has `member` among its members, so a poller can read one
// block instead of several items; nullptr when none has.
const DataBlock* find_block_containing(DataId member);
std::span<const DataBlock> known_blocks();

// The values of a block answer, member by member.
using BlockValues = std::vector<std::pair<const DataItem*, Value>>;

// Splits a block answer's value into its members by their lengths. Fails when the length is
// not the sum of the members' lengths, or when a member does not decode.
Expected<BlockValues> decode_block(const DataBlock& block, ByteView value);
// The same for any list of items whose values come back to back (decode_block resolves the
// members' DIs to items first; DL/T 645-1997 blocks use it with their own items).
Expected<BlockValues> decode_items(std::span<const DataItem* const> items, ByteView value);

// --- daily frozen data (日冻结, DI2.DI3 = 05 06) ---------------------------------

// At each daily freeze (local midnight unless the meter is set up otherwise) a meter copies
// its registers; it keeps the last 62. DI0 counts back: 01 the last freeze, 02 the one
// before, ... 3E the 62nd. DI1 says what: 00 the freeze time, 01 forward active energy,
// 02 reverse active energy, ...
inline constexpr DataId kDailyFreezeTime = 0x05060000;          // + n: time of the n-th last
inline constexpr DataId kDailyFrozenImportEnergy = 0x05060100;  // + n: its forward active block
inline constexpr std::uint8_t kDailyFreezesKept = 62;
inline constexpr std::size_t kFreezeTimeLength = 5;         // YYMMDDhhmm
inline constexpr std::size_t kFrozenEnergyValueLength = 4;  // XXXXXX.XX kWh
inline constexpr std::size_t kMaxFrozenTariffs = 4;

// `base` (kDailyFreezeTime, kDailyFrozenImportEnergy) for the `n`-th last freeze, 1..62.
Expected<DataId> daily_freeze_di(DataId base, int n);
// Whether `di` is daily frozen data of any kind (DI3 DI2 = 05 06).
bool is_daily_freeze_di(DataId di);

// The freeze time, YYMMDDhhmm, low byte first on the wire (mm hh DD MM YY). Seconds are 0
// and the weekday is not sent: `weekday` comes back 0. Rejects non-BCD bytes and
// impossible dates and times.
Expected<DateTime> decode_freeze_time(ByteView value);
// The inverse (simulator, tests); `t.second` and `t.weekday` are not sent.
Expected<Bytes> encode_freeze_time(const DateTime& t);

// A frozen forward active energy block: the total, then the tariffs in order (sharp, peak,
// flat, valley), 4 BCD bytes each. A meter with fewer tariffs sends fewer; one with more
// than kMaxFrozenTariffs sends a longer block, which is refused rather than cut.
struct FrozenEnergy {
    Decimal total;
    std::vector<Decimal> tariffs;
    friend bool operator==(const FrozenEnergy&, const FrozenEnergy&) = default;
};
Expected<FrozenEnergy> decode_frozen_energy(ByteView value);
Expected<Bytes> encode_frozen_energy(const FrozenEnergy& energy);

// The names the gateway stores the last freeze's forward active energy under: the total,
// then tariffs 1-4 (the billing register's names with "frozen_" in front). The readings
// carry the freeze time as their time.
inline constexpr std::array<std::string_view, 1 + kMaxFrozenTariffs> kFrozenImportQuantities{
    "frozen_import_energy_kwh", "frozen_import_energy_t1_kwh", "frozen_import_energy_t2_kwh",
    "frozen_import_energy_t3_kwh", "frozen_import_energy_t4_kwh"};
bool is_frozen_quantity(std::string_view quantity);

}  // namespace ecmgw::dlt645
