#include "cli/read_command.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "bus/dlt645_client.hpp"
#include "cli/direct_link.hpp"
#include "cli/output.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::cli {

namespace {

constexpr std::string_view kCommand = "ecmgw read";

// What a technician wants to see of a DL/T 645 meter when naming nothing.
const std::vector<std::string> kStandardSet2007 = {
    "energy_kwh",           "import_energy_kwh",    "export_energy_kwh",    "import_energy_t1_kwh",
    "import_energy_t2_kwh", "import_energy_t3_kwh", "import_energy_t4_kwh", "voltage_a_v",
    "current_a_a",          "active_power_kw",      "power_factor",         "frequency_hz",
    "meter_date",           "meter_time",           "status_word_3"};
const std::vector<std::string> kStandardSet1997 = {
    "import_energy_kwh",    "import_energy_t1_kwh", "import_energy_t2_kwh", "import_energy_t3_kwh",
    "import_energy_t4_kwh", "export_energy_kwh",    "voltage_a_v",          "current_a_a",
    "active_power_kw",      "power_factor",         "meter_date",           "meter_time",
    "status_word_1"};
// One CJ/T 188 read (901F) gives all of these (see bus/cjt188_driver.hpp).
const std::vector<std::string> kCjt188Quantities = {"volume_m3", "settlement_volume_m3",
                                                    "valve_state", "battery_low"};

struct ReadPlan {
    std::vector<std::string> wanted;  // in the order they are printed
    // DL/T 645 dates, times and addresses: the driver keeps only numbers (they are
    // what the daemon stores), so these few are read here with the same client.
    std::vector<const dlt645::DataItem*> direct;
};

struct Shown {
    std::string text;  // for the table
    std::string json;  // JSON text
};

struct ReadResult {
    std::map<std::string, Shown> values;
    std::map<std::string, std::string> errors;  // quantity → why it has no value
    std::vector<std::string> general;           // meter errors tied to no quantity
    bool answered = false;
};

const dlt645::DataItem* dlt645_item(config::Protocol p, std::string_view quantity) {
    return p == config::Protocol::Dlt645_1997 ? dlt645_1997::find_data_item(quantity)
                                              : dlt645::find_data_item(quantity);
}

bool is_number(const dlt645::DataItem& item) {
    return item.format == dlt645::ValueFormat::Decimal ||
           item.format == dlt645::ValueFormat::StatusWord;
}

std::vector<std::string> default_wanted(const MeterSetup& s) {
    switch (s.meter.protocol) {
        case config::Protocol::Dlt645_2007:
            return kStandardSet2007;
        case config::Protocol::Dlt645_1997:
            return kStandardSet1997;
        case config::Protocol::Cjt188:
            return kCjt188Quantities;
        case config::Protocol::Modbus:
            break;
    }
    std::vector<std::string> points;
    for (const auto& p : s.profile()->points) points.push_back(p.quantity);
    return points;
}

Expected<void, CommandError> plan_dlt645(MeterSetup& s, ReadPlan& plan) {
    std::vector<std::string> numbers;
    for (const auto& q : plan.wanted) {
        const auto* item = dlt645_item(s.meter.protocol, q);
        if (item == nullptr) {
            return unexpected(
                CommandError{kExitUsage, fmt::format("{}: unknown quantity '{}' for {}", kCommand,
                                                     q, config::to_string(s.meter.protocol))});
        }
        if (is_number(*item)) {
            numbers.push_back(q);
        } else {
            plan.direct.push_back(item);
        }
    }
    s.meter.quantities = numbers;
    return {};
}

Expected<ReadPlan, CommandError> plan_read(MeterSetup& s) {
    ReadPlan plan;
    plan.wanted = s.meter.quantities.empty() ? default_wanted(s) : s.meter.quantities;
    if (is_dlt645(s.meter.protocol)) {
        if (auto r = plan_dlt645(s, plan); !r) return unexpected(r.error());
    }
    const auto known = s.meter.protocol == config::Protocol::Cjt188   ? kCjt188Quantities
                       : s.meter.protocol == config::Protocol::Modbus ? default_wanted(s)
                                                                      : plan.wanted;
    for (const auto& q : plan.wanted) {
        if (std::find(known.begin(), known.end(), q) == known.end()) {
            return unexpected(CommandError{
                kExitUsage, fmt::format("{}: unknown quantity '{}'; {} knows: {}", kCommand, q,
                                        s.meter.protocol == config::Protocol::Modbus
                                            ? "profile " + s.meter.profile
                                            : std::string("cjt188"),
                                        fmt::join(known, ", "))});
        }
    }
    return plan;
}

std::string unit_of(const MeterSetup& s, std::string_view quantity) {
    if (is_dlt645(s.meter.protocol)) {
        const auto* item = dlt645_item(s.meter.protocol, quantity);
        return item != nullptr ? std::string(item->unit) : "";
    }
    if (const auto* profile = s.profile()) {
        const auto* point = profile->find_point(quantity);
        return point != nullptr ? point->unit : "";
    }
    return quantity.ends_with("_m3") ? "m³" : "";
}

Shown shown(const MeterSetup& s, const bus::Sample& sample) {
    const auto* item =
        is_dlt645(s.meter.protocol) ? dlt645_item(s.meter.protocol, sample.quantity) : nullptr;
    if (item != nullptr && item->format == dlt645::ValueFormat::StatusWord) {
        // Bit fields read best in hex; JSON keeps the plain number.
        return {fmt::format("0x{:04X}", sample.value.mantissa), json_number(sample.value)};
    }
    return {sample.value.to_string(), json_number(sample.value)};
}

// Item errors name their quantity only where the driver knows it ("voltage_a_v: …");
// the rest are the meter's words, shown for every quantity left without a value.
void attribute_errors(const std::vector<std::string>& expected,
                      const std::vector<bus::ReadError>& item_errors, ReadResult& r) {
    std::vector<std::string> loose;
    for (const auto& e : item_errors) {
        const auto colon = e.message.find(": ");
        const std::string head = colon == std::string::npos ? "" : e.message.substr(0, colon);
        if (std::find(expected.begin(), expected.end(), head) != expected.end()) {
            r.errors[head] = e.message.substr(colon + 2);
        } else if (std::find(loose.begin(), loose.end(), e.message) == loose.end()) {
            loose.push_back(e.message);
        }
    }
    bool used = false;
    for (const auto& q : expected) {
        if (r.values.count(q) != 0 || r.errors.count(q) != 0) continue;
        r.errors[q] = loose.empty() ? "no value in the meter's answer"
                                    : fmt::format("{}", fmt::join(loose, "; "));
        used = true;
    }
    if (!used) r.general = loose;
}

Expected<void, CommandError> read_with_driver(DirectLink& link, const ReadPlan& plan,
                                              ReadResult& r) {
    const auto& s = link.setup();
    // A DL/T 645 read of dates and times only has nothing for the driver to do.
    if (is_dlt645(s.meter.protocol) && s.meter.quantities.empty()) return {};
    auto driver = link.make_driver();
    if (!driver) return unexpected(driver.error());
    auto outcome = (*driver)->read(link.context());
    if (!outcome) return unexpected(link.failure(outcome.error()));
    r.answered = true;
    for (const auto& sample : outcome->samples) r.values[sample.quantity] = shown(s, sample);
    std::vector<std::string> expected;
    for (const auto& q : plan.wanted) {
        const auto* item = is_dlt645(s.meter.protocol) ? dlt645_item(s.meter.protocol, q) : nullptr;
        if (item == nullptr || is_number(*item)) expected.push_back(q);
    }
    attribute_errors(expected, outcome->item_errors, r);
    return {};
}

Expected<void, CommandError> read_direct(DirectLink& link, const ReadPlan& plan, ReadResult& r) {
    const auto& s = link.setup();
    if (plan.direct.empty()) return {};
    const bool v1997 = s.meter.protocol == config::Protocol::Dlt645_1997;
    auto address = dlt645::Address::parse(s.meter.address);
    if (!address) return unexpected(CommandError{kExitUsage, address.error().message});
    bus::Dlt645Client client(link.exchange());
    for (const auto* item : plan.direct) {
        auto value = v1997 ? client.read_1997(*address, *item) : client.read(*address, *item);
        if (value) {
            r.answered = true;
            r.values[std::string(item->quantity)] = {value->to_string(),
                                                     json_string(value->to_string())};
            continue;
        }
        if (value.error().kind == bus::ReadFailure::Timeout && !r.answered) {
            return unexpected(link.failure(value.error()));
        }
        r.answered = r.answered || value.error().kind != bus::ReadFailure::Timeout;
        r.errors[std::string(item->quantity)] = value.error().message;
    }
    return {};
}

std::string heading(DirectLink& link) {
    const auto& s = link.setup();
    if (s.meter.protocol == config::Protocol::Modbus) {
        return fmt::format("modbus unit {} ({}) on {}", s.meter.unit, s.meter.profile,
                           link.describe());
    }
    return fmt::format("meter {} ({}) on {}", s.meter.address, config::to_string(s.meter.protocol),
                       link.describe());
}

void print_table(DirectLink& link, const ReadPlan& plan, const ReadResult& r) {
    print_out(fmt::format("{}\n", heading(link)));
    for (const auto& q : plan.wanted) {
        if (auto v = r.values.find(q); v != r.values.end()) {
            const auto unit = unit_of(link.setup(), q);
            print_out(
                fmt::format("  {:<28} {}{}{}\n", q, v->second.text, unit.empty() ? "" : " ", unit));
        } else if (auto e = r.errors.find(q); e != r.errors.end()) {
            print_out(fmt::format("  {:<28} -- {}\n", q, e->second));
        }
    }
    for (const auto& e : r.general) print_out(fmt::format("  ({})\n", e));
}

JsonMembers where(const MeterSetup& s) {
    JsonMembers m;
    if (s.meter.protocol == config::Protocol::Modbus) {
        m.emplace_back("unit", std::to_string(s.meter.unit));
        m.emplace_back("profile", json_string(s.meter.profile));
    } else {
        m.emplace_back("address", json_string(s.meter.address));
    }
    m.emplace_back("protocol", json_string(config::to_string(s.meter.protocol)));
    if (s.bus.transport == config::Transport::Tcp) {
        m.emplace_back("host", json_string(s.bus.host));
        m.emplace_back("port", std::to_string(s.bus.port));
    } else {
        m.emplace_back("device", json_string(s.bus.device));
    }
    return m;
}

void print_json(DirectLink& link, const ReadPlan& plan, const ReadResult& r) {
    JsonMembers values;
    std::vector<std::string> errors;
    for (const auto& q : plan.wanted) {
        if (auto v = r.values.find(q); v != r.values.end()) values.emplace_back(q, v->second.json);
        if (auto e = r.errors.find(q); e != r.errors.end()) {
            errors.push_back(
                json_object({{"quantity", json_string(q)}, {"error", json_string(e->second)}}));
        }
    }
    for (const auto& e : r.general) errors.push_back(json_object({{"error", json_string(e)}}));
    JsonMembers out = where(link.setup());
    out.emplace_back("values", json_object(values));
    out.emplace_back("errors", json_array(errors));
    print_out(fmt::format("{}\n", json_object(out)));
}

// `read` knows no refusal exit code: whatever keeps the values away is "no answer".
int read_failed(CommandError e) {
    if (e.exit_code == kExitRefused) e.exit_code = kExitNoAnswer;
    return report(e);
}

}  // namespace

int run_read(const LinkOptions& options) {
    auto setup = plan_meter(options, SetupRules{kCommand});
    if (!setup) return report(setup.error());
    auto plan = plan_read(*setup);
    if (!plan) return report(plan.error());
    auto link = DirectLink::open(std::move(*setup));
    if (!link) return report(link.error());
    auto& l = **link;
    if (auto r = l.resolve_address(); !r) return read_failed(r.error());
    ReadResult result;
    if (auto r = read_with_driver(l, *plan, result); !r) return read_failed(r.error());
    if (auto r = read_direct(l, *plan, result); !r) return read_failed(r.error());
    if (options.json) {
        print_json(l, *plan, result);
    } else {
        print_table(l, *plan, result);
    }
    return kExitOk;
}

}  // namespace ecmgw::cli
