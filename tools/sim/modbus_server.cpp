#include "sim/modbus_server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "sim/modbus_rtu.hpp"

namespace ecmgw::sim {

namespace {

constexpr std::uint8_t kIllegalFunction = 0x01;
constexpr std::uint8_t kExceptionBit = 0x80;
constexpr std::uint8_t kBroadcast = 0;

std::string libmodbus_error(const char* what) {
    return std::string("libmodbus: ") + what + ": " + modbus_strerror(errno);
}

void copy_table(const TableImage& from, std::uint16_t* registers) {
    std::copy(from.values.begin(), from.values.end(), registers);
}

void copy_bits(const TableImage& from, std::uint8_t* bits) {
    std::transform(from.values.begin(), from.values.end(), bits,
                   [](std::uint16_t v) { return static_cast<std::uint8_t>(v != 0); });
}

}  // namespace

Expected<std::unique_ptr<ModbusServer>> ModbusServer::open(const transport::LineSettings& line) {
    // The device name is never opened: the context only ever writes to our pipe.
    modbus_t* ctx =
        modbus_new_rtu("ecmgw-sim", line.baud, line.parity, line.data_bits, line.stop_bits);
    if (ctx == nullptr) return fail(libmodbus_error("modbus_new_rtu"));
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        modbus_free(ctx);
        return fail(std::string("pipe: ") + std::strerror(errno));
    }
    // An illegal request makes libmodbus sleep the response timeout before answering:
    // keep that from stalling the bus.
    modbus_set_response_timeout(ctx, 0, 1000);
    if (modbus_set_socket(ctx, fds[1]) != 0) {
        modbus_free(ctx);
        ::close(fds[0]);
        ::close(fds[1]);
        return fail(libmodbus_error("modbus_set_socket"));
    }
    return std::unique_ptr<ModbusServer>(new ModbusServer(ctx, fds[0], fds[1]));
}

ModbusServer::ModbusServer(modbus_t* ctx, int read_fd, int write_fd)
    : ctx_(ctx), read_fd_(read_fd), write_fd_(write_fd) {}

ModbusServer::~ModbusServer() {
    for (auto& [unit, mapping] : mappings_) modbus_mapping_free(mapping);
    modbus_free(ctx_);  // does not close the socket: the pipe is ours
    ::close(read_fd_);
    ::close(write_fd_);
}

Expected<modbus_mapping_t*> ModbusServer::mapping_for(const ModbusMeter& meter) {
    if (auto it = mappings_.find(meter.unit()); it != mappings_.end()) return it->second;
    // The image's extents never change, so the mapping is sized once.
    const RegisterImage image = meter.image();
    auto size = [](const TableImage& t) { return static_cast<unsigned>(t.values.size()); };
    modbus_mapping_t* mapping = modbus_mapping_new_start_address(
        image.coils.start, size(image.coils), image.discrete_inputs.start,
        size(image.discrete_inputs), image.holding.start, size(image.holding), image.input.start,
        size(image.input));
    if (mapping == nullptr) return fail(libmodbus_error("modbus_mapping_new_start_address"));
    mappings_[meter.unit()] = mapping;
    return mapping;
}

dlt645::Bytes ModbusServer::drain() {
    dlt645::Bytes out;
    std::uint8_t buffer[512];
    for (;;) {
        const auto n = ::read(read_fd_, buffer, sizeof buffer);
        if (n <= 0) break;
        out.insert(out.end(), buffer, buffer + n);
    }
    return out;
}

Expected<ModbusReply> ModbusServer::reply(ModbusMeter& meter, dlt645::ByteView adu) {
    auto mapping = mapping_for(meter);
    if (!mapping) return unexpected(mapping.error());
    const RegisterImage image = meter.image();
    copy_bits(image.coils, (*mapping)->tab_bits);
    copy_bits(image.discrete_inputs, (*mapping)->tab_input_bits);
    copy_table(image.holding, (*mapping)->tab_registers);
    copy_table(image.input, (*mapping)->tab_input_registers);

    const RtuRequest request = parse_request(adu);
    const bool broadcast = request.unit == kBroadcast;
    std::optional<std::uint8_t> refused;
    if (request.is_write()) {
        refused = meter.refuse_write(request.table, request.address, request.values);
    } else if (request.function == 0x16 || request.function == 0x17) {
        refused = kIllegalFunction;  // register arithmetic the model does not follow
    }
    int rc = 0;
    if (refused && !broadcast) {
        rc = modbus_reply_exception(ctx_, adu.data(), *refused);
    } else if (!refused) {
        rc = modbus_reply(ctx_, adu.data(), static_cast<int>(adu.size()), *mapping);
    }
    if (rc < 0) return fail(libmodbus_error("modbus_reply"));

    ModbusReply out;
    out.bytes = drain();
    const bool normal = out.bytes.size() > 1 ? (out.bytes[1] & kExceptionBit) == 0 : broadcast;
    if (request.is_write() && !refused && normal) {
        meter.apply_write(request.table, request.address, request.values);
    }
    if (request.is_read() && normal) {
        out.values = meter.values_in(request.table, request.address, request.count);
    }
    return out;
}

}  // namespace ecmgw::sim
