#include "control/connection.hpp"

#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <vector>

#include "control/protocol.hpp"

namespace ecmgw::control {

Peer peer_of(int fd) {
    Peer p;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        p.user = "unknown";
        return p;
    }
    p.uid = cred.uid;
    p.pid = cred.pid;
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(cred.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        p.user = found->pw_name;
    } else {
        p.user = std::to_string(cred.uid);
    }
    return p;
}

Connection::Connection(int fd, int stop_fd) : fd_(fd), stop_fd_(stop_fd), peer_(peer_of(fd)) {}

Connection::~Connection() { ::close(fd_); }

std::optional<std::string> Connection::read_line() {
    while (!closed_) {
        if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
            std::string line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        if (buffer_.size() > kMaxRequestBytes) {
            send(error_line("request line too long", kExitUsage));
            closed_ = true;
            break;
        }
        std::array<pollfd, 2> fds{{{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            closed_ = true;
            break;
        }
        if (fds[1].revents != 0) {
            closed_ = true;
            break;
        }
        std::array<char, 4096> chunk{};
        const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            closed_ = true;
            break;
        }
        buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    }
    return std::nullopt;
}

bool Connection::send(const nlohmann::json& line) {
    if (closed_) return false;
    // Invalid UTF-8 from a meter or the store must not throw here.
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::size_t sent = 0;
    while (sent < text.size()) {
        const ssize_t n = ::send(fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            closed_ = true;
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

bool Connection::wait(std::chrono::milliseconds d) {
    if (closed_) return false;
    const auto until = std::chrono::steady_clock::now() + d;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return true;
        // POLLIN from the client while waiting is a hang-up (recv gives 0) or a
        // request sent ahead; keep the latter for read_line.
        std::array<pollfd, 2> fds{{{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
        const int r = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || fds[1].revents != 0) {
            closed_ = true;
            return false;
        }
        if (fds[0].revents == 0) continue;
        std::array<char, 4096> chunk{};
        const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            closed_ = true;
            return false;
        }
        if (n > 0) buffer_.append(chunk.data(), static_cast<std::size_t>(n));
        if (buffer_.size() > kMaxRequestBytes) {
            closed_ = true;
            return false;
        }
    }
}

}  // namespace ecmgw::control
