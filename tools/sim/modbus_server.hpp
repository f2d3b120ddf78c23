// The Modbus server: libmodbus builds every Modbus answer (modbus_reply) from a mapping
// per unit that is refreshed from the meter's model just before, and accepted writes go
// back to the model after.
//
// libmodbus's context writes its answer to a pipe rather than to the device: the
// simulator's wire code takes the bytes from there, so the answer delay, wire time and
// the faults (drop, corrupt, wrong address) apply to Modbus answers exactly as to DL/T 645
// and CJ/T 188 ones. Requests are found by our own scanner (sim/modbus_rtu.hpp), since
// the bus also carries frames libmodbus's receiver would take for broken Modbus.
#pragma once

#include <modbus.h>

#include <map>
#include <memory>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/transport.hpp"
#include "sim/answered_value.hpp"
#include "sim/modbus_meter.hpp"

namespace ecmgw::sim {

struct ModbusReply {
    dlt645::Bytes bytes;                // the answer ADU; empty for a broadcast
    std::vector<AnsweredValue> values;  // the points a normal read answer carried
};

class ModbusServer {
  public:
    static Expected<std::unique_ptr<ModbusServer>> open(const transport::LineSettings& line);
    ~ModbusServer();
    ModbusServer(const ModbusServer&) = delete;
    ModbusServer& operator=(const ModbusServer&) = delete;

    // Answers `adu` (a whole request, CRC checked, for `meter`'s unit or broadcast).
    Expected<ModbusReply> reply(ModbusMeter& meter, dlt645::ByteView adu);

  private:
    ModbusServer(modbus_t* ctx, int read_fd, int write_fd);
    Expected<modbus_mapping_t*> mapping_for(const ModbusMeter& meter);
    dlt645::Bytes drain();

    modbus_t* ctx_;
    int read_fd_;
    int write_fd_;
    std::map<int, modbus_mapping_t*> mappings_;  // by unit id
};

}  // namespace ecmgw::sim
