// ecmgw-sim: serves simulated DL/T 645-2007 meters on one serial device, for
// the tests, the demo, training and bench checks without real meters.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/serial_port.hpp"
#include "sim/simulated_meter.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
    std::string device;
    int baud = 2400;
    std::string parity = "E";
    int meters = 3;
    std::string first_address = "000000000001";
    std::vector<std::string> addresses;
    double load_kw = 1.0;
    double speed = 1.0;
    int answer_delay_ms = 30;
    int wakeup = 2;
    std::vector<std::string> silent;
    int noise_every = 0;
    std::string answer_log;
};

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

ecmgw::Expected<std::vector<ecmgw::sim::SimulatedMeter>> make_meters(const Options& o) {
    std::vector<std::string> addresses = o.addresses;
    if (addresses.empty()) {
        const long long first = std::stoll(o.first_address);
        for (int i = 0; i < o.meters; ++i) addresses.push_back(fmt::format("{:012d}", first + i));
    }
    std::vector<ecmgw::sim::SimulatedMeter> meters;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        auto address = ecmgw::dlt645::Address::parse(addresses[i]);
        if (!address)
            return ecmgw::fail(
                fmt::format("--address {}: {}", addresses[i], address.error().message));
        // Spread start values and loads so every meter reads differently.
        const auto load_w = static_cast<std::int64_t>(o.load_kw * 1000.0 *
                                                      (1.0 + 0.1 * static_cast<double>(i % 5)));
        meters.emplace_back(
            ecmgw::sim::MeterSpec{*address, static_cast<std::int64_t>(10000 * (i + 1)), load_w});
    }
    return meters;
}

class Simulator {
  public:
    Simulator(Options o, std::vector<ecmgw::sim::SimulatedMeter> meters,
              ecmgw::transport::ByteLink& link)
        : o_(std::move(o)), meters_(std::move(meters)), link_(link), start_wall_ms_(wall_ms()) {
        if (!o_.answer_log.empty()) log_.open(o_.answer_log, std::ios::app);
    }

    void run() {
        ecmgw::dlt645::Bytes pending;
        std::array<std::uint8_t, 512> chunk{};
        while (!g_stop) {
            auto n = link_.read(chunk, std::chrono::milliseconds(200));
            if (!n) {
                fmt::print(stderr, "ecmgw-sim: {}\n", n.error().message);
                return;
            }
            pending.insert(pending.end(), chunk.begin(), chunk.begin() + static_cast<long>(*n));
            serve_frames(pending);
        }
    }

  private:
    std::int64_t simulated_ms() const {
        const auto elapsed = static_cast<double>(wall_ms() - start_wall_ms_);
        return start_wall_ms_ + static_cast<std::int64_t>(elapsed * o_.speed);
    }

    void serve_frames(ecmgw::dlt645::Bytes& pending) {
        while (!pending.empty()) {
            const auto result = ecmgw::dlt645::scan(pending);
            if (result.status == ecmgw::dlt645::ScanStatus::Incomplete) {
                pending.erase(pending.begin(), pending.begin() + static_cast<long>(result.skipped));
                return;
            }
            const bool complete = result.status == ecmgw::dlt645::ScanStatus::Complete;
            pending.erase(pending.begin(),
                          pending.begin() +
                              static_cast<long>(result.skipped + (complete ? result.length : 0)));
            if (!complete) return;
            serve(result.frame);
        }
    }

    bool is_silent(const ecmgw::dlt645::Address& a) const {
        for (const auto& s : o_.silent) {
            if (s == a.to_string()) return true;
        }
        return false;
    }

    void serve(const ecmgw::dlt645::Frame& request) {
        const auto now = simulated_ms();
        for (auto& m : meters_) m.advance_to(now);
        for (auto& m : meters_) {
            const bool addressed = request.address == m.address() ||
                                   request.address.is_broadcast() ||
                                   (request.address.is_wildcard() && meters_.size() == 1);
            if (!addressed || is_silent(m.address())) continue;
            auto answer = m.answer(request);
            if (answer) send(*answer);
        }
    }

