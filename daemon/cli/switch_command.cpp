#include "cli/switch_command.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "bus/dlt645_client.hpp"
#include "bus/meter_clock.hpp"
#include "cli/direct_link.hpp"
#include "cli/output.hpp"
#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::cli {

namespace {

using std::chrono::seconds;

// How long a state that is not yet the one asked for is read again: a motorised
// valve takes many seconds to travel; a relay is done once its bits settle (the
// DL/T 645 driver already waits for them).
constexpr seconds kValveTravel{30};
constexpr seconds kRelaySettle{3};
constexpr seconds kReadBackEvery{1};

struct Names {
    std::string_view command;  // "ecmgw relay"
    std::string_view thing;    // "relay"
};

Names names_of(SupplySwitch what) {
    return what == SupplySwitch::Relay ? Names{"ecmgw relay", "relay"}
                                       : Names{"ecmgw valve", "valve"};
}

std::string state_name(SupplySwitch what, bus::SupplyState s) {
    if (s == bus::SupplyState::Unknown) return "unknown";
    const bool on = s == bus::SupplyState::On;
    if (what == SupplySwitch::Valve) return on ? "open" : "closed";
    return on ? "on (relay closed)" : "off (relay open)";
}

Unexpected<CommandError> usage(const Names& n, std::string message) {
    return unexpected(CommandError{kExitUsage, fmt::format("{}: {}", n.command, message)});
}

// Which protocols switch what: a DL/T 645-2007 relay, a CJ/T 188 valve, or what
// the Modbus profile describes.
Expected<void, CommandError> check_switchable(SupplySwitch what, const MeterSetup& s) {
    const Names n = names_of(what);
    const auto protocol = s.meter.protocol;
    if (protocol == config::Protocol::Modbus) {
        const auto* p = s.profile();
        const bool has = what == SupplySwitch::Relay ? p->relay.has_value() : p->valve.has_value();
        if (!has) return usage(n, fmt::format("profile {} describes no {}", p->name, n.thing));
        return {};
    }
    if (what == SupplySwitch::Relay && protocol == config::Protocol::Dlt645_2007) return {};
    if (what == SupplySwitch::Valve && protocol == config::Protocol::Cjt188) return {};
    if (protocol == config::Protocol::Dlt645_1997) {
        return usage(n, "DL/T 645-1997 defines no relay control");
    }
    return usage(n, fmt::format("{} meters have no {}: use `ecmgw {}`", config::to_string(protocol),
                                n.thing, what == SupplySwitch::Relay ? "valve" : "relay"));
}

// A control command carries a deadline the meter checks against its own clock.
Expected<void, CommandError> check_clock(const Names& n, const MeterSetup& s) {
    if (s.meter.protocol != config::Protocol::Dlt645_2007) return {};
    if (bus::clock_is_plausible(std::chrono::system_clock::now())) return {};
    return usage(n,
                 "the gateway clock is not set, and a DL/T 645 control command carries a "
                 "validity deadline the meter checks: set the clock first (timedatectl "
                 "set-time, or date -s)");
}

Expected<void, CommandError> apply_control(const SwitchOptions& o, MeterSetup& s) {
    const Names n = names_of(SupplySwitch::Relay);
    s.meter.relay = true;
    s.meter.password = o.password;
    s.meter.privilege = o.privilege;
    s.meter.operator_code = o.operator_code;
    s.meter.control_valid_s = o.valid_s;
    if (s.meter.protocol != config::Protocol::Dlt645_2007) return {};
    auto auth = dlt645::ControlAuth::parse(static_cast<std::uint8_t>(o.privilege), o.password,
                                           o.operator_code);
    if (!auth) return usage(n, auth.error().message);
    return {};
}

// The process's zone: not when the daemon runs the command on its bus, whose
// meters keep the gateway's zone ([gateway] timezone) and whose other threads
// read TZ.
Expected<void, CommandError> use_timezone(const Names& n, const std::string& zone) {
    if (zone.empty()) return {};
    if (LentPort::current() != nullptr) {
        return usage(n,
                     "--timezone: through the gateway daemon the meters' clocks keep its zone "
                     "([gateway] timezone); leave the flag out");
    }
    ::setenv("TZ", zone.c_str(), 1);
    ::tzset();
    return {};
}

// Modbus profiles may describe how to switch without saying where the state is.
bool can_read_back(SupplySwitch what, const MeterSetup& s) {
    const auto* p = s.profile();
    if (p == nullptr) return true;
    const auto& control = what == SupplySwitch::Relay ? p->relay : p->valve;
    return control && control->state;
}

// Reads the state again while it is not the one wanted, for as long as the
// device may take to get there.
Expected<bus::SupplyState, bus::ReadError> settle(
    SupplySwitch what, DirectLink& link, bus::MeterDriver& driver, bool on,
    Expected<bus::SupplyState, bus::ReadError> state) {
    const auto wanted = on ? bus::SupplyState::On : bus::SupplyState::Off;
    const auto deadline = std::chrono::steady_clock::now() +
                          (what == SupplySwitch::Valve ? kValveTravel : kRelaySettle);
    // A CJ/T 188 valve answer carries the status the meter had when it answered;
    // reading the meter again is the read-back.
    if (state && link.setup().meter.protocol == config::Protocol::Cjt188) {
        state = driver.supply_state(link.context());
    }
    while (state && *state != wanted && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kReadBackEvery);
        state = driver.supply_state(link.context());
    }
    return state;
}

