// Store-and-forward to the cloud: publishes the outbox as QoS 1 batches, several in
// flight, and deletes records only when the broker has acknowledged them and every
// record before them. During a backlog, live records flow beside the oldest ones.
// Offline, records wait in the outbox; the link reconnects with jittered backoff.
// The retained status topic says whether the gateway is online (a will covers the
// unclean end) and how many records wait.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ecmgw/config/config.hpp"
#include "uplink/acked_seqs.hpp"

namespace mqtt {
class async_client;
class delivery_token;
class iaction_listener;
class token;
}  // namespace mqtt

namespace ecmgw::store {
class Store;
struct OutboxRecord;
}  // namespace ecmgw::store

namespace ecmgw::uplink {

struct UplinkStats {
    bool connected = false;
    std::uint64_t messages = 0;  // acknowledged by the broker
    std::uint64_t records = 0;
    std::int64_t last_acked_seq = 0;
    std::string last_error;
    std::uint64_t refused = 0;  // single records the broker would not take (deleted, reported)
    std::size_t batch_cap = 0;  // the current most records per message
};

class MqttUplink {
  public:
    MqttUplink(config::Config cfg, std::filesystem::path database);
    ~MqttUplink();
    void start();
    void stop();
    // New records were committed to the outbox.
    void notify();
    // Receives each payload arriving on <prefix>/<gateway>/commands (on Paho's
    // thread: hand it on, don't block). Set before start().
    void set_command_receiver(std::function<void(std::string)> receiver) {
        command_receiver_ = std::move(receiver);
    }
    UplinkStats stats() const;
    std::chrono::steady_clock::time_point last_alive() const;

  private:
    using Clock = std::chrono::steady_clock;
    // One way through the outbox, in seq order: `cursor` is the last seq taken
    // (published, or skipped because already acknowledged); `end`, when set, the last
    // seq this stream may take.
    struct Stream {
        std::int64_t cursor = 0;
        std::optional<std::int64_t> end;
    };
    struct InFlight {
        std::shared_ptr<mqtt::delivery_token> token;
        std::int64_t first = 0;
        std::int64_t last = 0;
        std::size_t records = 0;
        std::size_t bytes = 0;
        Clock::time_point sent;
    };
    struct Batch {
        std::vector<store::OutboxRecord> records;
        std::string payload;
        bool live = false;
    };
    // What the next publish would be, or when a part batch will be due.
    struct Next {
        std::optional<Batch> batch;
        std::optional<Clock::time_point> due;
    };

    void run();
    std::unique_ptr<mqtt::async_client> make_client();
    bool connect(mqtt::async_client& client, std::int64_t backlog);
    // Publishes while connected; returns when the connection is gone or on stop.
    void session(mqtt::async_client& client, store::Store& store);
    void shut_down(mqtt::async_client& client, store::Store& store);
    void connection_ended(store::Store& store, bool was_publishing);
    bool give_up(store::Store& store, std::int64_t seq, std::size_t bytes);
    void reap(store::Store& store);
    // Deletes the acknowledged prefix of the outbox: batched while publishing (`now`
    // false), and after a failure only once its pause is over (unless `last_chance`).
    void delete_acknowledged(store::Store& store, bool now, bool last_chance = false);
    Next next_batch(store::Store& store);
    std::optional<Batch> take(store::Store& store, Stream& stream, bool front, Next& next);
    bool publish(mqtt::async_client& client, Batch batch);
    void publish_status(mqtt::async_client& client, store::Store& store, bool online);
    std::int64_t backlog(store::Store& store);
    std::size_t window() const;
    bool wait_for_work(std::chrono::steady_clock::time_point until, bool on_records);
    void set_connected(bool connected, const std::string& why, const std::string& server = "");
    std::string topic(const std::string& suffix) const;
    std::string connect_failure(const std::string& what);

    config::Config cfg_;
    std::filesystem::path database_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool dirty_ = true;      // the outbox may hold records we have not looked at
    bool event_ = false;     // a publish completed or the connection dropped
    bool lost_ = false;      // the current connection is gone
    std::string tls_error_;  // the last TLS error Paho reported
    // Publishes Paho has completed (token, success), for the uplink thread to settle.
    std::vector<std::pair<const mqtt::token*, bool>> completions_;
    UplinkStats stats_;
    std::atomic<std::int64_t> alive_ns_{0};
    std::function<void(std::string)> command_receiver_;
    std::unique_ptr<mqtt::iaction_listener> listener_;
    std::thread thread_;

    // The uplink thread's own state.
    AckedSeqs acked_;
    std::int64_t deleted_through_ = 0;
    Clock::time_point last_delete_{};
    bool delete_failing_ = false;  // the last delete failed: wait for delete_retry_at_
    Clock::time_point delete_retry_at_{};
    std::chrono::milliseconds delete_pause_{0};
    Stream oldest_;
    std::optional<Stream> live_;
    bool prefer_live_ = true;
    std::deque<InFlight> in_flight_;
    std::size_t cap_records_ = 0;
    std::size_t cap_bytes_ = 0;
    Clock::time_point shrunk_at_{};
    bool probing_ = false;                          // one message at a time until the next PUBACK
    std::optional<Clock::time_point> accepted_at_;  // the last PUBACK of records
    std::int64_t strike_seq_ = 0;
    int strikes_ = 0;
    std::string since_;  // when the current connection was made, RFC 3339
    std::optional<std::shared_ptr<mqtt::delivery_token>> status_token_;
    Clock::time_point next_status_{};
};

}  // namespace ecmgw::uplink
