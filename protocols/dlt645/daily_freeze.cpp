// Daily frozen data (日冻结, DI 0506xxxx): the freeze time and the frozen energy blocks.
#include <algorithm>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

constexpr std::uint8_t kEnergyDecimals = 2;

// The date and time fields are checked by the Date and Time formats, so a freeze time
// obeys the same rules as the meter's clock.
constexpr DataItem kDatePart{0, "freeze_time", "", ValueFormat::Date, 4, 0, false};
constexpr DataItem kTimePart{0, "freeze_time", "", ValueFormat::Time, 3, 0, false};

}  // namespace

Expected<DataId> daily_freeze_di(DataId base, int n) {
    if (n < 1 || n > kDailyFreezesKept) {
        return fail("freeze " + std::to_string(n) + " does not exist: meters keep the last " +
                    std::to_string(kDailyFreezesKept));
    }
    return (base & 0xFFFFFF00U) | static_cast<DataId>(n);
}

bool is_daily_freeze_di(DataId di) { return (di >> 16) == 0x0506; }

Expected<DateTime> decode_freeze_time(ByteView value) {
    if (value.size() != kFreezeTimeLength) {
        return fail("freeze time needs " + std::to_string(kFreezeTimeLength) + " bytes, got " +
                    std::to_string(value.size()));
    }
    // mm hh DD MM YY: the date is the Date format without its weekday byte, the time the
    // Time format without its seconds byte.
    const Bytes date{0x00, value[2], value[3], value[4]};
    const Bytes time{0x00, value[0], value[1]};
    auto d = decode_value(kDatePart, date);
    if (!d) return unexpected(d.error());
    auto t = decode_value(kTimePart, time);
    if (!t) return unexpected(t.error());
    return DateTime{d->when.year, d->when.month, d->when.day, t->when.hour, t->when.minute, 0, 0};
}

Expected<Bytes> encode_freeze_time(const DateTime& t) {
    Value date;
    date.format = ValueFormat::Date;
    date.when = DateTime{t.year, t.month, t.day, 0, 0, 0, 0};
    Value time;
    time.format = ValueFormat::Time;
    time.when = DateTime{2000, 1, 1, t.hour, t.minute, 0, 0};
    auto d = encode_value(kDatePart, date);
    if (!d) return unexpected(d.error());
    auto h = encode_value(kTimePart, time);
    if (!h) return unexpected(h.error());
    return Bytes{(*h)[1], (*h)[2], (*d)[1], (*d)[2], (*d)[3]};
}

Expected<FrozenEnergy> decode_frozen_energy(ByteView value) {
    const std::size_t n = value.size() / kFrozenEnergyValueLength;
    if (value.empty() || value.size() % kFrozenEnergyValueLength != 0 ||
        n > 1 + kMaxFrozenTariffs) {
        return fail("frozen energy block has " + std::to_string(value.size()) +
                    " bytes: expected the total and up to " + std::to_string(kMaxFrozenTariffs) +
                    " tariffs, 4 bytes each");
    }
    FrozenEnergy energy;
    for (std::size_t i = 0; i < n; ++i) {
        auto number = decode_bcd_decimal(
            value.subspan(i * kFrozenEnergyValueLength, kFrozenEnergyValueLength), kEnergyDecimals,
            false);
        if (!number) {
            return fail("frozen energy " +
                        (i == 0 ? std::string("total") : "tariff " + std::to_string(i)) + ": " +
                        number.error().message);
        }
        if (i == 0) {
            energy.total = *number;
        } else {
            energy.tariffs.push_back(*number);
        }
    }
    return energy;
}

Expected<Bytes> encode_frozen_energy(const FrozenEnergy& energy) {
    if (energy.tariffs.size() > kMaxFrozenTariffs) {
        return fail(std::to_string(energy.tariffs.size()) + " tariffs are more than " +
                    std::to_string(kMaxFrozenTariffs));
    }
    Bytes out;
    auto append = [&out](const Decimal& value) -> Result {
        auto bytes = encode_bcd_decimal(value, kFrozenEnergyValueLength, kEnergyDecimals, false);
        if (!bytes) return unexpected(bytes.error());
        out.insert(out.end(), bytes->begin(), bytes->end());
        return {};
    };
    if (auto ok = append(energy.total); !ok) return unexpected(ok.error());
    for (const auto& tariff : energy.tariffs) {
        if (auto ok = append(tariff); !ok) return unexpected(ok.error());
    }
    return out;
}

bool is_frozen_quantity(std::string_view quantity) {
    return std::find(kFrozenImportQuantities.begin(), kFrozenImportQuantities.end(), quantity) !=
           kFrozenImportQuantities.end();
}

}  // namespace ecmgw::dlt645
