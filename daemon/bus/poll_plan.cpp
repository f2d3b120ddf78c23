#include "bus/poll_plan.hpp"

namespace ecmgw::bus {

std::vector<std::string> default_quantities(config::MeterKind) {
    return {"energy_kwh", "import_energy_kwh", "voltage_a_v", "current_a_a", "active_power_kw"};
}

Expected<std::vector<MeterPlan>> plan_bus(const config::Config& cfg, const std::string& bus) {
    std::vector<MeterPlan> plans;
    for (const auto& m : cfg.meters) {
        if (m.bus != bus) continue;
        auto address = dlt645::Address::parse(m.address);
        if (!address) return fail("meter " + m.id + ": " + address.error().message);
        MeterPlan plan{m.id, *address, {}, std::chrono::seconds(m.interval_s)};
        for (const auto& q : m.quantities.empty() ? default_quantities(m.kind) : m.quantities) {
            const auto* item = dlt645::find_data_item(q);
            if (item == nullptr) return fail("meter " + m.id + ": unknown quantity " + q);
            plan.items.push_back(item);
        }
        plans.push_back(std::move(plan));
    }
    return plans;
}

}  // namespace ecmgw::bus
