// End to end: the delivery state records only what the destination kept, and is never silently
// reborn. Test events, a plugin's RETRY, a cancelled batch and a run stopped by a refused token
// leave undelivered rows undelivered; a damaged, truncated, half-copied or deleted state stops the
// run naming the file and the way out; credentials reached through a symlink stay a symlink; the
// files synchost keeps are private and no sync name collides with them.
#include "workspace.hpp"

#include <sys/stat.h>

#include <random>

using namespace e2e;

namespace {

unsigned mode_of(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

json::value status_json(Workspace &w, const std::string &sync) {
    CommandResult st = w.synchost({"status", sync + ".json", "--json"});
    EXPECT_EQ(st.exit_code, 0) << st.err;
    return json::parse(st.out);
}

// Folds the write-ahead log into the database file, as SQLite does on its own from time to time.
void checkpoint(const std::string &db_file) {
    sqlite3 *db = nullptr;
    ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
}

void remove_log_files(const std::string &db_file) {
    fs::remove(db_file + "-wal");
    fs::remove(db_file + "-shm");
}

// Overwrites `length` bytes at `offset` with noise.
void scribble(const std::string &file, std::streamoff offset, size_t length, unsigned seed) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f) << file;
    std::mt19937 rng(seed);
    std::string noise(length, '\0');
    for (auto &c : noise) c = static_cast<char>(rng());
    f.seekp(offset);
    f.write(noise.data(), static_cast<std::streamsize>(noise.size()));
}

}  // namespace

// A careful user tries test mode first: nothing of it may count as delivered.
TEST(StateSafetyE2E, TestEventsLeaveTheStateUntouchedAndTheRealRunDeliversEveryRow) {
    Workspace w;
    w.add_orders(1, 40);  // all valid (every 50th is not)
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);

    CommandResult test = w.synchost({"sync", "orders.json", "--json", "--test-events"});
    ASSERT_EQ(test.exit_code, 0) << test.err;
    EXPECT_EQ(summary(test).at("sent").as_int64(), 40);
    EXPECT_EQ(summary(test).at("test_events").as_bool(), true);
    EXPECT_EQ(w.stat("test_events"), 40);
    EXPECT_EQ(w.stat("events_received"), 0);

    json::value st = status_json(w, "orders");
    EXPECT_EQ(st.at("delivered").as_int64(), 0);
    // The test run is in the history, and shown as the last test run with what Pinterest said.
    const json::value &last_test = st.at("last_test_run");
    EXPECT_EQ(last_test.at("validated").as_int64(), 40);
    EXPECT_EQ(last_test.at("rejected").as_int64(), 0);
    CommandResult text = w.synchost({"status", "orders.json"});
    EXPECT_NE(text.out.find("last test run"), std::string::npos) << text.out;

    CommandResult real = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(real.exit_code, 0) << real.err;
    EXPECT_EQ(summary(real).at("sent").as_int64(), 40);
    EXPECT_EQ(summary(real).at("delivered").as_int64(), 40);
    EXPECT_EQ(w.stat("events_received"), 40);
    EXPECT_EQ(w.stat("distinct_event_ids"), 40);
}

// Rows the plugin reports RETRY (server errors beyond the retry budget) stay undelivered, the run
// ends transient (exit 4), and the next healthy run sends every one of them.
TEST(StateSafetyE2E, RowsHeldAsRetryAreSentByTheNextRun) {
    // Every events request fails with 503 until request 1000: the whole first run.
    Workspace w({"--fault", "status:503,on=1-1000,target=events"});
    w.add_valid_orders(1, 240);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 100)", "SELECT * FROM orders", kOrderMapping,
                 ", \"retry_max_elapsed_seconds\": 1, \"retry_max_backoff_ms\": 50");
    CommandResult first = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(first.exit_code, 4) << first.err;
    EXPECT_EQ(summary(first).at("delivered").as_int64(), 0);
    EXPECT_EQ(summary(first).at("retry").as_int64(), 240);
    EXPECT_EQ(w.stat("events_received"), 0);
    json::value st = status_json(w, "orders");
    EXPECT_EQ(st.at("delivered").as_int64(), 0);

    // The next run goes to a healthy sandbox (the same state).
    Workspace healthy;
    std::string def = read_text(w.dir() + "/orders.json");
    for (const auto &[from, to] : {std::pair{w.sandbox().url(), healthy.sandbox().url()},
                                   std::pair{w.sandbox().ca_file(), healthy.sandbox().ca_file()}})
        def.replace(def.find(from), from.size(), to);
    std::ofstream(w.dir() + "/orders.json") << def;
    CommandResult second = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(summary(second).at("sent").as_int64(), 240);
    EXPECT_EQ(healthy.stat("distinct_event_ids"), 240);
}

