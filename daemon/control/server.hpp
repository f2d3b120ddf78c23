// The control socket (docs/control.md): a Unix stream socket owned by the
// daemon, mode 0660 and group `ecmgw` when that group exists, through which the
// `ecmgw` CLI asks the running daemon for status, reads, overrides, scans,
// events and exports while the daemon owns the buses. One thread accepts; each
// client is served on a thread of its own (a followed event stream or a valve's
// read-back must not hold up a status), at most kMaxClients at once.
#pragma once

#include <atomic>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "control/daemon_view.hpp"
#include "control/session.hpp"

namespace ecmgw::control {

class ControlServer {
  public:
    ControlServer(DaemonView daemon, ConfigPtr cfg, std::filesystem::path socket_path);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Binds and starts accepting. A failure leaves the daemon running without the
    // socket: metering and prepaid matter more than the technician's shortcut.
    Result start();
    // Ends every client's request (they see the connection close) and removes the socket.
    void stop();

    // After a reload: requests from now on see `cfg`.
    void set_config(ConfigPtr cfg);
    const std::filesystem::path& path() const { return path_; }
    static constexpr std::size_t kMaxClients = 16;

  private:
    struct Client {
        std::thread thread;
        std::atomic<bool> done{false};
    };
    void accept_loop();
    void serve(int fd, Client& client);
    void reap(bool all);

    ConfigPtr config() const;

    DaemonView daemon_;
    mutable std::mutex config_mutex_;
    ConfigPtr cfg_;
    std::filesystem::path path_;
    int listen_fd_ = -1;
    int stop_fd_ = -1;  // an eventfd: readable once stop() was called
    std::thread acceptor_;
    std::mutex mutex_;
    std::list<Client> clients_;
};

}  // namespace ecmgw::control
