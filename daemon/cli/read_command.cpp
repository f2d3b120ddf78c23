#include "cli/read_command.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "bus/dlt645_client.hpp"
#include "ecmgw/protocols/serial_port.hpp"

namespace ecmgw::cli {

namespace {

const std::vector<std::string> kStandardSet = {
    "energy_kwh",           "import_energy_kwh",    "export_energy_kwh",    "import_energy_t1_kwh",
    "import_energy_t2_kwh", "import_energy_t3_kwh", "import_energy_t4_kwh", "voltage_a_v",
    "current_a_a",          "active_power_kw",      "power_factor",         "frequency_hz",
    "meter_date",           "meter_time",           "status_word_3"};

nlohmann::json json_value(const dlt645::Value& v) {
    switch (v.format) {
        case dlt645::ValueFormat::Decimal:
            // Exact digits, as the meter sent them.
            return nlohmann::json::parse(v.number.to_string());
        case dlt645::ValueFormat::StatusWord:
            return v.status;
        default:
            return v.to_string();
    }
}

int no_answer(const ReadOptions& o, const transport::ByteLink& link, const bus::ReadError& e) {
    fmt::print(stderr,
               "ecmgw read: meter {} on {} did not answer: {}.\n"
               "Check the A/B wiring, the meter's address, baud rate and parity "
               "(DL/T 645 meters commonly use 2400 8E1).\n",
               o.address, link.describe(), e.message);
    return 2;
}

}  // namespace

int run_read(const ReadOptions& o) {
    if (o.protocol != "dlt645-2007") {
        fmt::print(stderr,
                   "ecmgw read: protocol '{}' is not supported yet; supported: dlt645-2007\n",
                   o.protocol);
        return 1;
    }
    auto address = dlt645::Address::parse(o.address);
    if (!address) {
        fmt::print(stderr, "ecmgw read: --address {}: {}\n", o.address, address.error().message);
        return 1;
    }
    std::vector<const dlt645::DataItem*> items;
    for (const auto& q : o.quantities.empty() ? kStandardSet : o.quantities) {
        const auto* item = dlt645::find_data_item(q);
        if (item == nullptr) {
            fmt::print(stderr, "ecmgw read: unknown quantity '{}'\n", q);
            return 1;
        }
        items.push_back(item);
    }
    auto link = transport::open_serial_port(
        {o.device, o.baud, o.parity.empty() ? 'E' : o.parity[0], o.data_bits, o.stop_bits});
    if (!link) {
        fmt::print(stderr, "ecmgw read: {}\n", link.error().message);
        return 1;
    }
    bus::Dlt645Client client(
        **link, {std::chrono::milliseconds(o.timeout_ms), std::chrono::milliseconds(500)});

    if (address->is_wildcard()) {
        auto found = client.read_address();
        if (!found) return no_answer(o, **link, found.error());
        address = *found;
    }

    nlohmann::json values = nlohmann::json::object();
    nlohmann::json unsupported = nlohmann::json::array();
    if (!o.json) fmt::print("meter {} on {}\n", address->to_string(), (*link)->describe());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& item = *items[i];
        auto value = client.read(*address, item);
        if (!value) {
            if (i == 0 && value.error().kind == bus::ReadFailure::Timeout) {
                return no_answer(o, **link, value.error());
            }
            if (!o.json) fmt::print("  {:<22} -- {}\n", item.quantity, value.error().message);
            unsupported.push_back({{"quantity", item.quantity}, {"error", value.error().message}});
            continue;
        }
        values[std::string(item.quantity)] = json_value(*value);
        if (!o.json) fmt::print("  {:<22} {} {}\n", item.quantity, value->to_string(), item.unit);
    }
    if (o.json) {
        nlohmann::json out = {{"address", address->to_string()},
                              {"device", o.device},
                              {"protocol", o.protocol},
                              {"values", values}};
        if (!unsupported.empty()) out["errors"] = unsupported;
        fmt::print("{}\n", out.dump());
    }
    return 0;
}

}  // namespace ecmgw::cli
