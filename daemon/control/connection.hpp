// One client of the control socket, as the daemon's side sees it: request lines
// in, response lines out, who the peer is (SO_PEERCRED), and waits that end
// when the daemon stops or the client hangs up, so that no handler outlives
// either.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ecmgw::control {

// The process at the other end, as the kernel vouches for it.
struct Peer {
    uid_t uid = 0;
    pid_t pid = 0;
    std::string user;  // the user name, or the uid in digits when it has none

    // "cli:alice": who an override or event is attributed to.
    std::string who() const { return "cli:" + user; }
};
Peer peer_of(int fd);

class Connection {
  public:
    // `stop_fd` becomes readable when the daemon stops. Takes ownership of `fd`.
    Connection(int fd, int stop_fd);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The next request line (without its newline); nullopt at the end: the client
    // closed, the line is too long, or the daemon stops.
    std::optional<std::string> read_line();
    // False when the client is gone.
    bool send(const nlohmann::json& line);
    // Waits up to `d`; false when the daemon stops or the client hangs up meanwhile.
    bool wait(std::chrono::milliseconds d);
    bool closed() const { return closed_; }
    const Peer& peer() const { return peer_; }

  private:
    int fd_;
    int stop_fd_;
    Peer peer_;
    std::string buffer_;
    bool closed_ = false;
};

}  // namespace ecmgw::control
