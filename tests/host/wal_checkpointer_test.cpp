// WalCheckpointer: the write-ahead log is folded in by its thread, so it stays small while the
// committing connection never checkpoints; without it (the control) the log only grows.
#include "state/wal_checkpointer.hpp"

#include "source_test_support.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>

using source_test::TempDir;
using synchost::WalCheckpointer;

namespace {

void exec(sqlite3 *db, const std::string &sql) {
    char *err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
}

// Commits `n` transactions of ~one page each in bursts of 40. Between bursts, like the runner
// between batches, the checkpointer (when there is one) gets to catch up: the test waits until it
// is idle (the log restarts only once a checkpoint has caught up with it). Returns the largest
// size the log reached, in bytes.
uintmax_t commit_many(sqlite3 *db, const std::filesystem::path &wal, int n, const WalCheckpointer *checkpointer) {
    uintmax_t largest = 0;
    for (int i = 0; i < n; ++i) {
        exec(db, "INSERT INTO t VALUES(" + std::to_string(i) + ", hex(randomblob(1800)))");
        if (i % 40 == 39 && checkpointer != nullptr) {
            EXPECT_TRUE(checkpointer->wait_idle(std::chrono::seconds(30))) << "the checkpointer never caught up";
        }
        std::error_code ec;
        largest = std::max(largest, std::filesystem::file_size(wal, ec));
    }
    return largest;
}

sqlite3 *open_wal_db(const std::filesystem::path &file) {
    sqlite3 *db = nullptr;
    EXPECT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);");
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    return db;
}

TEST(WalCheckpointer, KeepsTheLogSmallFromItsOwnThread) {
    TempDir dir;
    const auto file = dir.file("state.sqlite");
    sqlite3 *db = open_wal_db(file);
    auto checkpointer = WalCheckpointer::start(db, file, 100);
    ASSERT_NE(checkpointer, nullptr);
    const uintmax_t largest = commit_many(db, dir.file("state.sqlite-wal"), 1200, checkpointer.get());
    EXPECT_GT(checkpointer->completed(), 0);
    // 1,200 pages were written; a log folded in every ~100 pages stays far below that, and below
    // the 400 pages at which the committing thread would checkpoint itself.
    EXPECT_LT(largest, 250u * 4096) << "the log grew to " << largest << " bytes";
    checkpointer.reset();
    sqlite3_stmt *st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 1200);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

// The control: with SQLite's automatic checkpoints off and no checkpointer, the same commits
// leave every page in the log (so the bound above is the checkpointer's doing).
TEST(WalCheckpointer, WithoutItTheLogKeepsEveryPage) {
    TempDir dir;
    const auto file = dir.file("state.sqlite");
    sqlite3 *db = open_wal_db(file);
    sqlite3_wal_autocheckpoint(db, 0);
    EXPECT_GT(commit_many(db, dir.file("state.sqlite-wal"), 1200, nullptr), 1200u * 4096);
    sqlite3_close(db);
}

}  // namespace
