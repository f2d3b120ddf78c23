// DL/T 645-1997 codec, for the older electricity meters. Its frame, address, +0x33,
// checksum and stream scan are DL/T 645-2007's, so those are reused from dlt645 (frames
// found by dlt645::scan decode here); what differs is the function codes, the 2-byte data
// identifiers, the data items and the meaning of the error byte. Pure: no I/O, no clocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/protocols/dlt645.hpp"

// Call these functions qualified (dlt645_1997::encode_read): their arguments are dlt645
// types, so an unqualified call also finds dlt645's functions of the same name.
namespace ecmgw::dlt645_1997 {

using Bytes = dlt645::Bytes;
using ByteView = dlt645::ByteView;

// Function codes (bits 4-0 of the control byte); direction, abnormal and follow-up bits
// are those of dlt645 (kDirectionFromMeter, kAbnormal, kFollowUp).
enum class Function : std::uint8_t {
    Read = 0x01,
    ReadFollowUp = 0x02,
    Write = 0x04,
    BroadcastTime = 0x08,
    WriteAddress = 0x0A,
    ChangeBaud = 0x0C,
    ChangePassword = 0x0F,
    ClearDemand = 0x10,
};

// A data identifier DI1 DI0 written as one number, e.g. 0x9010 for forward active energy
// total. Sent on the wire low byte (DI0) first. In the reused dlt645::DataItem and
// dlt645::ReadAnswer, the `di` field holds this value.
using DataId = std::uint16_t;

// --- encoding ----------------------------------------------------------------

// Read (0x01): DATA = DI0 DI1.
Bytes encode_read(const dlt645::Address& meter, DataId di, std::size_t wakeup = 4);
// Read follow-up (0x02): DATA = DI0 DI1 (DL/T 645-1997 has no SEQ byte).
Bytes encode_read_follow_up(const dlt645::Address& meter, DataId di, std::size_t wakeup = 4);
// Broadcast time (0x08 to 99…99, DATA ss mm hh DD MM YY): the same frame as DL/T 645-2007.
Bytes encode_broadcast_time(const dlt645::DateTime& t, std::size_t wakeup = 4);

// --- decoding answers ----------------------------------------------------------

// Bits of the error byte in an abnormal answer (C1, ...). They differ from DL/T 645-2007's
// in bits 0, 1 and 3.
enum ErrorBits : std::uint8_t {
    kErrIllegalData = 0x01,
    kErrDataId = 0x02,  // wrong or unsupported data identifier
    kErrPassword = 0x04,
    kErrYearZones = 0x10,
    kErrDayPeriods = 0x20,
    kErrTariffs = 0x40,
};

// Checks that `frame` answers a read (or read follow-up) of `di` from `meter` and returns
// the value bytes: 81, or A1 when more follows (more_follows set); 82/A2 for a follow-up.
// C1 gives an Abnormal error with the meter's error byte. `seq` is never set.
Expected<dlt645::ReadAnswer, dlt645::AnswerError> decode_read_answer(const dlt645::Frame& frame,
                                                                     const dlt645::Address& meter,
                                                                     DataId di);
// Words for an error byte: "wrong data identifier; password wrong".
std::string describe_error_word(std::uint8_t error_word);

// --- data items ------------------------------------------------------------------

// The data items this codec knows, with the quantity names DL/T 645-2007 uses for the same
// meaning; nullptr when unknown. Decode their values with dlt645::decode_value.
const dlt645::DataItem* find_data_item(DataId di);
const dlt645::DataItem* find_data_item(std::string_view quantity);
std::span<const dlt645::DataItem> known_data_items();

// A block identifier (DI0 low nibble F): the members' values back to back, in order.
struct DataBlock {
    DataId di;
    std::string_view name;  // "import_energy_block", ...
    std::span<const DataId> members;
};

const DataBlock* find_block(DataId di);
const DataBlock* find_block_containing(DataId member);
std::span<const DataBlock> known_blocks();

// Splits a block answer's value into its members. Also accepts one AA byte after the
// last member, which some meters append as a block end mark.
Expected<dlt645::BlockValues> decode_block(const DataBlock& block, ByteView value);

}  // namespace ecmgw::dlt645_1997
