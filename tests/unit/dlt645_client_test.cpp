// The DL/T 645 client over a scripted byte link: what it writes, how it reads
// answers out of fragments, wake-up bytes, noise, echoes and other meters'
// frames, and how each failure is reported and counted. The fake link returns
// at once, so no test waits on a real clock.
#include <doctest/doctest.h>

#include "hex_bytes.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/dlt645_client.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/transport.hpp"

using namespace ecmgw;
using namespace ecmgw::dlt645;
using bus::Dlt645Client;
using bus::LinkTiming;
using bus::ReadFailure;
using std::chrono::milliseconds;

using ecmgw::test::concat;
using ecmgw::test::hex;

namespace {

const Address kMeter1 = Address{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}};  // 000000000001
const Address kMeter2 = Address{{0x78, 0x56, 0x34, 0x12, 0x20, 0x20}};  // 202012345678

// The worked frames of shared/protocols.md.
const Bytes kAnswerEnergy = hex("68 01 00 00 00 00 00 68 91 08 33 33 33 33 78 56 34 33 6B 16");
const Bytes kAnswerVoltage = hex("68 78 56 34 12 20 20 68 91 06 33 34 34 35 36 55 16 16");
const Bytes kAnswerAddress = hex("68 78 56 34 12 20 20 68 93 06 AB 89 67 45 53 53 43 16");
const Bytes kReadNoData = hex("68 01 00 00 00 00 00 68 D1 01 35 D8 16");
const Bytes kBroadcastTime = hex("68 99 99 99 99 99 99 68 08 06 89 67 45 57 44 59 9D 16");

const DataItem& item(std::string_view quantity) {
    const DataItem* d = find_data_item(quantity);
    REQUIRE(d != nullptr);
    return *d;
}

// What one read() call gets.
struct Step {
    Bytes bytes;                       // empty: the read times out
    std::optional<std::string> error;  // the port fails
    // The bytes arrive only for a read that is willing to wait this long; a
    // shorter read times out and the step stays for the next read.
    milliseconds arrives_after{0};
};

Step chunk(Bytes bytes) { return Step{std::move(bytes), std::nullopt, milliseconds(0)}; }
Step silence() { return Step{}; }
Step port_error(std::string message) { return Step{{}, std::move(message), milliseconds(0)}; }
Step late(Bytes bytes, milliseconds after) { return Step{std::move(bytes), std::nullopt, after}; }

// One byte per step: the slowest a UART can hand an answer over.
std::vector<Step> byte_by_byte(const Bytes& bytes) {
    std::vector<Step> steps;
    for (std::uint8_t b : bytes) steps.push_back(chunk({b}));
    return steps;
}

// A byte link that plays a script and records what the client did with it.
class ScriptedLink final : public transport::ByteLink {
  public:
    std::deque<Step> script;  // played after each write, one step per read()
    Bytes stale;              // in the input buffer before the request; flush drops it
    std::optional<std::string> write_error;
    std::optional<std::string> flush_error;

    std::vector<Bytes> written;
    std::vector<std::string> calls;  // "flush", "write", "read" in order
    std::vector<milliseconds> read_timeouts;

    void play(std::initializer_list<Step> steps) { script.insert(script.end(), steps); }
    void play(const std::vector<Step>& steps) {
        script.insert(script.end(), steps.begin(), steps.end());
    }

    Result write(std::span<const std::uint8_t> bytes) override {
        calls.emplace_back("write");
        if (write_error) return fail(*write_error);
        written.emplace_back(bytes.begin(), bytes.end());
        return {};
    }

    Expected<std::size_t> read(std::span<std::uint8_t> buffer, milliseconds timeout) override {
        calls.emplace_back("read");
        read_timeouts.push_back(timeout);
        if (!stale.empty()) return take(stale, buffer);
        if (script.empty()) return std::size_t{0};
        Step& step = script.front();
        if (step.error) {
            auto message = *step.error;
            script.pop_front();
            return fail(message);
        }
        if (timeout < step.arrives_after) return std::size_t{0};
        if (step.bytes.empty()) {
            script.pop_front();
            return std::size_t{0};
        }
        const std::size_t n = take(step.bytes, buffer);
        if (step.bytes.empty()) script.pop_front();
        return n;
    }

    Result flush_input() override {
        calls.emplace_back("flush");
        if (flush_error) return fail(*flush_error);
        stale.clear();
        return {};
    }

