#include "cli/direct_link.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <system_error>

#include "bus/cjt188_driver.hpp"
#include "bus/dlt645_client.hpp"
#include "bus/driver_factory.hpp"
#include "ecmgw/protocols/cjt188.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"
#include "ecmgw/protocols/serial_port.hpp"
#include "ecmgw/protocols/tcp_link.hpp"

namespace ecmgw::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kInstalledProfiles = "/usr/share/ecmgw/profiles";
constexpr std::uint16_t kDiAddress1997 = 0xC032;
constexpr int kMaxUnit = 247;

Unexpected<CommandError> usage(std::string message) {
    return unexpected(CommandError{kExitUsage, std::move(message)});
}

config::Parity parity_of(char c) {
    return c == 'N' ? config::Parity::None : c == 'O' ? config::Parity::Odd : config::Parity::Even;
}

std::optional<config::MeterType> meter_type_of(std::string_view name) {
    for (int i = 0; i <= static_cast<int>(config::MeterType::Gas); ++i) {
        const auto type = static_cast<config::MeterType>(i);
        if (config::to_string(type) == name) return type;
    }
    return std::nullopt;
}

Expected<void, CommandError> check_link_flags(const LinkOptions& o, config::Protocol protocol) {
    if (o.device.empty() == o.host.empty()) {
        return usage("give either --device (a serial port) or --host and --port (a serial server)");
    }
    if (!o.host.empty() && (o.port < 1 || o.port > 65535)) {
        return usage("--host needs --port 1..65535");
    }
    if (o.framing == "tcp" && protocol != config::Protocol::Modbus) {
        return usage("--framing tcp is Modbus TCP: only for --protocol modbus");
    }
    if (o.framing == "tcp" && o.host.empty()) {
        return usage("--framing tcp (Modbus TCP) needs --host and --port");
    }
    return {};
}

// The address as 12 (DL/T 645) or 14 (CJ/T 188) digits; the wildcard when empty.
Expected<std::string, CommandError> normalised_address(const LinkOptions& o,
                                                       config::Protocol protocol) {
    if (protocol == config::Protocol::Modbus) {
        if (!o.address.empty()) {
            return usage("modbus meters have a unit id, not an address: use --unit");
        }
        return std::string();
    }
    if (protocol == config::Protocol::Cjt188) {
        auto a =
            o.address.empty() ? cjt188::Address::wildcard() : cjt188::Address::parse(o.address);
        if (!a) return usage("--address " + o.address + ": " + a.error().message);
        return a->is_wildcard() ? std::string(14, 'A') : a->to_string();
    }
    auto a = o.address.empty() ? dlt645::Address::wildcard() : dlt645::Address::parse(o.address);
    if (!a) return usage("--address " + o.address + ": " + a.error().message);
    if (a->is_broadcast())
        return usage("--address 999999999999 is the broadcast: no meter answers it");
    return a->is_wildcard() ? std::string(12, 'A') : a->to_string();
}

std::string profile_names(const std::vector<config::Profile>& profiles) {
    std::string names;
    for (const auto& p : profiles) names += (names.empty() ? "" : ", ") + p.name;
    return names.empty() ? "none" : names;
}

Expected<void, CommandError> load_profile(const LinkOptions& o, const SetupRules& rules,
                                          MeterSetup& s) {
    const fs::path dir = o.profiles_dir.empty() ? default_profiles_dir() : fs::path(o.profiles_dir);
    if (o.profile.empty() && !rules.profile_required) return {};
    auto profiles = config::load_profiles(dir);
    if (!profiles) {
        std::string message = "cannot load the profiles in " + dir.string() + ":";
        for (const auto& e : profiles.error()) message += "\n  " + e.to_string();
        return usage(message + "\n(give the directory with --profiles-dir)");
    }
    s.config.profiles = std::move(*profiles);
    if (o.profile.empty()) {
        return usage("modbus needs --profile NAME, one of: " + profile_names(s.config.profiles));
    }
    if (config::find_profile(s.config.profiles, o.profile) == nullptr) {
        return usage("no profile '" + o.profile + "' in " + dir.string() +
                     "; there are: " + profile_names(s.config.profiles));
    }
    s.meter.profile = o.profile;
    return {};
}

