#include "uplink/mqtt_uplink.hpp"
#include "platform/thread_name.hpp"
#include "platform/wall_clock.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "core/outbox_format.hpp"
#include "ecmgw/store/store.hpp"
#include "uplink/firmware_version.hpp"

namespace ecmgw::uplink {

using platform::wall_ms;

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kConnectTimeout{10};
constexpr std::chrono::seconds kAckTimeout{30};
constexpr std::chrono::milliseconds kFirstBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{60000};
// QoS 1 messages outstanding at once: below the in-flight limits of common brokers
// (Mosquitto 20, EMQX 32), which otherwise queue or drop the excess.
constexpr std::size_t kWindow = 16;
// Deleting acknowledged records is a write with fsync; batching the deletes keeps it
// off the drain's critical path (a crash resends at most this much, by seq).
constexpr std::chrono::milliseconds kDeleteEvery{250};
// A failed delete (a full or read-only store fails at once) is tried again after a
// pause that doubles up to a minute: retrying at once would spin and flood the log.
constexpr std::chrono::milliseconds kFirstDeletePause{1000};
constexpr std::chrono::milliseconds kMaxDeletePause{60000};
// A halved batch size doubles back after this long without another drop.
constexpr std::chrono::seconds kGrowAfter{60};
// A single record on which the broker dropped the connection this many times in a row
// is refused: skipped, so that it does not stop everything behind it, but only when the
// broker acknowledged another message this recently (it takes publishes, just not this
// one). A broker that takes none keeps every record.
constexpr int kRefuseAfter = 3;
constexpr std::chrono::minutes kAcceptedRecently{10};
// A backlog is published beside live records when it is at least this many batches
// (and records) long; shorter ones just go first.
constexpr std::int64_t kSplitBatches = 2;
constexpr std::int64_t kSplitRecords = 1000;

// Backoff with ±20% jitter so a fleet of boxes does not reconnect in lockstep.
std::chrono::milliseconds jittered(std::chrono::milliseconds base) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_real_distribution<double> factor(0.8, 1.2);
    return std::chrono::milliseconds(
        static_cast<long>(static_cast<double>(base.count()) * factor(rng)));
}

std::size_t digits(std::int64_t n) { return std::to_string(n).size(); }

// The size a record adds to core::batch_message: {"seq":N, + the body without its '{'.
std::size_t record_bytes(const store::OutboxRecord& r) {
    return 7 + digits(r.seq) + (r.body.size() > 2 ? 1 : 0) + r.body.size() - 1 + 1;
}

bool is_tls(const std::string& uri) {
    return uri.rfind("ssl://", 0) == 0 || uri.rfind("mqtts://", 0) == 0 ||
           uri.rfind("SSL://", 0) == 0 || uri.rfind("MQTTS://", 0) == 0;
}

std::string trimmed(std::string s) {
    const auto space = [](unsigned char c) { return std::isspace(c) != 0; };
    while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t start = 0;
    while (start < s.size() && space(static_cast<unsigned char>(s[start]))) ++start;
    return s.substr(start);
}

// Why a broker refused the connection, from its CONNACK return code (MQTT 3.1.1).
std::string connack_words(int rc) {
    switch (rc) {
        case 1:
            return "the broker refused: unacceptable protocol version";
        case 2:
            return "the broker refused the client id";
        case 3:
            return "the broker refused: server unavailable";
        case 4:
            return "the broker refused: bad user name or password";
        case 5:
            return "the broker refused: not authorized";
        default:
            return "";
    }
}

}  // namespace

// Paho calls this on its own thread when a publish completes: the uplink thread
// matches the token to what it has in flight.
class CompletionListener : public mqtt::iaction_listener {
  public:
    explicit CompletionListener(std::function<void(const mqtt::token*, bool)> done)
        : done_(std::move(done)) {}
    void on_success(const mqtt::token& token) override { done_(&token, true); }
    void on_failure(const mqtt::token& token) override { done_(&token, false); }

  private:
    std::function<void(const mqtt::token*, bool)> done_;
};

MqttUplink::MqttUplink(config::Config cfg, std::filesystem::path database)
    : cfg_(std::move(cfg)), database_(std::move(database)) {
    cap_records_ = static_cast<std::size_t>(cfg_.cloud.batch_max_records);
    cap_bytes_ = static_cast<std::size_t>(cfg_.cloud.batch_max_bytes);
}

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

