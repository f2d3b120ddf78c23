#include "control/client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ecmgw::control {

std::filesystem::path default_socket() {
    if (const char* env = std::getenv("ECMGW_SOCKET"); env != nullptr && *env != '\0') return env;
    return std::filesystem::path(std::string(kDefaultSocket));
}

Expected<std::unique_ptr<Client>, ConnectError> Client::connect(
    const std::filesystem::path& socket) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string p = socket.string();
    if (p.empty() || p.size() >= sizeof a.sun_path) {
        return unexpected(ConnectError{false, "control socket path '" + p + "' is too long"});
    }
    std::memcpy(a.sun_path, p.c_str(), p.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return unexpected(ConnectError{false, std::string("socket: ") + std::strerror(errno)});
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        const bool none = e == ENOENT || e == ECONNREFUSED || e == ENOTDIR;
        std::string message = p + ": " + std::strerror(e);
        if (e == EACCES) {
            message +=
                " (the control socket is for root and the group ecmgw: run with sudo, or "
                "add yourself to the group)";
        }
        return unexpected(ConnectError{none, std::move(message)});
    }
    return std::unique_ptr<Client>(new Client(fd));
}

Client::~Client() { ::close(fd_); }

void Client::set_timeout(std::chrono::milliseconds timeout) {
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

Expected<std::string> Client::read_line() {
    while (true) {
        if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return line;
        }
        std::array<char, 65536> chunk{};
        const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return fail("the daemon did not answer in time");
        if (n < 0) return fail(std::string("control socket: ") + std::strerror(errno));
        if (n == 0) return fail("the daemon closed the connection (did it stop?)");
        buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    }
}

Expected<nlohmann::json> Client::call(const Request& request,
                                      const std::function<bool(const nlohmann::json&)>& on_item) {
    const std::string line = request_line(request) + "\n";
    std::size_t sent = 0;
    while (sent < line.size()) {
        const ssize_t n = ::send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(std::string("control socket: ") + std::strerror(errno));
        sent += static_cast<std::size_t>(n);
    }
    while (true) {
        auto text = read_line();
        if (!text) return unexpected(text.error());
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return fail("the daemon sent a line that is not JSON");
        if (auto item = j.find("item"); item != j.end()) {
            if (on_item && !on_item(*item)) return nlohmann::json::object();
            continue;
        }
        return j;
    }
}

}  // namespace ecmgw::control
