// import-meters' flags (CLI11 stays with the executable, like command_line.cpp).
#include <CLI/CLI.hpp>

#include "cli/config_commands.hpp"

namespace ecmgw::cli {

ConfigCommands::ConfigCommands(CLI::App& app) {
    import_command_ = app.add_subcommand(
        "import-meters",
        "Turn a spreadsheet (CSV) of meters into [[meter]] entries, checked like the config");
    import_command_->add_option("file", import_.csv_path, "CSV file with a header row")->required();
    import_command_->add_option(
        "-c,--config", import_.config_path,
        "Check the entries against this config (buses, accounts, tariffs, duplicates)");
    import_command_->add_option("-o,--output", import_.output_path,
                                "Write the entries to this file instead of stdout");
    import_command_->add_option("--profiles-dir", import_.profiles_dir,
                                "Without --config: where the modbus profiles are");
}

std::optional<int> ConfigCommands::run() const {
    if (import_command_->parsed()) return run_import_meters(import_);
    return std::nullopt;
}

}  // namespace ecmgw::cli
