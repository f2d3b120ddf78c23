#include "sim/answer_log.hpp"

#include <nlohmann/json.hpp>

namespace ecmgw::sim {

AnswerLog::AnswerLog(const std::string& path) {
    if (!path.empty()) out_.open(path, std::ios::app);
}

void AnswerLog::write(const SimMeter& meter, const std::vector<AnsweredValue>& values) {
    if (!out_.is_open() || values.empty()) return;
    const auto* modbus = std::get_if<ModbusMeter>(&meter.model);
    for (const auto& v : values) {
        nlohmann::ordered_json line;
        line["protocol"] = protocol_name(meter.model);
        line["meter"] = meter.id;
        if (modbus != nullptr) {
            line["unit"] = modbus->unit();
        } else {
            line["address"] = address_text(meter.model);
        }
        line["quantity"] = v.quantity;
        line["value"] = v.value;
        out_ << line.dump() << '\n';
    }
    out_.flush();
}

}  // namespace ecmgw::sim
