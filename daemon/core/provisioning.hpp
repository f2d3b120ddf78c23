// The cloud's archive of tariffs, accounts and meters, applied without a restart:
// a tariff_set, account_set, meter_set or removal is checked by laying it (with
// everything provisioned before) over the config file and validating the whole by
// the file's own rules; only then is it written to the registry, in the command's
// transaction, and the daemon asked to reload. The config file stays the
// technician's; the registry is the cloud's, and is laid over it at every start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/prepaid_engine.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::core {

// The config file with the store's registry laid over it: what the daemon runs.
Expected<config::Config, config::ConfigErrors> load_effective_config(
    const std::filesystem::path& config_file, store::Store& store);

// Up to a few errors on one line, for an acknowledgement or a log line.
std::string summarize(const config::ConfigErrors& errors);

class Provisioning {
  public:
    // `store` is the ingest thread's connection. `reload` asks the daemon to apply
    // the config file and registry again; it is called after a change committed.
    Provisioning(store::Store& store, std::filesystem::path config_file,
                 std::function<void()> reload);

    // Sets (`body` an object, or for a tariff an array of versions) or removes
    // (`body` nullopt) one entity, inside `tx`. Refused, with the reason, when the
    // result would not be a valid config or the entity to remove does not exist.
    Expected<void, Refusal> change(store::Transaction& tx, const std::string& kind,
                                   const std::string& id, const std::optional<nlohmann::json>& body,
                                   const std::string& command_id, std::int64_t now_ms);
    // Refused when the file and registry no longer make a valid config.
    Expected<void, Refusal> check_reloadable();
    void request_reload() { reload_(); }

  private:
    store::Store& store_;
    std::filesystem::path config_file_;
    std::function<void()> reload_;
};

// The id of a provisioned object ("id", the same in every version of a tariff).
Expected<std::string> entity_id(const nlohmann::json& body);

}  // namespace ecmgw::core
