// DL/T 645-1997 codec. shared/protocols.md has no 1997 worked frames, so the golden frames
// here are built by hand from the frame rules (DL/T 645-2007's frame, 2-byte DI, +0x33) with
// the checksum arithmetic written out beside each one.
#include <doctest/doctest.h>

#include "hex_bytes.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/protocols/dlt645_1997.hpp"

using namespace ecmgw::dlt645_1997;
using ecmgw::Decimal;
namespace dlt = ecmgw::dlt645;
// Calls taking dlt645 types are qualified: unqualified, argument-dependent lookup would also
// find dlt645's functions of the same names.
namespace v97 = ecmgw::dlt645_1997;

using ecmgw::test::concat;
using ecmgw::test::hex;

namespace {

const dlt::Address kMeter1 = dlt::Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}};
const dlt::Address kMeter2 = dlt::Address{{0x78, 0x56, 0x34, 0x12, 0x20, 0x20}};

// Read 9010 from 000000000001: DATA 10 90 +33 = 43 C3.
// CS = 68+01+68+01+02+43+C3 = 0x1DA -> DA.
const Bytes kRead9010 = hex("68 01 00 00 00 00 00 68 01 02 43 C3 DA 16");
// Answer 000123.45 kWh: DATA 10 90 45 23 01 00 +33 = 43 C3 78 56 34 33.
// CS = 68+01+68+81+06+43+C3+78+56+34+33 = 0x393 -> 93.
const Bytes kAnswer9010 = hex("68 01 00 00 00 00 00 68 81 06 43 C3 78 56 34 33 93 16");
// Read B611 from 202012345678: DATA 11 B6 +33 = 44 E9.
// CS = 68+78+56+34+12+20+20+68+01+02+44+E9 = 0x354 -> 54.
const Bytes kReadB611 = hex("68 78 56 34 12 20 20 68 01 02 44 E9 54 16");
// Answer 220 V: DATA 11 B6 20 02 +33 = 44 E9 53 35.
// CS = 68+78+56+34+12+20+20+68+81+04+44+E9+53+35 = 0x45E -> 5E.
const Bytes kAnswerB611 = hex("68 78 56 34 12 20 20 68 81 04 44 E9 53 35 5E 16");
// Abnormal answer, error byte 02 (wrong DI): DATA 02 +33 = 35.
// CS = 68+01+68+C1+01+35 = 0x1C8 -> C8.
const Bytes kAbnormal = hex("68 01 00 00 00 00 00 68 C1 01 35 C8 16");
// Read follow-up of 901F: DATA 1F 90 +33 = 52 C3. CS = 68+01+68+02+02+52+C3 = 0x1EA -> EA.
const Bytes kFollowUp901F = hex("68 01 00 00 00 00 00 68 02 02 52 C3 EA 16");

dlt::Frame scan_one(const Bytes& bytes) {
    auto r = dlt::scan(bytes);
    REQUIRE(r.status == dlt::ScanStatus::Complete);
    return r.frame;
}

const dlt::DataItem& item(std::string_view quantity) {
    const dlt::DataItem* d = find_data_item(quantity);
    REQUIRE(d != nullptr);
    return *d;
}

Bytes di_bytes(DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8)};
}

// A 1997 answer frame (81) for `di` with `value`, as a meter sends it.
Bytes answer_frame(const dlt::Address& meter, DataId di, const Bytes& value,
                   std::uint8_t control = 0x81) {
    return dlt::encode_frame(dlt::Frame{meter, control, concat({di_bytes(di), value})}, 0);
}

// What a bus poller does: append what arrives, take out frames, drop what scan() says.
std::vector<dlt::Frame> feed_in_chunks(const Bytes& stream, std::size_t chunk) {
    std::vector<dlt::Frame> frames;
    Bytes buffer;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        const auto end =
            stream.begin() + static_cast<std::ptrdiff_t>(std::min(at + chunk, stream.size()));
        buffer.insert(buffer.end(), stream.begin() + static_cast<std::ptrdiff_t>(at), end);
        for (;;) {
            auto r = dlt::scan(buffer);
            const std::size_t drop =
                r.status == dlt::ScanStatus::Complete ? r.skipped + r.length : r.skipped;
            if (r.status == dlt::ScanStatus::Complete) frames.push_back(r.frame);
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(drop));
            if (r.status != dlt::ScanStatus::Complete) break;
        }
    }
    return frames;
}

}  // namespace

// --- requests --------------------------------------------------------------------