std::string MqttUplink::topic(const std::string& suffix) const {
    return cfg_.cloud.topic_prefix + "/" + cfg_.gateway.id + "/" + suffix;
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
void MqttUplink::set_connected(bool connected, const std::string& why, const std::string& server) {
    std::lock_guard lock(mutex_);
    if (connected && !stats_.connected) {
        spdlog::info("cloud: connected to {}", server.empty() ? cfg_.cloud.uri : server);
    } else if (!connected && (stats_.connected || stats_.last_error != why)) {
        spdlog::warn("cloud: {} ({}); readings wait in the outbox", why,
                     fmt::join(cfg_.cloud.uris, ", "));
    }
    if (!connected && stats_.connected) lost_ = true;
    stats_.connected = connected;
    if (!connected) stats_.last_error = why;
    dirty_ = true;
    event_ = true;
}

std::int64_t MqttUplink::backlog(store::Store& store) {
    auto last = store.last_seq();
    if (!last) return 0;
    return std::max<std::int64_t>(0, *last - acked_.through() - acked_.beyond_prefix());
}

std::size_t MqttUplink::window() const { return probing_ ? 1 : kWindow; }

std::unique_ptr<mqtt::async_client> MqttUplink::make_client() {
    // A new client for every connection: Paho keeps a session's unacknowledged
    // publishes and sends them again on reconnect, which would repeat a message the
    // broker refuses forever; our own window decides what is sent again.
    auto client =
        std::make_unique<mqtt::async_client>(cfg_.cloud.uris.front(), cfg_.cloud.client_id);
    client->set_connection_lost_handler([this](const std::string& cause) {
        set_connected(false, cause.empty() ? "connection lost" : "connection lost: " + cause);
        {
            std::lock_guard lock(mutex_);
            lost_ = true;
        }
        wake_.notify_all();
    });
    if (command_receiver_) {
        client->set_message_callback([this](mqtt::const_message_ptr msg) {
            if (msg) command_receiver_(msg->get_payload_str());
        });
    }
    return client;
}

std::string MqttUplink::connect_failure(const std::string& what) {
    std::lock_guard lock(mutex_);
    if (!tls_error_.empty()) return what + " (TLS: " + tls_error_ + ")";
    // Paho's host name check fails without an OpenSSL error to show.
    if (is_tls(cfg_.cloud.uri)) {
        return what +
               " (TLS: if the broker is up, its certificate may not name the host in "
               "the uri)";
    }
    return what;
}

bool MqttUplink::connect(mqtt::async_client& client, std::int64_t backlog) {
    const auto& cloud = cfg_.cloud;
    nlohmann::ordered_json will = {{"gateway", cfg_.gateway.id},
                                   {"online", false},
                                   {"version", firmware_version()},
                                   {"backlog", backlog},
                                   {"reason", "connection_lost"}};
    auto builder = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_3_1_1)
                       .clean_session(false)
                       .keep_alive_interval(std::chrono::seconds(cloud.keepalive_s))
                       .connect_timeout(kConnectTimeout)
                       .max_inflight(static_cast<int>(kWindow) + 4)
                       .will(mqtt::will_options(topic("status"), will.dump(), 1, true));
    if (cloud.uris.size() > 1) builder.servers(mqtt::string_collection::create(cloud.uris));
    if (is_tls(cloud.uri)) {
        auto ssl = mqtt::ssl_options_builder()
                       .enable_server_cert_auth(true)
                       .verify(true)
                       .error_handler([this](const std::string& message) {
                           std::lock_guard lock(mutex_);
                           tls_error_ = message;
                       })
                       .finalize();
        if (!cloud.ca_file.empty()) ssl.set_trust_store(cloud.ca_file.string());
        if (!cloud.cert_file.empty()) ssl.set_key_store(cloud.cert_file.string());
        if (!cloud.key_file.empty()) ssl.set_private_key(cloud.key_file.string());
        builder.ssl(std::move(ssl));
    }
    if (!cloud.username.empty()) builder.user_name(cloud.username);
    if (!cloud.password_file.empty()) {
        // Read at every connect, so a new password needs no restart.
        std::ifstream in(cloud.password_file);
        std::stringstream text;
        text << in.rdbuf();
        const std::string password = trimmed(text.str());
        if (!in || password.empty()) {
            set_connected(false, "cannot read the password from " + cloud.password_file.string());
            return false;
        }
        builder.password(password);
    }
    const auto timeout =
        kConnectTimeout * static_cast<int>(cloud.uris.size()) + std::chrono::seconds(2);
    try {
        auto token = client.connect(builder.finalize());
        if (!token->wait_for(timeout)) {
            set_connected(false, connect_failure("connect timed out"));
            return false;
        }
        const auto response = token->get_connect_response();
        if (command_receiver_) {
            // Also with a kept session: a broker that lost it would otherwise leave
            // the gateway deaf.
            const std::string commands = topic("commands");
            if (!client.subscribe(commands, 1)->wait_for(kConnectTimeout)) {
                set_connected(false, "no SUBACK for " + commands);
                client.disconnect()->wait_for(std::chrono::seconds(2));
                return false;
            }
        }
        since_ = core::rfc3339_utc(wall_ms());
        // Paho names the server without its scheme; the log names it as configured.
        std::string server = response.get_server_uri();
        for (const auto& uri : cloud.uris) {
            if (uri.size() >= server.size() &&
                uri.compare(uri.size() - server.size(), server.size(), server) == 0) {
                server = uri;
            }
        }
        set_connected(true, "", server);
        spdlog::debug("cloud: session {} on the broker",
                      response.is_session_present() ? "kept" : "new");
        return true;
    } catch (const mqtt::exception& e) {
        std::string why = connack_words(e.get_return_code());
        if (why.empty()) why = std::string("connect failed: ") + e.what();
        set_connected(false, connect_failure(why));
        return false;
    }
}

