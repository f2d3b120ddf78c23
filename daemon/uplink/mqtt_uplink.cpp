#include "uplink/mqtt_uplink.hpp"
#include "platform/thread_name.hpp"
#include "platform/wall_clock.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <random>

#include "core/outbox_format.hpp"
#include "ecmgw/store/store.hpp"

namespace ecmgw::uplink {

using platform::wall_ms;

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kConnectTimeout{10};
constexpr std::chrono::seconds kAckTimeout{30};
constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{60000};
constexpr std::size_t kMaxMessageBytes = 256 * 1024;

// Backoff with ±20% jitter so a fleet of boxes does not reconnect in lockstep.
std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_real_distribution<double> factor(0.8, 1.2);
    return std::chrono::milliseconds(
        static_cast<long>(static_cast<double>(base.count()) * factor(rng)));
}

}  // namespace

MqttUplink::MqttUplink(config::Config cfg, std::filesystem::path database)
    : cfg_(std::move(cfg)), database_(std::move(database)) {}

MqttUplink::~MqttUplink() { stop(); }

void MqttUplink::start() {
    alive_ns_ = Clock::now().time_since_epoch().count();
    thread_ = std::thread([this] {
        platform::name_this_thread("uplink");
        run();
    });
}

void MqttUplink::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void MqttUplink::notify() {
    {
        std::lock_guard lock(mutex_);
        dirty_ = true;
    }
    wake_.notify_all();
}

UplinkStats MqttUplink::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

Clock::time_point MqttUplink::last_alive() const {
    return Clock::time_point(Clock::duration(alive_ns_.load()));
}

// Waits for new records or a state change (when `on_records`) or `until`;
// false when stopping.
bool MqttUplink::wait_for_work(Clock::time_point until, bool on_records) {
    std::unique_lock lock(mutex_);
    while (!stopping_ && !(on_records && dirty_) && Clock::now() < until) {
        wake_.wait_until(lock, std::min(until, Clock::now() + std::chrono::seconds(1)));
        alive_ns_ = Clock::now().time_since_epoch().count();
    }
    dirty_ = false;
    return !stopping_;
}

// Logs once per change of state, not once per attempt.
void MqttUplink::set_connected(bool connected, const std::string& why) {
    std::lock_guard lock(mutex_);
    if (connected && !stats_.connected) {
        spdlog::info("cloud: connected to {}", cfg_.cloud.uri);
    } else if (!connected && (stats_.connected || stats_.last_error != why)) {
        spdlog::warn("cloud: {} ({}); readings wait in the outbox", why, cfg_.cloud.uri);
    }
    stats_.connected = connected;
    if (!connected) stats_.last_error = why;
    dirty_ = true;
}

bool MqttUplink::connect(mqtt::async_client& client) {
    auto options = mqtt::connect_options_builder()
                       .clean_session(true)
                       .keep_alive_interval(std::chrono::seconds(cfg_.cloud.keepalive_s))
                       .connect_timeout(kConnectTimeout)
                       .finalize();
    try {
        auto token = client.connect(options);
        if (!token->wait_for(kConnectTimeout + std::chrono::seconds(2))) {
            set_connected(false, "connect timed out");
            return false;
        }
        if (command_receiver_) {
            const std::string topic = cfg_.cloud.topic_prefix + "/" + cfg_.gateway.id + "/commands";
            if (!client.subscribe(topic, 1)->wait_for(kConnectTimeout)) {
                set_connected(false, "no SUBACK for " + topic);
                client.disconnect()->wait_for(std::chrono::seconds(2));
                return false;
            }
        }
        set_connected(true, "");
        return true;
    } catch (const mqtt::exception& e) {
        set_connected(false, std::string("connect failed: ") + e.what());
        return false;
    }
}

bool MqttUplink::publish_batch(mqtt::async_client& client, store::Store& store) {
    auto records = store.peek_outbox(0, static_cast<std::size_t>(cfg_.cloud.batch_max_records),
                                     kMaxMessageBytes);
    if (!records) {
        spdlog::error("store: {}", records.error().message);
        return false;
    }
    if (records->empty()) return wait_for_work(Clock::now() + std::chrono::seconds(5), true);
    // A part batch waits a little for company, unless its oldest record is due.
    const auto age = std::chrono::milliseconds(wall_ms() - records->front().created_ms);
    const auto delay = std::chrono::milliseconds(cfg_.cloud.batch_max_delay_ms);
    if (records->size() < static_cast<std::size_t>(cfg_.cloud.batch_max_records) && age < delay) {
        {
            std::lock_guard lock(mutex_);
            dirty_ = false;
        }
        return wait_for_work(Clock::now() + (delay - age), true);
    }
    // One message carries records of one kind; the next kind goes in the next.
    auto end = records->begin();
    while (end != records->end() && end->kind == records->front().kind) ++end;
    records->erase(end, records->end());

    const std::string topic = cfg_.cloud.topic_prefix + "/" + cfg_.gateway.id + "/" +
                              core::topic_suffix(records->front().kind);
    const std::string payload = core::batch_message(cfg_.gateway.id, *records);
    try {
        auto token = client.publish(topic, payload.data(), payload.size(), 1, false);
        if (!token->wait_for(kAckTimeout)) {
            set_connected(false, "no PUBACK within 30 s");
            client.disconnect()->wait_for(std::chrono::seconds(2));
            return true;
        }
    } catch (const mqtt::exception& e) {
        set_connected(false, std::string("publish failed: ") + e.what());
        return true;
    }
    const auto last = records->back().seq;
    if (auto ok = store.delete_outbox_through(last); !ok) {
        // Published but not deleted: sent again later, and the cloud drops it by seq.
        spdlog::error("store: {}", ok.error().message);
    }
    std::lock_guard lock(mutex_);
    ++stats_.messages;
    stats_.records += records->size();
    stats_.last_acked_seq = last;
    return true;
}

void MqttUplink::run() {
    auto store = store::Store::open(database_);
    if (!store) {
        spdlog::critical("uplink: {}", store.error().message);
        return;
    }
    mqtt::async_client client(cfg_.cloud.uri, cfg_.cloud.client_id);
    client.set_connection_lost_handler([this](const std::string& cause) {
        set_connected(false, cause.empty() ? "connection lost" : "connection lost: " + cause);
        wake_.notify_all();
    });
    if (command_receiver_) {
        client.set_message_callback([this](mqtt::const_message_ptr msg) {
            if (msg) command_receiver_(msg->get_payload_str());
        });
    }
    auto backoff = kFirstBackoff;
    while (true) {
        alive_ns_ = Clock::now().time_since_epoch().count();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) break;
        }
        if (!client.is_connected()) {
            if (!connect(client)) {
                // Only the timer ends a backoff: new records must not hasten reconnects.
                if (!wait_for_work(Clock::now() + jittered(backoff), false)) break;
                backoff = std::min(backoff * 2, kMaxBackoff);
                continue;
            }
            backoff = kFirstBackoff;
        }
        if (!publish_batch(client, **store)) {
            if (!wait_for_work(Clock::now() + std::chrono::seconds(2), true)) break;
        }
    }
    try {
        if (client.is_connected()) client.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {
        // Shutting down: the broker's view of the session no longer matters.
    }
}

}  // namespace ecmgw::uplink