TEST_CASE("encode_read builds the hand-made read of 9010") {
    CHECK(v97::encode_read(kMeter1, 0x9010, 0) == kRead9010);
    CHECK(v97::encode_read(kMeter1, 0x9010) == concat({hex("FE FE FE FE"), kRead9010}));
}

TEST_CASE("encode_read builds the hand-made read of B611") {
    CHECK(v97::encode_read(kMeter2, 0xB611, 0) == kReadB611);
}

TEST_CASE("encode_read_follow_up uses function 02 and no SEQ byte") {
    CHECK(v97::encode_read_follow_up(kMeter1, 0x901F, 0) == kFollowUp901F);
}

TEST_CASE("encode_broadcast_time is the DL/T 645-2007 broadcast") {
    const dlt::DateTime t{2026, 11, 24, 12, 34, 56, 2};
    CHECK(v97::encode_broadcast_time(t, 0) ==
          hex("68 99 99 99 99 99 99 68 08 06 89 67 45 57 44 59 9D 16"));
    CHECK(v97::encode_broadcast_time(t) == dlt::encode_broadcast_time(t));
}

TEST_CASE("a read to the wildcard reads the address item C032") {
    const dlt::Frame f = scan_one(v97::encode_read(dlt::Address::wildcard(), 0xC032));
    CHECK(f.address.is_wildcard());
    CHECK(f.control == 0x01);
    CHECK(f.data == hex("32 C0"));
}

TEST_CASE("every hand-made frame scans and encodes back to the same bytes") {
    for (const Bytes* bytes :
         {&kRead9010, &kAnswer9010, &kReadB611, &kAnswerB611, &kAbnormal, &kFollowUp901F}) {
        auto r = dlt::scan(*bytes);
        REQUIRE(r.status == dlt::ScanStatus::Complete);
        CHECK(r.skipped == 0);
        CHECK(r.length == bytes->size());
        CHECK(r.checksum_errors == 0);
        CHECK(dlt::encode_frame(r.frame, 0) == *bytes);
    }
}

// --- answers ---------------------------------------------------------------------

TEST_CASE("hand-made 9010 answer decodes to 123.45 kWh") {
    auto answer = v97::decode_read_answer(scan_one(kAnswer9010), kMeter1, 0x9010);
    REQUIRE(answer.has_value());
    CHECK(answer->di == 0x9010);
    CHECK(answer->value == hex("45 23 01 00"));
    CHECK_FALSE(answer->more_follows);
    CHECK_FALSE(answer->seq.has_value());
    auto value = dlt::decode_value(item("import_energy_kwh"), answer->value);
    REQUIRE(value.has_value());
    CHECK(value->number == Decimal{12345, 2});
    CHECK(value->to_string() == "123.45");
}

TEST_CASE("hand-made B611 answer decodes to 220 V without decimals") {
    auto answer = v97::decode_read_answer(scan_one(kAnswerB611), kMeter2, 0xB611);
    REQUIRE(answer.has_value());
    auto value = dlt::decode_value(item("voltage_a_v"), answer->value);
    REQUIRE(value.has_value());
    CHECK(value->to_string() == "220");
    CHECK(value->number == Decimal{220, 0});
}

TEST_CASE("hand-made C1 answer is Abnormal with the 1997 meaning of its error byte") {
    auto answer = v97::decode_read_answer(scan_one(kAbnormal), kMeter1, 0x9010);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == dlt::AnswerErrorKind::Abnormal);
    CHECK(answer.error().error_word == kErrDataId);
    CHECK(answer.error().message == "meter reports: wrong data identifier");
}

TEST_CASE("an answer from another meter is WrongAddress unless read by wildcard") {
    auto other = v97::decode_read_answer(scan_one(kAnswerB611), kMeter1, 0xB611);
    REQUIRE_FALSE(other.has_value());
    CHECK(other.error().kind == dlt::AnswerErrorKind::WrongAddress);
    CHECK(other.error().message == "answer from meter 202012345678, asked meter 000000000001");
    CHECK(v97::decode_read_answer(scan_one(kAnswerB611), dlt::Address::wildcard(), 0xB611));
}

TEST_CASE("an answer for another DI is WrongDataId with four hex digits") {
    auto answer = v97::decode_read_answer(scan_one(kAnswer9010), kMeter1, 0x9020);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == dlt::AnswerErrorKind::WrongDataId);
    CHECK(answer.error().message == "answer for DI 9010, asked DI 9020");
}

