// `ecmgw reload`: the running daemon reads its config again (as on SIGHUP) and the
// command waits for the outcome: applied, or refused with the config's errors
// while the running configuration stays in force. The unit's ExecReload=, so that
// `systemctl reload ecmgw` fails on a refused file.
#pragma once

#include <string>

namespace ecmgw::cli {

struct ReloadOptions {
    std::string socket;
    // The daemon's pid ($MAINPID): when no control socket answers (the daemon could
    // not create it), SIGHUP is sent to it instead and the outcome is in its log.
    int pid = 0;
};

// Exit codes: 0 applied (or SIGHUP sent, with --pid); 1 refused, or no daemon;
// 2 the reload did not finish in time.
int run_reload(const ReloadOptions& options);

}  // namespace ecmgw::cli