// A second Ctrl-C aborts the batch in flight: its rows are not delivered, and go next run.
TEST(StateSafetyE2E, ACancelledBatchIsNotRecordedAsDelivered) {
    // The third events request hangs: the run is interrupted while it is in flight.
    Workspace w({"--fault", "hang,on=3,target=events"});
    w.add_valid_orders(1, 500);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 100)", "SELECT * FROM orders", kOrderMapping,
                 ", \"max_in_flight\": 1");
    auto c = w.start_synchost({"sync", "orders.json", "--json"});
    ASSERT_TRUE(eventually([&] { return w.faults("hang") > 0; }, std::chrono::seconds(20)));
    // The third request is held open by the sandbox: a batch is really in flight, two were kept.
    ASSERT_EQ(w.faults("hang"), 1);
    ASSERT_EQ(w.stat("in_flight"), 1);
    ASSERT_EQ(w.stat("events_received"), 200);
    // Two different signals: two of one kind sent at once may arrive as one.
    c->signal(SIGINT);
    c->signal(SIGTERM);
    CommandResult r = c->wait();
    EXPECT_EQ(r.exit_code, 130) << r.err;
    const int64_t kept = w.stat("distinct_event_ids");
    EXPECT_EQ(kept, 200);
    EXPECT_EQ(status_json(w, "orders").at("delivered").as_int64(), kept);
    CommandResult rest = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(rest.exit_code, 0) << rest.err;
    EXPECT_EQ(summary(rest).at("sent").as_int64(), 500 - kept);
    EXPECT_EQ(w.stat("distinct_event_ids"), 500);
}

// A refused token stops the run mid-way (pipelined batches then collected with errors): only what
// the destination acknowledged is delivered in the state.
TEST(StateSafetyE2E, ARunStoppedByARefusedTokenRecordsOnlyWhatWasKept) {
    Workspace w({"--fault", "status:401,on=4,target=events"});
    w.add_valid_orders(1, 1000);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 100)", "SELECT * FROM orders", kOrderMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    const int64_t kept = w.stat("distinct_event_ids");
    EXPECT_LT(kept, 1000);
    // Requests cut off by the stop may have been kept without the plugin hearing so: the state may
    // claim less than the destination kept, never more.
    const int64_t recorded = status_json(w, "orders").at("delivered").as_int64();
    EXPECT_LE(recorded, kept);
    CommandResult rest = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(rest.exit_code, 0) << rest.err;
    EXPECT_EQ(summary(rest).at("sent").as_int64(), 1000 - recorded);
    EXPECT_EQ(w.stat("distinct_event_ids"), 1000);
    // What was sent twice is exactly what the state did not claim, with the same event ids.
    EXPECT_EQ(w.stat("duplicate_events"), kept - recorded);
}

// ------------------------------------------------------------------------------------------------
// A state that existed is never silently reborn.

class DamagedState : public testing::Test {
protected:
    Workspace w;
    std::string db;

    void SetUp() override {
        w.add_orders(1, 300);
        w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
        CommandResult first = w.synchost({"sync", "orders.json", "--json"});
        ASSERT_EQ(first.exit_code, 1) << first.err;  // 6 rejected rows
        ASSERT_EQ(w.stat("events_received"), 294);
        db = w.state_file("orders");
        ASSERT_TRUE(fs::exists(db));
    }

    // The next run stops before sending anything, naming the file and both ways out.
    void expect_refused(const std::string &what) {
        CommandResult r = w.synchost({"sync", "orders.json", "--json"});
        EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
        EXPECT_NE(r.err.find(db), std::string::npos) << what << ": " << r.err;
        EXPECT_NE(r.err.find("-wal"), std::string::npos) << what << ": " << r.err;
        EXPECT_NE(r.err.find("--full-resync"), std::string::npos) << what << ": " << r.err;
        EXPECT_EQ(w.stat("events_received"), 294) << what;
        CommandResult st = w.synchost({"status", "orders.json"});
        EXPECT_EQ(st.exit_code, 2) << what << ": " << st.out;
        EXPECT_NE(st.err.find(db), std::string::npos) << what << ": " << st.err;
    }

