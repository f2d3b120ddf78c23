#include "sim/bus_scan.hpp"

#include <algorithm>
#include <optional>

#include "sim/modbus_rtu.hpp"

namespace ecmgw::sim {

namespace {

using dlt645::ScanStatus;

}  // namespace

BusScan scan_bus(dlt645::ByteView bytes, const BusProtocols& protocols) {
    BusScan best;
    std::optional<std::size_t> first_partial;
    auto consider = [&](ScanStatus status, std::size_t start, std::size_t length, FrameKind kind) {
        if (status == ScanStatus::Incomplete) {
            first_partial = std::min(first_partial.value_or(start), start);
        }
        if (status != ScanStatus::Complete) return false;
        if (best.status == ScanStatus::Complete && best.start <= start) return false;
        best.status = ScanStatus::Complete;
        best.start = start;
        best.length = length;
        best.kind = kind;
        best.consumed = start + length;
        return true;
    };
    if (protocols.dlt645) {
        auto r = dlt645::scan(bytes);
        if (consider(r.status, r.skipped, r.length, FrameKind::Dlt645)) {
            best.dlt645 = std::move(r.frame);
        }
    }
    if (protocols.cjt188) {
        auto r = cjt188::scan(bytes);
        if (consider(r.status, r.skipped, r.length, FrameKind::Cjt188)) {
            best.cjt188 = std::move(r.frame);
        }
    }
    if (protocols.modbus) {
        const auto r = scan_request(bytes);
        consider(r.status, r.skipped, r.length, FrameKind::ModbusRtu);
    }
    if (best.status == ScanStatus::Complete) return best;
    if (first_partial) {
        best.status = ScanStatus::Incomplete;
        best.consumed = *first_partial;
        return best;
    }
    best.consumed = bytes.size();
    return best;
}

Dlt645Version version_of(std::uint8_t function) {
    if (function == 0x08) return Dlt645Version::Both;  // broadcast time: the same frame
    return function <= 0x10 ? Dlt645Version::V1997 : Dlt645Version::V2007;
}

}  // namespace ecmgw::sim
