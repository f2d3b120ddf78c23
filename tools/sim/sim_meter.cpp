#include "sim/sim_meter.hpp"

#include "ecmgw/common/overloaded.hpp"

namespace ecmgw::sim {

std::string_view protocol_name(const MeterModel& model) {
    return std::visit(Overloaded{
                          [](const SimulatedMeter&) { return std::string_view("dlt645-2007"); },
                          [](const Dlt645_1997Meter&) { return std::string_view("dlt645-1997"); },
                          [](const Cjt188Meter&) { return std::string_view("cjt188"); },
                          [](const ModbusMeter&) { return std::string_view("modbus"); },
                      },
                      model);
}

std::string address_text(const MeterModel& model) {
    return std::visit(Overloaded{
                          [](const SimulatedMeter& m) { return m.address().to_string(); },
                          [](const Dlt645_1997Meter& m) { return m.address().to_string(); },
                          [](const Cjt188Meter& m) { return m.address().to_string(); },
                          [](const ModbusMeter& m) { return std::to_string(m.unit()); },
                      },
                      model);
}

bool is_modbus(const MeterModel& model) { return std::holds_alternative<ModbusMeter>(model); }

bool switch_by_hand(MeterModel& model, bool on) {
    return std::visit(Overloaded{
                          [&](SimulatedMeter& m) {
                              m.switch_by_hand(on);
                              return true;
                          },
                          [](Dlt645_1997Meter&) { return false; },
                          [&](Cjt188Meter& m) {
                              m.switch_by_hand(on);
                              return true;
                          },
                          [&](ModbusMeter& m) { return m.switch_by_hand(on); },
                      },
                      model);
}

bool matches(const SimMeter& meter, std::string_view name) {
    return name == "*" || name == meter.id || name == address_text(meter.model);
}

}  // namespace ecmgw::sim