    void send(const ecmgw::sim::Answer& answer) {
        std::this_thread::sleep_for(std::chrono::milliseconds(o_.answer_delay_ms));
        ecmgw::dlt645::Bytes bytes;
        if (o_.noise_every > 0 && ++answers_ % o_.noise_every == 0) bytes = noise();
        const auto frame =
            ecmgw::dlt645::encode_frame(answer.frame, static_cast<std::size_t>(o_.wakeup));
        bytes.insert(bytes.end(), frame.begin(), frame.end());
        if (auto r = link_.write(bytes); !r)
            fmt::print(stderr, "ecmgw-sim: {}\n", r.error().message);
        if (answer.item != nullptr && log_.is_open()) {
            log_ << fmt::format(R"({{"address":"{}","quantity":"{}","value":"{}"}})",
                                answer.frame.address.to_string(), answer.item->quantity,
                                answer.value.to_string())
                 << std::endl;
        }
    }

    // Line noise with frame-like bytes in it, to exercise resync.
    ecmgw::dlt645::Bytes noise() {
        std::uniform_int_distribution<int> length(1, 12), byte(0, 255);
        ecmgw::dlt645::Bytes out{0x68, 0x16};
        for (int i = length(rng_); i > 0; --i) out.push_back(static_cast<std::uint8_t>(byte(rng_)));
        return out;
    }

    Options o_;
    std::vector<ecmgw::sim::SimulatedMeter> meters_;
    ecmgw::transport::ByteLink& link_;
    std::int64_t start_wall_ms_;
    std::ofstream log_;
    std::uint64_t answers_ = 0;
    std::mt19937 rng_{42};
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ecmgw-sim: simulated DL/T 645-2007 meters on a serial device"};
    Options o;
    app.add_option("--device", o.device,
                   "Serial device to serve (e.g. one end of a socat pty pair)")
        ->required();
    app.add_option("--baud", o.baud, "Baud rate")->capture_default_str();
    app.add_option("--parity", o.parity, "Parity: N, E or O")
        ->capture_default_str()
        ->check(CLI::IsMember({"N", "E", "O"}));
    app.add_option("--meters", o.meters, "Number of meters, with consecutive addresses")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_option("--first-address", o.first_address, "Address of the first meter (12 digits)")
        ->capture_default_str();
    app.add_option("--address", o.addresses, "Meter address (repeatable); overrides --meters");
    app.add_option("--load-kw", o.load_kw,
                   "Load of the first meter in kW (others vary by +10% steps)")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1000.0));
    app.add_option("--speed", o.speed, "Simulated time runs this many times faster than real time")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 100000.0));
    app.add_option("--answer-delay-ms", o.answer_delay_ms, "Delay before each answer (Td)")
        ->capture_default_str()
        ->check(CLI::Range(0, 5000));
    app.add_option("--wakeup", o.wakeup, "FE bytes before each answer")
        ->capture_default_str()
        ->check(CLI::Range(0, 4));
    app.add_option("--silent", o.silent, "Address of a meter that never answers (repeatable)");
    app.add_option("--noise-every", o.noise_every,
                   "Put line noise before every Nth answer (0: never)")
        ->capture_default_str();
    app.add_option("--answer-log", o.answer_log,
                   "Append each value answered as a JSON line to this file");
    CLI11_PARSE(app, argc, argv);

    auto meters = make_meters(o);
    if (!meters) {
        fmt::print(stderr, "ecmgw-sim: {}\n", meters.error().message);
        return 1;
    }
    auto link = ecmgw::transport::open_serial_port({o.device, o.baud, o.parity[0], 8, 1});
    if (!link) {
        fmt::print(stderr, "ecmgw-sim: {}\n", link.error().message);
        return 1;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    fmt::print(stderr, "ecmgw-sim: serving {} meter(s) on {} from address {}\n", meters->size(),
               (*link)->describe(), meters->front().address().to_string());
    Simulator(o, std::move(*meters), **link).run();
    return 0;
}