    std::string describe() const override { return "scripted 2400 8E1"; }
    Result set_line(const transport::LineSettings&) override { return {}; }
    int native_handle() const override { return -1; }

  private:
    // Moves as much of `from` as fits into `buffer`.
    static std::size_t take(Bytes& from, std::span<std::uint8_t> buffer) {
        const std::size_t n = std::min(from.size(), buffer.size());
        std::copy_n(from.begin(), n, buffer.begin());
        from.erase(from.begin(), from.begin() + static_cast<std::ptrdiff_t>(n));
        return n;
    }
};

// The fake answers at once, so tiny timeouts cost no real time.
constexpr LinkTiming kFast{milliseconds(5), milliseconds(2)};

Decimal number_of(const Expected<Value, bus::ReadError>& v) {
    REQUIRE_MESSAGE(v.has_value(), (v ? std::string() : v.error().message));
    REQUIRE(v->format == ValueFormat::Decimal);
    return v->number;
}

const Decimal k123_45{12345, 2};

}  // namespace

// --- normal answers --------------------------------------------------------------

TEST_CASE("client reads an answer that arrives in one chunk") {
    ScriptedLink link;
    link.play({chunk(kAnswerEnergy)});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    CHECK(number_of(value) == k123_45);
    CHECK(value->number.to_string() == "123.45");

    const auto& c = client.counters();
    CHECK(c.requests == 1);
    CHECK(c.answers == 1);
    CHECK(c.timeouts == 0);
    CHECK(c.noise_bytes == 0);
    CHECK(c.checksum_errors == 0);
    CHECK(c.foreign_frames == 0);
}

TEST_CASE("client writes exactly the encoded read request") {
    ScriptedLink link;
    link.play({chunk(kAnswerEnergy)});
    Dlt645Client client(link, kFast);
    REQUIRE(client.read(kMeter1, item("energy_kwh")).has_value());

    REQUIRE(link.written.size() == 1);
    CHECK(link.written[0] == encode_read(kMeter1, 0x00000000));
    // The worked request of protocols.md, four wake-up bytes included.
    CHECK(link.written[0] == hex("FE FE FE FE 68 01 00 00 00 00 00 68 11 04 33 33 33 33 B2 16"));
}

TEST_CASE("client reads an answer that arrives byte by byte") {
    ScriptedLink link;
    link.play(byte_by_byte(kAnswerEnergy));
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(link.script.empty());
    CHECK(client.counters().answers == 1);
    CHECK(client.counters().noise_bytes == 0);
}

TEST_CASE("client reads an answer whose checksum is 16") {
    // Voltage answer of protocols.md: CS is 0x16, the frame ends 16 16.
    ScriptedLink link;
    link.play(byte_by_byte(kAnswerVoltage));
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter2, item("voltage_a_v"))) == Decimal{2203, 1});
    CHECK(client.counters().noise_bytes == 0);
}

TEST_CASE("client skips wake-up bytes without counting them as noise") {
    ScriptedLink link;
    link.play({chunk(concat({hex("FE FE FE FE"), kAnswerEnergy}))});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().noise_bytes == 0);
    CHECK(client.counters().foreign_frames == 0);
}

TEST_CASE("client skips noise containing 68 and 16 and counts it") {
    // Four noise bytes, two of them frame start and end markers, among wake-up bytes.
    const Bytes noise = hex("68 16 16 AB");
    const Bytes stream = concat({hex("FE FE"), noise, hex("FE FE FE FE"), kAnswerEnergy});

    SUBCASE("in one chunk") {
        ScriptedLink link;
        link.play({chunk(stream)});
        Dlt645Client client(link, kFast);
        CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
        CHECK(client.counters().noise_bytes == noise.size());
        CHECK(client.counters().answers == 1);
    }
    SUBCASE("byte by byte") {
        ScriptedLink link;
        link.play(byte_by_byte(stream));
        Dlt645Client client(link, kFast);
        CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
        CHECK(client.counters().noise_bytes == noise.size());
        CHECK(client.counters().answers == 1);
    }
}

TEST_CASE("client skips a corrupted frame before the answer and counts the checksum error") {
    Bytes corrupted = kAnswerEnergy;
    corrupted[corrupted.size() - 2] ^= 0x01;  // CS
    ScriptedLink link;
    link.play({chunk(concat({corrupted, kAnswerEnergy}))});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().checksum_errors == 1);
    CHECK(client.counters().noise_bytes == corrupted.size());
}

