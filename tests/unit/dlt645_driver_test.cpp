// The DL/T 645-2007 driver against the simulated meter: the daily freeze is read once
// after each local midnight, stored with its freeze time, and not asked for every turn.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <deque>
#include <string>

#include "bus/dlt645_driver.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "sim/simulated_meter.hpp"

using namespace ecmgw;
using namespace std::chrono;
using bus::Dlt645Driver;
using bus::Dlt645MeterSpec;

namespace {

const dlt645::Address kMeter{{0x01, 0x00, 0x00, 0x00, 0x00, 0x00}};  // 000000000001
constexpr std::int64_t kT0 = 1795566896000;                          // 2026-11-25 00:34:56Z
constexpr std::int64_t kMidnight = 1795651200000;                    // 2026-11-26 00:00:00Z
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 3'600'000;

// The simulated meter on the other end of a byte link: each request written is
// answered at once, and the DIs asked for are recorded.
class SimLink final : public transport::ByteLink {
  public:
    explicit SimLink(sim::SimulatedMeter& meter) : meter_(meter) {}
    std::vector<dlt645::DataId> asked;

    Result write(std::span<const std::uint8_t> bytes) override {
        const auto found = dlt645::scan(dlt645::Bytes(bytes.begin(), bytes.end()));
        REQUIRE(found.status == dlt645::ScanStatus::Complete);
        const auto& d = found.frame.data;
        if (d.size() >= 4) {
            asked.push_back(static_cast<dlt645::DataId>(d[0] | d[1] << 8 | d[2] << 16) |
                            static_cast<dlt645::DataId>(d[3]) << 24);
        }
        if (auto answer = meter_.answer(found.frame)) {
            const auto frame = dlt645::encode_frame(answer->frame, 0);
            pending_.insert(pending_.end(), frame.begin(), frame.end());
        }
        return {};
    }
    Expected<std::size_t> read(std::span<std::uint8_t> buffer, milliseconds) override {
        const std::size_t n = std::min(buffer.size(), pending_.size());
        std::copy_n(pending_.begin(), n, buffer.begin());
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
        return n;
    }
    Result flush_input() override {
        pending_.clear();
        return {};
    }
    std::string describe() const override { return "simulated meter"; }
    Result set_line(const transport::LineSettings&) override { return {}; }
    int native_handle() const override { return -1; }

  private:
    sim::SimulatedMeter& meter_;
    std::deque<std::uint8_t> pending_;
};

// The gateway and the meter, both at `now` (UTC: the simulated meter has no zone).
struct Rig {
    Rig() : meter(sim::MeterSpec{kMeter, 100000, 1000}), link(meter) {
        setenv("TZ", "UTC", 1);
        tzset();
        meter.advance_to(kT0);
        Dlt645MeterSpec spec;
        spec.id = "E";
        spec.address = kMeter;
        spec.items = {dlt645::find_data_item("import_energy_kwh")};
        spec.frozen = {"frozen_import_energy_kwh", "frozen_import_energy_t3_kwh"};
        spec.clock = [this] { return system_clock::time_point(milliseconds(now)); };
        driver = std::make_unique<Dlt645Driver>(std::move(spec));
    }
    bus::ReadOutcome turn_at(std::int64_t t) {
        now = t;
        meter.advance_to(t);
        link.asked.clear();
        bus::LinkCounters counters;
        bus::Exchange exchange{link, {milliseconds(5), milliseconds(2)}, counters};
        bus::BusContext context(exchange);
        auto out = driver->read(context);
        REQUIRE_MESSAGE(out.has_value(), (out ? std::string() : out.error().message));
        return *out;
    }
    std::size_t frozen_reads() const {
        return static_cast<std::size_t>(
            std::count_if(link.asked.begin(), link.asked.end(), dlt645::is_daily_freeze_di));
    }

    std::int64_t now = kT0;
    sim::SimulatedMeter meter;
    SimLink link;
    std::unique_ptr<Dlt645Driver> driver;
};

}  // namespace

TEST_CASE("the daily freeze is read once after midnight and stored at its freeze time") {
    Rig rig;
    // Before the meter's first midnight it has no freeze: asked once, then not again
    // until the next midnight.
    auto first = rig.turn_at(kT0);
    CHECK(rig.frozen_reads() == 1);
    REQUIRE(first.samples.size() == 1);
    CHECK(first.samples[0].quantity == "import_energy_kwh");
    CHECK_FALSE(first.samples[0].ts_ms.has_value());
    REQUIRE(first.item_errors.size() == 1);
    CHECK(first.item_errors[0].kind == bus::ReadFailure::Refused);
    rig.turn_at(kT0 + kHour);
    CHECK(rig.frozen_reads() == 0);

    // After midnight: the time, the block, the time again; two readings at the freeze time.
    auto after = rig.turn_at(kMidnight + kMinute);
    CHECK(rig.frozen_reads() == 3);
    REQUIRE(after.samples.size() == 3);
    CHECK(after.samples[1].quantity == "frozen_import_energy_kwh");
    CHECK(after.samples[1].ts_ms == kMidnight);
    CHECK(after.samples[1].value == rig.meter.last_freeze()->energy.total);
    CHECK(after.samples[2].quantity == "frozen_import_energy_t3_kwh");
    CHECK(after.samples[2].ts_ms == kMidnight);
    CHECK(rig.driver->last_freeze_ms() == kMidnight);

    // The rest of the day: no frozen reads at all.
    for (int i = 1; i <= 20; ++i) {
        auto later = rig.turn_at(kMidnight + i * kHour);
        CHECK(rig.frozen_reads() == 0);
        CHECK(later.samples.size() == 1);
    }
    // The next midnight: read again.
    auto next = rig.turn_at(kMidnight + 24 * kHour + kMinute);
    CHECK(rig.frozen_reads() == 3);
    REQUIRE(next.samples.size() == 3);
    CHECK(next.samples[1].ts_ms == kMidnight + 24 * kHour);
}

TEST_CASE("a meter that has not frozen the last midnight yet is asked again later") {
    Rig rig;
    rig.turn_at(kMidnight + kMinute);
    CHECK(rig.driver->last_freeze_ms() == kMidnight);
    // The meter's clock is set 10 minutes behind the gateway's (00:01 → 2026-11-25 23:51).
    const dlt645::Frame set{
        dlt645::Address::broadcast(), 0x08, {0x00, 0x51, 0x23, 0x25, 0x11, 0x26}};
    CHECK_FALSE(rig.meter.answer(set).has_value());
    auto early = rig.turn_at(kMidnight + 24 * kHour);
    CHECK(rig.frozen_reads() == 1);  // the freeze time only: still yesterday's
    CHECK(early.samples.size() == 1);
    rig.turn_at(kMidnight + 24 * kHour + 5 * kMinute);
    CHECK(rig.frozen_reads() == 0);  // within the retry interval
    auto late = rig.turn_at(kMidnight + 24 * kHour + 16 * kMinute);
    CHECK(rig.frozen_reads() == 3);
    REQUIRE(late.samples.size() == 3);
    CHECK(late.samples[1].ts_ms == kMidnight + 24 * kHour);
}
