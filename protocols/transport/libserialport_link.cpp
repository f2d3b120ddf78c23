// The back end for real serial devices.
#include <libserialport.h>

#include <utility>

#include "ecmgw/protocols/serial_port.hpp"

namespace ecmgw::transport {

namespace {

Unexpected<Error> sp_failure(const std::string& what, const std::string& device) {
    char* text = sp_last_error_message();
    std::string message = what + " " + device + ": " + (text ? text : "unknown error");
    sp_free_error_message(text);
    return fail(message);
}

sp_parity to_sp_parity(char parity) {
    switch (parity) {
        case 'E':
            return SP_PARITY_EVEN;
        case 'O':
            return SP_PARITY_ODD;
        default:
            return SP_PARITY_NONE;
    }
}

// libserialport takes timeouts in ms where 0 means "wait forever".
unsigned int timeout_arg(std::chrono::milliseconds timeout) {
    return timeout.count() < 1 ? 1u : static_cast<unsigned int>(timeout.count());
}

bool apply_line(sp_port* port, const LineSettings& line) {
    sp_port_config* config = nullptr;
    bool ok = sp_new_config(&config) == SP_OK;
    ok = ok && sp_set_config_baudrate(config, line.baud) == SP_OK;
    ok = ok && sp_set_config_bits(config, line.data_bits) == SP_OK;
    ok = ok && sp_set_config_parity(config, to_sp_parity(line.parity)) == SP_OK;
    ok = ok && sp_set_config_stopbits(config, line.stop_bits) == SP_OK;
    ok = ok && sp_set_config_flowcontrol(config, SP_FLOWCONTROL_NONE) == SP_OK;
    ok = ok && sp_set_config(port, config) == SP_OK;
    sp_free_config(config);
    return ok;
}

class LibserialportLink final : public ByteLink {
  public:
    LibserialportLink(sp_port* port, SerialSettings settings)
        : port_(port), settings_(std::move(settings)) {}
    ~LibserialportLink() override {
        sp_close(port_);
        sp_free_port(port_);
    }

    Result write(std::span<const std::uint8_t> bytes) override {
        // The bytes' own wire time plus a second for a stalled adapter.
        const auto wire = character_time(settings_) * static_cast<long>(bytes.size());
        const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(wire) +
                           std::chrono::milliseconds(1000);
        const sp_return n =
            sp_blocking_write(port_, bytes.data(), bytes.size(), timeout_arg(limit));
        if (n < 0) return sp_failure("write failed on", settings_.device);
        if (static_cast<std::size_t>(n) != bytes.size()) {
            return fail("write timed out on " + settings_.device);
        }
        if (sp_drain(port_) != SP_OK) return sp_failure("drain failed on", settings_.device);
        return {};
    }

    Expected<std::size_t> read(std::span<std::uint8_t> buffer,
                               std::chrono::milliseconds timeout) override {
        const sp_return n =
            sp_blocking_read_next(port_, buffer.data(), buffer.size(), timeout_arg(timeout));
        if (n < 0) return sp_failure("read failed on", settings_.device);
        return static_cast<std::size_t>(n);
    }

    Result flush_input() override {
        if (sp_flush(port_, SP_BUF_INPUT) != SP_OK) {
            return sp_failure("flush failed on", settings_.device);
        }
        return {};
    }

    std::string describe() const override { return transport::describe(settings_); }

    Result set_line(const LineSettings& line) override {
        if (line == settings_.line()) return {};
        if (!apply_line(port_, line)) return sp_failure("cannot configure", settings_.device);
        settings_.baud = line.baud;
        settings_.parity = line.parity;
        settings_.data_bits = line.data_bits;
        settings_.stop_bits = line.stop_bits;
        return {};
    }

    int native_handle() const override {
        int fd = -1;
        sp_get_port_handle(port_, &fd);
        return fd;
    }

  private:
    sp_port* port_;
    SerialSettings settings_;
};

}  // namespace

Expected<std::unique_ptr<ByteLink>> open_libserialport(const SerialSettings& settings) {
    sp_port* port = nullptr;
    if (sp_get_port_by_name(settings.device.c_str(), &port) != SP_OK) {
        return sp_failure("cannot find serial port", settings.device);
    }
    if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        auto error = sp_failure("cannot open", settings.device);
        sp_free_port(port);
        return error;
    }
    if (!apply_line(port, settings.line())) {
        auto error = sp_failure("cannot configure", settings.device);
        sp_close(port);
        sp_free_port(port);
        return error;
    }
    return std::unique_ptr<ByteLink>(new LibserialportLink(port, settings));
}

}  // namespace ecmgw::transport
