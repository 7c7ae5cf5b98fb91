#include "state/wal_checkpointer.hpp"

#include <cstring>

namespace synchost {

std::unique_ptr<WalCheckpointer> WalCheckpointer::start(sqlite3 *db, const std::filesystem::path &file, int pages) {
    sqlite3 *own = nullptr;
    if (sqlite3_open_v2(file.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        sqlite3_close(own);
        return nullptr;
    }
    // Closing this connection must not checkpoint either (the committing one may still be open).
    sqlite3_db_config(own, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    // A connection opens its database lazily, and checkpoints nothing until it has: read the
    // journal mode, which also confirms the database is in WAL mode.
    sqlite3_stmt *mode = nullptr;
    const bool wal = sqlite3_prepare_v2(own, "PRAGMA journal_mode", -1, &mode, nullptr) == SQLITE_OK &&
                     sqlite3_step(mode) == SQLITE_ROW &&
                     std::strcmp(reinterpret_cast<const char *>(sqlite3_column_text(mode, 0)), "wal") == 0;
    sqlite3_finalize(mode);
    if (!wal) {
        sqlite3_close(own);
        return nullptr;
    }
    return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(db, own, pages));
}

WalCheckpointer::WalCheckpointer(sqlite3 *db, sqlite3 *own, int pages) : db_(db), own_(own), pages_(pages) {
    thread_ = std::thread([this] { run(); });
    sqlite3_wal_hook(db_, on_commit, this);  // replaces SQLite's automatic checkpoint
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sqlite3_wal_autocheckpoint(db_, pages_);
    sqlite3_close(own_);
}

int WalCheckpointer::completed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return completed_;
}

bool WalCheckpointer::wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return !wanted_ && !busy_; });
}

// Runs on the committing thread, after each commit, with the log's size in pages.
int WalCheckpointer::on_commit(void *self, sqlite3 *db, const char *schema, int pages_in_log) {
    auto *c = static_cast<WalCheckpointer *>(self);
    if (pages_in_log < c->pages_) return SQLITE_OK;
    if (pages_in_log >= 4 * c->pages_) {
        // The thread cannot keep up (or a reader holds the log): fold in what can be, here, so
        // the log does not grow without bound.
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        return SQLITE_OK;
    }
    {
        std::lock_guard<std::mutex> lock(c->mutex_);
        c->wanted_ = true;
    }
    c->wake_.notify_one();
    return SQLITE_OK;
}

void WalCheckpointer::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return wanted_ || stop_; });
        if (stop_) return;
        wanted_ = false;
        busy_ = true;
        lock.unlock();
        const int rc = sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lock.lock();
        busy_ = false;
        if (rc == SQLITE_OK) ++completed_;
        idle_.notify_all();
    }
}

}  // namespace synchost
