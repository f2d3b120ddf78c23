// Warnings: what parses but will probably not work on site. Each warning names the
// key a technician should look at (the meter's own setting where it overrides its
// bus's, else the bus's), so several meters that share one cause get one warning.
//
// The positions come from parsing the text again rather than from the parser's
// state: the checks need the whole, validated Config (profiles, every meter of a bus),
// which only exists once parsing is over, and a few kilobytes parse in microseconds.
#include "ecmgw/config/config_warnings.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <map>
#include <system_error>
#include <utility>
#include <vector>

#include "ecmgw/protocols/cjt188.hpp"
#include "ecmgw/protocols/dlt645.hpp"
#include "ecmgw/protocols/dlt645_1997.hpp"
#include "ecmgw/protocols/modbus_map.hpp"
#include "toml_check.hpp"

namespace ecmgw::config {

namespace {

using namespace check;

// DL/T 645-2007 lets a meter answer 20 ms after the request at the earliest (Tr, 20 to
// 500 ms); CJ/T 188 meters keep the same timing.
constexpr double kMeterTurnaroundMs = 20.0;
// Where the unit file lets the daemon write (ProtectSystem=strict, StateDirectory=ecmgw).
constexpr std::string_view kStateDirectory = "/var/lib/ecmgw";

// The rates meters of each protocol are sold with; anything else is usually a typo or
// a meter reprogrammed by hand, worth a second look.
constexpr std::array kDlt645Bauds{1200, 2400, 4800, 9600};
constexpr std::array kCjt188Bauds{2400};
constexpr std::array kModbusBauds{2400, 4800, 9600, 19200, 38400, 57600, 115200};

bool is_dlt645(Protocol p) { return p == Protocol::Dlt645_2007 || p == Protocol::Dlt645_1997; }

std::span<const int> usual_bauds(Protocol p) {
    if (is_dlt645(p)) return kDlt645Bauds;
    if (p == Protocol::Cjt188) return kCjt188Bauds;
    return kModbusBauds;
}

std::string format_ms(double ms) {
    const double rounded = std::ceil(ms);
    return std::to_string(static_cast<long long>(rounded)) + " ms";
}

struct Line {
    int baud = 0;
    Parity parity = Parity::Even;
    int data_bits = 8;
    int stop_bits = 1;

