// The simulated DL/T 645 meter: energy that follows load × time while the relay
// is closed, relay control, and answers that the gateway's codec decodes. Frames
// go through encode_frame and scan both ways, as they do on a bus.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ecmgw/protocols/dlt645.hpp"
#include "sim/simulated_meter.hpp"

using namespace ecmgw;
using namespace ecmgw::dlt645;
using sim::MeterSpec;
using sim::SimulatedMeter;

namespace {

const Address kMeter = Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}};  // 000000000001

// 2026-11-25 00:34:56 UTC: any time after 1970 will do.
constexpr std::int64_t kT0 = 1795566896000;
constexpr std::int64_t kHour = 3'600'000;

// Encodes, puts on the "wire" and finds again: what the other side receives.
Frame over_the_wire(const Frame& frame) {
    const Bytes bytes = encode_frame(frame);
    const auto result = scan(bytes);
    REQUIRE(result.status == ScanStatus::Complete);
    return result.frame;
}

Bytes di_bytes(DataId di) {
    return {static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8),
            static_cast<std::uint8_t>(di >> 16), static_cast<std::uint8_t>(di >> 24)};
}

const DataItem& item(std::string_view quantity) {
    const DataItem* d = find_data_item(quantity);
    REQUIRE(d != nullptr);
    return *d;
}

// Control (1C): password PA=02 000000, operator 00000001, N1, N2=00, valid to 2026-12-31 12:00:00.
Frame control(const Address& to, std::uint8_t n1) {
    Bytes data{0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
               n1,   0x00, 0x00, 0x00, 0x12, 0x31, 0x12, 0x26};
    REQUIRE(data.size() == 16);
    return Frame{to, static_cast<std::uint8_t>(Function::Control), std::move(data)};
}

constexpr std::uint8_t kTrip = 0x1A;
constexpr std::uint8_t kCloseAllowed = 0x1B;
constexpr std::uint8_t kClose = 0x1C;
constexpr std::uint8_t kAlarm = 0x2A;
constexpr std::uint8_t kAlarmRelease = 0x2B;

// Sends `request` to the meter and returns its answer as received on the bus.
std::optional<Frame> ask(SimulatedMeter& meter, const Frame& request) {
    const auto answer = meter.answer(over_the_wire(request));
    if (!answer) return std::nullopt;
    return over_the_wire(answer->frame);
}

void switch_relay(SimulatedMeter& meter, std::uint8_t n1) {
    const auto answer = ask(meter, control(meter.address(), n1));
    REQUIRE(answer.has_value());
    CHECK(answer->control == 0x9C);
    CHECK(answer->data.empty());
}

// What the gateway gets from reading `quantity`: decoded the way Dlt645Client does.
Value read_value(SimulatedMeter& meter, std::string_view quantity) {
    const DataItem& d = item(quantity);
    const auto frame = ask(meter, Frame{meter.address(), 0x11, di_bytes(d.di)});
    REQUIRE(frame.has_value());
    const auto answer = decode_read_answer(*frame, meter.address(), d.di);
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string() : answer.error().message));
    const auto value = decode_value(d, answer->value);
    REQUIRE_MESSAGE(value.has_value(), (value ? std::string() : value.error().message));
    return *value;
}

SimulatedMeter meter_at(std::int64_t initial_centikwh, std::int64_t load_w, std::int64_t t0 = kT0) {
    SimulatedMeter meter(MeterSpec{kMeter, initial_centikwh, load_w});
    meter.advance_to(t0);
    return meter;
}

}  // namespace

// --- energy -------------------------------------------------------------------------

TEST_CASE("simulated meter starts at its initial energy") {
    auto meter = meter_at(12345, 1000);
    CHECK(meter.energy_centikwh() == 12345);
    CHECK_FALSE(meter.relay_open());
    CHECK(meter.address() == kMeter);
}

