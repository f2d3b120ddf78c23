#include "bus/driver_factory.hpp"

#include <algorithm>

#include "bus/cjt188_driver.hpp"
#include "bus/dlt645_driver.hpp"
#include "bus/modbus_driver.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"

namespace ecmgw::bus {

namespace {

std::optional<transport::LineSettings> meter_line(const config::BusConfig& bus,
                                                  const config::MeterConfig& m) {
    if (!m.baud && !m.parity && !m.data_bits && !m.stop_bits) return std::nullopt;
    return transport::LineSettings{
        m.baud.value_or(bus.baud), config::to_char(m.parity.value_or(bus.parity)),
        m.data_bits.value_or(bus.data_bits), m.stop_bits.value_or(bus.stop_bits)};
}

std::optional<std::chrono::milliseconds> meter_timeout(const config::MeterConfig& m) {
    if (!m.timeout_ms) return std::nullopt;
    return std::chrono::milliseconds(*m.timeout_ms);
}

std::vector<std::string> wanted(const config::MeterConfig& m) {
    return m.quantities.empty() ? default_quantities(m.protocol, m.kind) : m.quantities;
}

cjt188::MeterType to_wire(config::MeterType t) {
    switch (t) {
        case config::MeterType::HotWater:
            return cjt188::MeterType::HotWater;
        case config::MeterType::DrinkingWater:
            return cjt188::MeterType::DrinkingWater;
        case config::MeterType::ReclaimedWater:
            return cjt188::MeterType::ReclaimedWater;
        case config::MeterType::Heat:
            return cjt188::MeterType::Heat;
        case config::MeterType::Gas:
            return cjt188::MeterType::Gas;
        default:
            return cjt188::MeterType::ColdWater;
    }
}

Expected<std::unique_ptr<MeterDriver>> make_dlt645(const config::BusConfig& bus,
                                                   const config::MeterConfig& m) {
    const bool v1997 = m.protocol == config::Protocol::Dlt645_1997;
    auto address = dlt645::Address::parse(m.address);
    if (!address) return fail("meter " + m.id + ": " + address.error().message);
    Dlt645MeterSpec spec{m.id,
                         *address,
                         v1997,
                         {},
                         meter_line(bus, m),
                         meter_timeout(m),
                         std::nullopt,
                         std::chrono::seconds(m.control_valid_s)};
    for (const auto& q : wanted(m)) {
        if (!v1997 && dlt645::is_frozen_quantity(q)) {
            spec.frozen.push_back(*std::find(dlt645::kFrozenImportQuantities.begin(),
                                             dlt645::kFrozenImportQuantities.end(), q));
            continue;
        }
        const auto* item = v1997 ? dlt645_1997::find_data_item(q) : dlt645::find_data_item(q);
        if (item == nullptr) return fail("meter " + m.id + ": unknown quantity " + q);
        spec.items.push_back(item);
    }
    // A charged meter's daily summary takes its day from the meter's own freeze when it
    // has one; the read costs a few requests a day.
    if (m.quantities.empty() && !v1997 && !m.account.empty()) {
        spec.frozen.push_back(dlt645::kFrozenImportQuantities[0]);
    }
    if (m.relay && !v1997) {
        auto auth = dlt645::ControlAuth::parse(static_cast<std::uint8_t>(m.privilege), m.password,
                                               m.operator_code);
        if (!auth) return fail("meter " + m.id + ": " + auth.error().message);
        spec.control = *auth;
    }
    return std::unique_ptr<MeterDriver>(new Dlt645Driver(std::move(spec)));
}

Expected<std::unique_ptr<MeterDriver>> make_cjt188(const config::BusConfig& bus,
                                                   const config::MeterConfig& m) {
    auto address = cjt188::Address::parse(m.address);
    if (!address) return fail("meter " + m.id + ": " + address.error().message);
    return std::unique_ptr<MeterDriver>(
        new Cjt188Driver({m.id, *address, to_wire(m.meter_type), meter_line(bus, m),
                          meter_timeout(m), m.relay, m.quantities}));
}

Expected<std::unique_ptr<MeterDriver>> make_modbus(const config::Config& cfg,
                                                   const config::BusConfig& bus,
                                                   const config::MeterConfig& m) {
    const config::Profile* profile = cfg.profile_of(m);
    if (profile == nullptr) return fail("meter " + m.id + ": no profile " + m.profile);
    ModbusMeterSpec spec{
        m.id,
        m.unit,
        bus.framing == config::Framing::Tcp ? ModbusFraming::Tcp : ModbusFraming::Rtu,
        profile->name,
        {},
        profile->limits,
        std::nullopt,
        meter_line(bus, m),
        meter_timeout(m)};
    if (m.quantities.empty()) {
        spec.points = profile->points;
    } else {
        for (const auto& q : m.quantities) {
            const auto* point = profile->find_point(q);
            if (point == nullptr) return fail("meter " + m.id + ": profile has no " + q);
            spec.points.push_back(*point);
        }
    }
    if (m.relay) spec.supply_switch = profile->relay ? profile->relay : profile->valve;
    return std::unique_ptr<MeterDriver>(new ModbusDriver(std::move(spec)));
}

}  // namespace

std::vector<std::string> default_quantities(config::Protocol protocol, config::MeterKind) {
    switch (protocol) {
        case config::Protocol::Dlt645_2007:
            return {"energy_kwh", "import_energy_kwh", "voltage_a_v", "current_a_a",
                    "active_power_kw"};
        case config::Protocol::Dlt645_1997:
            return {"import_energy_kwh", "voltage_a_v", "current_a_a", "active_power_kw"};
        default:
            return {};  // CJ/T 188: one request gives everything; Modbus: the profile's points
    }
}

transport::LineSettings bus_line(const config::BusConfig& bus) {
    return {bus.baud, config::to_char(bus.parity), bus.data_bits, bus.stop_bits};
}

Expected<std::unique_ptr<MeterDriver>> make_driver(const config::Config& cfg,
                                                   const config::BusConfig& bus,
                                                   const config::MeterConfig& meter) {
    switch (meter.protocol) {
        case config::Protocol::Dlt645_2007:
        case config::Protocol::Dlt645_1997:
            return make_dlt645(bus, meter);
        case config::Protocol::Cjt188:
            return make_cjt188(bus, meter);
        case config::Protocol::Modbus:
            return make_modbus(cfg, bus, meter);
    }
    return fail("meter " + meter.id + ": unknown protocol");
}

Expected<std::vector<std::unique_ptr<MeterDriver>>> make_bus_drivers(const config::Config& cfg,
                                                                     const config::BusConfig& bus) {
    std::vector<std::unique_ptr<MeterDriver>> drivers;
    for (const auto& m : cfg.meters) {
        if (m.bus != bus.name) continue;
        auto driver = make_driver(cfg, bus, m);
        if (!driver) return unexpected(driver.error());
        drivers.push_back(std::move(*driver));
    }
    return drivers;
}

}  // namespace ecmgw::bus
