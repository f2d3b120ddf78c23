#include "sim/dlt645_common.hpp"

#include "sim/sim_clock.hpp"

namespace ecmgw::sim {

Answer normal_answer(const dlt645::Address& meter, std::uint8_t function, dlt645::Bytes data) {
    return Answer{
        dlt645::Frame{meter, static_cast<std::uint8_t>(function | dlt645::kDirectionFromMeter),
                      std::move(data)},
        {}};
}

Answer abnormal_answer(const dlt645::Address& meter, std::uint8_t function,
                       std::uint8_t error_byte) {
    return Answer{dlt645::Frame{meter,
                                static_cast<std::uint8_t>(function | dlt645::kDirectionFromMeter |
                                                          dlt645::kAbnormal),
                                {error_byte}},
                  {}};
}

dlt645::Value value_of(const dlt645::DataItem& item, const Dlt645Face& face) {
    dlt645::Value v;
    v.format = item.format;
    switch (item.format) {
        case dlt645::ValueFormat::Decimal: {
            const auto exact = quantity_value(item.quantity, face.state);
            v.number = with_decimals(exact.value_or(Decimal{0, 0}), item.decimals);
            break;
        }
        case dlt645::ValueFormat::Date:
        case dlt645::ValueFormat::Time:
            v.when = to_datetime(face.clock_ms);
            break;
        case dlt645::ValueFormat::StatusWord:
            v.status = face.status_word;
            v.number = {face.status_word, 0};
            break;
        case dlt645::ValueFormat::AddressValue:
            v.address = face.address;
            break;
    }
    return v;
}

AnsweredValue answered(const dlt645::DataItem& item, const dlt645::Value& value) {
    const bool numeric = value.format == dlt645::ValueFormat::Decimal ||
                         value.format == dlt645::ValueFormat::StatusWord;
    return {std::string(item.quantity), numeric ? value.number.to_string() : value.to_string()};
}

std::optional<dlt645::Bytes> encode_items(std::span<const dlt645::DataItem* const> items,
                                          const Dlt645Face& face,
                                          std::vector<AnsweredValue>& answered_values) {
    dlt645::Bytes out;
    for (const dlt645::DataItem* item : items) {
        const auto value = value_of(*item, face);
        auto encoded = dlt645::encode_value(*item, value);
        if (!encoded) return std::nullopt;
        out.insert(out.end(), encoded->begin(), encoded->end());
        answered_values.push_back(answered(*item, value));
    }
    return out;
}

std::optional<dlt645::DateTime> broadcast_time(const dlt645::Frame& request) {
    if (request.data.size() != 6) return std::nullopt;
    const auto& d = request.data;
    return dlt645::DateTime{2000 + from_bcd(d[5]),
                            from_bcd(d[4]),
                            from_bcd(d[3]),
                            from_bcd(d[2]),
                            from_bcd(d[1]),
                            from_bcd(d[0]),
                            0};
}

std::optional<std::uint32_t> request_di(const dlt645::Frame& request, std::size_t length) {
    if (request.data.size() < length) return std::nullopt;
    std::uint32_t di = 0;
    for (std::size_t i = 0; i < length; ++i) {
        di |= static_cast<std::uint32_t>(request.data[i]) << (8 * i);
    }
    return di;
}

}  // namespace ecmgw::sim
