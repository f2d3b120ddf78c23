#include "core/provisioning.hpp"

#include <algorithm>
#include <vector>

#include "ecmgw/store/registry.hpp"

namespace ecmgw::core {

namespace {

constexpr std::size_t kErrorsInSummary = 3;

Unexpected<Refusal> refuse(std::string reason) { return unexpected(Refusal{std::move(reason)}); }

std::vector<config::Provisioned> overlay_of(const std::vector<store::ProvisionedRow>& rows) {
    std::vector<config::Provisioned> overlay;
    overlay.reserve(rows.size());
    for (const auto& r : rows) overlay.push_back({r.kind, r.id, r.body});
    return overlay;
}

bool exists(const config::Config& cfg, const std::string& kind, const std::string& id) {
    if (kind == "tariff") return cfg.find_tariff(id) != nullptr;
    if (kind == "account") return cfg.find_account(id) != nullptr;
    return cfg.find_meter(id) != nullptr;
}

}  // namespace

Expected<config::Config, config::ConfigErrors> load_effective_config(
    const std::filesystem::path& config_file, store::Store& store) {
    auto rows = store::provisioned_rows(store);
    if (!rows)
        return unexpected(config::ConfigErrors{
            config::ConfigError{config_file.string(), 0, 0, "", rows.error().message}});
    return config::load_config(config_file, overlay_of(*rows));
}

std::string summarize(const config::ConfigErrors& errors) {
    std::string out;
    for (std::size_t i = 0; i < errors.size() && i < kErrorsInSummary; ++i) {
        if (i > 0) out += "; ";
        out += errors[i].to_string();
    }
    if (errors.size() > kErrorsInSummary)
        out += " (and " + std::to_string(errors.size() - kErrorsInSummary) + " more)";
    return out;
}

Expected<std::string> entity_id(const nlohmann::json& body) {
    const nlohmann::json& first = body.is_array() && !body.empty() ? body.front() : body;
    if (!first.is_object()) return fail("expected an object");
    const auto id = first.find("id");
    if (id == first.end() || !id->is_string() || id->get_ref<const std::string&>().empty())
        return fail("its \"id\" is missing (a string such as \"A-0101\")");
    return id->get<std::string>();
}

Provisioning::Provisioning(store::Store& store, std::filesystem::path config_file,
                           std::function<void()> reload)
    : store_(store), config_file_(std::move(config_file)), reload_(std::move(reload)) {}

Expected<void, Refusal> Provisioning::check_reloadable() {
    auto cfg = load_effective_config(config_file_, store_);
    if (!cfg) return refuse("the configuration is not valid: " + summarize(cfg.error()));
    return {};
}

Expected<void, Refusal> Provisioning::change(store::Transaction& tx, const std::string& kind,
                                             const std::string& id,
                                             const std::optional<nlohmann::json>& body,
                                             const std::string& command_id, std::int64_t now_ms) {
    (void)tx;  // the registry row is written on the transaction's connection
    auto rows = store::provisioned_rows(store_);
    if (!rows) return refuse("store: " + rows.error().message);
    if (!body) {
        auto before = config::load_config(config_file_, overlay_of(*rows));
        if (!before)
            return refuse("the configuration is not valid even before this change: " +
                          summarize(before.error()));
        if (!exists(*before, kind, id)) return refuse("no " + kind + " " + id + " on this gateway");
    }
    store::ProvisionedRow row{kind, id, std::nullopt, command_id, now_ms};
    if (body) row.body = body->dump();
    // The change goes last, as it will after its row is written (rows are read in
    // change order).
    rows->erase(std::remove_if(rows->begin(), rows->end(),
                               [&](const auto& r) { return r.kind == kind && r.id == id; }),
                rows->end());
    rows->push_back(row);
    auto after = config::load_config(config_file_, overlay_of(*rows));
    if (!after) return refuse("the configuration would not be valid: " + summarize(after.error()));
    if (auto r = store::put_provisioned(store_, row); !r)
        return refuse("store: " + r.error().message);
    return {};
}

}  // namespace ecmgw::core
