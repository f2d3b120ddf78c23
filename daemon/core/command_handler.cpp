#include "core/command_handler.hpp"
#include "ecmgw/common/overloaded.hpp"

#include <spdlog/spdlog.h>

#include "core/outbox_format.hpp"

namespace ecmgw::core {

namespace {

Unexpected<Refusal> refuse(std::string reason) { return unexpected(Refusal{std::move(reason)}); }

prepaid::Force to_force(ForcedSupply s) {
    switch (s) {
        case ForcedSupply::On:
            return prepaid::Force::On;
        case ForcedSupply::Off:
            return prepaid::Force::Off;
        case ForcedSupply::None:
            break;
    }
    return prepaid::Force::None;
}

}  // namespace

CommandHandler::CommandHandler(PrepaidCore& core, store::Store& store, std::string key,
                               uplink::VerifyOptions options, Services services)
    : core_(core),
      store_(store),
      key_(std::move(key)),
      options_(options),
      services_(std::move(services)),
      provisioning_(services_.provisioning) {}

CommandHandler::CommandHandler(PrepaidCore& core, store::Store& store, std::string key,
                               uplink::VerifyOptions options)
    : CommandHandler(core, store, std::move(key), options, Services{}) {}

void CommandHandler::acknowledge(const std::string& id, bool record, std::string_view type,
                                 const std::string& error, std::int64_t now_ms) {
    auto written = core_.transact([&](store::Transaction& tx) -> Result {
        if (record) {
            auto fresh = core_.engine().tables().record_command(id, type, false, now_ms);
            if (!fresh) return unexpected(fresh.error());
        }
        auto seq = tx.append_outbox(kKindAck, ack_error(id, error), now_ms);
        if (!seq) return unexpected(seq.error());
        return {};
    });
    if (!written) spdlog::error("command {}: acknowledging: {}", id, written.error().message);
}

Expected<void, Refusal> CommandHandler::apply(store::Transaction& tx, const Command& command,
                                              std::int64_t now_ms) {
    PrepaidEngine& engine = core_.engine();
    auto done = [](auto result) -> Expected<void, Refusal> {
        if (!result) return unexpected(result.error());
        return {};
    };
    // A registry change, then a reload once it has committed.
    auto provision = [&](const char* kind, const std::string& id,
                         const std::optional<nlohmann::json>& body) -> Expected<void, Refusal> {
        if (provisioning_ == nullptr)
            return refuse("provisioning is not available: the daemon runs without its config file");
        auto changed = provisioning_->change(tx, kind, id, body, command.id, now_ms);
        if (changed) reload_after_commit_ = true;
        return changed;
    };
    auto provision_object = [&](const char* kind,
                                const nlohmann::json& body) -> Expected<void, Refusal> {
        auto id = entity_id(body);
        if (!id) return refuse(std::string(kind) + ": " + id.error().message);
        return provision(kind, *id, body);
    };
    return std::visit(
        Overloaded{
            [&](const TopUp& c) {
                return done(engine.topup(tx, c.account, c.amount_fen, c.txn, now_ms));
            },
            [&](const Refund& c) {
                return done(engine.refund(tx, c.account, c.amount_fen, c.txn, now_ms));
            },
            [&](const Adjust& c) {
                return done(
                    engine.adjust(tx, c.account, c.amount_fen, c.reason, command.id, now_ms));
            },
            [&](const KeepPower& c) { return engine.set_keep_power(tx, c.account, c.on, now_ms); },
            [&](const EmergencyCredit& c) {
                return engine.grant_emergency_credit(tx, c.account, now_ms);
            },
            [&](const SupplyForce& c) {
                return engine.force_supply(tx, c.meter, to_force(c.state),
                                           "cloud command " + command.id, now_ms);
            },
            [&](const TariffSet& c) { return provision_object("tariff", c.tariff); },
            [&](const AccountSet& c) { return provision_object("account", c.account); },
            [&](const MeterSet& c) { return provision_object("meter", c.meter); },
            [&](const MeterRemove& c) { return provision("meter", c.meter, std::nullopt); },
            [&](const AccountRemove& c) -> Expected<void, Refusal> {
                // A wallet with money (or debt) in it is settled first: removing it
                // would leave the tenant's credit nowhere.
                auto row = engine.tables().account(c.account);
                if (!row) return refuse("store: " + row.error().message);
                if (*row && (*row)->balance_fen != 0)
                    return refuse("account " + c.account + " has a balance of " +
                                  std::to_string((*row)->balance_fen) +
                                  " fen; refund or adjust it to 0 first");
                return provision("account", c.account, std::nullopt);
            },
            [&](const ConfigReload&) -> Expected<void, Refusal> {
                if (provisioning_ == nullptr)
                    return refuse(
                        "reload is not available: the daemon runs without its config file");
                if (auto ok = provisioning_->check_reloadable(); !ok) return ok;
                reload_after_commit_ = true;
                return {};
            },
            // Acknowledged when queued: the reading itself follows on the readings
            // topic like any other, with its own seq.
            [&](const ReadNow& c) -> Expected<void, Refusal> {
                if (!services_.read_now) return refuse("read_now is not available");
                if (!engine.config().find_meter(c.meter))
                    return refuse("no meter " + c.meter + " on this gateway");
                if (!services_.read_now(c.meter))
                    return refuse("meter " + c.meter + " is on no running bus");
                return {};
            },
            [&](const TimeSync&) -> Expected<void, Refusal> {
                if (!services_.time_sync) return refuse("time_sync is not available");
                if (services_.time_sync() == 0)
                    return refuse("no bus has meters that take a time broadcast (DL/T 645)");
                return {};
            },
            [&](const auto& c) -> Expected<void, Refusal> {
                return refuse("command type " + std::string(c.kType) +
                              " is not supported by this gateway version");
            },
        },
        command.action);
}

void CommandHandler::handle(std::string_view payload, std::int64_t now_ms) {
    auto verified = uplink::verify_command(payload, key_, now_ms, options_);
    if (!verified) {
        const auto& r = verified.error();
        spdlog::warn("command refused{}: {}", r.id ? " (id " + *r.id + ")" : "", r.reason);
        // Only an authentic id is recorded as used; a forged one is merely named.
        if (r.id) acknowledge(*r.id, r.authenticated, "invalid", r.reason, now_ms);
        return;
    }
    const std::string id = verified->id;
    auto seen = core_.engine().tables().command_seen(id);
    if (!seen) {
        spdlog::error("command {}: {}", id, seen.error().message);
        return;  // not acknowledged: the cloud resends, and it is judged then
    }
    if (*seen) {
        spdlog::warn("command {} refused: a replay of a command already received", id);
        auto written = core_.transact([&](store::Transaction& tx) -> Result {
            auto seq = tx.append_outbox(
                kKindAck, ack_error(id, "duplicate command id: already received"), now_ms);
            if (!seq) return unexpected(seq.error());
            return {};
        });
        if (!written) spdlog::error("command {}: acknowledging: {}", id, written.error().message);
        return;
    }
    auto command = parse_command(*verified);
    if (!command) {
        spdlog::warn("command {} refused: {}", id, command.error().message);
        acknowledge(id, true, "invalid", command.error().message, now_ms);
        return;
    }
    const std::string type(command_type(command->action));
    std::string refusal;
    reload_after_commit_ = false;
    auto applied = core_.transact([&](store::Transaction& tx) -> Result {
        auto fresh = core_.engine().tables().record_command(id, type, true, now_ms);
        if (!fresh) return unexpected(fresh.error());
        if (auto effect = apply(tx, *command, now_ms); !effect) {
            refusal = effect.error().reason;
            return fail("refused");  // roll the effect back; acknowledged below
        }
        auto seq = tx.append_outbox(kKindAck, ack_ok(id), now_ms);
        if (!seq) return unexpected(seq.error());
        return {};
    });
    if (applied) {
        spdlog::info("command {} ({}) applied", id, type);
        if (reload_after_commit_) provisioning_->request_reload();
        return;
    }
    if (refusal.empty()) {
        spdlog::error("command {}: {}", id, applied.error().message);
        return;  // a store failure: not acknowledged, so the cloud resends it
    }
    spdlog::warn("command {} ({}) refused: {}", id, type, refusal);
    acknowledge(id, true, type, refusal, now_ms);
}

}  // namespace ecmgw::core