TEST_CASE("a DL/T 645-2007 answer or our own request is WrongFunction") {
    // The 2007 worked energy answer (91): the meter speaks the other protocol.
    const Bytes answer_2007 = hex("68 01 00 00 00 00 00 68 91 08 33 33 33 33 78 56 34 33 6B 16");
    auto a = v97::decode_read_answer(scan_one(answer_2007), kMeter1, 0x9010);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().kind == dlt::AnswerErrorKind::WrongFunction);
    CHECK(a.error().message.find("0x91") != std::string::npos);

    auto echo = v97::decode_read_answer(scan_one(kRead9010), kMeter1, 0x9010);
    REQUIRE_FALSE(echo.has_value());
    CHECK(echo.error().kind == dlt::AnswerErrorKind::WrongFunction);
    CHECK(echo.error().message.find("request") != std::string::npos);
}

TEST_CASE("short or wrong-length answers are Malformed") {
    auto no_di = v97::decode_read_answer(dlt::Frame{kMeter1, 0x81, hex("10")}, kMeter1, 0x9010);
    REQUIRE_FALSE(no_di.has_value());
    CHECK(no_di.error().kind == dlt::AnswerErrorKind::Malformed);

    auto short_value =
        v97::decode_read_answer(dlt::Frame{kMeter1, 0x81, hex("10 90 45 23 01")}, kMeter1, 0x9010);
    REQUIRE_FALSE(short_value.has_value());
    CHECK(short_value.error().kind == dlt::AnswerErrorKind::Malformed);
    CHECK(short_value.error().message ==
          "answer for DI 9010 (import_energy_kwh) has 3 value bytes, expected 4");

    auto bare = v97::decode_read_answer(dlt::Frame{kMeter1, 0xC1, {}}, kMeter1, 0x9010);
    REQUIRE_FALSE(bare.has_value());
    CHECK(bare.error().kind == dlt::AnswerErrorKind::Malformed);
}

TEST_CASE("an unknown DI's value is returned whatever its length") {
    auto answer =
        v97::decode_read_answer(dlt::Frame{kMeter1, 0x81, hex("34 12 01 02 03")}, kMeter1, 0x1234);
    REQUIRE(answer.has_value());
    CHECK(answer->value == hex("01 02 03"));
}

TEST_CASE("A1 says more follows and 82 answers a follow-up") {
    auto first = v97::decode_read_answer(
        scan_one(answer_frame(kMeter1, 0x901F, hex("45 23"), 0xA1)), kMeter1, 0x901F);
    REQUIRE(first.has_value());
    CHECK(first->more_follows);
    CHECK(first->value == hex("45 23"));

    auto partial_known =
        v97::decode_read_answer(dlt::Frame{kMeter1, 0xA1, hex("10 90 45")}, kMeter1, 0x9010);
    CHECK(partial_known.has_value());

    auto last = v97::decode_read_answer(scan_one(answer_frame(kMeter1, 0x901F, hex("01 00"), 0x82)),
                                        kMeter1, 0x901F);
    REQUIRE(last.has_value());
    CHECK_FALSE(last->more_follows);
    CHECK_FALSE(last->seq.has_value());
    CHECK(last->value == hex("01 00"));
}

TEST_CASE("describe_error_word uses the 1997 meanings") {
    CHECK(describe_error_word(kErrIllegalData) == "illegal data");
    CHECK(describe_error_word(kErrDataId | kErrPassword) ==
          "wrong data identifier; password wrong");
    CHECK(describe_error_word(0) == "no error bits set");
    CHECK(describe_error_word(0x88) == "reserved bit 3; reserved bit 7");
    CHECK(describe_error_word(0xFF).find("too many tariffs; reserved bit 3") != std::string::npos);
}

// --- data items ------------------------------------------------------------------

TEST_CASE("the 1997 items carry the 2007 quantity names with 1997 formats") {
    CHECK(find_data_item(0x9010) == &item("import_energy_kwh"));
    CHECK(find_data_item(0x9014) == &item("import_energy_t4_kwh"));
    CHECK(find_data_item(0x9020) == &item("export_energy_kwh"));
    CHECK(find_data_item(0xB613) == &item("voltage_c_v"));
    CHECK(find_data_item(0xB623) == &item("current_c_a"));
    CHECK(find_data_item(0xC032) == &item("meter_address"));
    CHECK(find_data_item(0x901F) == nullptr);
    CHECK(find_data_item("energy_kwh") == nullptr);  // 1997 has no combined energy
    CHECK(item("voltage_a_v").decimals == 0);
    CHECK(item("current_a_a").length == 2);
    CHECK(item("current_a_a").decimals == 2);
    CHECK(item("active_power_kw").length == 3);
    CHECK(item("active_power_kw").decimals == 4);
    CHECK(item("power_factor").decimals == 3);
    CHECK(item("status_word_1").length == 1);

    for (const dlt::DataItem& d : known_data_items()) {
        CAPTURE(d.quantity);
        CHECK(d.di <= 0xFFFF);
        const dlt::DataItem* same = dlt::find_data_item(d.quantity);
        REQUIRE(same != nullptr);
        CHECK(same->unit == d.unit);
        CHECK(same->format == d.format);
    }
}

