// ecmgw: the building gateway daemon and the technician's command line.
#include <fmt/core.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "app/run_daemon.hpp"
#include "cli/command_line.hpp"
#include "cli/config_commands.hpp"
#include "ecmgw/config/config.hpp"
#include "platform/journal_log.hpp"

#ifndef ECMGW_VERSION
#define ECMGW_VERSION "0.0.0"
#endif

namespace {

void setup_logging(const std::string& level) {
    spdlog::set_default_logger(ecmgw::platform::make_logger("ecmgw"));
    spdlog::set_level(spdlog::level::from_str(level));
}

ecmgw::Expected<ecmgw::config::Config> load(const std::string& path) {
    auto cfg = ecmgw::config::load_config(path);
    if (cfg) return *cfg;
    for (const auto& e : cfg.error()) fmt::print(stderr, "{}\n", e.to_string());
    return ecmgw::fail(fmt::format("{}: {} error(s); nothing started", path, cfg.error().size()));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ecmgw: prepaid metering gateway for RS-485 electricity and water meters"};
    app.require_subcommand(1);
    std::string log_level = "info";
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));

    std::string config_path = "/etc/ecmgw/ecmgw.toml";
    auto* run = app.add_subcommand("run", "Run the gateway daemon");
    run->add_option("-c,--config", config_path, "Configuration file")->capture_default_str();

    auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
    check->add_option("file", config_path, "Configuration file")->required();
    bool strict = false;
    check->add_flag("--strict", strict, "Treat warnings as errors (exit 1)");
    ecmgw::cli::ConfigCommands config_commands(app);

    ecmgw::cli::TechnicianCommands technician(app);

    app.add_subcommand("version", "Print the version");
    CLI11_PARSE(app, argc, argv);
    setup_logging(log_level);

    if (app.got_subcommand("version")) {
        fmt::print("ecmgw {}\n", ECMGW_VERSION);
        return 0;
    }
    if (auto code = technician.run()) return *code;
    if (auto code = config_commands.run()) return *code;
    if (app.got_subcommand("check-config")) {
        return ecmgw::cli::run_check_config(config_path, strict);
    }
    auto cfg = load(config_path);
    if (!cfg) {
        fmt::print(stderr, "{}\n", cfg.error().message);
        return 1;
    }
    ecmgw::app::block_signals();
    return ecmgw::app::run_daemon(*cfg);
}
