// Store-and-forward to the cloud: publishes the outbox in sequence order as QoS 1
// batches and deletes records only when the broker has acknowledged them.
// Offline, records wait in the outbox; the link reconnects with jittered backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "ecmgw/config/config.hpp"

namespace mqtt {
class async_client;
}

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
    void run();
    bool connect(mqtt::async_client& client);
    bool publish_batch(mqtt::async_client& client, store::Store& store);
    bool wait_for_work(std::chrono::steady_clock::time_point until, bool on_records);
    void set_connected(bool connected, const std::string& why);

    config::Config cfg_;
    std::filesystem::path database_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    bool dirty_ = true;  // the outbox may hold records we have not looked at
    UplinkStats stats_;
    std::atomic<std::int64_t> alive_ns_{0};
    std::function<void(std::string)> command_receiver_;
    std::thread thread_;
};

}  // namespace ecmgw::uplink