std::string modbus_writes(const modbus::SwitchControl& control, bool on) {
    std::vector<std::string> writes;
    for (const auto& w : modbus::plan_switch(control, on)) {
        std::vector<std::string> values;
        for (auto v : w.values) values.push_back(fmt::format("0x{:04X}", v));
        writes.push_back(fmt::format("write {} 0x{:04X} = {}", modbus::to_string(w.table),
                                     w.address, fmt::join(values, " ")));
    }
    return fmt::format("{}", fmt::join(writes, "; "));
}

// What goes to the meter, in its protocol's terms, so that a technician can
// compare it with the meter's manual.
std::string command_sent(SupplySwitch what, const MeterSetup& s, bool on) {
    switch (s.meter.protocol) {
        case config::Protocol::Dlt645_2007: {
            const auto c = on ? dlt645::ControlCommand::DirectClose : dlt645::ControlCommand::Trip;
            return fmt::format("control 1C, N1 = {:02X} ({}), valid {} s", static_cast<int>(c),
                               dlt645::control_command_name(c), s.meter.control_valid_s);
        }
        case config::Protocol::Cjt188:
            return fmt::format("valve control A017 = {}", on ? "55 (open)" : "99 (close)");
        default: {
            const auto* p = s.profile();
            return modbus_writes(what == SupplySwitch::Relay ? *p->relay : *p->valve, on);
        }
    }
}

std::string who(DirectLink& link) {
    const auto& s = link.setup();
    return fmt::format("{} ({}) on {}", s.meter_name(), config::to_string(s.meter.protocol),
                       link.describe());
}

void print_json(DirectLink& link, SupplySwitch what, const std::string& action,
                std::optional<bus::SupplyState> state, bool ok, const std::string& error) {
    const auto& s = link.setup();
    JsonMembers m;
    if (s.meter.protocol == config::Protocol::Modbus) {
        m.emplace_back("unit", std::to_string(s.meter.unit));
        m.emplace_back("profile", json_string(s.meter.profile));
    } else {
        m.emplace_back("address", json_string(s.meter.address));
    }
    m.emplace_back("protocol", json_string(config::to_string(s.meter.protocol)));
    m.emplace_back("command", json_string(names_of(what).thing));
    m.emplace_back("action", json_string(action));
    if (state) m.emplace_back("state", json_string(bus::to_string(*state)));
    m.emplace_back("ok", ok ? "true" : "false");
    if (!error.empty()) m.emplace_back("error", json_string(error));
    print_out(fmt::format("{}\n", json_object(m)));
}

int finish(DirectLink& link, SupplySwitch what, const SwitchOptions& o, bool on,
           const Expected<bus::SupplyState, bus::ReadError>& state) {
    const Names n = names_of(what);
    if (!state) {
        CommandError e = link.failure(state.error());
        if (e.exit_code == kExitRefused) {
            e.message = fmt::format("{}: {} refused the command or answered it wrongly: {}",
                                    n.command, link.setup().meter_name(), state.error().message);
        }
        if (o.link.json)
            print_json(link, what, o.action, std::nullopt, false, state.error().message);
        return report(e);
    }
    const auto wanted = on ? bus::SupplyState::On : bus::SupplyState::Off;
    const bool ok = *state == wanted;
    std::string error = ok ? ""
                           : fmt::format("the {} reads back {}, expected {}", n.thing,
                                         state_name(what, *state), state_name(what, wanted));
    if (!can_read_back(what, link.setup())) {
        error = fmt::format(
            "the meter took the command, but profile {} has no state register to read the {} "
            "back: check the meter itself",
            link.setup().meter.profile, n.thing);
    }
    if (o.link.json) {
        print_json(link, what, o.action, *state, ok, error);
    } else {
        print_out(fmt::format("read back: {}\n", state_name(what, *state)));
    }
    if (ok) return kExitOk;
    return report({kExitRefused, fmt::format("{}: {}", n.command, error)});
}

