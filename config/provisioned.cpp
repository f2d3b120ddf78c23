#include <nlohmann/json.hpp>

#include <limits>
#include <optional>
#include <string>

#include "provisioned_overlay.hpp"

namespace ecmgw::config {

namespace {

using nlohmann::json;

// TOML has no null, and a binary float must never reach a price: the file's rule
// (decimals as strings) holds for the cloud's objects too.
class JsonToToml {
  public:
    explicit JsonToToml(std::string& problem) : problem_(problem) {}

    std::unique_ptr<toml::node> convert(const json& value, const std::string& path) {
        switch (value.type()) {
            case json::value_t::object: {
                auto table = std::make_unique<toml::table>();
                for (const auto& [key, item] : value.items()) {
                    auto node = convert(item, path.empty() ? key : path + "." + key);
                    if (!node) return nullptr;
                    table->insert(key, std::move(*node));
                }
                return table;
            }
            case json::value_t::array: {
                auto array = std::make_unique<toml::array>();
                for (std::size_t i = 0; i < value.size(); ++i) {
                    auto node = convert(value[i], path + "[" + std::to_string(i + 1) + "]");
                    if (!node) return nullptr;
                    array->push_back(std::move(*node));
                }
                return array;
            }
            case json::value_t::string:
                return std::make_unique<toml::value<std::string>>(value.get<std::string>());
            case json::value_t::boolean:
                return std::make_unique<toml::value<bool>>(value.get<bool>());
            case json::value_t::number_integer:
                return std::make_unique<toml::value<std::int64_t>>(value.get<std::int64_t>());
            case json::value_t::number_unsigned: {
                const auto u = value.get<std::uint64_t>();
                if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    problem_ = path + ": integer " + std::to_string(u) + " is too large";
                    return nullptr;
                }
                return std::make_unique<toml::value<std::int64_t>>(static_cast<std::int64_t>(u));
            }
            case json::value_t::number_float:
                problem_ = path + ": found a number with a fraction (" + value.dump() +
                           "); expected an integer, or a decimal written as a string such as "
                           "\"0.5283\"";
                return nullptr;
            case json::value_t::null:
                problem_ = path + ": found null; leave the key out instead";
                return nullptr;
            default:
                problem_ = path + ": found a value JSON config cannot hold (" +
                           std::string(value.type_name()) + ")";
                return nullptr;
        }
    }

  private:
    std::string& problem_;
};

// The body's tables (a tariff may come as an array of versions), or why not.
Expected<std::vector<toml::table>> tables_of(const Provisioned& p) {
    json body = json::parse(*p.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return fail("the stored body is not JSON");
    std::vector<json> objects;
    if (body.is_array() && p.kind == "tariff") {
        for (auto& version : body) objects.push_back(std::move(version));
    } else {
        objects.push_back(std::move(body));
    }
    if (objects.empty()) return fail("expected at least one tariff version");
    std::vector<toml::table> tables;
    std::string problem;
    JsonToToml converter(problem);
    for (const auto& object : objects) {
        if (!object.is_object()) return fail("expected a JSON object with the config file's keys");
        const auto id = object.find("id");
        if (id == object.end() || !id->is_string() || id->get<std::string>() != p.id)
            return fail("expected \"id\": \"" + p.id + "\" in the object");
        auto node = converter.convert(object, "");
        if (!node) return fail(problem);
        tables.push_back(std::move(*node->as_table()));
    }
    return tables;
}

}  // namespace

bool is_provisionable_kind(std::string_view kind) {
    return kind == "tariff" || kind == "account" || kind == "meter";
}

void lay_over(toml::table& root, std::span<const Provisioned> provisioned, check::Errors& errors) {
    for (const Provisioned& p : provisioned) {
        const std::string where = p.kind + " " + p.id + " (provisioned by the cloud)";
        if (!is_provisionable_kind(p.kind)) {
            errors.add_unplaced(where, "not a kind the cloud can provision");
            continue;
        }
        std::vector<toml::table> tables;
        if (p.body) {
            auto parsed = tables_of(p);
            if (!parsed) {
                errors.add_unplaced(where, parsed.error().message);
                continue;
            }
            tables = std::move(*parsed);
        }
        toml::node* existing = root.get(p.kind);
        if (existing == nullptr) {
            if (tables.empty()) continue;
            existing = &root.insert_or_assign(p.kind, toml::array{}).first->second;
        }
        toml::array* array = existing->as_array();
        if (array == nullptr) continue;  // the file's own mistake, reported by its check
        for (std::size_t i = array->size(); i-- > 0;) {
            const toml::table* t = array->get(i)->as_table();
            if (t == nullptr) continue;
            const auto* id = t->get_as<std::string>("id");
            if (id != nullptr && id->get() == p.id) array->erase(array->begin() + i);
        }
        for (auto& t : tables) array->push_back(std::move(t));
    }
}

}  // namespace ecmgw::config
