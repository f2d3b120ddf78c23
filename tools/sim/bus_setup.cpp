#include "sim/bus_setup.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace ecmgw::sim {

namespace {

std::int64_t stepped(double base_per_hour_units, std::size_t index) {
    return std::llround(base_per_hour_units * (1.0 + 0.1 * static_cast<double>(index % 5)));
}

std::int64_t initial_energy_centikwh(std::size_t index) {
    return 10000 * static_cast<std::int64_t>(index + 1);  // 100 kWh steps
}

std::int64_t initial_litres(std::size_t index) {
    return 100'000 * static_cast<std::int64_t>(index + 1);  // 100 m³ steps
}

bool named(const std::vector<std::string>& names, std::string_view id, std::string_view address) {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& n) { return n == "*" || n == id || n == address; });
}

std::uint8_t cjt188_type(config::MeterType t) {
    switch (t) {
        case config::MeterType::ColdWater:
            return 0x10;
        case config::MeterType::HotWater:
            return 0x11;
        case config::MeterType::DrinkingWater:
            return 0x12;
        case config::MeterType::ReclaimedWater:
            return 0x13;
        case config::MeterType::Heat:
            return 0x20;
        case config::MeterType::Gas:
            return 0x30;
    }
    return 0x10;
}

std::optional<transport::LineSettings> own_line(const config::MeterConfig& m,
                                                const transport::LineSettings& bus) {
    if (!m.baud && !m.parity && !m.data_bits && !m.stop_bits) return std::nullopt;
    transport::LineSettings line = bus;
    if (m.baud) line.baud = *m.baud;
    if (m.parity) line.parity = config::to_char(*m.parity);
    if (m.data_bits) line.data_bits = *m.data_bits;
    if (m.stop_bits) line.stop_bits = *m.stop_bits;
    return line;
}

Expected<MeterModel> model_of(const config::Config& config, const config::MeterConfig& m,
                              std::size_t index, const Population& pop,
                              std::vector<std::string>& warnings) {
    const auto load_w = stepped(pop.load_kw * 1000.0, index);
    const auto flow_lph = stepped(pop.flow_m3h * 1000.0, index);
    const bool blocks = !named(pop.no_blocks, m.id, m.address);
    switch (m.protocol) {
        case config::Protocol::Dlt645_2007:
        case config::Protocol::Dlt645_1997: {
            auto address = dlt645::Address::parse(m.address);
            if (!address) return fail("meter " + m.id + ": " + address.error().message);
            if (m.protocol == config::Protocol::Dlt645_1997) {
                return MeterModel{
                    std::in_place_type<Dlt645_1997Meter>,
                    Dlt645_1997Spec{*address, initial_energy_centikwh(index), load_w, blocks}};
            }
            return MeterModel{std::in_place_type<SimulatedMeter>,
                              MeterSpec{*address, initial_energy_centikwh(index), load_w, blocks}};
        }
        case config::Protocol::Cjt188: {
            auto address = cjt188::Address::parse(m.address);
            if (!address) return fail("meter " + m.id + ": " + address.error().message);
            if (m.meter_type == config::MeterType::Heat) {
                warnings.push_back("meter " + m.id +
                                   ": heat meters are simulated with the water meters' 901F "
                                   "layout; the gateway will report a wrong meter type");
            }
            Cjt188Spec spec;
            spec.address = *address;
            spec.type = cjt188_type(m.meter_type);
            spec.initial_litres = initial_litres(index);
            spec.flow_lph = flow_lph;
            return MeterModel{std::in_place_type<Cjt188Meter>, spec};
        }
        case config::Protocol::Modbus: {
            const auto* profile = config.profile_of(m);
            if (profile == nullptr) {
                return fail("meter " + m.id + ": profile '" + m.profile + "' not found in " +
                            config.gateway.profiles_dir.string());
            }
            ModbusMeterSpec spec;
            spec.unit = m.unit;
            spec.points = profile->points;
            spec.water = profile->kind == "water";
            spec.supply = spec.water ? profile->valve : profile->relay;
            if (!spec.supply) spec.supply = spec.water ? profile->relay : profile->valve;
            spec.initial_milli =
                spec.water ? initial_litres(index) : initial_energy_centikwh(index) * 10;
            spec.rate = spec.water ? flow_lph : load_w;
            spec.voltage_dv = 2301 + static_cast<std::int64_t>(index % 9);
            return MeterModel{std::in_place_type<ModbusMeter>, std::move(spec)};
        }
    }
    return fail("meter " + m.id + ": unknown protocol");
}

Expected<void> check_names_used(const SimBus& bus, const std::vector<std::string>& names,
                                std::string_view option) {
    for (const auto& name : names) {
        const bool used = std::any_of(bus.meters.begin(), bus.meters.end(),
                                      [&](const SimMeter& m) { return matches(m, name); });
        if (!used) {
            return fail(std::string(option) + " " + name + ": no meter on bus " + bus.name +
                        " has that id, address or unit");
        }
    }
    return {};
}

}  // namespace

