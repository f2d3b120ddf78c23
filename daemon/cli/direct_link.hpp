// The technician's direct link to one bus, without the daemon: the common flags
// become the same config structs a config file gives (a BusConfig and a
// MeterConfig, profiles in a Config), so `ecmgw read`/`relay`/`valve`/`scan`
// build their drivers with bus::make_driver exactly as the daemon does.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "bus/meter_driver.hpp"
#include "cli/link_options.hpp"
#include "ecmgw/config/config.hpp"

namespace ecmgw::cli {

// Exit codes shared by the direct commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;     // bad flags, a port that does not open
inline constexpr int kExitNoAnswer = 2;  // the meter (or any meter) did not answer
inline constexpr int kExitRefused = 3;   // the meter refused, or read back another state

// What a command prints on stderr before it exits with `exit_code`.
struct CommandError {
    int exit_code = kExitUsage;
    std::string message;
};

// What differs between the commands when they turn flags into a setup.
struct SetupRules {
    std::string_view command;      // "ecmgw read": the start of every message
    int default_timeout_ms = 600;  // DL/T 645 meters may take 500 ms to answer
    bool profile_required = true;  // modbus: scan may sweep without one
};

// What the flags describe, before anything is opened.
struct MeterSetup {
    std::string command;    // "ecmgw read"
    config::Config config;  // only the profiles are used
    config::BusConfig bus;  // the link and its line settings, timeouts
    config::MeterConfig meter;

    const config::Profile* profile() const;  // modbus with --profile; else nullptr
    bool wildcard() const;                   // the address is to be asked for
    // "meter 202012345678", "modbus unit 3", "the only meter on the bus".
    std::string meter_name() const;
};

// Checks the flags and builds the setup; modbus profiles are loaded here.
Expected<MeterSetup, CommandError> plan_meter(const LinkOptions& options, const SetupRules& rules);

// Where profiles are when --profiles-dir is not given: $ECMGW_PROFILES_DIR, the
// installed /usr/share/ecmgw/profiles, else config/profiles of the source tree
// the executable was built in (so a build tree works without installing).
std::filesystem::path default_profiles_dir();

config::Protocol protocol_of(std::string_view name);  // name already checked
bool is_dlt645(config::Protocol protocol);

// The port of a bus the daemon owns, lent to a direct command the daemon runs for
// a client (control/direct_handler.cpp): while one is in force on this thread,
// DirectLink::open borrows it, with the bus's line settings, instead of opening
// the device. Line flags the technician gave must be the bus's.
class LentPort {
  public:
    LentPort(const config::BusConfig& bus, transport::ByteLink& link, const LinkOptions& flags);
    ~LentPort();
    LentPort(const LentPort&) = delete;
    LentPort& operator=(const LentPort&) = delete;
    static const LentPort* current();

    const config::BusConfig& bus;
    transport::ByteLink& link;
    const LinkOptions& flags;

  private:
    const LentPort* previous_;
};

class DirectLink {
  public:
    static Expected<std::unique_ptr<DirectLink>, CommandError> open(MeterSetup setup);
    // On a link someone else owns and keeps open (the daemon's bus, lent to a
    // scan for its duration); its line is set from the setup.
    static Expected<std::unique_ptr<DirectLink>, CommandError> borrow(MeterSetup setup,
                                                                      transport::ByteLink& link);
    DirectLink(const DirectLink&) = delete;
    DirectLink& operator=(const DirectLink&) = delete;

    MeterSetup& setup() { return setup_; }
    bus::Exchange& exchange() { return exchange_; }
    bus::BusContext& context() { return context_; }
    std::string describe() const { return link_->describe(); }

    // With the wildcard, asks the only meter on the bus for its address (the
    // read-address of its protocol) and takes it into the setup.
    Expected<void, CommandError> resolve_address();
    Expected<std::unique_ptr<bus::MeterDriver>, CommandError> make_driver();

    // The message and exit code for a request that failed with `error`.
    CommandError failure(const bus::ReadError& error) const;

  private:
    static Expected<std::unique_ptr<DirectLink>, CommandError> borrow_lent(MeterSetup setup,
                                                                           const LentPort& lent);
    DirectLink(MeterSetup setup, std::unique_ptr<transport::ByteLink> owned,
               transport::ByteLink& link);

    MeterSetup setup_;
    std::unique_ptr<transport::ByteLink> owned_;
    transport::ByteLink* link_;
    bus::LinkCounters counters_;
    bus::Exchange exchange_;
    bus::BusContext context_;
};

// The address of the only meter on the bus, by the protocol's wildcard
// read-address (DL/T 645-1997 has none: it reads item C032 of the wildcard).
Expected<std::string, bus::ReadError> read_wildcard_address(bus::Exchange& exchange,
                                                            config::Protocol protocol);

// What to check when a meter does not answer, for this protocol and line.
std::string wiring_hint(const MeterSetup& setup);

}  // namespace ecmgw::cli
