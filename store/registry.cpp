#include "ecmgw/store/registry.hpp"

#include <sqlite3.h>

#include "ecmgw/store/store.hpp"
#include "statement.hpp"

namespace ecmgw::store {

namespace {

// Provisioning is rare (a command now and then, a read at start and reload): a
// statement prepared per call costs nothing that matters and keeps no cache.
class OneShot {
  public:
    OneShot(sqlite3* db, const char* sql) : db_(db) {
        rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    }
    ~OneShot() { sqlite3_finalize(stmt_); }
    OneShot(const OneShot&) = delete;
    OneShot& operator=(const OneShot&) = delete;
    bool prepared() const { return rc_ == SQLITE_OK; }
    detail::Stmt stmt(std::string_view op) { return detail::Stmt(db_, stmt_, op); }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_;
};

}  // namespace

Expected<std::vector<ProvisionedRow>> provisioned_rows(Store& store) {
    constexpr std::string_view op = "reading the provisioned registry";
    OneShot q(store.handle(),
              "SELECT kind, id, body, command, changed_ms FROM provisioned"
              " ORDER BY changed_ms, kind, id");
    if (!q.prepared()) return detail::sql_error(store.handle(), op);
    auto stmt = q.stmt(op);
    std::vector<ProvisionedRow> rows;
    while (true) {
        auto row = stmt.next();
        if (!row) return unexpected(row.error());
        if (!*row) break;
        ProvisionedRow r;
        r.kind = stmt.text(0);
        r.id = stmt.text(1);
        if (!stmt.is_null(2)) r.body = stmt.text(2);
        r.command = stmt.text(3);
        r.changed_ms = stmt.int64(4);
        rows.push_back(std::move(r));
    }
    return rows;
}

Result put_provisioned(Store& store, const ProvisionedRow& row) {
    constexpr std::string_view op = "writing the provisioned registry";
    if (sqlite3_get_autocommit(store.handle()) != 0)
        return fail("store: " + std::string(op) + ": needs an open transaction");
    OneShot q(store.handle(),
              "INSERT INTO provisioned (kind, id, body, command, changed_ms)"
              " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kind, id) DO UPDATE SET"
              " body = excluded.body, command = excluded.command,"
              " changed_ms = excluded.changed_ms");
    if (!q.prepared()) return detail::sql_error(store.handle(), op);
    auto stmt = q.stmt(op);
    stmt.bind(1, std::string_view(row.kind))
        .bind(2, std::string_view(row.id))
        .bind(3, row.body)
        .bind(4, std::string_view(row.command))
        .bind(5, row.changed_ms);
    return stmt.run();
}

}  // namespace ecmgw::store