    int bits_per_byte() const {
        return 1 + data_bits + (parity == Parity::None ? 0 : 1) + stop_bits;
    }
    double wire_ms(std::size_t bytes) const {
        return static_cast<double>(bytes) * bits_per_byte() * 1000.0 / baud;
    }
    std::string to_string() const {
        return std::to_string(baud) + " baud " + std::to_string(data_bits) + to_char(parity) +
               std::to_string(stop_bits);
    }
};

Line line_of(const BusConfig& bus, const MeterConfig& meter) {
    return {meter.baud.value_or(bus.baud), meter.parity.value_or(bus.parity),
            meter.data_bits.value_or(bus.data_bits), meter.stop_bits.value_or(bus.stop_bits)};
}

// The DL/T 645 answer with the longest value the gateway reads: a block of the
// protocol's known blocks, or a single item.
std::size_t largest_dlt645_answer(bool v1997) {
    std::size_t value = 0;
    if (v1997) {
        for (const auto& item : dlt645_1997::known_data_items()) {
            value = std::max<std::size_t>(value, item.length);
        }
        for (const auto& block : dlt645_1997::known_blocks()) {
            std::size_t sum = 1;  // the AA end mark some meters append
            for (auto di : block.members) {
                if (const auto* item = dlt645_1997::find_data_item(di)) sum += item->length;
            }
            value = std::max(value, sum);
        }
    } else {
        for (const auto& item : dlt645::known_data_items()) {
            value = std::max<std::size_t>(value, item.length);
        }
        for (const auto& block : dlt645::known_blocks()) {
            std::size_t sum = 0;
            for (auto di : block.members) {
                if (const auto* item = dlt645::find_data_item(di)) sum += item->length;
            }
            value = std::max(value, sum);
        }
    }
    dlt645::Frame answer;
    answer.control = 0x91;
    answer.data.assign((v1997 ? 2 : 4) + value, 0);
    return dlt645::encode_frame(answer).size();
}

std::size_t dlt645_request(bool v1997) {
    return v1997 ? dlt645_1997::encode_read(dlt645::Address{}, 0x901F).size()
                 : dlt645::encode_read(dlt645::Address{}, 0x0000FF00).size();
}

// The 901F answer: DI, SER, current and settlement volume, time, status (CJ/T 188-2004).
constexpr std::size_t kCjt188ReadDataAnswerData = 22;

std::size_t cjt188_answer() {
    cjt188::Frame answer;
    answer.data.assign(kCjt188ReadDataAnswerData, 0);
    return cjt188::encode_frame(answer).size();
}

// Modbus RTU: the largest answer of the reads the planner makes for this meter.
std::optional<std::size_t> largest_modbus_answer(const Profile& profile, const MeterConfig& meter) {
    std::vector<modbus::Point> points;
    if (meter.quantities.empty()) {
        points = profile.points;
    } else {
        for (const auto& q : meter.quantities) {
            if (const auto* p = profile.find_point(q)) points.push_back(*p);
        }
    }
    if (points.empty()) return std::nullopt;
    std::size_t largest = 0;
    for (const auto& request : modbus::plan_reads(points, profile.limits)) {
        // unit, function, byte count, data, CRC
        const std::size_t data = modbus::is_bit_table(request.table)
                                     ? (std::size_t{request.count} + 7) / 8
                                     : std::size_t{request.count} * 2;
        largest = std::max(largest, 3 + data + 2);
    }
    return largest;
}

constexpr std::size_t kModbusReadRequest = 8;  // unit, function, address, count, CRC

// Modbus RTU ends a frame with 3.5 characters of silence (fixed at 1.75 ms above
// 19200 baud); a device cannot start answering before it has seen that.
double modbus_t35_ms(const Line& line) {
    if (line.baud > 19200) return 1.75;
    return 3.5 * line.bits_per_byte() * 1000.0 / line.baud;
}

std::string identify(const MeterConfig& meter) { return "meter " + meter.id; }

// --- where a warning points ----------------------------------------------------------

// The [[name]] table whose `key` equals `value`, with its index in the array.
std::pair<const toml::table*, std::size_t> find_table(const toml::table& root,
                                                      std::string_view name, std::string_view key,
                                                      std::string_view value) {
    const toml::node* node = root.get(name);
    const toml::array* array = node != nullptr ? node->as_array() : nullptr;
    if (array == nullptr) return {nullptr, 0};
    for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::table* table = array->get(i)->as_table();
        if (table == nullptr) continue;
        const toml::node* id = table->get(key);
        if (id != nullptr && id->is_string() && id->as_string()->get() == value) return {table, i};
    }
    return {nullptr, 0};
}

// A place in the file: the key's value when written, else the table's header.
struct Place {
    std::optional<toml::source_region> where;
    std::string key;
};

Place place_in(std::pair<const toml::table*, std::size_t> table, std::string_view array,
               std::string_view key) {
    Place place;
    place.key = indexed(array, table.second);
    if (!key.empty()) place.key += "." + std::string(key);
    if (table.first == nullptr) return place;
    const toml::node* node = key.empty() ? nullptr : table.first->get(key);
    place.where = node != nullptr ? node->source() : table.first->source();
    return place;
}

// Warnings with one cause on one key (a bus's baud, say) gather their meters into one.
class Collector {
  public:
    explicit Collector(Errors& out) : out_(out) {}

    void add(const Place& place, std::string message) {
        if (place.where) {
            out_.add(*place.where, place.key, std::move(message));
        } else {
            out_.add_unplaced(place.key, std::move(message));
        }
    }

    // `message` is the same for every meter with this cause; the meters are listed.
    void add_for_meter(const Place& place, const std::string& message, const MeterConfig& meter) {
        auto& group = groups_[{place.key, message}];
        group.place = place;
        group.meters.push_back(meter.id);
    }

    void flush() {
        for (auto& [key, group] : groups_) {
            std::string message = key.second;
            if (group.meters.size() == 1) {
                message += " (meter " + group.meters.front() + ")";
            } else {
                const std::size_t shown = std::min<std::size_t>(group.meters.size(), 5);
                std::vector<std::string> names(group.meters.begin(),
                                               group.meters.begin() + static_cast<long>(shown));
                message += " (" + std::to_string(group.meters.size()) + " meters: " + join(names);
                if (shown < group.meters.size()) message += ", …";
                message += ")";
            }
            add(group.place, std::move(message));
        }
        groups_.clear();
    }

  private:
    struct Group {
        Place place;
        std::vector<std::string> meters;
    };
    Errors& out_;
    std::map<std::pair<std::string, std::string>, Group> groups_;
};

class Warnings {
  public:
    Warnings(const Config& config, const toml::table& root, Errors& out)
        : config_(config), root_(root), collect_(out) {}