void MqttUplink::publish_status(mqtt::async_client& client, store::Store& store, bool online) {
    const std::string now = core::rfc3339_utc(wall_ms());
    nlohmann::ordered_json status = {{"gateway", cfg_.gateway.id},     {"online", online},
                                     {"version", firmware_version()},  {"backlog", backlog(store)},
                                     {"since", online ? since_ : now}, {"ts", now}};
    {
        std::lock_guard lock(mutex_);
        status["refused"] = stats_.refused;
    }
    if (!online) status["reason"] = "shutdown";
    try {
        status_token_ = client.publish(topic("status"), status.dump(), 1, true);
    } catch (const mqtt::exception& e) {
        spdlog::debug("cloud: status not published: {}", e.what());
    }
}

// Takes the next batch of `stream`, skipping records already acknowledged. `front`:
// the stream of the newest records, whose part batch waits for company.
std::optional<MqttUplink::Batch> MqttUplink::take(store::Store& store, Stream& stream, bool front,
                                                  Next& next) {
    while (auto covered = acked_.covering(stream.cursor + 1)) stream.cursor = *covered;
    if (stream.end && stream.cursor >= *stream.end) return std::nullopt;
    auto peeked = store.peek_outbox(stream.cursor, cap_records_, cap_bytes_);
    if (!peeked) {
        spdlog::error("store: {}", peeked.error().message);
        return std::nullopt;
    }
    auto& records = *peeked;
    if (records.empty()) return std::nullopt;
    // Seqs missing between what the stream took and what it sees are gone from the
    // outbox (the outbox cap dropped them, with an event): nothing to wait for.
    if (records.front().seq > stream.cursor + 1) {
        acked_.add(stream.cursor + 1, records.front().seq - 1);
    }
    for (std::size_t i = 1; i < records.size(); ++i) {
        if (records[i].seq > records[i - 1].seq + 1) {
            acked_.add(records[i - 1].seq + 1, records[i].seq - 1);
        }
    }
    const std::size_t peeked_count = records.size();
    // One message carries consecutive records of one kind, within the stream, up to
    // the first record already acknowledged, within the byte cap.
    const std::int64_t limit = std::min(stream.end.value_or(INT64_MAX),
                                        acked_.next_after(stream.cursor).value_or(INT64_MAX) - 1);
    std::size_t bytes = 64 + 2 * cfg_.gateway.id.size();
    std::size_t n = 0;
    while (n < records.size()) {
        const auto& r = records[n];
        if (r.seq > limit || r.kind != records.front().kind) break;
        if (r.seq != records.front().seq + static_cast<std::int64_t>(n)) break;
        const std::size_t add = record_bytes(r);
        if (n > 0 && bytes + add > cap_bytes_) break;
        bytes += add;
        ++n;
    }
    if (n == 0) return std::nullopt;
    const bool cut_short = n < peeked_count;
    records.resize(n);
    if (front && !cut_short && n < cap_records_ && bytes < cap_bytes_ / 2) {
        // A part batch waits a little for company, unless its oldest record is due.
        const auto age = std::chrono::milliseconds(wall_ms() - records.front().created_ms);
        const auto delay = std::chrono::milliseconds(cfg_.cloud.batch_max_delay_ms);
        if (age < delay) {
            const auto due = Clock::now() + (delay - age);
            next.due = next.due ? std::min(*next.due, due) : due;
            return std::nullopt;
        }
    }
    Batch batch;
    batch.payload = core::batch_message(cfg_.gateway.id, records);
    batch.records = std::move(records);
    stream.cursor = batch.records.back().seq;
    return batch;
}

