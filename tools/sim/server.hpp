// The simulator's bus loop: reads the device, finds each request whatever its protocol,
// lets the addressed meter's model answer, and puts the answer on the wire after the
// answer delay, paced at the line's character time when wire time is emulated, with the
// meter's faults applied. All the I/O of ecmgw-sim is here and in modbus_server.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ecmgw/protocols/transport.hpp"
#include "sim/answer_log.hpp"
#include "sim/bus_scan.hpp"
#include "sim/faults.hpp"
#include "sim/modbus_server.hpp"
#include "sim/sim_meter.hpp"

namespace ecmgw::sim {

struct ServeOptions {
    int answer_delay_ms = 30;  // Td, unless a meter's delay fault says otherwise
    int wakeup = 2;            // FE bytes before DL/T 645 and CJ/T 188 answers
    int noise_every = 0;       // line noise before every Nth answer (0: never)
    double speed = 1.0;        // simulated time per real time
    bool wire_time = false;    // pace answers at the line's character time
    std::uint64_t seed = 1;    // for the fault dice
    std::string answer_log;
    std::string hand_file;  // --hand-file: switching by hand (sim/hand_switch.hpp)
};

class Server {
  public:
    using Clock = std::chrono::steady_clock;

    Server(ServeOptions options, SimBus bus, transport::ByteLink& link);
    ~Server();
    // Serves until `stop` becomes non-zero or the link fails.
    Result run(const volatile std::sig_atomic_t& stop);

  private:
    struct Request {
        BusScan frame;
        dlt645::Bytes bytes;           // the frame itself
        Clock::time_point first_byte;  // when the request's first byte (wake-up too) arrived
        std::size_t wire_length = 0;   // bytes the request took on the wire
    };
    struct Outgoing {
        std::size_t meter;
        dlt645::Bytes bytes;
        std::size_t frame_start = 0;  // after the wake-up bytes
        WireFormat format;
        std::vector<AnsweredValue> values;
    };

    Result take_bytes(std::span<const std::uint8_t> bytes, Clock::time_point now);
    Result serve(const Request& request);
    void serve_dlt645(const dlt645::Frame& frame, std::vector<Outgoing>& out);
    void serve_cjt188(const cjt188::Frame& frame, std::vector<Outgoing>& out);
    Result serve_modbus(const dlt645::Bytes& adu, std::vector<Outgoing>& out);
    Result send(const Request& request, Outgoing answer);
    std::int64_t simulated_ms() const;
    std::chrono::microseconds character_time(const SimMeter& meter) const;
    dlt645::Bytes noise();
    // Applies the lines appended to --hand-file since the last look.
    void take_hand_switches();

    ServeOptions o_;
    SimBus bus_;
    transport::ByteLink& link_;
    BusProtocols protocols_;
    std::size_t dlt2007_ = 0, dlt1997_ = 0, cjt188_ = 0;  // meters per protocol (wildcards)
    std::vector<FaultDice> dice_;
    std::unique_ptr<ModbusServer> modbus_;
    AnswerLog log_;
    dlt645::Bytes pending_;
    std::vector<Clock::time_point> arrival_;  // of each pending byte
    std::int64_t start_wall_ms_;
    std::uint64_t answers_ = 0;
    std::mt19937 noise_rng_{42};
    std::size_t hand_offset_ = 0;  // bytes of --hand-file already applied
};

}  // namespace ecmgw::sim