    void run() {
        check_gateway();
        check_cloud();
        for (const BusConfig& bus : config_.buses) check_bus(bus);
        for (const MeterConfig& meter : config_.meters) check_meter(meter);
        collect_.flush();
        for (const BusConfig& bus : config_.buses) check_bus_load(bus);
        check_accounts();
    }

  private:
    Place bus_place(const BusConfig& bus, std::string_view key) const {
        return place_in(find_table(root_, "bus", "name", bus.name), "bus", key);
    }
    Place meter_place(const MeterConfig& meter, std::string_view key) const {
        return place_in(find_table(root_, "meter", "id", meter.id), "meter", key);
    }
    Place section_place(std::string_view section, std::string_view key) const {
        Place place;
        place.key = std::string(section) + "." + std::string(key);
        const toml::node* table = root_.get(section);
        if (table == nullptr || !table->is_table()) return place;
        const toml::node* node = table->as_table()->get(key);
        place.where = node != nullptr ? node->source() : table->source();
        return place;
    }

    void check_gateway() {
        const auto dir = config_.gateway.data_dir.lexically_normal().string();
        if (dir == kStateDirectory || dir.starts_with(std::string(kStateDirectory) + "/")) return;
        collect_.add(section_place("gateway", "data_dir"),
                     "\"" + config_.gateway.data_dir.string() +
                         "\" is outside /var/lib/ecmgw: under the systemd unit "
                         "(ProtectSystem=strict) the daemon can write only there, so the store "
                         "would not open; expected \"/var/lib/ecmgw\" on a box");
    }

    void check_cloud() {
        const CloudConfig& cloud = config_.cloud;
        const std::string_view uri = cloud.uri;
        const std::size_t sep = uri.find("://");
        const std::string scheme = lowercase(uri.substr(0, sep));
        if (sep != std::string_view::npos && (scheme == "tcp" || scheme == "mqtt")) {
            std::string_view host = uri.substr(sep + 3);
            host = host.starts_with('[') ? host.substr(1, host.find(']') - 1)
                                         : host.substr(0, host.rfind(':'));
            if (host != "127.0.0.1" && host != "localhost" && host != "::1") {
                collect_.add(section_place("cloud", "uri"),
                             "\"" + cloud.uri +
                                 "\" is not encrypted: readings, balances and the broker's "
                                 "password cross the network in clear; expected ssl:// or "
                                 "mqtts:// for a broker beyond this box");
            }
        }
        if (cloud.command_key_file.empty()) {
            if (!config_.accounts.empty()) {
                collect_.add(section_place("cloud", "command_key_file"),
                             "no command_key_file: every command from the cloud (top-ups, "
                             "tariff changes, relay orders) will be refused, so prepaid "
                             "accounts can never be topped up; expected the path of this "
                             "gateway's command key");
            }
        } else if (::access(cloud.command_key_file.c_str(), R_OK) != 0) {
            const std::string reason = std::generic_category().message(errno);
            collect_.add(section_place("cloud", "command_key_file"),
                         "\"" + cloud.command_key_file.string() + "\" cannot be read (" + reason +
                             "): the daemon will refuse to start; install the key file, "
                             "readable by the ecmgw user");
        }
    }

    void check_bus(const BusConfig& bus) {
        if (bus.transport != Transport::Serial) return;
        std::error_code ec;
        const auto real = std::filesystem::canonical(bus.device, ec);
        if (!ec) {
            for (const auto& [name, other] : devices_) {
                if (other == real) {
                    collect_.add(bus_place(bus, "device"),
                                 "\"" + bus.device + "\" is the same port as bus " + name + "'s (" +
                                     real.string() +
                                     "); two buses on one port garble each other's frames");
                }
            }
            devices_.emplace_back(bus.name, real);
        }
        const bool modbus =
            std::any_of(config_.meters.begin(), config_.meters.end(), [&](const MeterConfig& m) {
                return m.bus == bus.name && m.protocol == Protocol::Modbus && !m.baud;
            });
        const Line line{bus.baud, bus.parity, bus.data_bits, bus.stop_bits};
        if (modbus && bus.framing == Framing::Rtu && bus.gap_ms < modbus_t35_ms(line)) {
            collect_.add(bus_place(bus, "gap_ms"),
                         "gap_ms = " + std::to_string(bus.gap_ms) +
                             " is shorter than Modbus RTU's 3.5-character silence at " +
                             line.to_string() + " (" + format_ms(modbus_t35_ms(line)) +
                             "): the next request runs into the last answer; expected gap_ms >= " +
                             std::to_string(static_cast<int>(std::ceil(modbus_t35_ms(line)))));
        }
        const double two_chars = line.wire_ms(2);
        if (bus.inter_byte_timeout_ms < two_chars) {
            collect_.add(bus_place(bus, "inter_byte_timeout_ms"),
                         "inter_byte_timeout_ms = " + std::to_string(bus.inter_byte_timeout_ms) +
                             " is shorter than two characters at " + line.to_string() + " (" +
                             format_ms(two_chars) +
                             "): every answer would be cut in pieces; expected at least that");
        }
    }