TEST_CASE("client skips its own echoed request then reads the answer") {
    // A half-duplex adapter hands back what we sent.
    const Bytes request = encode_read(kMeter1, 0x00000000);
    ScriptedLink link;
    link.play({chunk(request), chunk(kAnswerEnergy)});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().foreign_frames == 1);
    CHECK(client.counters().noise_bytes == 0);  // the echo's FE bytes are wake-up bytes
    CHECK(client.counters().answers == 1);
}

TEST_CASE("client skips an echo and the answer in the same chunk") {
    ScriptedLink link;
    link.play({chunk(concat({encode_read(kMeter1, 0x00000000), kAnswerEnergy}))});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().foreign_frames == 1);
    CHECK(client.counters().noise_bytes == 0);
}

TEST_CASE("client keeps the response timeout for the answer after an echo") {
    // The echo comes back at once; the meter answers within the response timeout
    // but later than the inter-byte timeout. The echo is not the start of the answer.
    const LinkTiming timing{milliseconds(10'000), milliseconds(5)};
    ScriptedLink link;
    link.play({chunk(encode_read(kMeter1, 0x00000000)), late(kAnswerEnergy, milliseconds(200))});
    Dlt645Client client(link, timing);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().foreign_frames == 1);
}

TEST_CASE("client keeps the response timeout after an echo that arrives in pieces") {
    const LinkTiming timing{milliseconds(10'000), milliseconds(5)};
    const Bytes echo = encode_read(kMeter1, 0x00000000);
    ScriptedLink link;
    link.play({chunk(Bytes(echo.begin(), echo.begin() + 9)),
               chunk(Bytes(echo.begin() + 9, echo.end())), late(kAnswerEnergy, milliseconds(200))});
    Dlt645Client client(link, timing);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().foreign_frames == 1);
    // Inside the echo it waited the inter-byte timeout, for the answer the response timeout.
    REQUIRE(link.read_timeouts.size() == 3);
    CHECK(link.read_timeouts[1] == timing.inter_byte_timeout);
    CHECK(link.read_timeouts[2] > milliseconds(200));
}

TEST_CASE("client skips another meter's answer before its own") {
    ScriptedLink link;
    link.play({chunk(kAnswerVoltage), chunk(kAnswerEnergy)});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().foreign_frames == 1);
    CHECK(client.counters().noise_bytes == 0);
}

TEST_CASE("client with the wildcard address takes any meter's answer") {
    ScriptedLink link;
    link.play({chunk(kAnswerVoltage)});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(Address::wildcard(), item("voltage_a_v"))) == Decimal{2203, 1});
    REQUIRE(link.written.size() == 1);
    CHECK(link.written[0] == encode_read(Address::wildcard(), 0x02010100));
}

// --- failures ----------------------------------------------------------------------

TEST_CASE("client reports an abnormal answer as Refused") {
    ScriptedLink link;
    link.play({chunk(kReadNoData)});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Refused);
    CHECK(describe_error_word(kErrNoData) == "no requested data");
    CHECK(value.error().message.find("no requested data") != std::string::npos);
    CHECK(client.counters().answers == 1);
}

TEST_CASE("client reports an answer for another DI as Mismatch") {
    // Meter 1 answers import energy (00 01 00 00) when asked for combined energy.
    const Bytes other_di =
        encode_frame(Frame{kMeter1, 0x91, {0x00, 0x00, 0x01, 0x00, 0x45, 0x23, 0x01, 0x00}}, 0);
    ScriptedLink link;
    link.play({chunk(other_di)});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Mismatch);
    CHECK(value.error().message.find("00010000") != std::string::npos);
}

TEST_CASE("client reports an answer to another function as Mismatch") {
    // Meter 1 answers with a read-address answer (93) to a read.
    const Bytes wrong_function =
        encode_frame(Frame{kMeter1, 0x93, Bytes(kMeter1.wire.begin(), kMeter1.wire.end())}, 0);
    ScriptedLink link;
    link.play({chunk(wrong_function)});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Mismatch);
}

