#include "cli/modbus_sweep.hpp"

#include <fmt/core.h>

#include "bus/modbus_session.hpp"
#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::cli {

namespace {

// The profile's first planned read proves the model too; without a profile,
// holding register 0: nearly every device answers it, or refuses it, which
// shows as much.
modbus::ReadRequest probe_request(const MeterSetup& s) {
    if (const auto* p = s.profile(); p != nullptr && !p->points.empty()) {
        return modbus::plan_reads(p->points, p->limits).front();
    }
    return {modbus::Table::HoldingRegister, 0, 1, {}};
}

Expected<void, bus::ReadError> ask(bus::ModbusSession& session, int unit,
                                   const modbus::ReadRequest& r) {
    auto done = [](const auto& result) -> Expected<void, bus::ReadError> {
        if (!result) return unexpected(result.error());
        return {};
    };
    switch (r.table) {
        case modbus::Table::Coil:
            return done(session.read_coils(unit, r.address, r.count));
        case modbus::Table::DiscreteInput:
            return done(session.read_discrete(unit, r.address, r.count));
        case modbus::Table::InputRegister:
            return done(session.read_input(unit, r.address, r.count));
        case modbus::Table::HoldingRegister:
            break;
    }
    return done(session.read_holding(unit, r.address, r.count));
}

enum class Presence { Absent, Present, LinkFailed };

// A garbled or mismatched answer may be a late answer from the unit before (a
// timeout too short for it) or noise: asking again tells. Only a unit that
// answers nothing but garbage is reported as such.
Presence probe_unit(bus::ModbusSession& session, int unit, const modbus::ReadRequest& r,
                    std::string& note, bus::ReadError& link_error) {
    constexpr int kAttempts = 2;
    for (int attempt = 1;; ++attempt) {
        auto answer = ask(session, unit, r);
        if (answer) return Presence::Present;
        const auto& e = answer.error();
        switch (e.kind) {
            case bus::ReadFailure::Refused:
                // An exception is an answer: a device is there, maybe another model.
                note = "answered: " + e.message;
                return Presence::Present;
            case bus::ReadFailure::Timeout:
                return Presence::Absent;
            case bus::ReadFailure::LinkError:
                link_error = e;
                return Presence::LinkFailed;
            default:
                if (attempt < kAttempts) continue;
                note = "answers, but garbled (" + e.message + "): check baud and parity";
                return Presence::Present;
        }
    }
}

}  // namespace

Expected<std::vector<FoundMeter>, CommandError> sweep_units(DirectLink& link, SweepRange range,
                                                            Progress& progress,
                                                            const std::function<bool()>& stop) {
    const auto& s = link.setup();
    auto session = link.context().modbus(
        s.bus.framing == config::Framing::Tcp ? bus::ModbusFraming::Tcp : bus::ModbusFraming::Rtu);
    if (!session) {
        return unexpected(
            CommandError{kExitUsage, fmt::format("{}: {}", s.command, session.error().message)});
    }
    const auto request = probe_request(s);
    std::vector<FoundMeter> found;
    for (int unit = range.from; unit <= range.to && !stop(); ++unit) {
        std::string note;
        bus::ReadError link_error;
        const auto presence = probe_unit(**session, unit, request, note, link_error);
        if (presence == Presence::LinkFailed) return unexpected(link.failure(link_error));
        if (presence == Presence::Present) {
            found.push_back({"", unit, note});
            progress.found(found_line(s, found.back()));
        }
        progress.step();
    }
    return found;
}

}  // namespace ecmgw::cli
