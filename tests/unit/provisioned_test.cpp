// The cloud's provisioned tariffs, accounts and meters: laid over the config file
// by id and checked by the file's own rules; kept in the store's registry.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config_doc.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/store/registry.hpp"
#include "ecmgw/store/store.hpp"

using namespace ecmgw;
using namespace ecmgw::config;
using namespace ecmgw::test;

namespace {

const std::string kFile =
    "[gateway]\nid = \"gw-0001\"\ntimezone = \"UTC\"\n"
    "[[bus]]\nname = \"floor1\"\ndevice = \"/dev/ttyUSB0\"\n"
    "[[tariff]]\nid = \"res-flat\"\nutility = \"electricity\"\nprice = \"0.5283\"\n"
    "[[account]]\nid = \"A-0101\"\ntariff = \"res-flat\"\n"
    "[[meter]]\nid = \"E-0101\"\nbus = \"floor1\"\nprotocol = \"dlt645-2007\"\n"
    "address = \"202012345678\"\naccount = \"A-0101\"\n";

Config with(const std::vector<Provisioned>& overlay) {
    auto result = parse_config(kFile, kConfigFile, overlay);
    INFO((result ? std::string() : all_errors(result.error())));
    REQUIRE(result.has_value());
    return *result;
}

std::string errors_with(const std::vector<Provisioned>& overlay) {
    auto result = parse_config(kFile, kConfigFile, overlay);
    REQUIRE_FALSE(result.has_value());
    return all_errors(result.error());
}

}  // namespace

TEST_CASE("provisioned: a new meter and account are added and checked like the file's") {
    const Config cfg = with({
        {"account", "A-0102", R"({"id":"A-0102","tariff":"res-flat","warn_fen":[1000]})"},
        {"meter", "E-0102",
         R"({"id":"E-0102","bus":"floor1","protocol":"dlt645-2007","address":"202012345679",)"
         R"("account":"A-0102","relay":true,"max_rate_per_hour":"60"})"},
    });
    REQUIRE(cfg.meters.size() == 2);
    const MeterConfig* m = cfg.find_meter("E-0102");
    REQUIRE(m != nullptr);
    CHECK(m->account == "A-0102");
    CHECK(m->relay);
    REQUIRE(cfg.find_account("A-0102") != nullptr);
    CHECK(cfg.find_account("A-0102")->credit.warn_fen == std::vector<std::int64_t>{1000});
}

TEST_CASE("provisioned: an entity replaces the file's entry with its id, or removes it") {
    const Config changed = with(
        {{"tariff", "res-flat", R"({"id":"res-flat","utility":"electricity","price":"0.61"})"}});
    REQUIRE(changed.tariffs.size() == 1);
    CHECK(changed.tariffs[0].versions.size() == 1);

    const Config removed = with({{"meter", "E-0101", std::nullopt}});
    CHECK(removed.meters.empty());
    CHECK(removed.find_account("A-0101") != nullptr);
}

TEST_CASE("provisioned: a tariff may come as its versions") {
    const Config cfg = with({{"tariff", "res-flat",
                              R"([{"id":"res-flat","utility":"electricity","price":"0.5",)"
                              R"(  "effective_from":"2026-01-01T00:00:00+08:00"},)"
                              R"( {"id":"res-flat","utility":"electricity","price":"0.6",)"
                              R"(  "effective_from":"2027-01-01T00:00:00+08:00"}])"}});
    REQUIRE(cfg.tariffs.size() == 1);
    CHECK(cfg.tariffs[0].versions.size() == 2);
}

TEST_CASE("provisioned: mistakes are the file's rules, named by the entity") {
    // A meter on a bus that does not exist.
    auto e = errors_with({{"meter", "E-0102",
                           R"({"id":"E-0102","bus":"floor9","protocol":"dlt645-2007",)"
                           R"("address":"202012345679"})"}});
    CHECK(has(e, "floor9"));
    // Removing an account a meter still uses.
    e = errors_with({{"account", "A-0101", std::nullopt}});
    CHECK(has(e, "A-0101"));
    // A binary float as a price never gets in.
    e = errors_with(
        {{"tariff", "res-flat", R"({"id":"res-flat","utility":"electricity","price":0.61})"}});
    CHECK(has(e, "tariff res-flat (provisioned by the cloud)"));
    CHECK(has(e, "string such as"));
    // The body's id must be the entity's.
    e = errors_with({{"account", "A-0102", R"({"id":"A-9999","tariff":"res-flat"})"}});
    CHECK(has(e, "expected \"id\": \"A-0102\""));
    // Not an object; null values.
    e = errors_with({{"meter", "E-0102", R"("E-0102")"}});
    CHECK(has(e, "expected a JSON object"));
    e = errors_with({{"account", "A-0102", R"({"id":"A-0102","tariff":null})"}});
    CHECK(has(e, "found null"));
    // Unknown keys are refused as in the file.
    e = errors_with({{"account", "A-0102", R"({"id":"A-0102","tarif":"res-flat"})"}});
    CHECK(has(e, "tarif"));
}

TEST_CASE("registry: rows are kept per (kind, id), replaced, and read back in change order") {
    const auto dir = std::filesystem::temp_directory_path() / "ecmgw-registry-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto opened = store::Store::open(dir / "t.db");
    REQUIRE(opened.has_value());
    store::Store& s = **opened;

    auto write = [&](const store::ProvisionedRow& row) {
        auto tx = s.begin();
        REQUIRE(tx.has_value());
        REQUIRE(store::put_provisioned(s, row).has_value());
        REQUIRE(tx->commit().has_value());
    };
    // Outside a transaction: refused, nothing written.
    CHECK_FALSE(store::put_provisioned(s, {"meter", "E-1", "{}", "c-0", 1}).has_value());

    write({"meter", "E-1", R"({"id":"E-1"})", "c-1", 100});
    write({"account", "A-1", R"({"id":"A-1"})", "c-2", 200});
    write({"meter", "E-1", std::nullopt, "c-3", 300});
    auto rows = store::provisioned_rows(s);
    REQUIRE(rows.has_value());
    REQUIRE(rows->size() == 2);
    CHECK((*rows)[0] == store::ProvisionedRow{"account", "A-1", R"({"id":"A-1"})", "c-2", 200});
    CHECK((*rows)[1] == store::ProvisionedRow{"meter", "E-1", std::nullopt, "c-3", 300});
    opened->reset();
    std::filesystem::remove_all(dir);
}
