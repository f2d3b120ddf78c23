#include "sim/server.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "ecmgw/common/overloaded.hpp"
#include "ecmgw/protocols/serial_port.hpp"
#include "sim/hand_switch.hpp"
#include "sim/modbus_rtu.hpp"

namespace ecmgw::sim {

namespace {

// Bytes that sit unmatched this long are a broken request: dropped, as a meter's UART
// resets its frame after a silence (DL/T 645 allows 500 ms between bytes).
constexpr auto kStaleAfter = std::chrono::milliseconds(600);
constexpr std::size_t kMaxPending = 1024;
constexpr auto kReadSlice = std::chrono::milliseconds(50);

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Server::Server(ServeOptions options, SimBus bus, transport::ByteLink& link)
    : o_(std::move(options)),
      bus_(std::move(bus)),
      link_(link),
      log_(o_.answer_log),
      start_wall_ms_(wall_ms()) {
    for (std::size_t i = 0; i < bus_.meters.size(); ++i) {
        dice_.emplace_back(o_.seed, i);
        std::visit(Overloaded{
                       [&](const SimulatedMeter&) { ++dlt2007_; },
                       [&](const Dlt645_1997Meter&) { ++dlt1997_; },
                       [&](const Cjt188Meter&) { ++cjt188_; },
                       [&](const ModbusMeter&) { protocols_.modbus = true; },
                   },
                   bus_.meters[i].model);
    }
    protocols_.dlt645 = dlt2007_ + dlt1997_ > 0;
    protocols_.cjt188 = cjt188_ > 0;
}

Server::~Server() = default;

Result Server::run(const volatile std::sig_atomic_t& stop) {
    if (protocols_.modbus) {
        auto server = ModbusServer::open(bus_.line);
        if (!server) return unexpected(server.error());
        modbus_ = std::move(*server);
    }
    std::array<std::uint8_t, 512> chunk{};
    while (stop == 0) {
        take_hand_switches();
        auto n = link_.read(chunk, kReadSlice);
        if (!n) return unexpected(n.error());
        const auto now = Clock::now();
        if (*n == 0) {
            if (!arrival_.empty() && now - arrival_.back() > kStaleAfter) {
                pending_.clear();
                arrival_.clear();
            }
            continue;
        }
        if (auto r = take_bytes(std::span(chunk).first(*n), now); !r) return r;
    }
    return {};
}

Result Server::take_bytes(std::span<const std::uint8_t> bytes, Clock::time_point now) {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    arrival_.insert(arrival_.end(), bytes.size(), now);
    if (pending_.size() > kMaxPending) {
        const auto excess = static_cast<long>(pending_.size() - kMaxPending);
        pending_.erase(pending_.begin(), pending_.begin() + excess);
        arrival_.erase(arrival_.begin(), arrival_.begin() + excess);
    }
    for (;;) {
        BusScan scan = scan_bus(pending_, protocols_);
        if (scan.status != dlt645::ScanStatus::Complete) {
            const auto drop = static_cast<long>(scan.consumed);
            pending_.erase(pending_.begin(), pending_.begin() + drop);
            arrival_.erase(arrival_.begin(), arrival_.begin() + drop);
            return {};
        }
        Request request;
        request.bytes.assign(pending_.begin() + static_cast<long>(scan.start),
                             pending_.begin() + static_cast<long>(scan.consumed));
        // The master put everything before the frame (wake-up bytes) on the wire too.
        request.first_byte = arrival_.front();
        request.wire_length = scan.consumed;
        request.frame = std::move(scan);
        const auto consumed = static_cast<long>(request.frame.consumed);
        pending_.erase(pending_.begin(), pending_.begin() + consumed);
        arrival_.erase(arrival_.begin(), arrival_.begin() + consumed);
        if (auto r = serve(request); !r) return r;
    }
}

void Server::take_hand_switches() {
    if (o_.hand_file.empty()) return;
    std::error_code ec;
    const auto size = std::filesystem::file_size(o_.hand_file, ec);
    if (ec) return;                             // not written yet
    if (size < hand_offset_) hand_offset_ = 0;  // truncated: start again
    if (size == hand_offset_) return;
    std::ifstream in(o_.hand_file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(hand_offset_));
    const std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const HandLines taken = take_hand_lines(tail, 0);
    hand_offset_ += taken.next_offset;
    const auto now = simulated_ms();
    for (const auto& line : taken.lines) {
        auto parsed = parse_hand_switch(line);
        if (!parsed) {
            fmt::print(stderr, "ecmgw-sim: {}: {}\n", o_.hand_file, parsed.error());
            continue;
        }
        if (!*parsed) continue;
        const HandSwitch& hand = **parsed;
        bool any = false;
        for (auto& m : bus_.meters) {
            if (!matches(m, hand.meter)) continue;
            any = true;
            // The consumption until now follows the state it had.
            std::visit([now](auto& model) { model.advance_to(now); }, m.model);
            if (switch_by_hand(m.model, hand.on)) {
                fmt::print(stderr, "ecmgw-sim: meter {} switched {} by hand\n", m.id,
                           hand.on ? "on" : "off");
            } else {
                fmt::print(stderr, "ecmgw-sim: meter {} has no relay or valve\n", m.id);
            }
        }
        if (!any) fmt::print(stderr, "ecmgw-sim: {}: no meter {}\n", o_.hand_file, hand.meter);
    }
}

std::int64_t Server::simulated_ms() const {
    const auto elapsed = static_cast<double>(wall_ms() - start_wall_ms_);
    return start_wall_ms_ + static_cast<std::int64_t>(elapsed * o_.speed);
}

Result Server::serve(const Request& request) {
    const auto now = simulated_ms();
    for (auto& m : bus_.meters) std::visit([now](auto& model) { model.advance_to(now); }, m.model);
    std::vector<Outgoing> answers;
    switch (request.frame.kind) {
        case FrameKind::Dlt645:
            serve_dlt645(request.frame.dlt645, answers);
            break;
        case FrameKind::Cjt188:
            serve_cjt188(request.frame.cjt188, answers);
            break;
        case FrameKind::ModbusRtu:
            if (auto r = serve_modbus(request.bytes, answers); !r) return r;
            break;
    }
    for (auto& a : answers) {
        if (auto r = send(request, std::move(a)); !r) return r;
    }
    return {};
}

void Server::serve_dlt645(const dlt645::Frame& frame, std::vector<Outgoing>& out) {
    const auto version = version_of(frame.function());
    const bool broadcast = frame.address.is_broadcast();
    for (std::size_t i = 0; i < bus_.meters.size(); ++i) {
        auto& m = bus_.meters[i];
        if (m.faults.dead) continue;
        std::optional<Answer> answer;
        if (auto* v2007 = std::get_if<SimulatedMeter>(&m.model);
            v2007 != nullptr && version != Dlt645Version::V1997) {
            const bool addressed = broadcast || frame.address == v2007->address() ||
                                   (frame.address.is_wildcard() && dlt2007_ == 1);
            if (addressed) answer = v2007->answer(frame);
        } else if (auto* v1997 = std::get_if<Dlt645_1997Meter>(&m.model);
                   v1997 != nullptr && version != Dlt645Version::V2007) {
            const bool addressed = broadcast || frame.address == v1997->address() ||
                                   (frame.address.is_wildcard() && dlt1997_ == 1);
            if (addressed) answer = v1997->answer(frame);
        }
        // Broadcasts are obeyed and never answered.
        if (!answer || broadcast) continue;
        const auto wakeup = static_cast<std::size_t>(o_.wakeup);
        out.push_back({i, dlt645::encode_frame(answer->frame, wakeup), wakeup, WireFormat::Dlt645,
                       std::move(answer->values)});
    }
}

void Server::serve_cjt188(const cjt188::Frame& frame, std::vector<Outgoing>& out) {
    for (std::size_t i = 0; i < bus_.meters.size(); ++i) {
        auto& m = bus_.meters[i];
        auto* meter = std::get_if<Cjt188Meter>(&m.model);
        if (meter == nullptr || m.faults.dead) continue;
        const bool addressed =
            frame.address == meter->address() || (frame.address.is_wildcard() && cjt188_ == 1);
        if (!addressed) continue;
        auto answer = meter->answer(frame);
        if (!answer) continue;
        const auto wakeup = static_cast<std::size_t>(o_.wakeup);
        out.push_back({i, cjt188::encode_frame(answer->frame, wakeup), wakeup, WireFormat::Cjt188,
                       std::move(answer->values)});
    }
}

Result Server::serve_modbus(const dlt645::Bytes& adu, std::vector<Outgoing>& out) {
    const std::uint8_t unit = adu[0];
    for (std::size_t i = 0; i < bus_.meters.size(); ++i) {
        auto& m = bus_.meters[i];
        auto* meter = std::get_if<ModbusMeter>(&m.model);
        if (meter == nullptr || m.faults.dead || (unit != 0 && meter->unit() != unit)) continue;
        auto reply = modbus_->reply(*meter, adu);
        if (!reply) return unexpected(reply.error());
        if (reply->bytes.empty()) continue;  // broadcast: obeyed, not answered
        out.push_back(
            {i, std::move(reply->bytes), 0, WireFormat::ModbusRtu, std::move(reply->values)});
    }
    return {};
}

std::chrono::microseconds Server::character_time(const SimMeter& meter) const {
    return transport::character_time(meter.line.value_or(bus_.line));
}

Result Server::send(const Request& request, Outgoing answer) {
    SimMeter& meter = bus_.meters[answer.meter];
    const Fate fate = dice_[answer.meter].roll(meter.faults);
    if (fate.drop) return {};  // the meter did the work; the answer is lost on the wire
    if (fate.wrong_address) readdress_frame(answer.bytes, answer.frame_start, answer.format);
    if (fate.corrupt) {
        corrupt_frame(answer.bytes, answer.frame_start, answer.format,
                      dice_[answer.meter].pick(answer.bytes.size()));
    }
    // Noise would break Modbus RTU framing for good, not just one answer: DL/T 645 and
    // CJ/T 188 answers only, whose receivers resync on structure.
    if (o_.noise_every > 0 && answer.format != WireFormat::ModbusRtu &&
        ++answers_ % static_cast<std::uint64_t>(o_.noise_every) == 0) {
        auto n = noise();
        answer.bytes.insert(answer.bytes.begin(), n.begin(), n.end());
    }
    // Logged before it leaves, so nothing the gateway can read is missing from the log.
    log_.write(meter, answer.values);

    const auto delay =
        std::chrono::milliseconds(meter.faults.delay_ms.value_or(o_.answer_delay_ms));
    if (!o_.wire_time) {
        std::this_thread::sleep_for(delay);
        return link_.write(answer.bytes);
    }
    // The request took its wire time to arrive (a pty delivers it at once); the answer
    // starts Td after its last byte, and each byte leaves one character time after the
    // one before.
    const auto ct = character_time(meter);
    const auto request_end = request.first_byte + ct * static_cast<long>(request.wire_length);
    const auto start = std::max(Clock::now(), request_end) + delay;
    std::size_t sent = 0;
    while (sent < answer.bytes.size()) {
        std::this_thread::sleep_until(start + ct * static_cast<long>(sent + 1));
        const auto due = static_cast<std::size_t>((Clock::now() - start) / ct);
        const auto upto = std::clamp<std::size_t>(due, sent + 1, answer.bytes.size());
        if (auto r = link_.write(std::span(answer.bytes).subspan(sent, upto - sent)); !r) return r;
        sent = upto;
    }
    return {};
}

// Line noise with frame-like bytes in it, to exercise the gateway's resync.
dlt645::Bytes Server::noise() {
    std::uniform_int_distribution<int> length(1, 12), byte(0, 255);
    dlt645::Bytes out{0x68, 0x16};
    for (int i = length(noise_rng_); i > 0; --i) {
        out.push_back(static_cast<std::uint8_t>(byte(noise_rng_)));
    }
    return out;
}

}  // namespace ecmgw::sim
