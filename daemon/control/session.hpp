// One request being served: the connection to answer on, the daemon to ask, and
// a store connection of the session's own (opened on first use; WAL lets it read
// while the ingest thread writes).
#pragma once

#include <memory>

#include "control/connection.hpp"
#include "control/daemon_view.hpp"
#include "control/protocol.hpp"
#include "ecmgw/config/config.hpp"
#include "ecmgw/store/prepaid_tables.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::control {

using ConfigPtr = std::shared_ptr<const config::Config>;

class Session {
  public:
    Session(const DaemonView& daemon, Connection& connection)
        : daemon_(daemon), connection_(connection) {}

    const DaemonView& daemon() const { return daemon_; }
    // The configuration running when the request arrived (a reload may replace
    // the daemon's meanwhile; this one stays valid for the request).
    const config::Config& cfg() const { return *cfg_; }
    void use_config(ConfigPtr cfg) { cfg_ = std::move(cfg); }
    Connection& connection() { return connection_; }

    Expected<store::Store*> store();
    Expected<store::PrepaidTables*> tables();

    // The final line of a request.
    void ok(nlohmann::json result) { connection_.send(ok_line(std::move(result))); }
    void error(std::string_view message, int exit_code) {
        connection_.send(error_line(message, exit_code));
    }
    // One streamed row; false when the client is gone.
    bool item(nlohmann::json row) { return connection_.send(item_line(std::move(row))); }

  private:
    const DaemonView& daemon_;
    Connection& connection_;
    ConfigPtr cfg_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<store::PrepaidTables> tables_;
};

}  // namespace ecmgw::control