TEST_CASE("current power and power factor decode with their 1997 decimals") {
    auto current = dlt::decode_value(item("current_b_a"), hex("34 12"));
    REQUIRE(current.has_value());
    CHECK(current->to_string() == "12.34");
    // Unsigned: the top digit 8 is a digit, not a sign.
    auto power = dlt::decode_value(item("active_power_kw"), hex("45 23 81"));
    REQUIRE(power.has_value());
    CHECK(power->to_string() == "81.2345");
    auto pf = dlt::decode_value(item("power_factor"), hex("90 09"));
    REQUIRE(pf.has_value());
    CHECK(pf->to_string() == "0.990");
    CHECK_FALSE(dlt::decode_value(item("current_a_a"), hex("3A 12")).has_value());
}

TEST_CASE("C010 date and C011 time are WW DD MM YY and ss mm hh") {
    auto date = dlt::decode_value(item("meter_date"), hex("02 24 11 26"));
    REQUIRE(date.has_value());
    CHECK(date->to_string() == "2026-11-24");
    auto time = dlt::decode_value(item("meter_time"), hex("56 34 12"));
    REQUIRE(time.has_value());
    CHECK(time->to_string() == "12:34:56");
}

TEST_CASE("C020 is a one-byte status word") {
    // Answer DATA 20 C0 05 +33 = 53 F3 38.
    // CS = 68+78+56+34+12+20+20+68+81+03+53+F3+38 = 0x426 -> 26.
    const Bytes wire = answer_frame(kMeter2, 0xC020, hex("05"));
    CHECK(wire == hex("68 78 56 34 12 20 20 68 81 03 53 F3 38 26 16"));
    auto answer = v97::decode_read_answer(scan_one(wire), kMeter2, 0xC020);
    REQUIRE(answer.has_value());
    auto value = dlt::decode_value(item("status_word_1"), answer->value);
    REQUIRE(value.has_value());
    CHECK(value->format == dlt::ValueFormat::StatusWord);
    CHECK(value->status == 0x05);
    auto back = dlt::encode_value(item("status_word_1"), *value);
    REQUIRE(back.has_value());
    CHECK(*back == hex("05"));
    auto two =
        v97::decode_read_answer(dlt::Frame{kMeter2, 0x81, hex("20 C0 05 00")}, kMeter2, 0xC020);
    REQUIRE_FALSE(two.has_value());
    CHECK(two.error().kind == dlt::AnswerErrorKind::Malformed);
}

namespace {

// A value for `d` that uses every digit its field has.
dlt::Value sample_value(const dlt::DataItem& d) {
    dlt::Value v;
    v.format = d.format;
    switch (d.format) {
        case dlt::ValueFormat::Decimal: {
            std::int64_t m = 0;
            for (std::size_t i = 0; i < 2U * d.length; ++i) {
                m = m * 10 + static_cast<std::int64_t>(i % 9 + 1);
            }
            v.number = Decimal{m, d.decimals};
            break;
        }
        case dlt::ValueFormat::Date:
            v.when = dlt::DateTime{2026, 11, 24, 0, 0, 0, 2};
            break;
        case dlt::ValueFormat::Time:
            v.when = dlt::DateTime{2000, 1, 1, 23, 59, 58, 0};
            break;
        case dlt::ValueFormat::StatusWord:
            v.status = d.length == 1 ? 0x00A5 : 0x02D0;
            v.number = Decimal{v.status, 0};
            break;
        case dlt::ValueFormat::AddressValue:
            v.address = kMeter2;
            break;
    }
    return v;
}

}  // namespace

