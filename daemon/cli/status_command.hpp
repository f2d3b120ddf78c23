// `ecmgw status`: what the running daemon is doing, from its control socket:
// buses and their statistics, meters with their last reading and supply state,
// accounts, the outbox backlog and the cloud link.
#pragma once

#include <string>

namespace ecmgw::cli {

struct StatusOptions {
    std::string socket;
    bool json = false;
};

// Exit codes: 0 shown; 1 no daemon, or it could not answer.
int run_status(const StatusOptions& options);

}  // namespace ecmgw::cli
