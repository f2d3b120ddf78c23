#include "ecmgw/protocols/tcp_link.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ecmgw::transport {

namespace {

std::string name_of(const TcpEndpoint& e) { return e.host + ":" + std::to_string(e.port); }

Unexpected<Error> errno_failure(const std::string& what, const std::string& where) {
    return fail(what + " " + where + ": " + std::strerror(errno));
}

class TcpLink final : public ByteLink {
  public:
    TcpLink(int fd, TcpEndpoint endpoint) : fd_(fd), endpoint_(std::move(endpoint)) {}
    ~TcpLink() override { ::close(fd_); }

    Result write(std::span<const std::uint8_t> bytes) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n > 0) {
                done += static_cast<std::size_t>(n);
            } else if (n < 0 && errno == EAGAIN) {
                pollfd p{fd_, POLLOUT, 0};
                if (::poll(&p, 1, 2000) == 0) return fail("write timed out on " + describe());
            } else if (n < 0 && errno != EINTR) {
                return errno_failure("write failed on", describe());
            }
        }
        return {};
    }

    Expected<std::size_t> read(std::span<std::uint8_t> buffer,
                               std::chrono::milliseconds timeout) override {
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (ready < 0) {
            if (errno == EINTR) return std::size_t{0};
            return errno_failure("read failed on", describe());
        }
        if (ready == 0) return std::size_t{0};
        const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
        if (n == 0) return fail("the serial server " + describe() + " closed the connection");
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return std::size_t{0};
            return errno_failure("read failed on", describe());
        }
        return static_cast<std::size_t>(n);
    }

    // A socket has no input queue to flush: read and drop whatever already arrived.
    Result flush_input() override {
        std::array<std::uint8_t, 512> sink{};
        while (true) {
            const ssize_t n = ::recv(fd_, sink.data(), sink.size(), MSG_DONTWAIT);
            if (n > 0) continue;
            if (n == 0) return fail("the serial server " + describe() + " closed the connection");
            if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
            if (errno != EINTR) return errno_failure("flush failed on", describe());
        }
    }

    std::string describe() const override { return "tcp://" + name_of(endpoint_); }
    Result set_line(const LineSettings&) override { return {}; }
    int native_handle() const override { return fd_; }

  private:
    int fd_;
    TcpEndpoint endpoint_;
};

// Connects without blocking longer than the endpoint's timeout.
Expected<int> connect_with_timeout(const addrinfo& ai, const TcpEndpoint& e) {
    const int fd =
        ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
    if (fd < 0) return errno_failure("cannot create a socket for", name_of(e));
    if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 && errno != EINPROGRESS) {
        auto error = errno_failure("cannot connect to", name_of(e));
        ::close(fd);
        return error;
    }
    pollfd p{fd, POLLOUT, 0};
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (::poll(&p, 1, static_cast<int>(e.connect_timeout.count())) != 1) {
        ::close(fd);
        return fail("cannot connect to " + name_of(e) + ": timed out");
    }
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
        ::close(fd);
        return fail("cannot connect to " + name_of(e) + ": " + std::strerror(so_error));
    }
    // Frames are small and latency-bound; keepalive notices a dead server on an idle bus.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return fd;
}

}  // namespace

Expected<std::unique_ptr<ByteLink>> open_tcp(const TcpEndpoint& endpoint) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (const int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found);
        rc != 0) {
        return fail("cannot resolve " + endpoint.host + ": " + ::gai_strerror(rc));
    }
    Expected<int> fd = fail("no address for " + endpoint.host);
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        fd = connect_with_timeout(*ai, endpoint);
        if (fd) break;
    }
    ::freeaddrinfo(found);
    if (!fd) return unexpected(fd.error());
    return std::unique_ptr<ByteLink>(new TcpLink(*fd, endpoint));
}

}  // namespace ecmgw::transport
