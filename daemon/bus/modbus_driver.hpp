// Modbus meters described by a profile: reads the profile's points with the
// fewest requests (modbus::plan_reads), switches a relay or valve the way the
// profile says and reads the state back.
#pragma once

#include "bus/meter_driver.hpp"
#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::bus {

struct ModbusMeterSpec {
    std::string id;
    int unit = 1;  // 1..247
    ModbusFraming framing = ModbusFraming::Rtu;
    std::string profile;  // the profile's name, for people
    std::vector<modbus::Point> points;
    modbus::PlanLimits limits;
    std::optional<modbus::SwitchControl> supply_switch;  // relay or valve
    std::optional<transport::LineSettings> line;
    std::optional<std::chrono::milliseconds> timeout;
};

class ModbusDriver final : public MeterDriver {
  public:
    explicit ModbusDriver(ModbusMeterSpec spec);

    const std::string& id() const override { return spec_.id; }
    std::string describe() const override;
    std::optional<transport::LineSettings> line() const override { return spec_.line; }
    std::optional<std::chrono::milliseconds> response_timeout() const override {
        return spec_.timeout;
    }
    Expected<ReadOutcome, ReadError> read(BusContext& bus) override;
    Expected<void, ReadError> probe(BusContext& bus) override;
    bool can_switch() const override { return spec_.supply_switch.has_value(); }
    Expected<SupplyState, ReadError> switch_supply(BusContext& bus, bool on) override;
    Expected<SupplyState, ReadError> supply_state(BusContext& bus) override;

    std::size_t planned_requests() const { return plan_.size(); }

  private:
    Expected<std::vector<std::uint16_t>, ReadError> read_request(ModbusSession& session,
                                                                 const modbus::ReadRequest& r);
    void decode_request(const modbus::ReadRequest& r, const std::vector<std::uint16_t>& words,
                        ReadOutcome& out) const;

    ModbusMeterSpec spec_;
    std::vector<modbus::ReadRequest> plan_;
};

}  // namespace ecmgw::bus