MqttUplink::Next MqttUplink::next_batch(store::Store& store) {
    {
        std::lock_guard lock(mutex_);
        dirty_ = false;
    }
    Next next;
    const auto split_at = std::max(
        kSplitRecords, kSplitBatches * static_cast<std::int64_t>(cfg_.cloud.batch_max_records));
    if (!live_) {
        auto last = store.last_seq();
        if (last && *last - oldest_.cursor > split_at) {
            // A backlog: the records from here on are live and go out beside it, so
            // that fresh data is not queued behind hours of old data.
            oldest_.end = *last;
            live_ = Stream{*last, std::nullopt};
            spdlog::info(
                "cloud: {} records behind; the backlog (from seq {}) goes out beside "
                "live records (from seq {})",
                *last - oldest_.cursor, oldest_.cursor + 1, *last + 1);
        }
    }
    if (live_ && oldest_.end && oldest_.cursor >= *oldest_.end) {
        spdlog::info("cloud: backlog through seq {} published", *oldest_.end);
        oldest_ = Stream{live_->cursor, std::nullopt};
        live_.reset();
    }
    if (!live_) {
        next.batch = take(store, oldest_, true, next);
        return next;
    }
    // Alternate between the streams, each in order.
    for (const bool live : {prefer_live_, !prefer_live_}) {
        auto batch = live ? take(store, *live_, true, next) : take(store, oldest_, false, next);
        if (batch) {
            batch->live = live;
            prefer_live_ = !live;
            next.batch = std::move(batch);
            return next;
        }
    }
    return next;
}

bool MqttUplink::publish(mqtt::async_client& client, Batch batch) {
    const auto& records = batch.records;
    InFlight entry;
    entry.first = records.front().seq;
    entry.last = records.back().seq;
    entry.records = records.size();
    entry.bytes = batch.payload.size();
    entry.sent = Clock::now();
    try {
        auto message = mqtt::make_message(topic(core::topic_suffix(records.front().kind)),
                                          std::move(batch.payload), 1, false);
        entry.token = client.publish(message, nullptr, *listener_);
    } catch (const mqtt::exception& e) {
        set_connected(false, std::string("publish failed: ") + e.what());
        std::lock_guard lock(mutex_);
        lost_ = true;
        return false;
    }
    in_flight_.push_back(std::move(entry));
    return true;
}

