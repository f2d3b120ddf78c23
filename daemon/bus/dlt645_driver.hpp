// DL/T 645 meters, 2007 and 1997: reads data blocks where the meter answers
// them and falls back to single items (remembered per meter) where it does not;
// switches a 2007 meter's relay (0x1C) and reads the state back from status word 3.
#pragma once

#include <map>

#include "bus/dlt645_client.hpp"
#include "bus/meter_driver.hpp"

namespace ecmgw::bus {

struct Dlt645MeterSpec {
    std::string id;
    dlt645::Address address;
    bool version_1997 = false;
    std::vector<const dlt645::DataItem*> items;  // from the version's table
    std::optional<transport::LineSettings> line;
    std::optional<std::chrono::milliseconds> timeout;
    // Relay control (2007 only): present when the gateway may switch this meter.
    std::optional<dlt645::ControlAuth> control;
    std::chrono::seconds control_valid{300};
    // How long to wait before reading back the relay: meters answer stale bits
    // for about a second after switching.
    std::chrono::milliseconds relay_settle{1000};
};

class Dlt645Driver final : public MeterDriver {
  public:
    explicit Dlt645Driver(Dlt645MeterSpec spec);

    const std::string& id() const override { return spec_.id; }
    std::string describe() const override;
    std::optional<transport::LineSettings> line() const override { return spec_.line; }
    std::optional<std::chrono::milliseconds> response_timeout() const override {
        return spec_.timeout;
    }
    Expected<ReadOutcome, ReadError> read(BusContext& bus) override;
    Expected<void, ReadError> probe(BusContext& bus) override;
    bool takes_time_broadcast() const override { return true; }
    bool can_switch() const override { return spec_.control.has_value(); }
    Expected<SupplyState, ReadError> switch_supply(BusContext& bus, bool on) override;
    Expected<SupplyState, ReadError> supply_state(BusContext& bus) override;

    // Whether a block read worked (true), was refused (false) or was never tried.
    std::optional<bool> block_supported(dlt645::DataId block) const;

  private:
    // One request of a turn: a block standing for several wanted items, or one item.
    struct Step {
        const dlt645::DataItem* item = nullptr;  // a single item
        dlt645::DataId block = 0;                // or a block
        std::vector<const dlt645::DataItem*> wanted;
    };
    void plan_steps();
    std::optional<dlt645::DataId> block_of(const dlt645::DataItem& item) const;
    Expected<dlt645::Value, ReadError> read_item(Dlt645Client& client,
                                                 const dlt645::DataItem& item);
    Expected<dlt645::ReadAnswer, ReadError> read_block(Dlt645Client& client, dlt645::DataId block);
    Expected<dlt645::BlockValues> decode_block(dlt645::DataId block,
                                               const dlt645::Bytes& value) const;

    Dlt645MeterSpec spec_;
    std::vector<Step> steps_;
    std::map<dlt645::DataId, bool> block_ok_;
};

}  // namespace ecmgw::bus
