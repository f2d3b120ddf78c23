// The CLI's end of the control socket: connect, send one request, take the
// streamed items and the final line.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "control/protocol.hpp"

namespace ecmgw::control {

// Where the CLI looks for the daemon: $ECMGW_SOCKET, else kDefaultSocket.
std::filesystem::path default_socket();

struct ConnectError {
    // No daemon there (no socket file, or nobody listening): the caller may fall
    // back to the port itself. Otherwise (permission, …) it must not.
    bool no_daemon = false;
    std::string message;
};

class Client {
  public:
    static Expected<std::unique_ptr<Client>, ConnectError> connect(
        const std::filesystem::path& socket);
    ~Client();
    // Gives up on an answer that takes longer (a stopped or wedged daemon).
    void set_timeout(std::chrono::milliseconds timeout);
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Sends `request`; calls `on_item` for each streamed item (return false to
    // stop reading); returns the final line ({"ok":…}), or why there is none.
    Expected<nlohmann::json> call(const Request& request,
                                  const std::function<bool(const nlohmann::json&)>& on_item = {});

  private:
    explicit Client(int fd) : fd_(fd) {}
    Expected<std::string> read_line();

    int fd_;
    std::string buffer_;
};

}  // namespace ecmgw::control