Expected<SimBus> bus_from_config(const config::Config& config, std::string_view bus_name,
                                 const Population& population) {
    const config::BusConfig* bus = nullptr;
    if (bus_name.empty()) {
        if (config.buses.size() != 1) {
            std::string names;
            for (const auto& b : config.buses) names += (names.empty() ? "" : ", ") + b.name;
            return fail(config.source.string() + " has " + std::to_string(config.buses.size()) +
                        " buses (" + names + "): choose one with --bus");
        }
        bus = &config.buses.front();
    } else {
        bus = config.find_bus(bus_name);
        if (bus == nullptr) {
            return fail("--bus " + std::string(bus_name) + ": no such bus in " +
                        config.source.string());
        }
    }
    if (bus->framing == config::Framing::Tcp) {
        return fail("bus " + bus->name +
                    " uses Modbus TCP framing; the simulator serves RTU "
                    "frames on a serial device only");
    }
    SimBus out;
    out.name = bus->name;
    out.line = {bus->baud, config::to_char(bus->parity), bus->data_bits, bus->stop_bits};
    std::size_t index = 0;
    for (const auto& m : config.meters) {
        if (m.bus != bus->name) continue;
        auto model = model_of(config, m, index++, population, out.warnings);
        if (!model) return unexpected(model.error());
        out.meters.push_back(SimMeter{m.id, std::move(*model), {}, own_line(m, out.line)});
    }
    if (auto used = check_names_used(out, population.no_blocks, "--no-blocks"); !used) {
        return unexpected(used.error());
    }
    return out;
}

Expected<SimBus> bus_from_cli(const CliMeters& meters, const transport::LineSettings& line,
                              const Population& population) {
    // The command line describes a one-bus config: build it and simulate that.
    config::Config config;
    config::BusConfig bus;
    bus.name = "cli";
    bus.baud = line.baud;
    bus.parity = line.parity == 'N'   ? config::Parity::None
                 : line.parity == 'O' ? config::Parity::Odd
                                      : config::Parity::Even;
    bus.data_bits = line.data_bits;
    bus.stop_bits = line.stop_bits;
    config.buses.push_back(bus);
    if (meters.protocol == config::Protocol::Modbus) {
        if (!meters.profile) return fail("Modbus meters need --profile");
        config.profiles.push_back(*meters.profile);
    }
    for (const auto& address : meters.addresses) {
        config::MeterConfig m;
        m.id = address;
        m.bus = bus.name;
        m.protocol = meters.protocol;
        m.meter_type = meters.meter_type;
        if (meters.protocol == config::Protocol::Modbus) {
            char* end = nullptr;
            const long unit = std::strtol(address.c_str(), &end, 10);
            if (address.empty() || *end != '\0' || unit < 1 || unit > 247) {
                return fail("--address " + address + ": a Modbus unit id is 1 to 247");
            }
            m.unit = static_cast<int>(unit);
            m.id = std::to_string(unit);
            m.profile = meters.profile->name;
        } else {
            m.address = address;
        }
        config.meters.push_back(std::move(m));
    }
    auto out = bus_from_config(config, bus.name, population);
    if (out) out->line = line;
    return out;
}

Expected<SimBus> bus_from_addresses(const std::vector<std::string>& addresses,
                                    const transport::LineSettings& line,
                                    const Population& population) {
    CliMeters meters;
    meters.addresses = addresses;
    return bus_from_cli(meters, line, population);
}

Expected<std::vector<std::string>> consecutive_addresses(std::string_view first, int count) {
    const bool digits =
        !first.empty() && first.size() <= 18 &&
        std::all_of(first.begin(), first.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) return fail("--first-address " + std::string(first) + ": expected digits");
    const long long base = std::stoll(std::string(first));
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) {
        std::string text = std::to_string(base + i);
        if (text.size() > first.size()) {
            return fail("--first-address " + std::string(first) + ": " + std::to_string(count) +
                        " addresses do not fit in " + std::to_string(first.size()) + " digits");
        }
        text.insert(0, first.size() - text.size(), '0');
        out.push_back(std::move(text));
    }
    return out;
}

Expected<void> apply_faults(SimBus& bus, const std::vector<FaultRule>& rules) {
    for (const auto& rule : rules) {
        bool used = false;
        for (auto& m : bus.meters) {
            if (!matches(m, rule.meter)) continue;
            apply(rule, m.faults);
            used = true;
        }
        if (!used) {
            return fail("--fault " + rule.meter + ":" + rule.kind + ": no meter on bus " +
                        bus.name + " has that id, address or unit");
        }
    }
    return {};
}

}  // namespace ecmgw::sim
