#include "state/sqlite_db.hpp"

#include "state/state_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace synchost {

namespace {

// A database that SQLite finds damaged is named, with the way out; other failures say what was
// being done.
[[noreturn]] void throw_error(sqlite3 *db, const std::string &what) {
    const int code = sqlite3_errcode(db) & 0xff;
    const std::string msg = sqlite3_errmsg(db);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
        const char *file = sqlite3_db_filename(db, "main");
        throw StateDamaged(file ? file : "", "is damaged (SQLite: " + msg + ")", /*at_open=*/false);
    }
    throw std::runtime_error("state database: " + what + msg);
}

// Files the state consists of are readable by their owner only: they name what was delivered.
void make_private(const std::filesystem::path &file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0) ::chmod(file.c_str(), 0600);
}

}  // namespace

Stmt::Stmt(sqlite3 *db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s_, nullptr) !=
        SQLITE_OK)
        fail("preparing a statement");
}

void Stmt::fail(const char *what) const { throw_error(db_, std::string(what) + ": "); }

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
    sqlite3_reset(s_);  // keeps the error code and message of the failed step
    throw_error(db_, "");
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
    // SQLite creates the database with 0644 (less the umask), and its -wal and -shm with the
    // database's mode: creating the file first makes all three 0600.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    for (const char *suffix : {"", "-wal", "-shm"}) make_private(file.string() + suffix);
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
        sqlite3_free(err);  // the same text as sqlite3_errmsg()
        throw_error(db_, file_.string() + ": ");
    }
}

}  // namespace synchost