TEST_CASE("client reports a value that is not BCD as Invalid") {
    const Bytes not_bcd =
        encode_frame(Frame{kMeter1, 0x91, {0x00, 0x00, 0x00, 0x00, 0xAB, 0x00, 0x00, 0x00}}, 0);
    ScriptedLink link;
    link.play({chunk(not_bcd)});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Invalid);
}

TEST_CASE("client reports silence as Timeout and counts it") {
    ScriptedLink link;  // nothing scripted: every read times out
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Timeout);
    CHECK(value.error().message.find("5 ms") != std::string::npos);
    CHECK(client.counters().timeouts == 1);
    CHECK(client.counters().requests == 1);
    CHECK(client.counters().answers == 0);
    // It waited for the first byte no longer than the response timeout.
    REQUIRE_FALSE(link.read_timeouts.empty());
    CHECK(link.read_timeouts.front() <= kFast.response_timeout);
    CHECK(link.read_timeouts.front() >= milliseconds(1));
}

TEST_CASE("client reports an echo followed by silence as Timeout") {
    // The meter is dead behind an echoing adapter: it did not answer.
    ScriptedLink link;
    link.play({chunk(encode_read(kMeter1, 0x00000000))});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Timeout);
    CHECK(client.counters().timeouts == 1);
    CHECK(client.counters().foreign_frames == 1);
}

TEST_CASE("client reports only another meter's answer as Timeout") {
    ScriptedLink link;
    link.play({chunk(kAnswerVoltage)});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Timeout);
    CHECK(client.counters().timeouts == 1);
    CHECK(client.counters().foreign_frames == 1);
}

TEST_CASE("client reports a partial frame then silence as Garbled") {
    const Bytes partial(kAnswerEnergy.begin(), kAnswerEnergy.begin() + 12);
    ScriptedLink link;
    link.play({chunk(partial), silence()});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Garbled);
    CHECK(value.error().message.find("12") != std::string::npos);
    CHECK(client.counters().timeouts == 0);
    CHECK(client.counters().noise_bytes == partial.size());
    // After the first byte it waited only the inter-byte timeout.
    REQUIRE(link.read_timeouts.size() == 2);
    CHECK(link.read_timeouts[1] == kFast.inter_byte_timeout);
}

TEST_CASE("client reports noise then silence as Garbled") {
    ScriptedLink link;
    link.play({chunk(hex("00 11 22 68 16"))});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::Garbled);
    CHECK(client.counters().timeouts == 0);
    CHECK(client.counters().noise_bytes == 5);
}

TEST_CASE("client reports a failing read as LinkError") {
    ScriptedLink link;
    link.play({port_error("read failed on /dev/ttyUSB0: Input/output error")});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::LinkError);
    CHECK(value.error().message == "read failed on /dev/ttyUSB0: Input/output error");
}

TEST_CASE("client reports a link error in the middle of an answer as LinkError") {
    ScriptedLink link;
    link.play({chunk(Bytes(kAnswerEnergy.begin(), kAnswerEnergy.begin() + 5)),
               port_error("the other end hung up")});
    Dlt645Client client(link, kFast);

    const auto value = client.read(kMeter1, item("energy_kwh"));
    REQUIRE_FALSE(value.has_value());
    CHECK(value.error().kind == ReadFailure::LinkError);
}

TEST_CASE("client reports failing write and flush as LinkError") {
    SUBCASE("write") {
        ScriptedLink link;
        link.write_error = "write failed on /dev/ttyUSB0: gone";
        Dlt645Client client(link, kFast);
        const auto value = client.read(kMeter1, item("energy_kwh"));
        REQUIRE_FALSE(value.has_value());
        CHECK(value.error().kind == ReadFailure::LinkError);
        CHECK(value.error().message == "write failed on /dev/ttyUSB0: gone");
    }
    SUBCASE("flush") {
        ScriptedLink link;
        link.flush_error = "flush failed on /dev/ttyUSB0: gone";
        Dlt645Client client(link, kFast);
        const auto value = client.read(kMeter1, item("energy_kwh"));
        REQUIRE_FALSE(value.has_value());
        CHECK(value.error().kind == ReadFailure::LinkError);
        CHECK(link.written.empty());
    }
}

// --- resync -------------------------------------------------------------------------

