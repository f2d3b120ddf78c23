// The back end for pseudo-terminals (see serial_port.hpp for why).
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "ecmgw/protocols/serial_port.hpp"

namespace ecmgw::transport {

namespace {

Unexpected<Error> errno_failure(const std::string& what, const std::string& device) {
    return fail(what + " " + device + ": " + std::strerror(errno));
}

speed_t to_speed(int baud) {
    switch (baud) {
        case 300:
            return B300;
        case 600:
            return B600;
        case 1200:
            return B1200;
        case 2400:
            return B2400;
        case 4800:
            return B4800;
        case 9600:
            return B9600;
        case 19200:
            return B19200;
        case 38400:
            return B38400;
        case 57600:
            return B57600;
        default:
            return B115200;
    }
}

Result apply_line(int fd, const LineSettings& line, const std::string& device) {
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) return errno_failure("not a terminal:", device);
    ::cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
    tio.c_cflag |= line.data_bits == 7 ? CS7 : CS8;
    if (line.parity != 'N') tio.c_cflag |= PARENB;
    if (line.parity == 'O') tio.c_cflag |= PARODD;
    if (line.stop_bits == 2) tio.c_cflag |= CSTOPB;
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    ::cfsetispeed(&tio, to_speed(line.baud));
    ::cfsetospeed(&tio, to_speed(line.baud));
    // A pty has no parity and no character size: the kernel drops PARENB and keeps
    // CS8, and glibc then may report EINVAL (it does when the pty is opened again).
    // Neither means anything on a pseudo-terminal, so go on with what a pty holds.
    bool applied = ::tcsetattr(fd, TCSANOW, &tio) == 0;
    const tcflag_t pty_cflag =
        (tio.c_cflag & ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD)) | CS8;
    if (!applied && errno == EINVAL && tio.c_cflag != pty_cflag) {
        tio.c_cflag = pty_cflag;
        applied = ::tcsetattr(fd, TCSANOW, &tio) == 0;
    }
    if (!applied) return errno_failure("cannot configure", device);
    return {};
}

class TermiosLink final : public ByteLink {
  public:
    TermiosLink(int fd, SerialSettings settings) : fd_(fd), settings_(std::move(settings)) {}
    ~TermiosLink() override { ::close(fd_); }

    Result write(std::span<const std::uint8_t> bytes) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
            if (n > 0) {
                done += static_cast<std::size_t>(n);
            } else if (n < 0 && errno == EAGAIN) {
                pollfd p{fd_, POLLOUT, 0};
                if (::poll(&p, 1, 1000) == 0) return fail("write timed out on " + settings_.device);
            } else if (n < 0 && errno != EINTR) {
                return errno_failure("write failed on", settings_.device);
            }
        }
        ::tcdrain(fd_);
        return {};
    }

    Expected<std::size_t> read(std::span<std::uint8_t> buffer,
                               std::chrono::milliseconds timeout) override {
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready < 0) {
            if (errno == EINTR) return std::size_t{0};
            return errno_failure("read failed on", settings_.device);
        }
        if (ready == 0) return std::size_t{0};
        if ((p.revents & POLLIN) == 0 && (p.revents & (POLLHUP | POLLERR)) != 0) {
            return fail("read failed on " + settings_.device + ": the other end hung up");
        }
        const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return std::size_t{0};
            return errno_failure("read failed on", settings_.device);
        }
        // A pty whose master is closed polls readable with POLLHUP and reads as end of
        // file, at once and forever: that is a dead link, not a quiet bus.
        if (n == 0 && (p.revents & (POLLHUP | POLLERR)) != 0) {
            return fail("read failed on " + settings_.device + ": the other end hung up");
        }
        return static_cast<std::size_t>(n);
    }

    Result flush_input() override {
        if (::tcflush(fd_, TCIFLUSH) != 0)
            return errno_failure("flush failed on", settings_.device);
        return {};
    }

    std::string describe() const override { return transport::describe(settings_); }

    Result set_line(const LineSettings& line) override {
        if (line == settings_.line()) return {};
        if (auto r = apply_line(fd_, line, settings_.device); !r) return r;
        settings_.baud = line.baud;
        settings_.parity = line.parity;
        settings_.data_bits = line.data_bits;
        settings_.stop_bits = line.stop_bits;
        return {};
    }

    int native_handle() const override { return fd_; }

  private:
    int fd_;
    SerialSettings settings_;
};

}  // namespace

Expected<std::unique_ptr<ByteLink>> open_termios(const SerialSettings& settings) {
    const int fd = ::open(settings.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno_failure("cannot open", settings.device);
    if (auto applied = apply_line(fd, settings.line(), settings.device); !applied) {
        ::close(fd);
        return unexpected(applied.error());
    }
    return std::unique_ptr<ByteLink>(new TermiosLink(fd, settings));
}

}  // namespace ecmgw::transport