// The relay commands of DL/T 645-2007 other than on and off.
std::optional<dlt645::ControlCommand> other_relay_command(std::string_view action) {
    if (action == "close-allowed") return dlt645::ControlCommand::CloseAllowed;
    if (action == "alarm") return dlt645::ControlCommand::Alarm;
    if (action == "alarm-release") return dlt645::ControlCommand::AlarmRelease;
    if (action == "keep-power") return dlt645::ControlCommand::KeepPower;
    if (action == "keep-power-release") return dlt645::ControlCommand::KeepPowerRelease;
    return std::nullopt;
}

// Sends one of those commands, then shows status word 3 (relay and alarm bits):
// they change what the meter may do, not the relay itself, so there is no
// state to wait for.
int run_relay_control(const SwitchOptions& o, dlt645::ControlCommand command) {
    const Names n = names_of(SupplySwitch::Relay);
    auto setup = plan_meter(o.link, SetupRules{n.command});
    if (!setup) return report(setup.error());
    if (setup->meter.protocol != config::Protocol::Dlt645_2007) {
        return report(
            usage(n, fmt::format("'{}' is a DL/T 645-2007 control command", o.action)).error);
    }
    if (auto r = apply_control(o, *setup); !r) return report(r.error());
    if (auto r = check_clock(n, *setup); !r) return report(r.error());
    if (auto r = use_timezone(n, o.timezone); !r) return report(r.error());
    auto link = DirectLink::open(std::move(*setup));
    if (!link) return report(link.error());
    auto& l = **link;
    if (auto r = l.resolve_address(); !r) return report(r.error());
    auto address = dlt645::Address::parse(l.setup().meter.address);
    auto auth = dlt645::ControlAuth::parse(static_cast<std::uint8_t>(o.privilege), o.password,
                                           o.operator_code);
    if (!address || !auth) return report(usage(n, "bad address or credentials").error);
    bus::Dlt645Client client(l.context().exchange());
    const auto deadline = std::chrono::system_clock::now() + seconds(o.valid_s);
    auto done = client.control(*address, *auth, command, bus::local_datetime(deadline));
    if (!done) return report(l.failure(done.error()));
    auto word = client.read(*address, *dlt645::find_data_item(0x04000503));
    const std::string name(dlt645::control_command_name(command));
    if (!word) {
        print_out(fmt::format("{}: {} accepted {}; status word 3 unreadable: {}\n", n.command,
                              who(l), name, word.error().message));
        return kExitOk;
    }
    const auto bits = dlt645::decode_relay_status(word->status);
    if (o.link.json) {
        print_out(fmt::format(
            R"({{"address":"{}","command":"{}","accepted":true,"relay_open":{},"pre_trip_alarm":{},"status_word_3":{}}})"
            "\n",
            address->to_string(), o.action, bits.open, bits.pre_trip_alarm, word->status));
    } else {
        print_out(fmt::format(
            "{}: {} accepted {}\nstatus word 3: 0x{:04X} (relay {}, pre-trip alarm {})\n",
            n.command, who(l), name, word->status, bits.open ? "open" : "closed",
            bits.pre_trip_alarm ? "on" : "off"));
    }
    return kExitOk;
}

}  // namespace

int run_switch(SupplySwitch what, const SwitchOptions& o) {
    const Names n = names_of(what);
    if (what == SupplySwitch::Relay) {
        if (auto command = other_relay_command(o.action)) return run_relay_control(o, *command);
    }
    const bool on = o.action == "on" || o.action == "open";
    auto setup = plan_meter(o.link, SetupRules{n.command});
    if (!setup) return report(setup.error());
    if (auto r = check_switchable(what, *setup); !r) return report(r.error());
    if (auto r = apply_control(o, *setup); !r) return report(r.error());
    if (auto r = check_clock(n, *setup); !r) return report(r.error());
    if (auto r = use_timezone(n, o.timezone); !r) return report(r.error());
    auto link = DirectLink::open(std::move(*setup));
    if (!link) return report(link.error());
    auto& l = **link;
    if (auto r = l.resolve_address(); !r) return report(r.error());
    auto driver = l.make_driver();
    if (!driver) return report(driver.error());
    if (!o.link.json) {
        print_out(fmt::format("{} {}: {}: {}\n", n.thing, o.action, who(l),
                              command_sent(what, l.setup(), on)));
    }
    auto state = (*driver)->switch_supply(l.context(), on);
    if (can_read_back(what, l.setup())) state = settle(what, l, **driver, on, std::move(state));
    return finish(l, what, o, on, state);
}

}  // namespace ecmgw::cli