    // --full-resync starts over on purpose, keeping the damaged files aside.
    void expect_full_resync_starts_over() {
        CommandResult r = w.synchost({"sync", "orders.json", "--json", "--full-resync", "--yes"});
        EXPECT_EQ(r.exit_code, 1) << r.err;
        EXPECT_EQ(summary(r).at("sent").as_int64(), 300);
        EXPECT_NE(r.err.find("set aside"), std::string::npos) << r.err;
        EXPECT_EQ(status_json(w, "orders").at("delivered").as_int64(), 294);
    }
};

TEST_F(DamagedState, TruncatedToZeroBytesWithoutItsLog) {
    checkpoint(db);
    fs::resize_file(db, 0);
    remove_log_files(db);
    expect_refused("0 bytes");
    expect_full_resync_starts_over();
}

TEST_F(DamagedState, TruncatedToAPartialPage) {
    checkpoint(db);
    fs::resize_file(db, 100);
    remove_log_files(db);
    expect_refused("100 bytes");
}

TEST_F(DamagedState, OverwrittenWithGarbage) {
    checkpoint(db);
    remove_log_files(db);
    scribble(db, 0, static_cast<size_t>(fs::file_size(db)), 7);
    expect_refused("garbage");
}

TEST_F(DamagedState, CopiedWithoutItsWriteAheadLog) {
    remove_log_files(db);  // what copying only the .sqlite file does
    expect_refused("lost -wal");
}

TEST_F(DamagedState, PagesOverwrittenInTheMiddle) {
    checkpoint(db);
    const auto size = static_cast<std::streamoff>(fs::file_size(db));
    ASSERT_GE(size, 4 * 4096);
    scribble(db, 2 * 4096, 4096, 11);  // a b-tree page somewhere after the schema
    expect_refused("scribbled page");
}

TEST_F(DamagedState, DeletedWhileItsMarkerRemains) {
    fs::remove(db);
    remove_log_files(db);
    expect_refused("deleted");
    expect_full_resync_starts_over();
}

