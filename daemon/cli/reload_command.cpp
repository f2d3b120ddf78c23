#include "cli/reload_command.hpp"

#include <fmt/core.h>
#include <signal.h>

#include <cerrno>
#include <cstring>

#include "cli/daemon_link.hpp"
#include "cli/output.hpp"

namespace ecmgw::cli {

namespace {

constexpr std::string_view kCommand = "ecmgw reload";

}  // namespace

int run_reload(const ReloadOptions& o) {
    const auto path = socket_or_default(o.socket);
    if (o.pid > 0) {
        auto probe = control::Client::connect(path);
        if (!probe && probe.error().no_daemon) {
            if (::kill(o.pid, SIGHUP) != 0) {
                return report(
                    {kExitUsage, fmt::format("{}: no control socket at {}, and SIGHUP "
                                             "to {} failed: {}",
                                             kCommand, path, o.pid, std::strerror(errno))});
            }
            print_err(
                fmt::format("{}: no control socket at {}; sent SIGHUP to {}, whose log "
                            "tells the outcome\n",
                            kCommand, path, o.pid));
            return kExitOk;
        }
    }
    auto r = ask_daemon(std::string(kCommand), o.socket, control::ReloadRequest{});
    if (!r) return report(r.error());
    print_out(fmt::format("reloaded: {}\n", r->value("summary", "")));
    return kExitOk;
}

}  // namespace ecmgw::cli