    // The setting that decides `key` for this meter: its own override, else its bus's.
    Place setting(const MeterConfig& meter, const BusConfig& bus, std::string_view key,
                  bool overridden) const {
        return overridden ? meter_place(meter, key) : bus_place(bus, key);
    }

    void check_meter(const MeterConfig& meter) {
        const BusConfig* bus = config_.find_bus(meter.bus);
        if (bus == nullptr) return;
        if (!meter.account.empty() && !meter.relay) {
            const AccountConfig* account = config_.find_account(meter.account);
            if (account != nullptr && !account->keep_power) {
                collect_.add(meter_place(meter, "relay"),
                             identify(meter) + " is charged to account " + meter.account +
                                 " but has relay = false: when the credit runs out the gateway "
                                 "cannot cut its supply; expected relay = true (or keep_power = "
                                 "true on the account)");
            }
        }
        if (bus->framing == Framing::Tcp) return;
        const Line line = line_of(*bus, meter);
        const auto usual = usual_bauds(meter.protocol);
        if (std::find(usual.begin(), usual.end(), line.baud) == usual.end()) {
            collect_.add_for_meter(setting(meter, *bus, "baud", meter.baud.has_value()),
                                   std::to_string(line.baud) + " baud is unusual for " +
                                       std::string(to_string(meter.protocol)) +
                                       " meters (they are sold set to " + join(usual) +
                                       "); check the meters' nameplate or settings",
                                   meter);
        }
        if (meter.protocol != Protocol::Modbus && line.parity != Parity::Even) {
            collect_.add_for_meter(
                setting(meter, *bus, "parity", meter.parity.has_value()),
                std::string("parity \"") + to_char(line.parity) + "\" is unusual for " +
                    std::string(to_string(meter.protocol)) +
                    " meters: the standard's line is 8E1 (even parity); a meter on the wrong "
                    "parity drops every frame",
                meter);
        }
        if (const Profile* profile = config_.profile_of(meter)) {
            if (profile->default_baud != line.baud || profile->default_parity != line.parity) {
                const bool own = meter.baud.has_value() || meter.parity.has_value();
                collect_.add_for_meter(
                    setting(meter, *bus, profile->default_baud != line.baud ? "baud" : "parity",
                            own),
                    "profile " + profile->name + " (" + profile->vendor + " " + profile->model +
                        ") leaves the factory at " + std::to_string(profile->default_baud) +
                        " baud parity \"" + to_char(profile->default_parity) + "\", this line is " +
                        line.to_string() +
                        ": unless the meters were set to it, they will not "
                        "answer",
                    meter);
            }
        }
        check_timeout(meter, *bus);
    }

    void check_timeout(const MeterConfig& meter, const BusConfig& bus) {
        const auto time = min_exchange_time(config_, meter);
        if (!time) return;
        const int timeout = meter.timeout_ms.value_or(bus.timeout_ms);
        if (timeout >= time->total_ms) return;
        const Line line = line_of(bus, meter);
        // A margin for the meter's own processing, rounded to what a person would type.
        const int suggested = static_cast<int>(std::ceil(time->total_ms * 1.5 / 50.0)) * 50;
        collect_.add_for_meter(
            setting(meter, bus, "timeout_ms", meter.timeout_ms.has_value()),
            "timeout_ms = " + std::to_string(timeout) + " is shorter than a " +
                std::string(to_string(meter.protocol)) + " exchange can take at " +
                line.to_string() + ": " + std::to_string(time->request_bytes) +
                " bytes out and up to " + std::to_string(time->answer_bytes) + " back take " +
                format_ms(line.wire_ms(time->request_bytes + time->answer_bytes)) +
                " on the wire, plus " + format_ms(time->turnaround_ms) +
                " for the meter to turn round, " + format_ms(time->total_ms) +
                " in all; healthy meters would look dead; expected timeout_ms >= " +
                std::to_string(suggested),
            meter);
    }

