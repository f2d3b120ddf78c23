// `reload`: the same reload as SIGHUP, and the client waits for its outcome:
// applied (what changed), or refused with the configuration's errors while the
// running configuration stays in force. `systemctl reload ecmgw` runs it
// (ExecReload=), so a refused file fails the reload where the operator sees it.
#include <chrono>

#include "control/handlers.hpp"
#include "control/wait_for_future.hpp"

namespace ecmgw::control {

namespace {

// Restarting a bus waits for its transaction under way; prepaid reconfigures on the
// ingest thread. Both are seconds; this is the client's patience.
constexpr std::chrono::minutes kReloadLimit{2};

}  // namespace

void handle_reload(Session& s) {
    auto& desk = s.daemon().reloads;
    const auto ticket = desk.ask();
    const auto until = std::chrono::steady_clock::now() + kReloadLimit;
    while (true) {
        if (auto outcome = desk.outcome_for(ticket)) {
            if (outcome->applied) return s.ok({{"applied", true}, {"summary", outcome->summary}});
            std::string why = "reload refused; the running configuration stays in force:";
            for (const auto& e : outcome->errors) why += "\n  " + e;
            return s.error(why, kExitUsage);
        }
        if (std::chrono::steady_clock::now() >= until) {
            return s.error("the reload did not finish in time; see the daemon's log",
                           kExitNoAnswer);
        }
        if (!s.connection().wait(kWaitSlice)) return;
    }
}

}  // namespace ecmgw::control