TEST_CASE("simulated meter accrues load times time while the relay is closed") {
    auto meter = meter_at(12345, 1000);
    meter.advance_to(kT0 + kHour);  // 1 kW for 1 h = 1.00 kWh
    CHECK(meter.energy_centikwh() == 12445);
    meter.advance_to(kT0 + kHour + 36'000);  // 1 kW for 36 s = 0.01 kWh
    CHECK(meter.energy_centikwh() == 12446);

    auto heavy = meter_at(0, 2500);
    heavy.advance_to(kT0 + 2 * kHour);  // 2.5 kW for 2 h
    CHECK(heavy.energy_centikwh() == 500);
}

TEST_CASE("simulated meter energy does not depend on how time is sliced") {
    // 1234 W for one hour is 1.234 kWh, whether the clock moves once or in 7 ms steps.
    auto once = meter_at(0, 1234);
    once.advance_to(kT0 + kHour);
    CHECK(once.energy_centikwh() == 123);

    auto sliced = meter_at(0, 1234);
    std::int64_t t = kT0;
    while (t + 7 <= kT0 + kHour) {
        t += 7;
        sliced.advance_to(t);
    }
    sliced.advance_to(kT0 + kHour);
    CHECK(sliced.energy_centikwh() == once.energy_centikwh());
}

TEST_CASE("simulated meter clock never runs backwards into energy") {
    auto meter = meter_at(100, 1000);
    meter.advance_to(kT0 - kHour);
    CHECK(meter.energy_centikwh() == 100);
}

TEST_CASE("simulated meter does not accrue while the relay is open") {
    auto meter = meter_at(12345, 1000);
    switch_relay(meter, kTrip);
    CHECK(meter.relay_open());
    meter.advance_to(kT0 + kHour);
    CHECK(meter.energy_centikwh() == 12345);

    switch_relay(meter, kClose);
    CHECK_FALSE(meter.relay_open());
    meter.advance_to(kT0 + 2 * kHour);
    CHECK(meter.energy_centikwh() == 12445);
}

TEST_CASE("simulated meter closes on close-allowed too") {
    auto meter = meter_at(0, 1000);
    switch_relay(meter, kTrip);
    CHECK(meter.relay_open());
    switch_relay(meter, kCloseAllowed);
    CHECK_FALSE(meter.relay_open());
}

TEST_CASE("simulated meter accepts the worked trip frame of protocols.md") {
    // 68 01 00 00 00 00 00 68 1C 10 35 33 33 33 34 33 33 33 4D 33 33 33 45 64 45 59 C5 16
    const Bytes trip{0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x1C, 0x10,
                     0x35, 0x33, 0x33, 0x33, 0x34, 0x33, 0x33, 0x33, 0x4D, 0x33,
                     0x33, 0x33, 0x45, 0x64, 0x45, 0x59, 0xC5, 0x16};
    const auto request = scan(trip);
    REQUIRE(request.status == ScanStatus::Complete);
    CHECK(request.frame == control(kMeter, kTrip));

    auto meter = meter_at(0, 1000);
    const auto answer = meter.answer(request.frame);
    REQUIRE(answer.has_value());
    // Control ok: 68 01 00 00 00 00 00 68 9C 00 6D 16
    CHECK(encode_frame(answer->frame, 0) ==
          Bytes{0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0x9C, 0x00, 0x6D, 0x16});
    CHECK(meter.relay_open());
}

TEST_CASE("simulated meter refuses an unknown control command") {
    auto meter = meter_at(0, 1000);
    const auto answer = ask(meter, control(kMeter, 0x77));
    REQUIRE(answer.has_value());
    CHECK(answer->control == 0xDC);
    CHECK(answer->data == Bytes{kErrOther});
    CHECK_FALSE(meter.relay_open());

    Frame short_control = control(kMeter, kTrip);
    short_control.data.resize(8);
    const auto short_answer = ask(meter, short_control);
    REQUIRE(short_answer.has_value());
    CHECK(short_answer->control == 0xDC);
    CHECK_FALSE(meter.relay_open());
}

// --- reads --------------------------------------------------------------------------

TEST_CASE("simulated meter read answer decodes to its energy") {
    auto meter = meter_at(12345, 1000);
    meter.advance_to(kT0 + kHour);

    const Value energy = read_value(meter, "energy_kwh");
    CHECK(energy.format == ValueFormat::Decimal);
    CHECK(energy.number == Decimal{12445, 2});
    CHECK(energy.number.to_string() == "124.45");
    CHECK(read_value(meter, "import_energy_kwh").number == Decimal{12445, 2});
}

TEST_CASE("simulated meter answer carries the item and value it reported") {
    auto meter = meter_at(12345, 1000);
    const auto answer = meter.answer(Frame{kMeter, 0x11, di_bytes(0x00000000)});
    REQUIRE(answer.has_value());
    REQUIRE(answer->values.size() == 1);
    CHECK(answer->values[0] == sim::AnsweredValue{"energy_kwh", "123.45"});
    CHECK(answer->frame.control == 0x91);
    CHECK(answer->frame.address == kMeter);
    // The worked answer of protocols.md: 000123.45 kWh.
    CHECK(encode_frame(answer->frame, 0) == Bytes{0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                  0x68, 0x91, 0x08, 0x33, 0x33, 0x33, 0x33,
                                                  0x78, 0x56, 0x34, 0x33, 0x6B, 0x16});
}

TEST_CASE("simulated meter instantaneous values follow the relay") {
    auto meter = meter_at(0, 1000);
    CHECK(read_value(meter, "voltage_a_v").number == Decimal{2200, 1});
    CHECK(read_value(meter, "current_a_a").number == Decimal{4545, 3});  // 1000 W / 220 V
    CHECK(read_value(meter, "active_power_kw").number == Decimal{10000, 4});
    CHECK(read_value(meter, "frequency_hz").number == Decimal{5000, 2});

    switch_relay(meter, kTrip);
    CHECK(read_value(meter, "voltage_a_v").number == Decimal{2200, 1});
    CHECK(read_value(meter, "current_a_a").number == Decimal{0, 3});
    CHECK(read_value(meter, "active_power_kw").number == Decimal{0, 4});
}

TEST_CASE("simulated meter answers an unknown DI with no requested data") {
    auto meter = meter_at(0, 1000);
    constexpr DataId kUnknown = 0x04000999;
    REQUIRE(find_data_item(kUnknown) == nullptr);

    const auto frame = ask(meter, Frame{kMeter, 0x11, di_bytes(kUnknown)});
    REQUIRE(frame.has_value());
    CHECK(frame->control == 0xD1);
    CHECK(frame->data == Bytes{kErrNoData});

    const auto answer = decode_read_answer(*frame, kMeter, kUnknown);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::Abnormal);
    CHECK(answer.error().error_word == kErrNoData);
    // The worked frame of protocols.md: 68 01 00 00 00 00 00 68 D1 01 35 D8 16
    CHECK(encode_frame(*frame, 0) ==
          Bytes{0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68, 0xD1, 0x01, 0x35, 0xD8, 0x16});
}