// Serial settings: the flags where given, else the profile's factory setting
// (modbus) or the protocol's usual 2400 8E1 (DL/T 645, CJ/T 188).
void apply_line(const LinkOptions& o, MeterSetup& s) {
    const auto* profile = s.profile();
    int baud = 2400;
    auto parity = config::Parity::Even;
    if (s.meter.protocol == config::Protocol::Modbus) {
        baud = profile != nullptr ? profile->default_baud : 9600;
        parity = profile != nullptr ? profile->default_parity : config::Parity::None;
    }
    s.bus.baud = o.baud > 0 ? o.baud : baud;
    s.bus.parity = o.parity.empty() ? parity : parity_of(o.parity[0]);
    s.bus.data_bits = o.data_bits > 0 ? o.data_bits : 8;
    s.bus.stop_bits = o.stop_bits > 0 ? o.stop_bits : 1;
}

void apply_transport(const LinkOptions& o, const SetupRules& rules, config::BusConfig& bus) {
    bus.name = "cli";
    bus.device = o.device;
    bus.transport = o.host.empty() ? config::Transport::Serial : config::Transport::Tcp;
    bus.host = o.host;
    bus.port = o.port;
    bus.framing = o.framing == "tcp" ? config::Framing::Tcp : config::Framing::Rtu;
    bus.timeout_ms = o.timeout_ms > 0 ? o.timeout_ms : rules.default_timeout_ms;
    bus.retries = 0;  // the technician sees every failure and repeats the command
}

Expected<void, CommandError> apply_meter(const LinkOptions& o, MeterSetup& s) {
    auto& m = s.meter;
    m.id = "cli";
    m.bus = s.bus.name;
    auto address = normalised_address(o, m.protocol);
    if (!address) return unexpected(address.error());
    m.address = *address;
    if (m.protocol == config::Protocol::Modbus && (o.unit < 1 || o.unit > kMaxUnit)) {
        return usage("--unit " + std::to_string(o.unit) + ": expected 1..247");
    }
    m.unit = m.protocol == config::Protocol::Modbus ? o.unit : 0;
    const auto type = meter_type_of(o.meter_type);
    if (!type) return usage("--meter-type " + o.meter_type + ": unknown CJ/T 188 meter type");
    m.meter_type = *type;
    m.kind = m.protocol == config::Protocol::Cjt188 ? config::MeterKind::Water
                                                    : config::MeterKind::Electricity;
    m.quantities = o.quantities;
    return {};
}

// The source tree's config/profiles, searched upward from the executable
// (build/daemon/ecmgw → ../../config/profiles).
std::optional<fs::path> source_tree_profiles() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return std::nullopt;
    for (fs::path dir = exe.parent_path(); !dir.empty(); dir = dir.parent_path()) {
        const fs::path candidate = dir / "config" / "profiles";
        if (fs::is_directory(candidate, ec)) return candidate;
        if (dir == dir.root_path()) break;
    }
    return std::nullopt;
}

Expected<std::unique_ptr<transport::ByteLink>> open_link(const config::BusConfig& bus) {
    if (bus.transport == config::Transport::Tcp) {
        return transport::open_tcp({bus.host, bus.port, std::chrono::milliseconds(5000)});
    }
    return transport::open_serial_port(
        {bus.device, bus.baud, config::to_char(bus.parity), bus.data_bits, bus.stop_bits});
}

bus::LinkTiming timing_of(const config::BusConfig& bus) {
    return {std::chrono::milliseconds(bus.timeout_ms),
            std::chrono::milliseconds(bus.inter_byte_timeout_ms)};
}

// The setup, or what is wrong with the flags (without the command's name).
Expected<MeterSetup, CommandError> setup_from_flags(const LinkOptions& o, const SetupRules& rules) {
    MeterSetup s;
    s.meter.protocol = protocol_of(o.protocol);
    if (auto r = check_link_flags(o, s.meter.protocol); !r) return unexpected(r.error());
    apply_transport(o, rules, s.bus);
    if (auto r = apply_meter(o, s); !r) return unexpected(r.error());
    if (s.meter.protocol == config::Protocol::Modbus) {
        if (auto r = load_profile(o, rules, s); !r) return unexpected(r.error());
        if (const auto* p = s.profile(); p != nullptr && p->kind == "water") {
            s.meter.kind = config::MeterKind::Water;
        }
    }
    apply_line(o, s);
    return s;
}

thread_local const LentPort* t_lent = nullptr;

