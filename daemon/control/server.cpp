#include "control/server.hpp"

#include <grp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "control/handlers.hpp"
#include "platform/thread_name.hpp"

namespace ecmgw::control {

namespace {

constexpr mode_t kSocketMode = 0660;
constexpr const char* kGroup = "ecmgw";

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

Expected<sockaddr_un> address_of(const std::filesystem::path& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string p = path.string();
    if (p.empty() || p.size() >= sizeof a.sun_path) {
        return fail("control socket path '" + p + "' is empty or longer than " +
                    std::to_string(sizeof a.sun_path - 1) + " bytes");
    }
    std::memcpy(a.sun_path, p.c_str(), p.size() + 1);
    return a;
}

// A socket file left by a daemon that died is removed; one a live daemon
// listens on is not taken over (two daemons on one box is the real problem).
Result clear_stale(const std::filesystem::path& path, const sockaddr_un& a) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return {};
    if (!S_ISSOCK(st.st_mode)) return fail(path.string() + " exists and is not a socket");
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return fail(errno_text("socket"));
    const bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(probe);
    if (live) return fail(path.string() + ": another ecmgw daemon is listening there");
    if (::unlink(path.c_str()) != 0) return fail(errno_text("removing stale " + path.string()));
    return {};
}

// Mode 0660, and group ecmgw when it exists, so technicians in that group use the
// CLI without root. Under the unit (Group=ecmgw) the socket is born in that group;
// chown is then not called at all, since the unit's system call filter takes
// @chown away (@privileged).
void restrict_access(const std::filesystem::path& path) {
    if (::chmod(path.c_str(), kSocketMode) != 0) {
        spdlog::warn("control: chmod {}: {}", path.string(), std::strerror(errno));
    }
    group grp{};
    group* found = nullptr;
    std::vector<char> buf(16384);
    if (getgrnam_r(kGroup, &grp, buf.data(), buf.size(), &found) != 0 || found == nullptr) return;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && st.st_gid == found->gr_gid) return;
    if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0) {
        spdlog::warn("control: chgrp {} {}: {}", kGroup, path.string(), std::strerror(errno));
    }
}

}  // namespace

ControlServer::ControlServer(DaemonView daemon, ConfigPtr cfg, std::filesystem::path socket_path)
    : daemon_(std::move(daemon)), cfg_(std::move(cfg)), path_(std::move(socket_path)) {}

void ControlServer::set_config(ConfigPtr cfg) {
    std::lock_guard lock(config_mutex_);
    cfg_ = std::move(cfg);
}

ConfigPtr ControlServer::config() const {
    std::lock_guard lock(config_mutex_);
    return cfg_;
}

ControlServer::~ControlServer() { stop(); }

Result ControlServer::start() {
    auto address = address_of(path_);
    if (!address) return unexpected(address.error());
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) return fail("creating " + path_.parent_path().string() + ": " + ec.message());
    if (auto r = clear_stale(path_, *address); !r) return r;
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) return fail(errno_text("eventfd"));
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return fail(errno_text("socket"));
    // No umask dance around bind: umask is the whole process's, and other threads
    // create files. Connecting needs write permission, which a default umask
    // leaves to the owner alone until restrict_access opens it to the group.
    const int bound =
        ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
    if (bound != 0) {
        auto failure = fail(errno_text("bind " + path_.string()));
        // Not ours: stop() must not remove a socket file another process made.
        ::close(listen_fd_);
        listen_fd_ = -1;
        return failure;
    }
    restrict_access(path_);
    if (::listen(listen_fd_, static_cast<int>(kMaxClients)) != 0) {
        return fail(errno_text("listen " + path_.string()));
    }
    acceptor_ = std::thread([this] {
        platform::name_this_thread("control");
        accept_loop();
    });
    spdlog::info("control: listening on {}", path_.string());
    return {};
}

void ControlServer::stop() {
    if (stop_fd_ >= 0) {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(stop_fd_, &one, sizeof one);
    }
    if (acceptor_.joinable()) acceptor_.join();
    reap(true);
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
        ::unlink(path_.c_str());
    }
    if (stop_fd_ >= 0) {
        ::close(stop_fd_);
        stop_fd_ = -1;
    }
}

void ControlServer::reap(bool all) {
    std::lock_guard lock(mutex_);
    for (auto it = clients_.begin(); it != clients_.end();) {
        if (all || it->done) {
            if (it->thread.joinable()) it->thread.join();
            it = clients_.erase(it);
        } else {
            ++it;
        }
    }
}

void ControlServer::accept_loop() {
    while (true) {
        std::array<pollfd, 2> fds{{{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            spdlog::error("control: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents != 0) return;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        reap(false);
        std::lock_guard lock(mutex_);
        if (clients_.size() >= kMaxClients) {
            Connection busy(fd, stop_fd_);
            busy.send(error_line("the gateway is serving " + std::to_string(kMaxClients) +
                                     " clients already; try again",
                                 kExitUsage));
            continue;
        }
        auto& client = clients_.emplace_back();
        client.thread = std::thread([this, fd, &client] { serve(fd, client); });
    }
}

void ControlServer::serve(int fd, Client& client) {
    platform::name_this_thread("control-client");
    {
        Connection connection(fd, stop_fd_);
        Session session(daemon_, connection);
        spdlog::debug("control: client {} (uid {}, pid {})", connection.peer().user,
                      connection.peer().uid, connection.peer().pid);
        while (auto line = connection.read_line()) {
            if (line->empty()) continue;
            session.use_config(config());
            try {
                dispatch(session, *line);
            } catch (const std::exception& e) {
                // A handler's bug must cost one answer, not the daemon.
                spdlog::error("control: request {}: {}", *line, e.what());
                session.error(std::string("internal error: ") + e.what(), kExitUsage);
            }
        }
    }
    client.done = true;
}

}  // namespace ecmgw::control
