// Loading and checking meter profiles (docs/profiles.md).
//
// A profile is written once per meter model, usually by someone copying numbers out of
// a vendor's manual, and a wrong number here reads wrong values from every meter of
// that model. So the check is as strict as the gateway's config: unknown keys, wrong
// types, addresses that run off the end of the register space, scales that are not
// exact decimals and relay values a coil cannot take are all errors with
// file:line:column. Nothing here throws.
#include "ecmgw/config/profile.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <exception>
#include <system_error>
#include <utility>

#include "toml_check.hpp"

namespace ecmgw::config {

using namespace check;

namespace {

constexpr std::array<std::string_view, 13> kProfileKeys{
    "vendor",        "model",    "description", "kind",  "source", "baud", "parity",
    "max_registers", "max_bits", "max_gap",     "point", "relay",  "valve"};
constexpr std::array<std::string_view, 9> kPointKeys{
    "quantity", "table", "address", "type", "order", "scale", "decimals", "unit", "bit"};
constexpr std::array<std::string_view, 8> kSwitchKeys{
    "table", "address", "on", "off", "prefix", "unlock", "write_multiple", "state"};
constexpr std::array<std::string_view, 7> kStateKeys{"table", "address", "type", "order",
                                                     "mask",  "on",      "off"};

constexpr std::array<std::string_view, 2> kKinds{"electricity", "water"};
constexpr std::array<std::string_view, 4> kTables{"coil", "discrete", "holding", "input"};
constexpr std::array<std::string_view, 10> kTypes{"u16", "s16", "u32", "s32",   "u64",
                                                  "s64", "f32", "f64", "bcd16", "bcd32"};
constexpr std::array<std::string_view, 4> kOrders{"ABCD", "CDAB", "BADC", "DCBA"};

constexpr std::uint8_t kMaxDecimals = 9;
constexpr std::size_t kMaxScaleDigits = 18;

// Other spellings of the value types, as other tools write them: the hint names ours.
constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypeAliases{{
    {"uint16", "u16"},
    {"int16", "s16"},
    {"i16", "s16"},
    {"uint32", "u32"},
    {"int32", "s32"},
    {"i32", "s32"},
    {"uint64", "u64"},
    {"int64", "s64"},
    {"i64", "s64"},
    {"float", "f32"},
    {"float32", "f32"},
    {"float64", "f64"},
    {"double", "f64"},
    {"bcd", "bcd16"},
}};

std::string type_hint(std::string_view word) {
    const std::string w = lowercase(word);
    for (const auto& [alias, ours] : kTypeAliases) {
        if (w == alias) return " (did you mean '" + std::string(ours) + "'?)";
    }
    return did_you_mean(word, kTypes);
}

// An exact decimal written as text: "0.001", "10", "-1". Binary floats are refused by the
// caller before this: 0.1 has no exact binary form.
std::optional<Decimal> parse_decimal(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    const std::size_t point = s.find('.');
    const std::string_view whole = s.substr(0, point);
    const std::string_view fraction = point == std::string_view::npos ? "" : s.substr(point + 1);
    if (whole.empty() && fraction.empty()) return std::nullopt;
    if ((!whole.empty() && !is_digits(whole)) || (!fraction.empty() && !is_digits(fraction)) ||
        (point != std::string_view::npos && fraction.empty())) {
        return std::nullopt;
    }
    std::string digits = std::string(whole) + std::string(fraction);
    const std::size_t first = digits.find_first_not_of('0');
    const std::string significant = first == std::string::npos ? "" : digits.substr(first);
    if (significant.size() > kMaxScaleDigits || fraction.size() > kMaxScaleDigits) {
        return std::nullopt;
    }
    Decimal d{0, static_cast<std::uint8_t>(fraction.size())};
    for (const char c : significant) d.mantissa = d.mantissa * 10 + (c - '0');
    if (negative) d.mantissa = -d.mantissa;
    return d;
}

bool is_quantity_name(std::string_view s) {
    if (s.empty() || s.size() > kMaxIdLength) return false;
    if (s.front() < 'a' || s.front() > 'z') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

std::string hex(std::int64_t v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "0x";
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
    return out;
}

class ProfileParser {
  public:
    ProfileParser(const toml::table& root, Errors& errors) : root_(root), errors_(errors) {}

    Profile run() {
        Profile p;
        const Section s(errors_, root_, "", kProfileKeys);
        s.check_unknown_keys();
        if (const auto* v = s.required_string("vendor", "the maker, e.g. vendor = \"Eastron\"")) {
            p.vendor = non_empty(s, "vendor", *v);
        }
        if (const auto* v =
                s.required_string("model", "the model, e.g. model = \"SDM120-Modbus\"")) {
            p.model = non_empty(s, "model", *v);
        }
        if (const auto* v = s.string("description")) p.description = v->get();
        if (const auto* v =
                s.required_string("source", "the manual the map comes from, with its version")) {
            p.source = non_empty(s, "source", *v);
        }
        read_kind(s, p);
        s.integer_choice("baud", p.default_baud, kStandardBauds);
        if (auto parity_value = parity(s, "parity")) p.default_parity = *parity_value;
        read_limits(s, p);
        read_points(s, p);
        check_limits_fit(s, p);
        read_switch(s, p, "relay");
        read_switch(s, p, "valve");
        return p;
    }

  private:
    static std::string non_empty(const Section& s, std::string_view key,
                                 const toml::value<std::string>& v) {
        if (v.get().empty()) s.error(key, v, "found \"\", expected some text");
        return v.get();
    }

    void read_kind(const Section& s, Profile& p) {
        const auto* kind = s.required_string("kind", "kind = \"electricity\" or \"water\"");
        if (kind == nullptr) return;
        if (std::find(kKinds.begin(), kKinds.end(), kind->get()) == kKinds.end()) {
            s.error("kind", *kind,
                    "found " + in_quotes(kind->get()) + ", expected one of " + quoted_list(kKinds));
            return;
        }
        p.kind = kind->get();
    }

    void read_limits(const Section& s, Profile& p) {
        if (auto v = s.integer_in("max_registers", {1, 125, "registers"})) {
            p.limits.max_registers = static_cast<std::uint16_t>(*v);
        }
        if (auto v = s.integer_in("max_bits", {1, 2000, "bits"})) {
            p.limits.max_bits = static_cast<std::uint16_t>(*v);
        }
        if (auto v = s.integer_in("max_gap", {0, 124, "registers"})) {
            p.limits.max_gap = static_cast<std::uint16_t>(*v);
        }
    }

    // A request must hold the widest point whole.
    void check_limits_fit(const Section& s, const Profile& p) {
        const toml::node* node = s.find("max_registers");
        if (node == nullptr || !node->is_integer()) return;
        for (std::size_t i = 0; i < p.points.size(); ++i) {
            const modbus::Point& point = p.points[i];
            if (modbus::width(point) <= p.limits.max_registers ||
                modbus::is_bit_table(point.table)) {
                continue;
            }
            s.error("max_registers", *node,
                    "found " + std::to_string(p.limits.max_registers) + ", but " +
                        indexed("point", i) + " (" + point.quantity + ", " +
                        std::string(modbus::to_string(point.type)) + ") needs " +
                        std::to_string(modbus::width(point)) +
                        " registers in one read; expected at least that");
            return;
        }
    }

    void read_points(const Section& s, Profile& p) {
        const toml::node* node = s.find("point");
        if (node == nullptr) {
            s.error_at_header("point",
                              "missing [[point]]: a profile needs at least one point "
                              "(quantity, table, address, type)");
            return;
        }
        const toml::array* array = node->as_array();
        if (array == nullptr) {
            std::string message =
                node->is_table()
                    ? "found a single table [point], expected an array of tables: write "
                      "[[point]] (two pairs of brackets) above each point"
                    : found_expected(*node, "an array of tables: write [[point]] above each point");
            s.error("point", *node, std::move(message));
            return;
        }
        if (array->empty()) {
            s.error("point", *node, "found an empty array, expected at least one [[point]]");
            return;
        }
        for (std::size_t i = 0; i < array->size(); ++i) {
            const toml::node& element = *array->get(i);
            const std::string path = indexed("point", i);
            const auto* table = element.as_table();
            if (table == nullptr) {
                errors_.add(element.source(), path, found_expected(element, "a table"));
                continue;
            }
            if (auto point = read_point(Section(errors_, *table, path, kPointKeys), path)) {
                p.points.push_back(std::move(*point));
            }
        }
    }

    std::optional<modbus::Point> read_point(const Section& s, const std::string& path) {
        s.check_unknown_keys();
        modbus::Point point;
        bool ok = read_quantity(s, path, point);
        const auto table = read_table(s, kTables,
                                      "the table: \"coil\", \"discrete\", "
                                      "\"holding\" or \"input\"");
        ok = ok && table.has_value();
        if (table) point.table = *table;
        bool width_known = false;  // how far the point runs needs its table and type
        if (table && modbus::is_bit_table(*table)) {
            ok = forbid_for_bits(s, *table) && ok;
            width_known = true;
        } else if (table) {
            width_known = read_type(s, point);
            ok = width_known && ok;
            ok = read_order(s, "order", point.order) && ok;
            ok = read_scale_and_decimals(s, point, width_known) && ok;
        }
        if (const auto* unit = s.string("unit")) {
            point.unit = unit->get();
        } else if (s.has("unit")) {
            ok = false;
        }
        ok = read_address(s, point, width_known) && ok;
        return ok ? std::optional(std::move(point)) : std::nullopt;
    }

    bool read_quantity(const Section& s, const std::string& path, modbus::Point& point) {
        const auto* q =
            s.required_string("quantity", "the name it is stored under, e.g. \"voltage_a_v\"");
        if (q == nullptr) return false;
        const std::string& value = q->get();
        if (!is_quantity_name(value)) {
            s.error("quantity", *q,
                    "found " + in_quotes(value) +
                        ", expected a name of lowercase letters, digits and '_' that starts "
                        "with a letter, at most 64 characters (e.g. \"energy_kwh\")");
            return false;
        }
        if (const Seen* first = find_seen(quantities_, value)) {
            s.error("quantity", *q,
                    "duplicate quantity " + in_quotes(value) + ": " + first->path + " (line " +
                        std::to_string(first->line) + ") already has it; each quantity once");
            return false;
        }
        quantities_.push_back({value, path, line_of(*q)});
        point.quantity = value;
        return true;
    }

    static std::optional<modbus::Table> read_table(const Section& s, Keys allowed,
                                                   std::string_view what) {
        const auto* t = s.required_string("table", what);
        if (t == nullptr) return std::nullopt;
        const std::string& value = t->get();
        const auto table = modbus::parse_table(value);
        if (!table || std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
            std::string message = "found " + in_quotes(value);
            if (table) {
                message += ": " + value + " cannot be written";
            } else {
                message += did_you_mean(value, allowed);
            }
            s.error("table", *t, message + "; expected one of " + quoted_list(allowed));
            return std::nullopt;
        }
        return table;
    }

    // Coils and discrete inputs are single bits: nothing to decode.
    static bool forbid_for_bits(const Section& s, modbus::Table table) {
        bool ok = true;
        for (std::string_view key : {"type", "order", "scale", "decimals", "bit"}) {
            if (const toml::node* node = s.find(key)) {
                s.error(key, *node,
                        "'" + std::string(key) + "' does not apply to a " +
                            std::string(modbus::to_string(table)) +
                            " (one bit, read as 0 or 1); remove it");
                ok = false;
            }
        }
        return ok;
    }

    static bool read_type(const Section& s, modbus::Point& point) {
        const auto* t = s.required_string(
            "type", "the value type: u16, s16, u32, s32, u64, s64, f32, f64, bcd16 or bcd32");
        if (t == nullptr) return false;
        const auto type = modbus::parse_value_type(t->get());
        if (!type) {
            s.error("type", *t,
                    "found " + in_quotes(t->get()) + type_hint(t->get()) + "; expected one of " +
                        join(kTypes));
            return false;
        }
        point.type = *type;
        return true;
    }

    static bool read_order(const Section& s, std::string_view key, modbus::WordOrder& out) {
        const auto* o = s.string(key);
        if (o == nullptr) return !s.has(key);
        const auto order = modbus::parse_word_order(o->get());
        if (!order) {
            std::string hint;
            std::string upper = o->get();
            for (char& c : upper)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (modbus::parse_word_order(upper))
                hint = " (write it in capitals: \"" + upper + "\")";
            s.error(key, *o,
                    "found " + in_quotes(o->get()) + hint + "; expected one of " +
                        quoted_list(kOrders) +
                        " (ABCD = big-endian as Modbus sends, CDAB = words swapped, BADC = "
                        "bytes swapped in each word, DCBA = fully reversed)");
            return false;
        }
        out = *order;
        return true;
    }

    // `has_type`: the type was read; else its error is already reported and the checks
    // that depend on it are skipped.
    static bool read_scale_and_decimals(const Section& s, modbus::Point& point, bool has_type) {
        bool ok = true;
        if (const toml::node* node = s.find("scale")) {
            if (const auto* text = node->as_string()) {
                const auto scale = parse_decimal(text->get());
                if (!scale || scale->mantissa == 0) {
                    s.error("scale", *node,
                            "found " + in_quotes(text->get()) +
                                ", expected a non-zero decimal number in quotes, e.g. "
                                "scale = \"0.001\" (at most 18 digits)");
                    ok = false;
                } else {
                    point.scale = *scale;
                }
            } else {
                std::string message =
                    found_expected(*node, "a decimal number in quotes, e.g. scale = \"0.001\"");
                if (node->is_number()) {
                    message += " (in quotes it stays exact; a bare 0.001 is a binary float)";
                }
                s.error("scale", *node, std::move(message));
                ok = false;
            }
        }
        if (const toml::node* node = s.find("bit");
            node != nullptr && has_type && point.type != modbus::ValueType::U16) {
            s.error("bit", *node,
                    "'bit' picks a flag out of a u16 register; this point's type is " +
                        std::string(modbus::to_string(point.type)));
            ok = false;
        } else if (node != nullptr) {
            if (auto bit = s.integer_in("bit", {0, 15, ""})) {
                point.bit = static_cast<std::uint8_t>(*bit);
            } else {
                ok = false;
            }
            for (std::string_view key : {"scale", "decimals"}) {
                if (const toml::node* other = s.find(key)) {
                    s.error(key, *other,
                            "'" + std::string(key) +
                                "' does not apply to a flag ('bit'), "
                                "which reads 0 or 1; remove it");
                    ok = false;
                }
            }
            return ok;
        }
        if (!has_type) return ok;
        if (modbus::is_float(point.type)) {
            const auto* decimals = s.required_integer(
                "decimals", "digits kept after the point, e.g. decimals = 2, for a float");
            if (decimals == nullptr) return false;
            if (auto v = s.integer_in("decimals", {0, kMaxDecimals, ""})) {
                point.decimals = static_cast<std::uint8_t>(*v);
            } else {
                ok = false;
            }
        } else if (const toml::node* node = s.find("decimals")) {
            s.error("decimals", *node,
                    "'decimals' applies to f32 and f64 only; a " +
                        std::string(modbus::to_string(point.type)) +
                        " is kept exactly as raw × scale (its digits come from the scale); "
                        "remove it");
            ok = false;
        } else {
            point.decimals = point.scale.scale;
        }
        return ok;
    }

    // Checked last: how far the point runs depends on its type.
    static bool read_address(const Section& s, modbus::Point& point, bool width_known) {
        const auto* a = s.required_integer("address", "the register address, e.g. 0x0048");
        if (a == nullptr) return false;
        const std::int64_t v = a->get();
        if (v < 0 || v > 65535) {
            s.error("address", *a,
                    "found " + std::to_string(v) +
                        ", expected 0..65535 (0x0000..0xFFFF; "
                        "register 30001 of the manual is address 0)");
            return false;
        }
        point.address = static_cast<std::uint16_t>(v);
        if (!width_known) return true;
        const std::int64_t last = v + modbus::width(point) - 1;
        if (last > 65535) {
            s.error("address", *a,
                    "found " + hex(v) + ": a " + std::string(modbus::to_string(point.type)) +
                        " there runs past 65535 (its last register would be " +
                        std::to_string(last) + "); expected at most " +
                        std::to_string(65536 - modbus::width(point)));
            return false;
        }
        return true;
    }

    // [relay] or [valve].
    void read_switch(const Section& root, Profile& p, std::string_view key) {
        const toml::table* table =
            root.table(key, "a table: write [" + std::string(key) + "] above its keys");
        if (table == nullptr) return;
        const Section s(errors_, *table, std::string(key), kSwitchKeys);
        s.check_unknown_keys();
        const std::string_view right = key == "relay" ? "electricity" : "water";
        if (!p.kind.empty() && p.kind != right) {
            root.error(key, *table,
                       "a " + p.kind + " meter " +
                           (p.kind == "water" ? "switches a valve: write [valve]"
                                              : "switches a relay: write [relay]") +
                           ", not [" + std::string(key) + "]");
        }
        modbus::SwitchControl control;
        bool ok = true;
        constexpr std::array<std::string_view, 2> kWritable{"coil", "holding"};
        const auto t = read_table(s, kWritable, "the table written: \"coil\" or \"holding\"");
        ok = t.has_value();
        if (t) control.table = *t;
        if (auto a = address_of(s, "address", "the register or coil to write")) {
            control.address = *a;
        } else {
            ok = false;
        }
        const bool coil = t == modbus::Table::Coil;
        if (t) ok = read_on_off(s, coil, control.on_value, control.off_value) && ok;
        if (t) ok = read_write_options(s, coil, control) && ok;
        if (const toml::table* state = s.table(
                "state", "a table: write [" + std::string(key) + ".state] above its keys")) {
            ok = read_state(Section(errors_, *state, std::string(key) + ".state", kStateKeys),
                            control) &&
                 ok;
        } else if (s.has("state")) {
            ok = false;
        }
        if (!ok) return;
        (key == "relay" ? p.relay : p.valve) = std::move(control);
    }

    static std::optional<std::uint16_t> address_of(const Section& s, std::string_view key,
                                                   std::string_view what) {
        if (s.required_integer(key, what) == nullptr) return std::nullopt;
        if (auto v = s.integer_in(key, {0, 65535, ""})) return static_cast<std::uint16_t>(*v);
        return std::nullopt;
    }

    // The two values a switch or its state takes. A coil or a discrete input is one bit:
    // 0 or 1 only, and 1/0 when left out.
    static bool read_on_off(const Section& s, bool bit, std::uint16_t& on, std::uint16_t& off,
                            std::uint16_t mask = 0xFFFF) {
        bool ok = true;
        for (auto [key, out] : {std::pair{std::string_view("on"), &on}, {"off", &off}}) {
            if (!s.has(key)) {
                if (bit) continue;
                s.error_at_header(key, "missing required key '" + std::string(key) +
                                           "' (the register value meaning " + std::string(key) +
                                           ")");
                ok = false;
                continue;
            }
            const auto* node = s.integer_node(key);
            if (node == nullptr) {
                ok = false;
                continue;
            }
            const std::int64_t v = node->get();
            if (bit && v != 0 && v != 1) {
                s.error(key, *node,
                        "found " + std::to_string(v) +
                            ", expected 0 or 1: a coil or discrete input is one bit (for a coil "
                            "the gateway sends 1 as 0xFF00 on the wire itself)");
                ok = false;
            } else if (v < 0 || v > 65535) {
                s.error(key, *node, "found " + std::to_string(v) + ", expected 0..65535");
                ok = false;
            } else {
                *out = static_cast<std::uint16_t>(v);
            }
        }
        if (ok && (on & mask) == (off & mask)) {
            const toml::node* at = s.find("off") != nullptr ? s.find("off") : s.find("on");
            s.error("off", at != nullptr ? *at : static_cast<const toml::node&>(s.table()),
                    "'on' and 'off' are the same value" +
                        std::string(mask != 0xFFFF ? " under the mask" : "") +
                        "; expected two different values");
            ok = false;
        }
        return ok;
    }

    static bool read_write_options(const Section& s, bool coil, modbus::SwitchControl& c) {
        bool ok = true;
        if (const toml::node* node = s.find("prefix")) {
            if (coil) {
                s.error("prefix", *node,
                        "'prefix' writes holding registers; a coil is written alone");
                ok = false;
            } else if (const auto* array = node->as_array()) {
                for (std::size_t i = 0; i < array->size(); ++i) {
                    const toml::node& e = *array->get(i);
                    const auto* v = e.as_integer();
                    if (v == nullptr || v->get() < 0 || v->get() > 65535) {
                        s.error(indexed("prefix", i), e,
                                found_expected(e, "a register value 0..65535"));
                        ok = false;
                        continue;
                    }
                    c.prefix.push_back(static_cast<std::uint16_t>(v->get()));
                }
                if (c.prefix.size() > c.address) {
                    s.error("prefix", *node,
                            "the prefix's " + std::to_string(c.prefix.size()) +
                                " registers come before address " + std::to_string(c.address) +
                                " and would start below 0");
                    ok = false;
                }
                if (c.prefix.size() > 122) {
                    s.error("prefix", *node,
                            "at most 122 registers fit in one write with the command");
                    ok = false;
                }
            } else {
                s.error("prefix", *node,
                        found_expected(*node, "an array of register values, e.g. [1]"));
                ok = false;
            }
        }
        if (const toml::node* node = s.find("unlock")) {
            const auto* array = node->as_array();
            if (array == nullptr) {
                s.error("unlock", *node,
                        found_expected(*node,
                                       "an array of [register, value] pairs, e.g. "
                                       "[[0x000A, 1234]]"));
                ok = false;
            } else {
                for (std::size_t i = 0; i < array->size(); ++i) {
                    const toml::node& e = *array->get(i);
                    const auto* pair = e.as_array();
                    const bool good =
                        pair != nullptr && pair->size() == 2 &&
                        std::all_of(pair->begin(), pair->end(), [](const toml::node& n) {
                            return n.is_integer() && n.as_integer()->get() >= 0 &&
                                   n.as_integer()->get() <= 65535;
                        });
                    if (!good) {
                        s.error(indexed("unlock", i), e,
                                found_expected(e, "[register, value], both 0..65535"));
                        ok = false;
                        continue;
                    }
                    c.unlock_writes.emplace_back(
                        static_cast<std::uint16_t>(pair->get(0)->as_integer()->get()),
                        static_cast<std::uint16_t>(pair->get(1)->as_integer()->get()));
                }
            }
        }
        if (const auto* wm = s.boolean("write_multiple")) {
            if (coil) {
                s.error("write_multiple", *wm, "'write_multiple' is for holding registers");
                ok = false;
            } else {
                c.write_multiple = wm->get();
            }
        } else if (s.has("write_multiple")) {
            ok = false;
        }
        return ok;
    }

    static bool read_state(const Section& s, modbus::SwitchControl& c) {
        s.check_unknown_keys();
        const auto t = read_table(s, kTables, "the table the state is read from");
        if (!t) return false;
        modbus::Point point;
        point.quantity = "switch_state";
        point.table = *t;
        point.type = modbus::ValueType::U16;
        bool ok = true;
        const bool bit = modbus::is_bit_table(*t);
        if (auto a = address_of(s, "address", "the register or bit holding the state")) {
            point.address = *a;
        } else {
            ok = false;
        }
        if (bit) {
            for (std::string_view key : {"type", "order", "mask"}) {
                if (const toml::node* node = s.find(key)) {
                    s.error(key, *node,
                            "'" + std::string(key) + "' does not apply to a bit; remove it");
                    ok = false;
                }
            }
        } else {
            if (const auto* type = s.string("type"); type && type->get() != "u16") {
                s.error(
                    "type", *type,
                    "found " + in_quotes(type->get()) +
                        ", expected \"u16\": a state is one register (use 'mask' to pick bits)");
                ok = false;
            } else if (s.has("type") && type == nullptr) {
                ok = false;
            }
            ok = read_order(s, "order", point.order) && ok;
            if (auto mask = s.integer_in("mask", {1, 65535, ""})) {
                c.state_mask = static_cast<std::uint16_t>(*mask);
            } else if (s.has("mask")) {
                ok = false;
            }
        }
        ok = read_on_off(s, bit, c.state_on_value, c.state_off_value, c.state_mask) && ok;
        if (ok) c.state = std::move(point);
        return ok;
    }

    const toml::table& root_;
    Errors& errors_;
    std::vector<Seen> quantities_;
};

}  // namespace

const modbus::Point* Profile::find_point(std::string_view quantity) const {
    auto it = std::find_if(points.begin(), points.end(),
                           [quantity](const modbus::Point& p) { return p.quantity == quantity; });
    return it == points.end() ? nullptr : &*it;
}

Expected<Profile, ConfigErrors> parse_profile(std::string_view text, std::string_view file_name,
                                              std::string_view name) {
    Errors errors{std::string(file_name)};
    try {
        if (!is_identifier(name)) {
            errors.add_unplaced("", "the profile's name (the file name without .toml) " +
                                        in_quotes(name) + " is not " +
                                        std::string(kIdentifierRule) +
                                        "; meters could not refer to it");
        }
        std::optional<toml::table> root = parse_toml(text, file_name, errors);
        if (!root) return unexpected(errors.take());
        Profile profile = ProfileParser(*root, errors).run();
        if (!errors.empty()) return unexpected(errors.take());
        profile.name = name;
        return profile;
    } catch (const std::exception& e) {
        // Only allocation failures can land here.
        errors.add_unplaced("", std::string("cannot check the file: ") + e.what());
        return unexpected(errors.take());
    }
}

Expected<Profile, ConfigErrors> load_profile(const std::filesystem::path& path) {
    Expected<std::string> text = read_file(path);
    if (!text) {
        return unexpected(ConfigErrors{ConfigError{path.string(), 0, 0, "", text.error().message}});
    }
    return parse_profile(*text, path.string(), path.stem().string());
}

ProfileLoad load_profiles_partial(const std::filesystem::path& dir) {
    ProfileLoad load;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    const std::filesystem::directory_iterator end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::filesystem::path& path = it->path();
        const std::string file = path.filename().string();
        if (path.extension() != ".toml" || file.starts_with('.')) continue;
        std::error_code type_ec;
        if (it->is_directory(type_ec)) continue;
        files.push_back(path);
    }
    if (ec) {
        load.errors.push_back(ConfigError{dir.string(), 0, 0, "",
                                          "cannot read the profiles directory: " + ec.message()});
        return load;
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        auto profile = load_profile(path);
        if (profile) {
            load.profiles.push_back(std::move(*profile));
        } else {
            for (auto& e : profile.error()) load.errors.push_back(std::move(e));
        }
    }
    return load;
}

Expected<std::vector<Profile>, ConfigErrors> load_profiles(const std::filesystem::path& dir) {
    ProfileLoad load = load_profiles_partial(dir);
    if (!load.errors.empty()) return unexpected(std::move(load.errors));
    return std::move(load.profiles);
}

const Profile* find_profile(const std::vector<Profile>& profiles, std::string_view name) {
    auto it = std::find_if(profiles.begin(), profiles.end(),
                           [name](const Profile& p) { return p.name == name; });
    return it == profiles.end() ? nullptr : &*it;
}

}  // namespace ecmgw::config
