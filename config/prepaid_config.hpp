// Private to the config module: the prepaid tables of the gateway's config
// ([[tariff]], [[account]], [prepaid]) and the prepaid keys of a [[meter]].
// Checked like the rest of the file: every mistake with file:line:column, all at once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/config/config.hpp"
#include "toml_check.hpp"

namespace ecmgw::config::check {

// New keys go at the end of each list, so messages that list them stay stable.
inline constexpr std::array<std::string_view, 13> kTariffKeys{"id",
                                                              "utility",
                                                              "price",
                                                              "prices",
                                                              "tiers",
                                                              "periods",
                                                              "weekend_periods",
                                                              "holiday_periods",
                                                              "cycle",
                                                              "cycle_start",
                                                              "fixed_daily_fen",
                                                              "fixed_monthly_fen",
                                                              "effective_from"};
inline constexpr std::array<std::string_view, 8> kAccountKeys{"id",
                                                              "tariff",
                                                              "warn_fen",
                                                              "credit_limit_fen",
                                                              "emergency_credit_fen",
                                                              "restore_above_fen",
                                                              "keep_power",
                                                              "opening_balance_fen"};
inline constexpr std::array<std::string_view, 10> kPrepaidKeys{
    "friendly_hours",  "friendly_weekends",      "friendly_holidays", "holidays",
    "workdays",        "relay_min_interval_s",   "relay_daily_max",   "check_interval_s",
    "switch_attempts", "supply_check_interval_s"};
// The prepaid keys of a [[meter]] (the config reader lists them with its own).
inline constexpr std::array<std::string_view, 3> kMeterPrepaidKeys{"account", "tariff",
                                                                   "max_rate_per_hour"};

// One [[tariff]] table: a version of the tariff with its id.
struct TariffEntry {
    std::string id;  // as written, even when malformed (so references to it are not reported)
    std::optional<prepaid::Utility> utility;
    prepaid::TariffVersion version;
    bool ok = false;                      // the table had no mistake
    std::optional<std::int64_t> from_ms;  // effective_from when written and valid
    const toml::table* table = nullptr;
    const toml::node* effective_from = nullptr;  // the key's value when written
    const toml::node* utility_node = nullptr;
    std::string path;  // "tariff[2]"
    int line = 0;
};

// One [[account]] table, as meters see it.
struct AccountEntry {
    std::string id;
    std::string path;  // "account[1]"
    int line = 0;
    bool ok = false;  // its tariff list is sound, so its meters can be checked against it
    std::array<std::string, 2> tariff_by_utility;  // indexed by prepaid::Utility; "" = none
};

// Reads the prepaid tables in dependency order: tariffs, then accounts (they name
// tariffs), then each meter's keys (they name accounts and tariffs).
class PrepaidReader {
  public:
    explicit PrepaidReader(Errors& errors) : errors_(errors) {}

    void read_tariffs(const toml::array* array);
    void read_accounts(const toml::array* array);
    void read_settings(const toml::table* table);
    // A [[meter]]'s account, tariff and max_rate_per_hour. `kind_known`: the meter's
    // kind is certain (its own key was valid, or it was defaulted from a sound
    // protocol or profile), so a tariff of the other utility is a real mistake.
    void read_meter(const Section& s, bool kind_known, MeterConfig& meter);
    // Hands the results over (call once, after every meter is read).
    void finish(Config& config);

  private:
    void read_tariff(const Section& s, const std::string& path);
    void merge_versions();
    void read_account(const Section& s, const std::string& path);
    void read_account_tariffs(const Section& s, AccountConfig& account, AccountEntry& entry);

    const TariffEntry* first_version(std::string_view id) const;
    const AccountEntry* find_account(std::string_view id) const;

    Errors& errors_;
    std::vector<TariffEntry> versions_;
    std::vector<prepaid::Tariff> tariffs_;
    std::vector<AccountEntry> accounts_;
    std::vector<AccountConfig> account_configs_;
    PrepaidConfig settings_;
};

}  // namespace ecmgw::config::check
