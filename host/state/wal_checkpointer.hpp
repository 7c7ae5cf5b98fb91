// Folds a SQLite database's write-ahead log into the database on a thread of its own.
//
// SQLite checkpoints automatically on the thread that commits, once the log passes 1,000 pages:
// it copies those pages into the database and waits for two fsyncs. For the sync runner that is
// the main thread, which then neither reads rows nor feeds the plugin (~8 ms per checkpoint, ten
// per million rows). Here the committing connection only notes the log's size (sqlite3_wal_hook)
// and wakes a thread with its own connection, which runs PASSIVE checkpoints: they copy what no
// reader still needs and never block the writer.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

namespace synchost {

class WalCheckpointer {
public:
    // Takes over the checkpoints of `db`, a connection to `file` in WAL mode, used by one thread.
    // Returns nullptr (and leaves SQLite's automatic checkpoints in place) when the checkpointer's
    // own connection cannot be opened.
    static std::unique_ptr<WalCheckpointer> start(sqlite3 *db, const std::filesystem::path &file, int pages = 1000);
    // Stops the thread (after a checkpoint in progress) and gives checkpoints back to SQLite.
    // Call before `db` is closed.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer &) = delete;
    WalCheckpointer &operator=(const WalCheckpointer &) = delete;

    // Checkpoints completed so far (for tests).
    int completed() const;
    // For tests: waits until no checkpoint is wanted or running (true), or `timeout` passes (false).
    bool wait_idle(std::chrono::milliseconds timeout) const;

private:
    WalCheckpointer(sqlite3 *db, sqlite3 *own, int pages);
    static int on_commit(void *self, sqlite3 *db, const char *schema, int pages_in_log);
    void run();

    sqlite3 *db_;   // the committing connection
    sqlite3 *own_;  // this thread's connection
    int pages_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    mutable std::condition_variable idle_;  // for wait_idle()
    bool wanted_ = false, stop_ = false, busy_ = false;
    int completed_ = 0;
    std::thread thread_;
};

}  // namespace synchost
