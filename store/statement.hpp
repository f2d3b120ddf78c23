// Internal to the store: a cached prepared statement borrowed for one use, the
// error every store API returns, and the decimal text the store keeps values in.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "ecmgw/common/decimal.hpp"
#include "ecmgw/common/expected.hpp"

namespace ecmgw::store::detail {

// Builds the error every API returns: which operation, and SQLite's own words.
inline Unexpected<Error> sql_error(sqlite3* db, std::string_view op) {
    return fail("store: " + std::string(op) + ": " + sqlite3_errmsg(db) + " (sqlite code " +
                std::to_string(sqlite3_extended_errcode(db)) + ")");
}

// Empty text binds SQL NULL (columns such as an event's meter, absent when it has none).
inline std::optional<std::string_view> nonempty(std::string_view s) {
    if (s.empty()) return std::nullopt;
    return s;
}

// A cached statement borrowed for one use. Resetting on scope exit matters: a
// statement left mid-step keeps its read snapshot open, which blocks WAL
// checkpoints and hides other connections' commits from this one.
// Text is bound without copying (SQLITE_STATIC): callers keep the bound strings
// alive for the Stmt's lifetime, and the destructor clears the bindings.
class Stmt {
  public:
    Stmt(sqlite3* db, sqlite3_stmt* stmt, std::string_view op) : db_(db), stmt_(stmt), op_(op) {}
    ~Stmt() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& bind(int index, std::int64_t value) {
        keep_first(sqlite3_bind_int64(stmt_, index, value));
        return *this;
    }
    Stmt& bind(int index, std::string_view text) {
        // A null pointer would bind SQL NULL; an empty view must bind ''.
        const char* data = text.data() != nullptr ? text.data() : "";
        keep_first(
            sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8));
        return *this;
    }

    Stmt& bind_null(int index) {
        keep_first(sqlite3_bind_null(stmt_, index));
        return *this;
    }
    template <typename T>
    Stmt& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }

    // One step: true for a row, false when done.
    Expected<bool> next() {
        if (bind_rc_ != SQLITE_OK) return sql_error(db_, op_);
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        return sql_error(db_, op_);
    }
    // Runs a statement that returns no rows.
    Result run() {
        auto stepped = next();
        if (!stepped) return unexpected(stepped.error());
        return {};
    }

    std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
    std::string text(int column) const {
        const auto* chars = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
        const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
        return chars == nullptr ? std::string() : std::string(chars, size);
    }
    bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    std::size_t bytes(int column) const {
        return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
    }
    std::string_view op() const { return op_; }

  private:
    void keep_first(int rc) {
        if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    }
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    std::string_view op_;
    int bind_rc_ = SQLITE_OK;
};

// Parses the text Decimal::to_string writes ([-]digits[.digits]) back into the
// same mantissa and scale: "000123.45" is 12345 at scale 2, "-0.500" is -500 at
// scale 3. Accumulates negatively so INT64_MIN round-trips too.
inline std::optional<Decimal> parse_decimal(std::string_view text) {
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    const auto point = text.find('.');
    const std::string_view whole = text.substr(0, point);
    const std::string_view fraction =
        point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
    if (whole.empty() || (point != std::string_view::npos && fraction.empty())) return {};
    if (fraction.size() > std::numeric_limits<std::uint8_t>::max()) return {};

    std::int64_t negated = 0;  // -|mantissa|
    for (std::string_view digits : {whole, fraction}) {
        for (char c : digits) {
            if (c < '0' || c > '9') return {};
            if (__builtin_mul_overflow(negated, 10, &negated) ||
                __builtin_sub_overflow(negated, c - '0', &negated))
                return {};
        }
    }
    if (!negative && negated == std::numeric_limits<std::int64_t>::min()) return {};
    return Decimal{negative ? negated : -negated, static_cast<std::uint8_t>(fraction.size())};
}

// The statements one part of the store runs, named by the enum Q and prepared
// once per connection.
template <typename Q, std::size_t N>
struct StatementCache {
    StatementCache(sqlite3* handle, const std::array<const char*, N>& sql)
        : db(handle), sql_(sql) {}
    ~StatementCache() {
        for (sqlite3_stmt* stmt : stmts) sqlite3_finalize(stmt);  // null is a no-op
    }
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;

    Result prepare_all() {
        for (std::size_t i = 0; i < N; ++i) {
            // PERSISTENT: these live as long as the connection, so SQLite keeps
            // them out of its short-lived lookaside memory.
            if (sqlite3_prepare_v3(db, sql_[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i],
                                   nullptr) != SQLITE_OK)
                return sql_error(db, std::string("preparing \"") + sql_[i] + "\"");
        }
        return {};
    }
    Stmt use(Q q, std::string_view op) { return Stmt(db, stmts[static_cast<std::size_t>(q)], op); }

    sqlite3* db;
    std::array<sqlite3_stmt*, N> stmts{};

  private:
    const std::array<const char*, N>& sql_;
};

}  // namespace ecmgw::store::detail
