// Applies downlink commands (design.md, data flow 5): verified (HMAC, freshness),
// not seen before (the applied_commands table's PRIMARY KEY), applied in one
// transaction with their effect, and acknowledged through the outbox in that same
// transaction. A refused command changes nothing but its acknowledgement (and, when
// it was authentic, the record that its id was used).
//
// Runs on the ingest thread (Ingest::post), the store's single writer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/commands.hpp"
#include "core/prepaid_core.hpp"
#include "core/provisioning.hpp"
#include "uplink/command_auth.hpp"

namespace ecmgw::core {

class CommandHandler {
  public:
    // What commands reach beyond the store. A member left empty refuses its commands.
    struct Services {
        // Tariff, account and meter changes, config reloads.
        Provisioning* provisioning = nullptr;
        // Queues a read of the meter before its bus's next scheduled read; false when
        // no bus polls it.
        std::function<bool(const std::string& meter)> read_now;
        // Queues a time broadcast on every bus with DL/T 645 meters; how many buses.
        std::function<int()> time_sync;
    };
    CommandHandler(PrepaidCore& core, store::Store& store, std::string key,
                   uplink::VerifyOptions options, Services services);
    CommandHandler(PrepaidCore& core, store::Store& store, std::string key,
                   uplink::VerifyOptions options);

    // One payload from the commands topic.
    void handle(std::string_view payload, std::int64_t now_ms);

  private:
    // The effect of `command`, or why it is refused.
    Expected<void, Refusal> apply(store::Transaction& tx, const Command& command,
                                  std::int64_t now_ms);
    // Commits an acknowledgement (and, for an authentic id, its record) on its own.
    void acknowledge(const std::string& id, bool record, std::string_view type,
                     const std::string& error, std::int64_t now_ms);

    PrepaidCore& core_;
    store::Store& store_;
    std::string key_;
    uplink::VerifyOptions options_;
    Services services_;
    Provisioning* provisioning_;
    bool reload_after_commit_ = false;  // set by apply() for the command in hand
};

}  // namespace ecmgw::core
