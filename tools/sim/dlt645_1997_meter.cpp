#include "sim/dlt645_1997_meter.hpp"

#include <vector>

#include "ecmgw/protocols/dlt645_1997.hpp"
#include "sim/sim_clock.hpp"

namespace ecmgw::sim {

namespace {

using dlt645_1997::Function;

}  // namespace

Dlt645_1997Meter::Dlt645_1997Meter(const Dlt645_1997Spec& spec)
    : spec_(spec), energy_(spec.initial_energy_centikwh * 10, spec.load_w) {}

void Dlt645_1997Meter::advance_to(std::int64_t now_ms) { energy_.advance_to(now_ms, true); }

Answer Dlt645_1997Meter::answer_read(const dlt645::Frame& request) const {
    const auto function = request.function();
    const auto read = request_di(request, 2);
    if (!read) return abnormal_answer(spec_.address, function, dlt645_1997::kErrIllegalData);
    const auto di = static_cast<dlt645_1997::DataId>(*read);

    std::vector<const dlt645::DataItem*> items;
    if (const auto* block = dlt645_1997::find_block(di)) {
        if (!spec_.blocks) return abnormal_answer(spec_.address, function, dlt645_1997::kErrDataId);
        for (const auto member : block->members) {
            items.push_back(dlt645_1997::find_data_item(member));
        }
    } else if (const auto* item = dlt645_1997::find_data_item(di)) {
        items.push_back(item);
    }
    if (items.empty()) return abnormal_answer(spec_.address, function, dlt645_1997::kErrDataId);
    for (const auto* item : items) {
        if (item == nullptr)
            return abnormal_answer(spec_.address, function, dlt645_1997::kErrDataId);
    }

    MeterState s;
    s.energy_kwh = Decimal{energy_centikwh(), 2};
    s.load_w = spec_.load_w;
    s.voltage_dv = spec_.voltage_dv;
    const Dlt645Face face{s, energy_.now_ms() + clock_offset_ms_, spec_.address, 0};
    std::vector<AnsweredValue> values;
    const auto encoded = encode_items(items, face, values);
    if (!encoded) return abnormal_answer(spec_.address, function, dlt645_1997::kErrIllegalData);
    dlt645::Bytes data{static_cast<std::uint8_t>(di), static_cast<std::uint8_t>(di >> 8)};
    data.insert(data.end(), encoded->begin(), encoded->end());
    Answer a = normal_answer(spec_.address, function, std::move(data));
    a.values = std::move(values);
    return a;
}

std::optional<Answer> Dlt645_1997Meter::answer(const dlt645::Frame& request) {
    if (request.from_meter()) return std::nullopt;
    switch (static_cast<Function>(request.function())) {
        case Function::Read:
            return answer_read(request);
        case Function::BroadcastTime:
            if (const auto t = broadcast_time(request)) {
                clock_offset_ms_ = from_datetime(*t) - energy_.now_ms();
            }
            return std::nullopt;
        default:
            // Writes, password and baud changes: refused, as a meter without the
            // programming key does.
            return abnormal_answer(spec_.address, request.function(), dlt645_1997::kErrPassword);
    }
}

}  // namespace ecmgw::sim