TEST_F(DamagedState, AnIntactStateStillRunsAndAFreshSyncStillStarts) {
    CommandResult again = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(summary(again).at("sent").as_int64(), 0);
    w.write_sync("other", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult fresh = w.synchost({"sync", "other.json", "--json"});
    EXPECT_EQ(fresh.exit_code, 1) << fresh.err;
    EXPECT_EQ(summary(fresh).at("sent").as_int64(), 300);
}

// ------------------------------------------------------------------------------------------------
// Files synchost keeps.

TEST(StateSafetyE2E, StateAndLogFilesArePrivate) {
    Workspace w;
    w.add_orders(1, 60);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    ::umask(022);  // the usual umask: files would be 0644 unless synchost says otherwise
    CommandResult r = w.synchost({"sync", "orders.json", "--log-file", "sync.log"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const std::string db = w.state_file("orders");
    for (const std::string &f : {db, db + "-wal", db + "-shm", w.dir() + "/sync.log"}) {
        ASSERT_TRUE(fs::exists(f)) << f;
        EXPECT_EQ(mode_of(f), 0600u) << f;
    }
    EXPECT_EQ(mode_of(w.dir() + "/.synchost"), 0700u);
    // A state of an older version (0644 files) is made private at the next open.
    ::chmod(db.c_str(), 0644);
    EXPECT_EQ(w.synchost({"status", "orders.json"}).exit_code, 0);
    EXPECT_EQ(mode_of(db), 0600u);
}

// The credentials file and its lock live in the state directory too: a sync named like them
// must neither lock itself out at the first token refresh nor overwrite them.
TEST(StateSafetyE2E, ASyncNamedLikeAFileTheHostKeepsRunsAndRefreshes) {
    Workspace w({"--access-token-ttl", "1"});  // every use refreshes
    ASSERT_EQ(w.connect("pinterest").exit_code, 0);
    const std::string creds = w.dir() + "/.synchost/credentials.json";
    ASSERT_TRUE(fs::exists(creds));
    w.add_orders(1, 30);
    for (const std::string name : {"credentials.json", "credentials.json.lock", "syncs"}) {
        w.write_sync(name, R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, "", R"("pinterest")");
        auto c = w.start_synchost({"sync", name + ".json", "--json"});
        std::optional<CommandResult> r = c->wait_for_exit(std::chrono::seconds(60));
        ASSERT_TRUE(r.has_value()) << "sync " << name << " hangs";
        EXPECT_EQ(r->exit_code, 0) << name << ": " << r->err;
        EXPECT_EQ(summary(*r).at("delivered").as_int64(), 30) << name;
    }
    EXPECT_GE(w.stat("token_refreshes"), 3);
    // The credentials file is still the credentials file.
    EXPECT_NE(read_text(creds).find("\"connections\""), std::string::npos);
}

// ------------------------------------------------------------------------------------------------
// Credentials are written where they are read.

TEST(StateSafetyE2E, ASymlinkedCredentialsFileKeepsItsLinkAndItsTargetGetsTheRotatedToken) {
    Workspace w({"--access-token-ttl", "1"});
    fs::create_directories(w.dir() + "/secrets");
    ::chmod((w.dir() + "/secrets").c_str(), 0700);
    const std::string target = w.dir() + "/secrets/pinterest.json";
    const std::string link = w.dir() + "/creds.json";
    fs::create_symlink("secrets/pinterest.json", link);  // dangling until connect writes it

    ASSERT_EQ(w.connect("pinterest", {"--credentials", link}).exit_code, 0);
    EXPECT_TRUE(fs::is_symlink(link));
    ASSERT_TRUE(fs::exists(target));
    const std::string refresh_before =
        std::string(json::parse(read_text(target)).at("connections").at("pinterest").at("refresh_token").as_string());

    w.add_orders(1, 20);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, "", R"("pinterest")");
    CommandResult r = w.synchost({"sync", "orders.json", "--json", "--credentials", link});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_GE(w.stat("token_refreshes"), 1);
    EXPECT_TRUE(fs::is_symlink(link)) << "the link was replaced by a plain file";
    const std::string refresh_after =
        std::string(json::parse(read_text(target)).at("connections").at("pinterest").at("refresh_token").as_string());
    EXPECT_NE(refresh_after, refresh_before) << "the target kept the refresh token that was rotated out";
    EXPECT_EQ(mode_of(target), 0600u);
    for (const auto &e : fs::directory_iterator(w.dir() + "/secrets"))  // no temp file left behind
        EXPECT_TRUE(e.path().filename() == "pinterest.json" || e.path().filename() == "pinterest.json.lock")
            << e.path();
}

// A read-only mount (a Kubernetes secret volume): the refresh is not even tried, since its rotated
// refresh token could not be kept, and the message says why.
TEST(StateSafetyE2E, AReadOnlyCredentialsFileStopsBeforeTheRotatedTokenIsLost) {
    Workspace w({"--access-token-ttl", "1"});
    fs::create_directories(w.dir() + "/secrets");
    ::chmod((w.dir() + "/secrets").c_str(), 0700);
    const std::string creds = w.dir() + "/secrets/pinterest.json";
    ASSERT_EQ(w.connect("pinterest", {"--credentials", creds}).exit_code, 0);
    const int64_t refreshes = w.stat("token_refreshes");
    w.add_orders(1, 20);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, "", R"("pinterest")");
    // A private mount namespace with the secrets directory bound read-only (root only, as in CI).
    const std::string script = "mount --bind -o ro secrets secrets && exec \"$0\" \"$@\"";
    CommandResult r =
        Command::run({"/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, SYNCHOST_EXE,
                      "sync", "orders.json", "--json", "--credentials", creds, "--plugin-path", PLUGIN_DIR},
                     w.dir());
    if (r.err.find("mount") != std::string::npos && r.err.find("permission denied") != std::string::npos)
        GTEST_SKIP() << "no privilege to bind-mount read-only here: " << r.err;
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(creds), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
    EXPECT_EQ(w.stat("token_refreshes"), refreshes);  // the refresh token was not spent
    EXPECT_EQ(w.stat("events_received"), 0);
}