// Settles the publishes Paho has completed.
void MqttUplink::reap(store::Store& store) {
    std::vector<std::pair<const mqtt::token*, bool>> done;
    {
        std::lock_guard lock(mutex_);
        done.swap(completions_);
    }
    for (const auto& [token, ok] : done) {
        auto it = std::find_if(in_flight_.begin(), in_flight_.end(), [t = token](const auto& e) {
            return static_cast<const mqtt::token*>(e.token.get()) == t;
        });
        if (it == in_flight_.end()) continue;  // the status, or a connection gone by
        if (!ok) {
            set_connected(false, "publish of seq " + std::to_string(it->first) + ".." +
                                     std::to_string(it->last) + " failed");
            std::lock_guard lock(mutex_);
            lost_ = true;
            continue;
        }
        acked_.add(it->first, it->last);
        accepted_at_ = Clock::now();
        probing_ = false;
        strikes_ = 0;
        const auto configured = static_cast<std::size_t>(cfg_.cloud.batch_max_records);
        const auto configured_bytes = static_cast<std::size_t>(cfg_.cloud.batch_max_bytes);
        if ((cap_records_ < configured || cap_bytes_ < configured_bytes) &&
            Clock::now() - shrunk_at_ >= kGrowAfter) {
            cap_records_ = std::min(configured, cap_records_ * 2);
            cap_bytes_ = std::min(configured_bytes, cap_bytes_ * 2);
            shrunk_at_ = Clock::now();
            spdlog::info("cloud: batches grow back to {} records, {} bytes", cap_records_,
                         cap_bytes_);
        }
        {
            std::lock_guard lock(mutex_);
            ++stats_.messages;
            stats_.records += it->records;
            stats_.last_acked_seq = std::max(stats_.last_acked_seq, it->last);
            stats_.batch_cap = cap_records_;
        }
        in_flight_.erase(it);
    }
    delete_acknowledged(store, false);
}

void MqttUplink::delete_acknowledged(store::Store& store, bool now, bool last_chance) {
    const std::int64_t through = acked_.through();
    if (through <= deleted_through_) return;
    const auto at = Clock::now();
    if (delete_failing_ && at < delete_retry_at_ && !last_chance) return;
    if (!now && !delete_failing_ && !in_flight_.empty() && at - last_delete_ < kDeleteEvery) return;
    if (auto ok = store.delete_outbox_through(through); !ok) {
        // Acknowledged but not deleted: this run does not publish them again (acked_
        // holds them); after a restart they are, and the cloud drops them by seq.
        delete_pause_ =
            delete_failing_ ? std::min(delete_pause_ * 2, kMaxDeletePause) : kFirstDeletePause;
        delete_retry_at_ = at + delete_pause_;
        if (!delete_failing_) {
            spdlog::error(
                "store: cannot delete the acknowledged outbox records through seq {}: {}; "
                "trying again with pauses of up to {} s",
                through, ok.error().message, kMaxDeletePause.count() / 1000);
        } else {
            spdlog::debug("store: deleting acknowledged outbox records failed again: {}",
                          ok.error().message);
        }
        delete_failing_ = true;
        return;
    }
    if (delete_failing_) {
        spdlog::info("store: acknowledged outbox records deleted again (through seq {})", through);
    }
    delete_failing_ = false;
    deleted_through_ = through;
    last_delete_ = at;
}

// Gives up on outbox record `seq`, which the broker will not take: deletes it and
// records the event outbox_record_refused in one transaction, so the cloud learns why
// the seq is missing. False (the record kept) when the store cannot do it.
bool MqttUplink::give_up(store::Store& store, std::int64_t seq, std::size_t bytes) {
    auto found = store.peek_outbox(seq - 1, 1, SIZE_MAX);
    if (!found) {
        spdlog::error("store: {}", found.error().message);
        return false;
    }
    const std::string kind =
        !found->empty() && found->front().seq == seq ? found->front().kind : std::string();
    const auto now = wall_ms();
    const nlohmann::json details = {{"seq", seq}, {"kind", kind}, {"bytes", bytes}};
    const auto event = [&]() -> Expected<std::int64_t> {
        auto tx = store.begin();
        if (!tx) return unexpected(tx.error());
        if (auto deleted = tx->delete_outbox_record(seq); !deleted)
            return unexpected(deleted.error());
        auto appended =
            tx->append_event(now, store::kEventOutboxRecordRefused,
                             core::event_body(store::kEventOutboxRecordRefused, now, {}, details));
        if (!appended) return appended;
        if (auto ok = tx->commit(); !ok) return unexpected(ok.error());
        return appended;
    }();
    if (!event) {
        spdlog::error("store: giving up on outbox record seq {}: {}", seq, event.error().message);
        return false;
    }
    spdlog::error(
        "cloud: the broker dropped the connection {} times on outbox record seq {} ({}, {} "
        "bytes) sent alone, and takes other messages: it will not take this one. Deleted it "
        "and reported it as event {} (seq {}); the record stays in the gateway's own tables",
        strikes_, seq, kind, bytes, store::kEventOutboxRecordRefused, *event);
    acked_.add(seq, seq);
    std::lock_guard lock(mutex_);
    ++stats_.refused;
    dirty_ = true;
    return true;
}