TEST_CASE("simulated meter answers a read without a DI with an error") {
    auto meter = meter_at(0, 1000);
    const auto frame = ask(meter, Frame{kMeter, 0x11, {0x00, 0x00}});
    REQUIRE(frame.has_value());
    CHECK(frame->control == 0xD1);
    CHECK(frame->data == Bytes{kErrOther});
}

TEST_CASE("simulated meter status_word_3 bit 4 reflects the relay") {
    auto meter = meter_at(0, 1000);
    const Value closed = read_value(meter, "status_word_3");
    CHECK(closed.format == ValueFormat::StatusWord);
    CHECK((closed.status & 0x0010) == 0);
    CHECK_FALSE(decode_relay_status(closed.status).open);
    CHECK_FALSE(decode_relay_status(closed.status).open_commanded);
    CHECK(decode_relay_status(closed.status).prepaid_type == 1);

    switch_relay(meter, kTrip);
    const Value open = read_value(meter, "status_word_3");
    CHECK((open.status & 0x0010) != 0);
    CHECK(decode_relay_status(open.status).open);
    CHECK(decode_relay_status(open.status).open_commanded);
    CHECK(open.number == Decimal{open.status, 0});

    switch_relay(meter, kClose);
    CHECK((read_value(meter, "status_word_3").status & 0x0010) == 0);
}