TEST_CASE("every 1997 item round-trips through a whole read answer") {
    REQUIRE(known_data_items().size() >= 20);
    for (const dlt::DataItem& d : known_data_items()) {
        CAPTURE(d.quantity);
        CHECK(find_data_item(static_cast<DataId>(d.di)) == &d);
        CHECK(find_data_item(d.quantity) == &d);
        const dlt::Value sent = sample_value(d);
        auto value = dlt::encode_value(d, sent);
        REQUIRE(value.has_value());
        CHECK(value->size() == d.length);
        const Bytes wire = answer_frame(kMeter1, static_cast<DataId>(d.di), *value);
        auto answer = v97::decode_read_answer(scan_one(wire), kMeter1, static_cast<DataId>(d.di));
        REQUIRE(answer.has_value());
        auto decoded = dlt::decode_value(d, answer->value);
        REQUIRE(decoded.has_value());
        CHECK(decoded->to_string() == sent.to_string());
    }
}

// --- blocks ----------------------------------------------------------------------

TEST_CASE("block 901F holds 9010 and the four tariffs") {
    const DataBlock* block = find_block(0x901F);
    REQUIRE(block != nullptr);
    REQUIRE(block->members.size() == 5);
    CHECK(block->members[0] == 0x9010);
    CHECK(block->members[4] == 0x9014);
    CHECK(find_block_containing(0x9012) == block);
    CHECK(find_block_containing(0x9022) == find_block(0x902F));
    CHECK(find_block_containing(0xB611) == nullptr);
    CHECK(find_block(0x9010) == nullptr);
    for (const DataBlock& b : known_blocks()) {
        for (DataId member : b.members) CHECK(find_data_item(member) != nullptr);
    }
}

TEST_CASE("a 901F answer splits into total and four tariffs") {
    const Bytes value = hex("45 23 01 00 00 10 00 00 00 20 00 00 45 93 00 00 00 00 00 00");
    auto answer =
        v97::decode_read_answer(scan_one(answer_frame(kMeter1, 0x901F, value)), kMeter1, 0x901F);
    REQUIRE(answer.has_value());
    auto values = decode_block(*find_block(0x901F), answer->value);
    REQUIRE(values.has_value());
    REQUIRE(values->size() == 5);
    CHECK((*values)[0].first->quantity == "import_energy_kwh");
    CHECK((*values)[0].second.to_string() == "123.45");
    CHECK((*values)[3].first->quantity == "import_energy_t3_kwh");
    CHECK((*values)[3].second.to_string() == "93.45");
}

TEST_CASE("a 901F answer may end with an AA block mark") {
    const Bytes value = hex("45 23 01 00 00 10 00 00 00 20 00 00 45 93 00 00 00 00 00 00 AA");
    auto values = decode_block(*find_block(0x901F), value);
    REQUIRE(values.has_value());
    CHECK(values->size() == 5);
    CHECK((*values)[4].second.to_string() == "0.00");
}

TEST_CASE("a 901F answer of another length is refused") {
    const DataBlock& block = *find_block(0x901F);
    auto r = decode_block(block, Bytes(16, 0x00));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message ==
          "block 901F (import_energy_block): 16 value bytes, expected 20 for 5 items");
    Bytes not_mark(21, 0x00);
    not_mark.back() = 0x55;
    CHECK_FALSE(decode_block(block, not_mark).has_value());
    Bytes two_marks(22, 0x00);
    two_marks[20] = two_marks[21] = 0xAA;
    CHECK_FALSE(decode_block(block, two_marks).has_value());
}

// --- the reused scanner over 1997 traffic ----------------------------------------

TEST_CASE("1997 frames in a noisy stream are found however the bytes arrive") {
    Bytes bad = kAnswerB611;
    bad[12] ^= 0x01;  // a data byte flipped on the line
    const Bytes stream = concat(
        {hex("FE FE FE"), kAnswer9010, hex("00 68 FF"), bad, hex("FE FE"), kAnswerB611, kAbnormal});
    for (std::size_t chunk : {1U, 2U, 5U, 13U, 100U}) {
        CAPTURE(chunk);
        const auto frames = feed_in_chunks(stream, chunk);
        REQUIRE(frames.size() == 3);
        CHECK(v97::decode_read_answer(frames[0], kMeter1, 0x9010).has_value());
        CHECK(v97::decode_read_answer(frames[1], kMeter2, 0xB611).has_value());
        CHECK(v97::decode_read_answer(frames[2], kMeter1, 0x9010).error().kind ==
              dlt::AnswerErrorKind::Abnormal);
    }
}

TEST_CASE("a truncated 1997 answer is Incomplete") {
    for (std::size_t n = 1; n < kAnswer9010.size(); ++n) {
        CAPTURE(n);
        auto r = dlt::scan(ByteView(kAnswer9010).first(n));
        CHECK(r.status == dlt::ScanStatus::Incomplete);
        CHECK(r.skipped == 0);
    }
}
