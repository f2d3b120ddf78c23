// The simulated DL/T 645-1997 meter: two-byte DIs, function 01, the 901F block and its
// refusal, decoded by the gateway's own DL/T 645-1997 codec.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"
#include "sim/dlt645_1997_meter.hpp"

using namespace ecmgw;
using dlt645::Address;
using dlt645::Bytes;
using dlt645::Frame;
using sim::Dlt645_1997Meter;
using sim::Dlt645_1997Spec;

namespace {

const Address kMeter{{0x02, 0x00, 0x00, 0x00, 0x00, 0x00}};  // 000000000002
constexpr std::int64_t kT0 = 1795566896000;                  // 2026-11-25 00:34:56 UTC
constexpr std::int64_t kHour = 3'600'000;

Dlt645_1997Meter meter_at(std::int64_t centikwh, std::int64_t load_w, bool blocks = true) {
    Dlt645_1997Meter m(Dlt645_1997Spec{kMeter, centikwh, load_w, blocks});
    m.advance_to(kT0);
    return m;
}

// The request as dlt645_1997::encode_read puts it on the wire, answered, and the answer
// found again by the scanner the gateway uses.
Frame ask(Dlt645_1997Meter& meter, std::uint16_t di) {
    const auto request = dlt645::scan(dlt645_1997::encode_read(meter.address(), di));
    REQUIRE(request.status == dlt645::ScanStatus::Complete);
    const auto answer = meter.answer(request.frame);
    REQUIRE(answer.has_value());
    const auto back = dlt645::scan(dlt645::encode_frame(answer->frame));
    REQUIRE(back.status == dlt645::ScanStatus::Complete);
    return back.frame;
}

dlt645::Value read_value(Dlt645_1997Meter& meter, std::uint16_t di) {
    const auto frame = ask(meter, di);
    const auto answer = dlt645_1997::decode_read_answer(frame, meter.address(), di);
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string() : answer.error().message));
    const auto* item = dlt645_1997::find_data_item(di);
    REQUIRE(item != nullptr);
    const auto value = dlt645::decode_value(*item, answer->value);
    REQUIRE_MESSAGE(value.has_value(), (value ? std::string() : value.error().message));
    return *value;
}

}  // namespace

TEST_CASE("1997 meter answers 9010 with its energy, in function 81") {
    auto meter = meter_at(12345, 1000);
    const Frame frame = ask(meter, 0x9010);
    CHECK(frame.control == 0x81);
    CHECK(frame.address == kMeter);
    CHECK(frame.data.size() == 2 + 4);
    CHECK(read_value(meter, 0x9010).number == Decimal{12345, 2});

    meter.advance_to(kT0 + kHour);  // 1 kW for an hour
    CHECK(read_value(meter, 0x9010).number == Decimal{12445, 2});
    CHECK(meter.energy_centikwh() == 12445);
}

TEST_CASE("1997 meter instantaneous values in the 1997 formats") {
    auto meter = meter_at(0, 1000);
    CHECK(read_value(meter, 0xB611).number == Decimal{220, 0});    // XXX V
    CHECK(read_value(meter, 0xB621).number == Decimal{454, 2});    // XX.XX A: 1000 W / 220 V
    CHECK(read_value(meter, 0xB630).number == Decimal{10000, 4});  // XX.XXXX kW
    CHECK(read_value(meter, 0xB650).number == Decimal{980, 3});    // power factor
    CHECK(read_value(meter, 0xC032).address == kMeter);
    const auto date = read_value(meter, 0xC010);
    CHECK(date.when.year == 2026);
    CHECK(date.when.month == 11);
    CHECK(date.when.day == 25);
}

TEST_CASE("1997 meter answers block 901F with total and tariffs back to back") {
    auto meter = meter_at(12345, 1000);
    const Frame frame = ask(meter, 0x901F);
    const auto answer = dlt645_1997::decode_read_answer(frame, kMeter, 0x901F);
    REQUIRE(answer.has_value());
    const auto* block = dlt645_1997::find_block(0x901F);
    REQUIRE(block != nullptr);
    const auto values = dlt645_1997::decode_block(*block, answer->value);
    REQUIRE_MESSAGE(values.has_value(), (values ? std::string() : values.error().message));
    REQUIRE(values->size() == 5);
    CHECK((*values)[0].first->quantity == "import_energy_kwh");
    CHECK((*values)[0].second.number == Decimal{12345, 2});
    CHECK((*values)[3].second.number == Decimal{12345, 2});  // flat
    CHECK((*values)[1].second.number == Decimal{0, 2});

    const auto logged = meter.answer(dlt645::scan(dlt645_1997::encode_read(kMeter, 0x901F)).frame);
    REQUIRE(logged.has_value());
    REQUIRE(logged->values.size() == 5);
    CHECK(logged->values[0] == sim::AnsweredValue{"import_energy_kwh", "123.45"});
}

TEST_CASE("1997 meter without blocks refuses 901F but answers its members") {
    auto meter = meter_at(12345, 1000, /*blocks=*/false);
    const Frame frame = ask(meter, 0x901F);
    CHECK(frame.control == 0xC1);
    CHECK(frame.data == Bytes{dlt645_1997::kErrDataId});
    const auto answer = dlt645_1997::decode_read_answer(frame, kMeter, 0x901F);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == dlt645::AnswerErrorKind::Abnormal);
    CHECK(read_value(meter, 0x9010).number == Decimal{12345, 2});
}

TEST_CASE("1997 meter refuses an unknown DI and a write") {
    auto meter = meter_at(0, 1000);
    const Frame unknown = ask(meter, 0x1234);
    CHECK(unknown.control == 0xC1);
    CHECK(unknown.data == Bytes{dlt645_1997::kErrDataId});

    const auto write = meter.answer(Frame{kMeter, 0x04, {0x10, 0x90, 0x00}});
    REQUIRE(write.has_value());
    CHECK(write->frame.control == 0xC4);
}

TEST_CASE("1997 meter ignores 2007 frames' direction bit and obeys broadcast time silently") {
    auto meter = meter_at(0, 1000);
    CHECK_FALSE(meter.answer(Frame{kMeter, 0x81, {0x10, 0x90}}).has_value());
    const auto request =
        dlt645::scan(dlt645_1997::encode_broadcast_time({2026, 11, 24, 12, 34, 56, 2}));
    REQUIRE(request.status == dlt645::ScanStatus::Complete);
    CHECK_FALSE(meter.answer(request.frame).has_value());
    const auto time = read_value(meter, 0xC011);
    CHECK(time.when.hour == 12);
    CHECK(time.when.minute == 34);
}
