#include "state/sqlite_db.hpp"

namespace synchost {

Stmt::Stmt(sqlite3 *db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s_, nullptr) !=
        SQLITE_OK)
        fail("preparing a statement");
}

void Stmt::fail(const char *what) const {
    throw std::runtime_error(std::string("state database: ") + what + ": " + sqlite3_errmsg(db_));
}

Stmt &Stmt::bind(int i, int64_t v) {
    if (sqlite3_bind_int64(s_, i, v) != SQLITE_OK) fail("binding a value");
    return *this;
}

Stmt &Stmt::bind(int i, std::string_view v) {
    if (sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        fail("binding a value");
    return *this;
}

Stmt &Stmt::bind_static(int i, std::string_view v) {
    if (sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC) != SQLITE_OK)
        fail("binding a value");
    return *this;
}

Stmt &Stmt::bind_null(int i) {
    if (sqlite3_bind_null(s_, i) != SQLITE_OK) fail("binding a value");
    return *this;
}

bool Stmt::step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(s_);
    throw std::runtime_error("state database: " + msg);
}

void Stmt::run() {
    while (step()) {
    }
    reset();
}

void Stmt::reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
}

std::string Stmt::text(int col) const {
    const auto *p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char *>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
}

Db::Db(const std::filesystem::path &file) : file_(file) {
    const int rc = sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
        const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close_v2(db_);
        db_ = nullptr;
        throw std::runtime_error("cannot open state database " + file.string() + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 10000);
}

void Db::exec(const char *sql) {
    char *err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error("state database " + file_.string() + ": " + msg);
    }
}

}  // namespace synchost