TEST_CASE("simulated meter status_word_3 bit 7 reflects the alarm") {
    auto meter = meter_at(0, 1000);
    switch_relay(meter, kAlarm);
    CHECK(decode_relay_status(read_value(meter, "status_word_3").status).pre_trip_alarm);
    CHECK_FALSE(meter.relay_open());
    switch_relay(meter, kAlarmRelease);
    CHECK_FALSE(decode_relay_status(read_value(meter, "status_word_3").status).pre_trip_alarm);
}

TEST_CASE("simulated meter answers read address") {
    const Address address{{0x78, 0x56, 0x34, 0x12, 0x20, 0x20}};  // 202012345678
    SimulatedMeter meter(MeterSpec{address, 0, 1000});
    meter.advance_to(kT0);

    const auto frame = ask(meter, Frame{Address::wildcard(), 0x13, {}});
    REQUIRE(frame.has_value());
    CHECK(frame->control == 0x93);
    const auto decoded = decode_read_address_answer(*frame);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == address);
    CHECK(decoded->to_string() == "202012345678");
    // The worked answer of protocols.md.
    CHECK(encode_frame(*frame, 0) == Bytes{0x68, 0x78, 0x56, 0x34, 0x12, 0x20, 0x20, 0x68, 0x93,
                                           0x06, 0xAB, 0x89, 0x67, 0x45, 0x53, 0x53, 0x43, 0x16});
    CHECK(read_value(meter, "meter_address").address == address);
}

TEST_CASE("simulated meter ignores frames from meters") {
    auto meter = meter_at(0, 1000);
    CHECK_FALSE(meter.answer(Frame{kMeter, 0x91, di_bytes(0x00000000)}).has_value());
}

TEST_CASE("simulated meter refuses an unsupported function") {
    auto meter = meter_at(0, 1000);
    const auto frame = ask(meter, Frame{kMeter, 0x14, di_bytes(0x04000401)});  // write data
    REQUIRE(frame.has_value());
    CHECK(frame->control == 0xD4);
    CHECK(frame->data == Bytes{kErrOther});
}

// --- clock ------------------------------------------------------------------------------

TEST_CASE("simulated meter reports its clock as date and time") {
    auto meter = meter_at(0, 1000);  // 2026-11-25 00:34:56 UTC, a Wednesday
    const Value date = read_value(meter, "meter_date");
    CHECK(date.when.year == 2026);
    CHECK(date.when.month == 11);
    CHECK(date.when.day == 25);
    CHECK(date.when.weekday == 3);
    const Value time = read_value(meter, "meter_time");
    CHECK(time.when.hour == 0);
    CHECK(time.when.minute == 34);
    CHECK(time.when.second == 56);
}

TEST_CASE("simulated meter broadcast time gives no answer and sets its clock") {
    auto meter = meter_at(12345, 1000);
    const DateTime set{2026, 11, 24, 12, 34, 56, 2};
    const auto request = scan(encode_broadcast_time(set));
    REQUIRE(request.status == ScanStatus::Complete);
    CHECK_FALSE(meter.answer(request.frame).has_value());

    const Value date = read_value(meter, "meter_date");
    CHECK(date.when.year == 2026);
    CHECK(date.when.month == 11);
    CHECK(date.when.day == 24);
    CHECK(date.when.weekday == 2);  // Tuesday
    const Value time = read_value(meter, "meter_time");
    CHECK(time.when.hour == 12);
    CHECK(time.when.minute == 34);
    CHECK(time.when.second == 56);
    CHECK(time.to_string() == "12:34:56");

    // The set clock runs on with the simulated time; energy is not touched.
    CHECK(meter.energy_centikwh() == 12345);
    meter.advance_to(kT0 + 61'000);
    const Value later = read_value(meter, "meter_time");
    CHECK(later.when.hour == 12);
    CHECK(later.when.minute == 35);
    CHECK(later.when.second == 57);
    CHECK(read_value(meter, "meter_date").when.day == 24);
}

// --- block reads ----------------------------------------------------------------------

namespace {

// Reads block `di` and splits it as the gateway does.
BlockValues read_block(SimulatedMeter& meter, DataId di) {
    const auto frame = ask(meter, Frame{meter.address(), 0x11, di_bytes(di)});
    REQUIRE(frame.has_value());
    const auto answer = decode_read_answer(*frame, meter.address(), di);
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string() : answer.error().message));
    const DataBlock* block = find_block(di);
    REQUIRE(block != nullptr);
    auto values = decode_block(*block, answer->value);
    REQUIRE_MESSAGE(values.has_value(), (values ? std::string() : values.error().message));
    return *values;
}

}  // namespace