    // Meters that cannot all be read within their interval fall ever further behind.
    void check_bus_load(const BusConfig& bus) {
        double busy = 0;  // line time per second
        std::size_t meters = 0;
        for (const MeterConfig& meter : config_.meters) {
            if (meter.bus != bus.name) continue;
            const auto time = min_exchange_time(config_, meter);
            if (!time) continue;
            busy += (time->total_ms + bus.gap_ms) / (meter.interval_s * 1000.0);
            ++meters;
        }
        if (busy <= 1.0) return;
        collect_.add(bus_place(bus, ""),
                     "bus " + bus.name + " is overbooked: its " + std::to_string(meters) +
                         " meters need at least " + std::to_string(static_cast<int>(busy * 100)) +
                         "% of the line's time (one shortest exchange each per interval_s, plus "
                         "gap_ms), so readings will come late; expected longer interval_s, a "
                         "faster baud or fewer meters per bus");
    }

    void check_accounts() {
        for (const AccountConfig& account : config_.accounts) {
            if (!account.tariffs.empty()) continue;
            std::size_t meters = 0;
            for (const MeterConfig& m : config_.meters) meters += m.account == account.id ? 1 : 0;
            const auto table = find_table(root_, "account", "id", account.id);
            collect_.add(place_in(table, "account", "tariff"),
                         "account " + account.id + " has no tariff" +
                             (meters == 0 ? std::string(" and no meter is charged to it")
                                          : std::string(": each of its meters must set its own")) +
                             "; meters the cloud adds to it cannot be rated; expected tariff = "
                             "\"…\" (one per utility)");
        }
    }

    const Config& config_;
    const toml::table& root_;
    Collector collect_;
    std::vector<std::pair<std::string, std::filesystem::path>> devices_;
};

}  // namespace

std::optional<ExchangeTime> min_exchange_time(const Config& config, const MeterConfig& meter) {
    const BusConfig* bus = config.find_bus(meter.bus);
    if (bus == nullptr || bus->framing == Framing::Tcp) return std::nullopt;
    const Line line = line_of(*bus, meter);
    ExchangeTime time;
    time.bits_per_byte = line.bits_per_byte();
    switch (meter.protocol) {
        case Protocol::Dlt645_2007:
        case Protocol::Dlt645_1997: {
            const bool v1997 = meter.protocol == Protocol::Dlt645_1997;
            time.request_bytes = dlt645_request(v1997);
            time.answer_bytes = largest_dlt645_answer(v1997);
            time.turnaround_ms = kMeterTurnaroundMs;
            break;
        }
        case Protocol::Cjt188:
            time.request_bytes =
                cjt188::encode_read_data(cjt188::MeterType::ColdWater, cjt188::Address{}, 0).size();
            time.answer_bytes = cjt188_answer();
            time.turnaround_ms = kMeterTurnaroundMs;
            break;
        case Protocol::Modbus: {
            const Profile* profile = config.profile_of(meter);
            if (profile == nullptr) return std::nullopt;
            const auto answer = largest_modbus_answer(*profile, meter);
            if (!answer) return std::nullopt;
            time.request_bytes = kModbusReadRequest;
            time.answer_bytes = *answer;
            time.turnaround_ms = modbus_t35_ms(line);
            break;
        }
    }
    time.total_ms = line.wire_ms(time.request_bytes + time.answer_bytes) + time.turnaround_ms;
    return time;
}

ConfigErrors config_warnings(const Config& config, std::string_view text,
                             std::string_view file_name) {
    Errors out{std::string(file_name)};
    std::optional<toml::table> root = parse_toml(text, file_name, out);
    if (!root) return {};  // parse_config reported it already
    Warnings(config, *root, out).run();
    return out.take();
}

std::string warning_to_string(const ConfigError& warning) {
    ConfigError copy = warning;
    copy.key = copy.key.empty() ? "warning" : "warning: " + copy.key;
    return copy.to_string();
}

Expected<CheckedConfig, ConfigErrors> check_config_text(std::string_view text,
                                                        std::string_view file_name) {
    auto config = parse_config(text, file_name);
    if (!config) return unexpected(std::move(config.error()));
    try {
        ConfigErrors warnings = config_warnings(*config, text, file_name);
        return CheckedConfig{std::move(*config), std::move(warnings)};
    } catch (const std::exception& e) {
        // Allocation failure: the config itself is sound, report that much.
        return CheckedConfig{std::move(*config),
                             {ConfigError{std::string(file_name), 0, 0, "",
                                          std::string("warnings not checked: ") + e.what()}}};
    }
}

Expected<CheckedConfig, ConfigErrors> check_config_file(const std::filesystem::path& path) {
    Expected<std::string> text = read_file(path);
    if (!text) {
        return unexpected(ConfigErrors{ConfigError{path.string(), 0, 0, "", text.error().message}});
    }
    auto checked = check_config_text(*text, path.string());
    if (checked) checked->config.source = path;
    return checked;
}

}  // namespace ecmgw::config
