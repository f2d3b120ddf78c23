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

std::optional<std::string> daemon_bus_on(const std::string& socket, const config::BusConfig& bus) {
    auto client = control::Client::connect(socket_or_default(socket));
    // Without a daemon to ask (or leave to ask), the port is the technician's.
    if (!client) return std::nullopt;
    // A daemon that cannot say which ports it owns within this is not polling them either.
    (*client)->set_timeout(std::chrono::seconds(3));
    auto answer = (*client)->call(control::BusesRequest{});
    if (!answer || !answer->value("ok", false)) return std::nullopt;
    const auto& buses = (*answer)["result"]["buses"];
    for (const auto& b : buses) {
        const bool same =
            bus.transport == config::Transport::Tcp
                ? b.value("host", "") == bus.host && b.value("port", 0) == bus.port
                : b.contains("device") && canonical(b.value("device", "")) == canonical(bus.device);
        if (same) return b.value("name", "?");
    }
    return std::nullopt;
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
