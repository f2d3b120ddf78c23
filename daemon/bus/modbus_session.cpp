#include "bus/modbus_session.hpp"

#include <modbus.h>

#include <cerrno>
#include <string>

namespace ecmgw::bus {

namespace {

using Clock = std::chrono::steady_clock;

void set_timeout(modbus_t* ctx, int (*setter)(modbus_t*, std::uint32_t, std::uint32_t),
                 std::chrono::milliseconds t) {
    const auto ms = t.count() < 1 ? 1 : t.count();
    setter(ctx, static_cast<std::uint32_t>(ms / 1000),
           static_cast<std::uint32_t>(ms % 1000) * 1000);
}

ReadError classify(int error) {
    const std::string text = modbus_strerror(error);
    if (error == ETIMEDOUT) return {ReadFailure::Timeout, "no answer (" + text + ")"};
    if (error == EMBBADCRC) return {ReadFailure::Garbled, "bad CRC"};
    if (error > MODBUS_ENOBASE && error <= EMBXGTAR) {
        return {ReadFailure::Refused,
                "meter reports exception " + std::to_string(error - MODBUS_ENOBASE) + ": " + text};
    }
    if (error == EMBBADDATA || error == EMBBADEXC || error == EMBMDATA || error == EMBBADSLAVE) {
        return {ReadFailure::Mismatch, text};
    }
    return {ReadFailure::LinkError, text};
}

}  // namespace

Expected<std::unique_ptr<ModbusSession>> ModbusSession::attach(Exchange& exchange,
                                                               ModbusFraming framing) {
    // The device name and port are never used: the context gets our descriptor.
    modbus_t* ctx = framing == ModbusFraming::Rtu ? modbus_new_rtu("bus", 9600, 'N', 8, 1)
                                                  : modbus_new_tcp("0.0.0.0", 502);
    if (ctx == nullptr) return fail(std::string("libmodbus: ") + modbus_strerror(errno));
    if (modbus_set_socket(ctx, exchange.link.native_handle()) != 0) {
        modbus_free(ctx);
        return fail(std::string("libmodbus: ") + modbus_strerror(errno));
    }
    return std::unique_ptr<ModbusSession>(new ModbusSession(ctx, exchange));
}

// modbus_free does not close the socket; the link stays the bus's.
ModbusSession::~ModbusSession() { modbus_free(ctx_); }

template <class Call>
Expected<int, ReadError> ModbusSession::transact(int unit, Call call) {
    if (auto r = ex_.link.flush_input(); !r) {
        return unexpected(ReadError{ReadFailure::LinkError, r.error().message});
    }
    modbus_set_slave(ctx_, unit);
    set_timeout(ctx_, modbus_set_response_timeout, ex_.timing.response_timeout);
    set_timeout(ctx_, modbus_set_byte_timeout, ex_.timing.inter_byte_timeout);
    ex_.wait_for_quiet_line();
    ++ex_.counters.requests;
    const auto start = Clock::now();
    const int rc = call();
    ex_.line_went_quiet();
    if (rc >= 0) {
        ex_.record_answer(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start));
        return rc;
    }
    const ReadError error = classify(errno);
    if (error.kind == ReadFailure::Timeout) ++ex_.counters.timeouts;
    if (error.kind == ReadFailure::Garbled) ++ex_.counters.checksum_errors;
    return unexpected(error);
}

Expected<std::vector<std::uint16_t>, ReadError> ModbusSession::read_holding(int unit,
                                                                            std::uint16_t address,
                                                                            std::uint16_t count) {
    std::vector<std::uint16_t> regs(count);
    auto rc =
        transact(unit, [&] { return modbus_read_registers(ctx_, address, count, regs.data()); });
    if (!rc) return unexpected(rc.error());
    return regs;
}

Expected<std::vector<std::uint16_t>, ReadError> ModbusSession::read_input(int unit,
                                                                          std::uint16_t address,
                                                                          std::uint16_t count) {
    std::vector<std::uint16_t> regs(count);
    auto rc = transact(
        unit, [&] { return modbus_read_input_registers(ctx_, address, count, regs.data()); });
    if (!rc) return unexpected(rc.error());
    return regs;
}

Expected<std::vector<std::uint8_t>, ReadError> ModbusSession::read_coils(int unit,
                                                                         std::uint16_t address,
                                                                         std::uint16_t count) {
    std::vector<std::uint8_t> bits(count);
    auto rc = transact(unit, [&] { return modbus_read_bits(ctx_, address, count, bits.data()); });
    if (!rc) return unexpected(rc.error());
    return bits;
}

Expected<std::vector<std::uint8_t>, ReadError> ModbusSession::read_discrete(int unit,
                                                                            std::uint16_t address,
                                                                            std::uint16_t count) {
    std::vector<std::uint8_t> bits(count);
    auto rc =
        transact(unit, [&] { return modbus_read_input_bits(ctx_, address, count, bits.data()); });
    if (!rc) return unexpected(rc.error());
    return bits;
}

Expected<void, ReadError> ModbusSession::write_coil(int unit, std::uint16_t address, bool on) {
    auto rc = transact(unit, [&] { return modbus_write_bit(ctx_, address, on ? 1 : 0); });
    if (!rc) return unexpected(rc.error());
    return {};
}

Expected<void, ReadError> ModbusSession::write_register(int unit, std::uint16_t address,
                                                        std::uint16_t value) {
    auto rc = transact(unit, [&] { return modbus_write_register(ctx_, address, value); });
    if (!rc) return unexpected(rc.error());
    return {};
}

Expected<void, ReadError> ModbusSession::write_registers(int unit, std::uint16_t address,
                                                         const std::vector<std::uint16_t>& values) {
    auto rc = transact(unit, [&] {
        return modbus_write_registers(ctx_, address, static_cast<int>(values.size()),
                                      values.data());
    });
    if (!rc) return unexpected(rc.error());
    return {};
}

Expected<void, ReadError> ModbusSession::write_coils(int unit, std::uint16_t address,
                                                     const std::vector<std::uint8_t>& values) {
    auto rc = transact(unit, [&] {
        return modbus_write_bits(ctx_, address, static_cast<int>(values.size()), values.data());
    });
    if (!rc) return unexpected(rc.error());
    return {};
}

}  // namespace ecmgw::bus
