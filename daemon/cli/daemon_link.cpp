#include "cli/daemon_link.hpp"

#include <fmt/core.h>

#include <filesystem>

namespace ecmgw::cli {

namespace {

std::string canonical(const std::string& path) {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : p.string();
}

}  // namespace

std::string socket_or_default(const std::string& socket) {
    return socket.empty() ? control::default_socket().string() : socket;
}

std::string describe_port(const config::BusConfig& bus) {
    if (bus.transport == config::Transport::Tcp) {
        return "tcp://" + bus.host + ":" + std::to_string(bus.port);
    }
    return bus.device;
}

bool same_port(const config::BusConfig& a, const config::BusConfig& b) {
    if (a.transport != b.transport) return false;
    if (a.transport == config::Transport::Tcp) return a.host == b.host && a.port == b.port;
    return !a.device.empty() && canonical(a.device) == canonical(b.device);
}

config::BusConfig port_of(const LinkOptions& o) {
    config::BusConfig b;
    b.transport = o.host.empty() ? config::Transport::Serial : config::Transport::Tcp;
    b.device = o.device;
    b.host = o.host;
    b.port = o.port;
    return b;
}

Expected<std::optional<std::string>, CommandError> daemon_bus_on(const std::string& command,
                                                                 const std::string& socket,
                                                                 const config::BusConfig& bus) {
    auto client = control::Client::connect(socket_or_default(socket));
    if (!client) {
        // Without a daemon to ask, the port is the technician's.
        if (client.error().no_daemon) return std::optional<std::string>();
        // A daemon runs and may poll this very port: never open it behind its back.
        return unexpected(CommandError{
            kExitUsage, fmt::format("{}: the gateway daemon is running, but its control socket "
                                    "refused you: {}",
                                    command, client.error().message)});
    }
    // A daemon that cannot say which ports it owns within this is not polling them either.
    (*client)->set_timeout(std::chrono::seconds(3));
    auto answer = (*client)->call(control::BusesRequest{});
    if (!answer || !answer->value("ok", false)) return std::optional<std::string>();
    for (const auto& b : (*answer)["result"]["buses"]) {
        config::BusConfig theirs;
        theirs.transport = b.contains("host") ? config::Transport::Tcp : config::Transport::Serial;
        theirs.device = b.value("device", "");
        theirs.host = b.value("host", "");
        theirs.port = b.value("port", 0);
        if (same_port(bus, theirs)) return std::optional<std::string>(b.value("name", "?"));
    }
    return std::optional<std::string>();
}

Expected<nlohmann::json, CommandError> ask_daemon(
    const std::string& command, const std::string& socket, const control::Request& request,
    const std::function<bool(const nlohmann::json&)>& on_item) {
    const auto path = socket_or_default(socket);
    auto client = control::Client::connect(path);
    if (!client) {
        const auto& e = client.error();
        return unexpected(CommandError{
            kExitUsage,
            e.no_daemon
                ? fmt::format("{}: no gateway daemon is running ({}); a meter or bus name works "
                              "only through it. To use a port directly, give --device (or "
                              "--host and --port) and the meter's --address or --unit.",
                              command, e.message)
                : fmt::format("{}: cannot reach the gateway daemon: {}", command, e.message)});
    }
    auto answer = (*client)->call(request, on_item);
    if (!answer) {
        return unexpected(
            CommandError{kExitUsage, fmt::format("{}: {}", command, answer.error().message)});
    }
    if (answer->empty()) return *answer;  // on_item stopped reading
    if (!answer->value("ok", false)) {
        return unexpected(
            CommandError{answer->value("exit", kExitUsage),
                         fmt::format("{}: {}", command, answer->value("error", "?"))});
    }
    return (*answer)["result"];
}

}  // namespace ecmgw::cli
