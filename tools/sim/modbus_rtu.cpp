#include "sim/modbus_rtu.hpp"

#include <optional>

namespace ecmgw::sim {

namespace {

constexpr std::uint8_t kMaxUnit = 247;

std::uint16_t word(dlt645::ByteView b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

// The request's whole length from its first bytes: 0 when more bytes are needed to
// tell, nothing when `b` cannot start a request.
std::optional<std::size_t> request_length(dlt645::ByteView b) {
    if (b.empty() || b[0] > kMaxUnit) return std::nullopt;
    if (b.size() < 2) return 0;
    switch (b[1]) {
        case 0x01:
        case 0x02:
        case 0x03:
        case 0x04:  // read: address, count
        case 0x05:
        case 0x06:  // write one: address, value
            return 8;
        case 0x07:
        case 0x0B:
        case 0x0C:
        case 0x11:  // no data
            return 4;
        case 0x0F:
        case 0x10:  // write many: address, count, byte count, values
            if (b.size() < 7) return 0;
            return std::size_t{9} + b[6];
        case 0x16:  // mask write: address, and, or
            return 10;
        case 0x17:  // read/write: read address, count, write address, count, byte count
            if (b.size() < 11) return 0;
            return std::size_t{13} + b[10];
        default:
            return std::nullopt;
    }
}

}  // namespace

std::uint16_t crc16(dlt645::ByteView bytes) {
    std::uint16_t crc = 0xFFFF;
    for (std::uint8_t b : bytes) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) {
            crc = (crc & 1) != 0 ? static_cast<std::uint16_t>((crc >> 1) ^ 0xA001)
                                 : static_cast<std::uint16_t>(crc >> 1);
        }
    }
    return crc;
}

RtuScan scan_request(dlt645::ByteView bytes) {
    std::optional<std::size_t> partial_at;
    for (std::size_t at = 0; at < bytes.size(); ++at) {
        const auto rest = bytes.subspan(at);
        const auto length = request_length(rest);
        if (!length) continue;
        if (*length == 0 || rest.size() < *length) {
            if (!partial_at) partial_at = at;
            continue;
        }
        const auto crc = crc16(rest.first(*length - 2));
        if (rest[*length - 2] == static_cast<std::uint8_t>(crc) &&
            rest[*length - 1] == static_cast<std::uint8_t>(crc >> 8)) {
            return {dlt645::ScanStatus::Complete, at, *length};
        }
    }
    if (partial_at) return {dlt645::ScanStatus::Incomplete, *partial_at, 0};
    return {dlt645::ScanStatus::NoFrame, bytes.size(), 0};
}

RtuRequest parse_request(dlt645::ByteView adu) {
    RtuRequest r;
    r.unit = adu[0];
    r.function = adu[1];
    if (adu.size() < 8) return r;
    r.address = word(adu, 2);
    switch (r.function) {
        case 0x01:
            r.table = modbus::Table::Coil;
            break;
        case 0x02:
            r.table = modbus::Table::DiscreteInput;
            break;
        case 0x04:
            r.table = modbus::Table::InputRegister;
            break;
        case 0x05:
        case 0x0F:
            r.table = modbus::Table::Coil;
            break;
        default:
            r.table = modbus::Table::HoldingRegister;
            break;
    }
    switch (r.function) {
        case 0x01:
        case 0x02:
        case 0x03:
        case 0x04:
            r.count = word(adu, 4);
            break;
        case 0x05:  // FF00 on, 0000 off
            r.count = 1;
            r.values = {static_cast<std::uint16_t>(word(adu, 4) != 0 ? 1 : 0)};
            break;
        case 0x06:
            r.count = 1;
            r.values = {word(adu, 4)};
            break;
        case 0x0F:
            r.count = word(adu, 4);
            for (std::uint16_t i = 0; i < r.count && 7u + i / 8 < adu.size() - 2; ++i) {
                r.values.push_back(static_cast<std::uint16_t>((adu[7 + i / 8] >> (i % 8)) & 1));
            }
            break;
        case 0x10:
            r.count = word(adu, 4);
            for (std::uint16_t i = 0; i < r.count && 7u + 2 * i + 1 < adu.size() - 2; ++i) {
                r.values.push_back(word(adu, 7 + 2 * i));
            }
            break;
        default:
            break;
    }
    return r;
}

}  // namespace ecmgw::sim