TEST_CASE("simulated meter answers every known block with its members back to back") {
    auto meter = meter_at(12345, 1000);
    for (const DataBlock& block : known_blocks()) {
        CAPTURE(block.name);
        const BlockValues values = read_block(meter, block.di);
        REQUIRE(values.size() == block.members.size());
        for (std::size_t i = 0; i < values.size(); ++i) {
            // Each member is what a read of that item alone answers.
            CHECK(values[i].first->di == block.members[i]);
            const Value single = read_value(meter, values[i].first->quantity);
            CHECK(values[i].second.number == single.number);
        }
    }
}

TEST_CASE("simulated meter import block: total and tariffs, all in the flat period") {
    auto meter = meter_at(12345, 1000);
    const BlockValues values = read_block(meter, 0x0001FF00);
    REQUIRE(values.size() == 5);
    CHECK(values[0].second.number == Decimal{12345, 2});  // total
    CHECK(values[1].second.number == Decimal{0, 2});      // sharp
    CHECK(values[2].second.number == Decimal{0, 2});      // peak
    CHECK(values[3].second.number == Decimal{12345, 2});  // flat
    CHECK(values[4].second.number == Decimal{0, 2});      // valley

    const auto answer = meter.answer(Frame{kMeter, 0x11, di_bytes(0x0001FF00)});
    REQUIRE(answer.has_value());
    REQUIRE(answer->values.size() == 5);
    CHECK(answer->values[0] == sim::AnsweredValue{"import_energy_kwh", "123.45"});
    CHECK(answer->values[3] == sim::AnsweredValue{"import_energy_t3_kwh", "123.45"});
}

TEST_CASE("simulated meter set up without blocks refuses them with no requested data") {
    SimulatedMeter meter(MeterSpec{kMeter, 12345, 1000, /*blocks=*/false});
    meter.advance_to(kT0);
    const auto frame = ask(meter, Frame{kMeter, 0x11, di_bytes(0x0001FF00)});
    REQUIRE(frame.has_value());
    CHECK(frame->control == 0xD1);
    CHECK(frame->data == Bytes{kErrNoData});
    const auto answer = decode_read_answer(*frame, kMeter, 0x0001FF00);
    REQUIRE_FALSE(answer.has_value());
    CHECK(answer.error().kind == AnswerErrorKind::Abnormal);
    // Single items still answer: the gateway's fallback works.
    CHECK(read_value(meter, "import_energy_kwh").number == Decimal{12345, 2});
}

TEST_CASE("simulated meter status word 3 is logged as the number the gateway stores") {
    auto meter = meter_at(0, 1000);
    switch_relay(meter, kTrip);
    const auto answer = meter.answer(Frame{kMeter, 0x11, di_bytes(0x04000503)});
    REQUIRE(answer.has_value());
    REQUIRE(answer->values.size() == 1);
    CHECK(answer->values[0] == sim::AnsweredValue{"status_word_3", std::to_string(0x0150)});
}

// --- daily freeze -----------------------------------------------------------------------