TEST_CASE("client flushes input before every request") {
    ScriptedLink link;
    link.play({chunk(kAnswerEnergy), silence(), chunk(kAnswerEnergy)});
    Dlt645Client client(link, kFast);

    CHECK(client.read(kMeter1, item("energy_kwh")).has_value());
    CHECK_FALSE(client.read(kMeter1, item("energy_kwh")).has_value());
    CHECK(client.read(kMeter1, item("energy_kwh")).has_value());

    std::vector<std::string> order;  // the calls around each write
    for (std::size_t i = 0; i < link.calls.size(); ++i) {
        if (link.calls[i] != "write") continue;
        REQUIRE(i > 0);
        CHECK(link.calls[i - 1] == "flush");
        order.push_back(link.calls[i - 1]);
    }
    CHECK(order.size() == 3);
    CHECK(link.calls.front() == "flush");
}

TEST_CASE("client drops a stale answer left in the input buffer") {
    // A late answer to an earlier request (another value) waits in the buffer.
    ScriptedLink link;
    link.stale = encode_frame(Frame{kMeter1, 0x91, {0, 0, 0, 0, 0, 0, 0, 0}}, 0);  // 0.00 kWh
    REQUIRE(scan(link.stale).status == ScanStatus::Complete);
    link.play({chunk(kAnswerEnergy)});
    Dlt645Client client(link, kFast);

    CHECK(number_of(client.read(kMeter1, item("energy_kwh"))) == k123_45);
    CHECK(client.counters().foreign_frames == 0);
}

TEST_CASE("client counters add up over several exchanges and can be restored") {
    ScriptedLink link;
    link.play({chunk(kAnswerEnergy), silence(), chunk(concat({hex("00"), kAnswerEnergy}))});
    Dlt645Client client(link, kFast);

    CHECK(client.read(kMeter1, item("energy_kwh")).has_value());
    CHECK_FALSE(client.read(kMeter1, item("energy_kwh")).has_value());
    CHECK(client.read(kMeter1, item("energy_kwh")).has_value());
    CHECK(client.counters().requests == 3);
    CHECK(client.counters().answers == 2);
    CHECK(client.counters().timeouts == 1);
    CHECK(client.counters().noise_bytes == 1);

    bus::LinkCounters saved;
    saved.requests = 100;
    saved.timeouts = 7;
    client.restore_counters(saved);
    CHECK(client.counters().requests == 100);
    CHECK(client.counters().timeouts == 7);
    CHECK(client.counters().answers == 0);
}

// --- read address and broadcast --------------------------------------------------------

TEST_CASE("client reads the address with the wildcard") {
    ScriptedLink link;
    link.play(byte_by_byte(concat({hex("FE FE"), kAnswerAddress})));
    Dlt645Client client(link, kFast);

    const auto address = client.read_address();
    REQUIRE_MESSAGE(address.has_value(), (address ? std::string() : address.error().message));
    CHECK(*address == kMeter2);
    CHECK(address->to_string() == "202012345678");
    REQUIRE(link.written.size() == 1);
    CHECK(link.written[0] == encode_read_address());
    CHECK(link.written[0] == hex("FE FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16"));
    CHECK(link.calls.front() == "flush");
}

TEST_CASE("client read_address skips its echo and frames of other functions") {
    ScriptedLink link;
    link.play({chunk(encode_read_address()), chunk(kAnswerEnergy), chunk(kAnswerAddress)});
    Dlt645Client client(link, kFast);

    const auto address = client.read_address();
    REQUIRE(address.has_value());
    CHECK(*address == kMeter2);
    CHECK(client.counters().foreign_frames == 2);
}

TEST_CASE("client read_address reports silence as Timeout") {
    ScriptedLink link;
    Dlt645Client client(link, kFast);

    const auto address = client.read_address();
    REQUIRE_FALSE(address.has_value());
    CHECK(address.error().kind == ReadFailure::Timeout);
    CHECK(client.counters().timeouts == 1);
}

TEST_CASE("client broadcast_time writes the broadcast frame and reads nothing") {
    ScriptedLink link;
    Dlt645Client client(link, kFast);

    const DateTime when{2026, 11, 24, 12, 34, 56, 2};
    CHECK(client.broadcast_time(when).has_value());
    REQUIRE(link.written.size() == 1);
    CHECK(link.written[0] == encode_broadcast_time(when));
    CHECK(link.written[0] == concat({hex("FE FE FE FE"), kBroadcastTime}));
    CHECK(std::count(link.calls.begin(), link.calls.end(), "read") == 0);
    CHECK(client.counters().requests == 1);
}
