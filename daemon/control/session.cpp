#include "control/session.hpp"

namespace ecmgw::control {

Expected<store::Store*> Session::store() {
    if (!store_) {
        auto opened = store::Store::open(daemon_.database);
        if (!opened) return fail("store: " + opened.error().message);
        store_ = std::move(*opened);
    }
    return store_.get();
}

Expected<store::PrepaidTables*> Session::tables() {
    if (!tables_) {
        auto s = store();
        if (!s) return unexpected(s.error());
        auto attached = store::PrepaidTables::attach(**s);
        if (!attached) return fail("store: " + attached.error().message);
        tables_ = std::move(*attached);
    }
    return tables_.get();
}

}  // namespace ecmgw::control