// The connection ended with `in_flight_` unacknowledged: forget them, start the
// streams again at the first unacknowledged record, and, when the broker dropped us
// while we were publishing, make the batches smaller (it may refuse their size).
void MqttUplink::connection_ended(store::Store& store, bool was_publishing) {
    if (was_publishing) {
        std::size_t records = 0;
        std::size_t bytes = 0;
        for (const auto& e : in_flight_) {
            records = std::max(records, e.records);
            bytes = std::max(bytes, e.bytes);
        }
        // Only a record the broker drops us on at once, alone, after the batches have
        // shrunk to one record, counts against it: not one caught by a broker restart.
        const bool at_once = Clock::now() - in_flight_.front().sent < std::chrono::seconds(10);
        if (in_flight_.size() == 1 && records == 1 && cap_records_ == 1 && at_once) {
            const std::int64_t seq = in_flight_.front().first;
            strikes_ = seq == strike_seq_ ? strikes_ + 1 : 1;
            strike_seq_ = seq;
            const bool takes_others =
                accepted_at_ && Clock::now() - *accepted_at_ < kAcceptedRecently;
            if (strikes_ >= kRefuseAfter && takes_others) {
                if (give_up(store, seq, bytes)) strikes_ = 0;
            } else if (strikes_ == kRefuseAfter) {
                spdlog::error(
                    "cloud: the broker dropped the connection {} times on outbox record seq {} "
                    "({} bytes) sent alone, and has acknowledged no message in the last {} "
                    "minutes: it may refuse every message. Keeping every record and trying "
                    "again with backoff",
                    strikes_, seq, bytes, kAcceptedRecently.count());
            } else {
                spdlog::warn("cloud: connection dropped while publishing seq {} alone ({} bytes)",
                             seq, bytes);
            }
        } else {
            const std::size_t old_records = cap_records_;
            cap_records_ = std::max<std::size_t>(1, std::min(cap_records_, records) / 2);
            cap_bytes_ = std::max<std::size_t>(1, std::min(cap_bytes_, bytes) / 2);
            spdlog::warn(
                "cloud: connection dropped while publishing (largest message {} records, {} "
                "bytes); batches shrink from {} to {} records, {} bytes (the broker may refuse "
                "large messages)",
                records, bytes, old_records, cap_records_, cap_bytes_);
        }
        shrunk_at_ = Clock::now();
        probing_ = true;
        std::lock_guard lock(mutex_);
        stats_.batch_cap = cap_records_;
    }
    in_flight_.clear();
    status_token_.reset();
    oldest_ = Stream{acked_.through(), std::nullopt};
    live_.reset();
}

void MqttUplink::session(mqtt::async_client& client, store::Store& store) {
    const auto status_every = std::chrono::seconds(cfg_.cloud.status_interval_s);
    publish_status(client, store, true);
    next_status_ = Clock::now() + status_every;
    while (true) {
        alive_ns_ = Clock::now().time_since_epoch().count();
        reap(store);
        {
            std::lock_guard lock(mutex_);
            if (stopping_ || lost_) return;
        }
        const auto now = Clock::now();
        if (!in_flight_.empty() && now - in_flight_.front().sent > kAckTimeout) {
            set_connected(false, "no PUBACK within 30 s");
            std::lock_guard lock(mutex_);
            lost_ = true;
            return;
        }
        if (now >= next_status_) {
            publish_status(client, store, true);
            next_status_ = now + status_every;
        }
        Next next;
        if (in_flight_.size() < window()) {
            next = next_batch(store);
            if (next.batch) {
                if (!publish(client, std::move(*next.batch))) return;
                continue;
            }
        }
        auto until = std::min(now + std::chrono::seconds(1), next_status_);
        if (next.due) until = std::min(until, *next.due);
        if (!in_flight_.empty()) until = std::min(until, in_flight_.front().sent + kAckTimeout);
        if (acked_.through() > deleted_through_) {
            until =
                std::min(until, delete_failing_ ? delete_retry_at_ : last_delete_ + kDeleteEvery);
        }
        std::unique_lock lock(mutex_);
        wake_.wait_until(lock, until, [&] {
            return stopping_ || lost_ || !completions_.empty() ||
                   (dirty_ && in_flight_.size() < window());
        });
    }
}

