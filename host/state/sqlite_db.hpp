// Minimal RAII over the SQLite C API for the host's state database: a connection, prepared
// statements, transactions. Errors throw std::runtime_error with SQLite's message and what was
// being done (never row values).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace synchost {

class Stmt {
public:
    Stmt() = default;
    Stmt(sqlite3 *db, std::string_view sql);
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(Stmt &&o) noexcept : s_(o.s_), db_(o.db_) { o.s_ = nullptr; }
    Stmt &operator=(Stmt &&o) noexcept {
        std::swap(s_, o.s_);
        std::swap(db_, o.db_);
        return *this;
    }

    Stmt &bind(int i, int64_t v);
    Stmt &bind(int i, std::string_view v);
    // Binds text without copying it: `v` must stay valid and unchanged until reset().
    Stmt &bind_static(int i, std::string_view v);
    Stmt &bind_null(int i);
    bool step();  // true while there is a row
    void run();   // step to completion, then reset
    void reset();
    int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
    std::string text(int col) const;
    bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

private:
    [[noreturn]] void fail(const char *what) const;
    sqlite3_stmt *s_ = nullptr;
    sqlite3 *db_ = nullptr;
};

class Db {
public:
    // Opens (creating) the database file. Throws std::runtime_error naming the file.
    explicit Db(const std::filesystem::path &file);
    ~Db() { sqlite3_close_v2(db_); }
    Db(const Db &) = delete;
    Db &operator=(const Db &) = delete;

    void exec(const char *sql);
    Stmt prepare(std::string_view sql) { return Stmt(db_, sql); }
    int64_t changes() const { return sqlite3_changes64(db_); }
    sqlite3 *handle() const { return db_; }
    const std::filesystem::path &file() const { return file_; }

    // All-or-nothing: commit() or the destructor rolls back.
    class Transaction {
    public:
        explicit Transaction(Db &db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
        ~Transaction() {
            if (!done_) sqlite3_exec(db_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        void commit() {
            db_.exec("COMMIT");
            done_ = true;
        }

    private:
        Db &db_;
        bool done_ = false;
    };

private:
    sqlite3 *db_ = nullptr;
    std::filesystem::path file_;
};

}  // namespace synchost