// The first line flag given that is not the bus's, as "--baud 9600"; empty when none.
std::string line_flag_off_the_bus(const LinkOptions& f, const config::BusConfig& bus) {
    if (f.baud > 0 && f.baud != bus.baud) return "--baud " + std::to_string(f.baud);
    if (!f.parity.empty() && f.parity[0] != config::to_char(bus.parity))
        return "--parity " + f.parity;
    if (f.data_bits > 0 && f.data_bits != bus.data_bits) {
        return "--data-bits " + std::to_string(f.data_bits);
    }
    if (f.stop_bits > 0 && f.stop_bits != bus.stop_bits) {
        return "--stop-bits " + std::to_string(f.stop_bits);
    }
    return "";
}

}  // namespace

LentPort::LentPort(const config::BusConfig& b, transport::ByteLink& l, const LinkOptions& f)
    : bus(b), link(l), flags(f), previous_(t_lent) {
    t_lent = this;
}

LentPort::~LentPort() { t_lent = previous_; }

const LentPort* LentPort::current() { return t_lent; }

Expected<std::unique_ptr<DirectLink>, CommandError> DirectLink::borrow_lent(MeterSetup setup,
                                                                            const LentPort& lent) {
    const auto& bus = lent.bus;
    if (auto flag = line_flag_off_the_bus(lent.flags, bus); !flag.empty()) {
        return usage(fmt::format(
            "{}: {}: the running gateway daemon keeps bus {} at {} {}{}{}, which its meters "
            "share; leave out the line flags, or stop the daemon (systemctl stop ecmgw) to use "
            "other settings",
            setup.command, flag, bus.name, bus.baud, bus.data_bits, config::to_char(bus.parity),
            bus.stop_bits));
    }
    setup.bus.baud = bus.baud;
    setup.bus.parity = bus.parity;
    setup.bus.data_bits = bus.data_bits;
    setup.bus.stop_bits = bus.stop_bits;
    return borrow(std::move(setup), lent.link);
}

const config::Profile* MeterSetup::profile() const {
    if (meter.protocol != config::Protocol::Modbus || meter.profile.empty()) return nullptr;
    return config::find_profile(config.profiles, meter.profile);
}

bool MeterSetup::wildcard() const {
    return !meter.address.empty() && meter.address.find_first_not_of('A') == std::string::npos;
}

std::string MeterSetup::meter_name() const {
    if (meter.protocol == config::Protocol::Modbus)
        return "modbus unit " + std::to_string(meter.unit);
    if (wildcard()) return "the only meter on the bus (wildcard address)";
    return "meter " + meter.address;
}

config::Protocol protocol_of(std::string_view name) {
    if (name == "dlt645-1997") return config::Protocol::Dlt645_1997;
    if (name == "cjt188") return config::Protocol::Cjt188;
    if (name == "modbus") return config::Protocol::Modbus;
    return config::Protocol::Dlt645_2007;
}

bool is_dlt645(config::Protocol protocol) {
    return protocol == config::Protocol::Dlt645_2007 || protocol == config::Protocol::Dlt645_1997;
}

fs::path default_profiles_dir() {
    if (const char* env = std::getenv("ECMGW_PROFILES_DIR"); env != nullptr && *env != '\0') {
        return env;
    }
    std::error_code ec;
    if (fs::is_directory(kInstalledProfiles, ec)) return fs::path(kInstalledProfiles);
    return source_tree_profiles().value_or(fs::path(kInstalledProfiles));
}

Expected<MeterSetup, CommandError> plan_meter(const LinkOptions& o, const SetupRules& rules) {
    auto s = setup_from_flags(o, rules);
    if (!s) {
        return unexpected(CommandError{s.error().exit_code,
                                       fmt::format("{}: {}", rules.command, s.error().message)});
    }
    s->command = rules.command;
    return s;
}