void MqttUplink::shut_down(mqtt::async_client& client, store::Store& store) {
    // What is in flight gets its PUBACK first, so a restart does not send it again.
    const auto deadline = Clock::now() + std::chrono::seconds(3);
    while (!in_flight_.empty() && Clock::now() < deadline) {
        reap(store);
        std::unique_lock lock(mutex_);
        if (lost_) break;
        wake_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(100)),
                         [&] { return lost_ || !completions_.empty(); });
    }
    reap(store);
    delete_acknowledged(store, true, true);
    in_flight_.clear();
    bool lost = false;
    {
        std::lock_guard lock(mutex_);
        lost = lost_;
    }
    if (lost) return;
    try {
        publish_status(client, store, false);
        if (status_token_) (*status_token_)->wait_for(std::chrono::seconds(2));
        status_token_.reset();
        client.disconnect()->wait_for(std::chrono::seconds(2));
    } catch (const mqtt::exception&) {
        // Shutting down: the will tells the cloud instead.
    }
}

void MqttUplink::run() {
    auto opened = store::Store::open(database_);
    if (!opened) {
        spdlog::critical("uplink: {}", opened.error().message);
        return;
    }
    store::Store& store = **opened;
    // Everything before the oldest outbox record went up in an earlier run.
    std::int64_t through = 0;
    if (auto first = store.peek_outbox(0, 1, SIZE_MAX); first && !first->empty()) {
        through = first->front().seq - 1;
    } else if (auto last = store.last_seq()) {
        through = *last;
    }
    acked_.reset(through);
    deleted_through_ = through;
    oldest_ = Stream{through, std::nullopt};
    listener_ = std::make_unique<CompletionListener>([this](const mqtt::token* token, bool ok) {
        {
            std::lock_guard lock(mutex_);
            completions_.emplace_back(token, ok);
        }
        wake_.notify_all();
    });

    auto backoff = kFirstBackoff;
    while (true) {
        alive_ns_ = Clock::now().time_since_epoch().count();
        {
            std::lock_guard lock(mutex_);
            if (stopping_) break;
            lost_ = false;
            tls_error_.clear();
            completions_.clear();
        }
        std::unique_ptr<mqtt::async_client> client;
        try {
            client = make_client();
        } catch (const mqtt::exception& e) {
            set_connected(false, std::string("cannot create the MQTT client: ") + e.what());
        }
        if (!client || !connect(*client, backlog(store))) {
            client.reset();
            // Only the timer ends a backoff: new records must not hasten reconnects.
            if (!wait_for_work(Clock::now() + jittered(backoff), false)) break;
            backoff = std::min(backoff * 2, kMaxBackoff);
            continue;
        }
        const auto connected_at = Clock::now();
        const auto acked_before = stats().messages;
        session(*client, store);
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            stopping = stopping_ && !lost_;
        }
        if (stopping) {
            shut_down(*client, store);
            break;
        }
        reap(store);  // PUBACKs that arrived just before the end still count
        connection_ended(store, !in_flight_.empty());
        try {
            if (client->is_connected()) client->disconnect()->wait_for(std::chrono::seconds(2));
        } catch (const mqtt::exception&) {
            // The connection is being abandoned anyway.
        }
        client.reset();
        {
            std::lock_guard lock(mutex_);
            completions_.clear();
        }
        delete_acknowledged(store, true);
        // A connection that carried messages shows the broker works: a quick retry. One
        // dropped at once keeps backing off, so a broker that refuses us is not hammered.
        if (stats().messages > acked_before || Clock::now() - connected_at > kGrowAfter) {
            backoff = kFirstBackoff;
        }
        if (!wait_for_work(Clock::now() + jittered(backoff), false)) break;
        backoff = std::min(backoff * 2, kMaxBackoff);
    }
    in_flight_.clear();
}

}  // namespace ecmgw::uplink