namespace {

constexpr std::int64_t kNextMidnight = 1795651200000;  // 2026-11-26 00:00:00 UTC

// Reads frozen data `di` as the driver does; the answer frame as received.
Frame read_frozen(SimulatedMeter& meter, DataId di) {
    const auto frame = ask(meter, Frame{meter.address(), 0x11, di_bytes(di)});
    REQUIRE(frame.has_value());
    return *frame;
}

DateTime freeze_time(SimulatedMeter& meter) {
    const auto answer = decode_read_answer(read_frozen(meter, 0x05060001), kMeter, 0x05060001);
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string() : answer.error().message));
    const auto when = decode_freeze_time(answer->value);
    REQUIRE_MESSAGE(when.has_value(), (when ? std::string() : when.error().message));
    return *when;
}

FrozenEnergy frozen_energy(SimulatedMeter& meter) {
    const auto answer = decode_read_answer(read_frozen(meter, 0x05060101), kMeter, 0x05060101);
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string() : answer.error().message));
    const auto energy = decode_frozen_energy(answer->value);
    REQUIRE_MESSAGE(energy.has_value(), (energy ? std::string() : energy.error().message));
    return *energy;
}

}  // namespace

TEST_CASE("simulated meter has no daily freeze before its first midnight") {
    auto meter = meter_at(12345, 1000);
    meter.advance_to(kNextMidnight - 1);
    for (DataId di : {DataId{0x05060001}, DataId{0x05060101}}) {
        const auto frame = read_frozen(meter, di);
        CHECK(frame.control == 0xD1);
        const auto answer = decode_read_answer(frame, kMeter, di);
        REQUIRE_FALSE(answer.has_value());
        CHECK(answer.error().kind == AnswerErrorKind::Abnormal);
        CHECK(answer.error().error_word == kErrNoData);
    }
}

TEST_CASE("simulated meter freezes its registers at midnight as they stood then") {
    auto meter = meter_at(12345, 1000);
    // 23 h 25 min 4 s at 1 kW before midnight: 23.417 kWh, shown as 23.41.
    meter.advance_to(kNextMidnight + 2 * kHour);
    CHECK(freeze_time(meter) == DateTime{2026, 11, 26, 0, 0, 0, 0});
    const auto energy = frozen_energy(meter);
    CHECK(energy.total.to_string() == "146.86");
    REQUIRE(energy.tariffs.size() == 4);
    CHECK(energy.tariffs[2].to_string() == "146.86");  // all in the flat period
    CHECK(energy.tariffs[0].to_string() == "0.00");
    CHECK(meter.energy_centikwh() == 14886);  // the register ran on, the freeze did not
    // Only the last freeze is kept.
    CHECK(read_frozen(meter, 0x05060002).control == 0xD1);
    CHECK(read_frozen(meter, 0x05060102).control == 0xD1);
    CHECK(read_frozen(meter, 0x05060201).control == 0xD1);  // reverse energy: not kept
}

TEST_CASE("simulated meter with a fast clock freezes every midnight it passes") {
    auto meter = meter_at(0, 1000);
    meter.advance_to(kNextMidnight + 3 * 24 * kHour + kHour);  // one step over three midnights
    CHECK(freeze_time(meter) == DateTime{2026, 11, 29, 0, 0, 0, 0});
    // 23:25:04 + 3 days at 1 kW: 95.417 kWh.
    CHECK(frozen_energy(meter).total.to_string() == "95.41");
    const auto& last = meter.last_freeze();
    REQUIRE(last.has_value());
    CHECK(last->at_ms == kNextMidnight + 3 * 24 * kHour);
}

TEST_CASE("simulated meter set by broadcast time freezes at its own midnight") {
    auto meter = meter_at(0, 1000);
    // Set the meter's clock to 23:59:00 on 2026-11-30 (ss mm hh DD MM YY).
    const Frame set{Address::broadcast(), 0x08, {0x00, 0x59, 0x23, 0x30, 0x11, 0x26}};
    CHECK_FALSE(meter.answer(over_the_wire(set)).has_value());
    meter.advance_to(kT0 + 2 * 60'000);
    CHECK(freeze_time(meter) == DateTime{2026, 12, 1, 0, 0, 0, 0});
}
