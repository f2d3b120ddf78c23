#include "control/lent_bus.hpp"

#include <atomic>
#include <memory>

#include "control/wait_for_future.hpp"

namespace ecmgw::control {

std::optional<bus::CommandResult> run_on_lent_bus(Session& s, const std::string& bus, LentJob job,
                                                  std::chrono::milliseconds limit,
                                                  std::string_view what) {
    // Set when this side gives up; shared with the job, which may outlive the wait.
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    auto lent = s.daemon().with_link(
        bus,
        [job = std::move(job), cancelled](transport::ByteLink& port, bus::BusPoller::Lease& lease) {
            const std::function<bool()> stop = [&lease, cancelled] {
                lease.progressed();
                return lease.stopping() || cancelled->load();
            };
            return job(port, stop);
        });
    if (!lent) {
        s.error("bus " + bus + " is not running", kExitUsage);
        return std::nullopt;
    }
    auto done = wait_for_future(s.connection(), std::move(*lent), limit);
    if (!done) {
        cancelled->store(true);
        if (!s.connection().closed()) {
            s.error(std::string(what) + " did not finish in time", kExitNoAnswer);
        }
    }
    return done;
}

}  // namespace ecmgw::control