std::string wiring_hint(const MeterSetup& s) {
    const auto& bus = s.bus;
    const std::string line = fmt::format("{} {}{}{}", bus.baud, bus.data_bits,
                                         config::to_char(bus.parity), bus.stop_bits);
    switch (s.meter.protocol) {
        case config::Protocol::Modbus: {
            const auto* p = s.profile();
            const std::string usual =
                p != nullptr ? fmt::format("profile {}: factory setting {} 8{}1", p->name,
                                           p->default_baud, config::to_char(p->default_parity))
                             : "Modbus meters commonly use 9600 8N1";
            return fmt::format(
                "Check the A/B wiring, the unit id, baud rate and parity (tried {}; {}).", line,
                usual);
        }
        case config::Protocol::Cjt188:
            return fmt::format(
                "Check the A/B wiring (M-Bus meters need an M-Bus adapter), the meter's address, "
                "baud rate and parity (tried {}; CJ/T 188 meters commonly use 2400 8E1).",
                line);
        default:
            return fmt::format(
                "Check the A/B wiring, the meter's address, baud rate and parity (tried {}; "
                "DL/T 645 meters commonly use 2400 8E1).",
                line);
    }
}

DirectLink::DirectLink(MeterSetup setup, std::unique_ptr<transport::ByteLink> owned,
                       transport::ByteLink& link)
    : setup_(std::move(setup)),
      owned_(std::move(owned)),
      link_(&link),
      exchange_{*link_, timing_of(setup_.bus), counters_},
      context_(exchange_) {}

Expected<std::unique_ptr<DirectLink>, CommandError> DirectLink::open(MeterSetup setup) {
    // Two masters on one bus garble each other's frames: on a port the daemon owns,
    // the command runs in the daemon, on the port it lends (command_line.cpp).
    if (const auto* lent = LentPort::current()) return borrow_lent(std::move(setup), *lent);
    auto link = open_link(setup.bus);
    if (!link) return usage(fmt::format("{}: {}", setup.command, link.error().message));
    auto& l = **link;
    return std::unique_ptr<DirectLink>(new DirectLink(std::move(setup), std::move(*link), l));
}

Expected<std::unique_ptr<DirectLink>, CommandError> DirectLink::borrow(MeterSetup setup,
                                                                       transport::ByteLink& link) {
    if (auto line = link.set_line(bus::bus_line(setup.bus)); !line) {
        return usage(fmt::format("{}: {}", setup.command, line.error().message));
    }
    return std::unique_ptr<DirectLink>(new DirectLink(std::move(setup), nullptr, link));
}

Expected<std::string, bus::ReadError> read_wildcard_address(bus::Exchange& exchange,
                                                            config::Protocol protocol) {
    if (protocol == config::Protocol::Cjt188) {
        auto a = bus::cjt188_read_address(exchange);
        if (!a) return unexpected(a.error());
        return a->to_string();
    }
    bus::Dlt645Client client(exchange);
    if (protocol == config::Protocol::Dlt645_2007) {
        auto a = client.read_address();
        if (!a) return unexpected(a.error());
        return a->to_string();
    }
    auto v =
        client.read_1997(dlt645::Address::wildcard(), *dlt645_1997::find_data_item(kDiAddress1997));
    if (!v) return unexpected(v.error());
    return v->address.to_string();
}

Expected<void, CommandError> DirectLink::resolve_address() {
    if (!setup_.wildcard()) return {};
    auto address = read_wildcard_address(exchange_, setup_.meter.protocol);
    if (!address) {
        auto e = failure(address.error());
        if (address.error().kind == bus::ReadFailure::Garbled) {
            e.message +=
                "\nSeveral meters answering the wildcard at once garble each other: "
                "give --address, or find the addresses with `ecmgw scan`.";
        }
        return unexpected(e);
    }
    setup_.meter.address = *address;
    return {};
}

Expected<std::unique_ptr<bus::MeterDriver>, CommandError> DirectLink::make_driver() {
    auto driver = bus::make_driver(setup_.config, setup_.bus, setup_.meter);
    if (!driver) return usage(fmt::format("{}: {}", setup_.command, driver.error().message));
    return std::move(*driver);
}

CommandError DirectLink::failure(const bus::ReadError& e) const {
    const auto& command = setup_.command;
    if (e.kind == bus::ReadFailure::LinkError) {
        return {kExitUsage, fmt::format("{}: {}: {}", command, link_->describe(), e.message)};
    }
    if (e.kind == bus::ReadFailure::Timeout || e.kind == bus::ReadFailure::Garbled) {
        return {kExitNoAnswer,
                fmt::format("{}: {} on {} did not answer: {}.\n{}", command, setup_.meter_name(),
                            link_->describe(), e.message, wiring_hint(setup_))};
    }
    return {kExitRefused, fmt::format("{}: {} on {}: {}", command, setup_.meter_name(),
                                      link_->describe(), e.message)};
}

}  // namespace ecmgw::cli
