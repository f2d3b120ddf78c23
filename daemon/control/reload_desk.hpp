// A reload asked for through the control socket (`ecmgw reload`, the unit's
// ExecReload=) and its outcome. The main loop does every reload (on SIGHUP); the
// desk lets a client wait for the first reload that starts after it asked, and
// tells it whether the new configuration was applied or refused, and why.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ecmgw::control {

struct ReloadOutcome {
    bool applied = false;
    std::string summary;              // applied: what changed ("restarted floor1; kept floor2")
    std::vector<std::string> errors;  // refused: each with file:line:column where known
};

class ReloadDesk {
  public:
    // Asks the main loop for a reload (SIGHUP to this process); the ticket to wait with.
    std::uint64_t ask();
    // The main loop, as a reload starts: it serves every ticket asked so far.
    void begin();
    void finish(ReloadOutcome outcome);
    // The outcome for `ticket`, once a reload that started after it has finished.
    std::optional<ReloadOutcome> outcome_for(std::uint64_t ticket) const;

  private:
    mutable std::mutex mutex_;
    std::uint64_t asked_ = 0;
    std::uint64_t serving_ = 0;
    std::uint64_t served_ = 0;
    ReloadOutcome last_;
};

}  // namespace ecmgw::control
