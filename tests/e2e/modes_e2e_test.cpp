// Every sync mode and audience mode, end to end: synchost drives the jsonl_file plugin (which
// declares all of them) on a real SQLite model, and each test reads back the lines the plugin
// wrote, so what the host *sent* is checked, not what it says it sent.
#include "workspace.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

using namespace e2e;

namespace {

struct Line {
    std::string op, key;
    bool has_previous = false;
    json::object fields;
};

class ModesE2E : public ::testing::Test {
protected:
    void SetUp() override {
        ws_.sql("CREATE TABLE people(id TEXT PRIMARY KEY, email TEXT, value INTEGER);"
                "INSERT INTO people VALUES('a', 'a@x.example', 1), ('b', 'b@x.example', 2), "
                "('c', 'c@x.example', 3), ('d', 'd@x.example', 4), ('e', 'e@x.example', 5);");
    }

    // `mode_line` is the definition's "mode" or "audience" entry.
    void write_sync(const std::string &mode_line, const std::string &extra = "") {
        write_sync_to(out_path(), mode_line, extra);
    }
    void write_sync_to(const std::string &path, const std::string &mode_line, const std::string &extra = "") {
        std::ofstream f(ws_.dir() + "/people.json");
        f << "{\"name\": \"people\",\n"
          << " \"source\": {\"type\": \"sqlite\", \"database\": \"shop.db\", \"query\": \"SELECT * FROM people\"},\n"
          << " \"primary_key\": \"id\",\n " << mode_line << ",\n"
          << " \"destination\": {\"plugin\": \"jsonl_file\", \"config\": {\"path\": \"" << path << "\"}},\n"
          << " \"mapping\": {\"email\": \"email\", \"value\": \"value\"}" << extra << "}\n";
    }

    std::string out_path() const { return ws_.dir() + "/out.jsonl"; }

    CommandResult sync(std::vector<std::string> more = {}) {
        std::vector<std::string> args = {"sync", "people.json", "--json"};
        args.insert(args.end(), more.begin(), more.end());
        return ws_.synchost(args);
    }

    // Runs a sync that must succeed; returns the lines it appended to the output file.
    std::vector<Line> run_ok(std::vector<std::string> more = {}) {
        const CommandResult r = sync(std::move(more));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        last_ = r;
        return new_lines();
    }

    std::vector<Line> new_lines() {
        return parse_lines(read_text(out_path()), read_);
    }

    // The complete lines of `text` from byte `read` on; `read` moves past them.
    static std::vector<Line> parse_lines(const std::string &text, size_t &read) {
        std::vector<Line> lines;
        size_t at = read;
        for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
            const json::object o = json::parse(text.substr(at, nl - at)).as_object();
            Line l;
            l.op = o.at("op").as_string().c_str();
            l.key = o.at("key").as_string().c_str();
            l.has_previous = !o.at("previous_hash").is_null();
            l.fields = o.at("fields").as_object();
            lines.push_back(std::move(l));
        }
        read = at;
        return lines;
    }

    // "op key" per line, sorted: what a run sent, in a form a failure message shows at a glance.
    static std::vector<std::string> ops(const std::vector<Line> &lines) {
        std::vector<std::string> out;
        for (const auto &l : lines) out.push_back(l.op + " " + l.key);
        std::sort(out.begin(), out.end());
        return out;
    }

    json::object summary_ops() const { return summary(last_).at("operations").as_object(); }

    // The model changes between runs: c changes, d leaves, f joins.
    void change_model() { ws_.sql("UPDATE people SET value = 30 WHERE id = 'c'; DELETE FROM people WHERE id = 'd';"
                                  "INSERT INTO people VALUES('f', 'f@x.example', 6);"); }

    Workspace ws_;
    CommandResult last_;
    size_t read_ = 0;
};

using V = std::vector<std::string>;

}  // namespace

TEST_F(ModesE2E, InsertSendsNewKeysOnly) {
    write_sync(R"("mode": "insert")");
    EXPECT_EQ(ops(run_ok()), (V{"upsert a", "upsert b", "upsert c", "upsert d", "upsert e"}));
    change_model();
    EXPECT_EQ(ops(run_ok()), (V{"upsert f"}));
    // a b c(changed) e were delivered: SQLite leaves them out (the state attached beside the model).
    EXPECT_EQ(summary(last_).at("rows_read").as_int64(), 1);
}

TEST_F(ModesE2E, UpsertSendsNewAndChangedRowsWithTheHashLastDelivered) {
    write_sync(R"("mode": "upsert")");
    const auto first = run_ok();
    EXPECT_EQ(first.size(), 5u);
    for (const auto &l : first) EXPECT_FALSE(l.has_previous) << l.key << " was never delivered";
    change_model();
    const auto second = run_ok();
    ASSERT_EQ(ops(second), (V{"upsert c", "upsert f"}));
    for (const auto &l : second) {
        EXPECT_EQ(l.has_previous, l.key == "c") << l.key;
        if (l.key == "c") {
            EXPECT_EQ(l.fields.at("value").as_int64(), 30);
        }
    }
    EXPECT_EQ(summary_ops().at("upsert").as_int64(), 2);
    EXPECT_EQ(ops(run_ok()), V{}) << "nothing changed since";
}

TEST_F(ModesE2E, UpdateSendsWhatUpsertSendsForTheDestinationToApplyToWhatItHolds) {
    write_sync(R"("mode": "update")");
    EXPECT_EQ(run_ok().size(), 5u);
    change_model();
    EXPECT_EQ(ops(run_ok()), (V{"upsert c", "upsert f"}));
}

TEST_F(ModesE2E, MirrorDeletesWhatLeftTheModelOnceAndStatusStopsCountingIt) {
    write_sync(R"("mode": "mirror")");
    EXPECT_EQ(run_ok().size(), 5u);
    change_model();
    const auto second = run_ok();
    EXPECT_EQ(ops(second), (V{"delete d", "upsert c", "upsert f"}));
    for (const auto &l : second)
        if (l.op == "delete") {
            EXPECT_TRUE(l.fields.empty());
        }
    EXPECT_EQ(summary_ops().at("delete").as_int64(), 1);
    EXPECT_EQ(summary(last_).at("departed").as_int64(), 1);
    EXPECT_EQ(ops(run_ok()), V{}) << "a deleted key is not deleted again";

    const CommandResult st = ws_.synchost({"status", "people.json", "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    const json::value s = json::parse(st.out);
    EXPECT_EQ(s.at("delivered").as_int64(), 5) << st.out;  // a b c e f; d is gone

    // A deleted key that comes back is new again.
    ws_.sql("INSERT INTO people VALUES('d', 'd@x.example', 4);");
    EXPECT_EQ(ops(run_ok()), (V{"upsert d"}));
}

TEST_F(ModesE2E, MirrorRefusesToDeleteMostOfWhatWasDeliveredUnlessAllowed) {
    write_sync(R"("mode": "mirror")");
    EXPECT_EQ(run_ok().size(), 5u);
    ws_.sql("DELETE FROM people WHERE id <> 'a';");  // an emptied model: a broken query, a bad load
    const CommandResult refused = sync();
    EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("80.0%"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--allow-mass-delete"), std::string::npos) << refused.err;
    EXPECT_EQ(new_lines().size(), 0u) << "nothing is deleted when the guard trips";
    EXPECT_NE(refused.err.find("more than max_delete_percent (20%)"), std::string::npos) << refused.err;

    // A dry run shows the deletions and where a real run would stop.
    const CommandResult dry = sync({"--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_EQ(summary(dry).at("operations").at("delete").as_int64(), 4) << dry.out;
    EXPECT_NE(dry.err.find("a real run would stop here"), std::string::npos) << dry.err;

    EXPECT_EQ(ops(run_ok({"--allow-mass-delete"})), (V{"delete b", "delete c", "delete d", "delete e"}));
}

TEST_F(ModesE2E, MaxDeletePercentIsTheSyncsOwnThreshold) {
    write_sync(R"("mode": "mirror")", R"(, "max_delete_percent": 50)");
    EXPECT_EQ(run_ok().size(), 5u);
    ws_.sql("DELETE FROM people WHERE id IN ('a', 'b');");  // 40%: under this sync's 50%
    EXPECT_EQ(ops(run_ok()), (V{"delete a", "delete b"}));
}

TEST_F(ModesE2E, AudienceAddAddsJoinersAndAReturningMemberIsANewMembership) {
    write_sync(R"("audience": {"mode": "add"})");
    EXPECT_EQ(ops(run_ok()), (V{"add a#1", "add b#1", "add c#1", "add d#1", "add e#1"}));
    change_model();
    EXPECT_EQ(ops(run_ok()), (V{"add f#1"})) << "add mode sends nothing for d, who left, nor for c, who changed";
    ws_.sql("INSERT INTO people VALUES('d', 'd@x.example', 4);");
    EXPECT_EQ(ops(run_ok()), (V{"add d#2"}));
}

TEST_F(ModesE2E, AudienceRemoveRecordsMembersAndRemovesThoseWhoLeave) {
    write_sync(R"("audience": {"mode": "remove"})");
    EXPECT_EQ(run_ok().size(), 0u);
    EXPECT_EQ(summary(last_).at("tracked").as_int64(), 5);
    change_model();
    const auto second = run_ok();
    EXPECT_EQ(ops(second), (V{"remove d#1"}));
    EXPECT_TRUE(second.at(0).fields.empty());
    EXPECT_EQ(summary_ops().at("remove").as_int64(), 1);
    EXPECT_EQ(ops(run_ok()), V{});
}

TEST_F(ModesE2E, AudienceMirrorAddsAndRemoves) {
    write_sync(R"("audience": {"mode": "mirror"})");
    EXPECT_EQ(run_ok().size(), 5u);
    change_model();
    EXPECT_EQ(ops(run_ok()), (V{"add f#1", "remove d#1"}));
    ws_.sql("INSERT INTO people VALUES('d', 'd@x.example', 4);");
    EXPECT_EQ(ops(run_ok()), (V{"add d#2"}));
}

TEST_F(ModesE2E, AudienceUpsertAddsJoinersAndChangedMembers) {
    write_sync(R"("audience": {"mode": "upsert"})");
    EXPECT_EQ(run_ok().size(), 5u);
    change_model();
    const auto second = run_ok();
    EXPECT_EQ(ops(second), (V{"add c#1", "add f#1"}));
    for (const auto &l : second) EXPECT_EQ(l.has_previous, l.key == "c#1") << l.key;
}

TEST_F(ModesE2E, ADryRunOfMirrorWritesNothingAndRecordsNothing) {
    write_sync(R"("mode": "mirror")");
    EXPECT_EQ(run_ok().size(), 5u);
    change_model();
    const CommandResult dry = sync({"--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_EQ(summary(dry).at("operations").at("delete").as_int64(), 1) << dry.out;
    const CommandResult said = ws_.synchost({"sync", "people.json", "--dry-run"});
    ASSERT_EQ(said.exit_code, 0) << said.err;
    EXPECT_NE(said.err.find("would send 3"), std::string::npos) << said.err;
    EXPECT_NE(said.err.find("(2 upserts, 1 deletes)"), std::string::npos) << said.err;
    EXPECT_EQ(new_lines().size(), 0u);
    EXPECT_EQ(ops(run_ok()), (V{"delete d", "upsert c", "upsert f"})) << "the dry run recorded nothing";
}

TEST_F(ModesE2E, TestEventsWriteNothingAndRecordNothing) {
    write_sync(R"("mode": "upsert")");
    const CommandResult test = sync({"--test-events"});
    ASSERT_EQ(test.exit_code, 0) << test.out << test.err;
    EXPECT_EQ(new_lines().size(), 0u);
    EXPECT_EQ(run_ok().size(), 5u) << "a test run marks nothing as delivered";
}

// A plugin built against ABI minor 0 cannot be told of operations: the new host runs it in insert
// mode as before and refuses the modes it could only carry out by sending operations.
TEST_F(ModesE2E, AMinor0PluginRunsInsertAndIsRefusedWhatItCannotBeTold) {
    std::ofstream(ws_.dir() + "/m0.json")
        << R"({"name": "m0", "source": {"type": "sqlite", "database": "shop.db", "query": "SELECT * FROM people"},
              "primary_key": "id", "mode": "insert",
              "destination": {"plugin": "minor0_plugin", "config": {"path": ")"
        << ws_.dir() << R"(/m0.out"}}, "mapping": {"email": "email", "value": "value"}})";
    const CommandResult ins = Command::run({SYNCHOST_EXE, "sync", "m0.json", "--plugin-path", FIXTURE_DIR}, ws_.dir(), {});
    ASSERT_EQ(ins.exit_code, 0) << ins.out << ins.err;
    std::string out = read_text(ws_.dir() + "/m0.out");
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5) << out;

    for (const std::string mode : {R"("mode": "upsert")", R"("mode": "mirror")", R"("audience": {"mode": "remove"})"}) {
        std::ofstream(ws_.dir() + "/m0b.json")
            << R"({"name": "m0b", "source": {"type": "sqlite", "database": "shop.db", "query": "SELECT * FROM people"},
                  "primary_key": "id", )"
            << mode << R"(, "destination": {"plugin": "minor0_plugin", "config": {"path": "m0b.out"}},
                  "mapping": {"email": "email", "value": "value"}})";
        const CommandResult r =
            Command::run({SYNCHOST_EXE, "sync", "m0b.json", "--plugin-path", FIXTURE_DIR}, ws_.dir(), {});
        EXPECT_EQ(r.exit_code, 2) << mode << "\n" << r.err;
        EXPECT_NE(r.err.find("ABI 1.0"), std::string::npos) << mode << "\n" << r.err;
        EXPECT_FALSE(fs::exists(ws_.dir() + "/m0b.out")) << mode << ": nothing may be sent";
    }
}

// A mirror run killed while its records are in flight, then resumed: every change reaches the
// destination (no gaps), and a record sent twice is the same record (same key, operation and
// fields), which an idempotent destination keeps once. The killed run writes into a FIFO this
// test reads, so the kill provably lands after part of the run was written and before the rest.
TEST_F(ModesE2E, AMirrorRunKilledMidFlightResumesWithoutGapsOrNewRecords) {
    constexpr int kRows = 20000, kDeleted = 2000, kChanged = 3000;
    std::string s = "BEGIN; DELETE FROM people;";
    for (int i = 0; i < kRows; ++i)
        s += "INSERT INTO people VALUES('p" + std::to_string(i) + "', 'p" + std::to_string(i) + "@x.example', " +
             std::to_string(i) + ");";
    ws_.sql(s + "COMMIT;");
    write_sync(R"("mode": "mirror")", R"(, "batch_size": 250)");
    ASSERT_EQ(run_ok().size(), size_t{kRows});
    // 10% of the keys leave (under the 20% guard), 15% change.
    ws_.sql("DELETE FROM people WHERE CAST(substr(id, 2) AS INTEGER) % 10 = 3;"
            "UPDATE people SET value = -value WHERE CAST(substr(id, 2) AS INTEGER) % 20 IN (1, 5, 9);");
    std::set<std::string> expected;  // "op key" of every change
    for (int i = 0; i < kRows; ++i) {
        if (i % 10 == 3) expected.insert("delete p" + std::to_string(i));
        else if (i % 20 == 1 || i % 20 == 5 || i % 20 == 9) expected.insert("upsert p" + std::to_string(i));
    }
    ASSERT_EQ(expected.size(), size_t{kDeleted + kChanged});

    const std::string fifo = ws_.dir() + "/pipe.jsonl";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(rd, 0);
    // The test holds a write end too: the FIFO then never reads as closed (no end-of-file while
    // the plugin reopens it, nor after the kill), so poll() wakes only for data.
    const int keep_open = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    ASSERT_GE(keep_open, 0);
    write_sync_to(fifo, R"("mode": "mirror")", R"(, "batch_size": 250)");
    auto run = ws_.start_synchost({"sync", "people.json"});
    std::string piped;
    auto lines_in = [&] { return std::count(piped.begin(), piped.end(), '\n'); };
    char buf[4096];
    // Reads until 1,200 of the 5,000 records came through; the writer then blocks on a full pipe.
    while (lines_in() < 1200) {
        pollfd p{rd, POLLIN, 0};
        ASSERT_GT(::poll(&p, 1, 60000), 0) << "synchost wrote nothing for a minute:\n" << run->stderr_text();
        const ssize_t n = ::read(rd, buf, sizeof buf);
        if (n > 0) piped.append(buf, static_cast<size_t>(n));
    }
    run->signal(SIGKILL);
    const auto killed = run->wait_for_exit(std::chrono::seconds(30));
    ASSERT_TRUE(killed.has_value());
    EXPECT_EQ(killed->exit_code, -1) << "the run ended before the kill: it did not crash mid-flight";
    for (ssize_t n; (n = ::read(rd, buf, sizeof buf)) > 0;) piped.append(buf, static_cast<size_t>(n));
    ::close(keep_open);
    ::close(rd);
    size_t at = 0;
    const std::vector<Line> before = parse_lines(piped, at);
    ASSERT_LT(before.size(), expected.size()) << "the kill landed after everything was written";

    write_sync(R"("mode": "mirror")", R"(, "batch_size": 250)");
    const std::vector<Line> after = run_ok();
    std::map<std::string, json::object> first_seen;
    size_t twice = 0;
    for (const auto *part : {&before, &after}) {
        for (const Line &l : *part) {
            const std::string id = l.op + " " + l.key;
            EXPECT_EQ(expected.count(id), 1u) << id << " was not a change of the model";
            auto [it, fresh] = first_seen.emplace(id, l.fields);
            if (!fresh) {
                ++twice;
                EXPECT_EQ(it->second, l.fields) << id << " was sent again with other content";
            }
        }
    }
    EXPECT_EQ(first_seen.size(), expected.size()) << "changes lost by the crash";
    // Only what was in flight at the kill is sent again: at most the batches not yet checkpointed.
    EXPECT_LE(twice, 2u * 250u);
    EXPECT_EQ(ops(run_ok()), V{}) << "the resumed run left nothing behind";
}

// The host speaks the plugin's vocabulary, not Pinterest's: a plugin without auth needs no
// credentials, its own field group is the only one shown, and no byte limit is invented.
TEST_F(ModesE2E, TheHostDescribesAndChecksAPluginInItsOwnTerms) {
    write_sync(R"("mode": "mirror")");
    const CommandResult check = ws_.synchost({"check", "people.json"});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    const std::string said = check.out + check.err;
    EXPECT_NE(said.find("not needed (jsonl_file declares no auth)"), std::string::npos) << said;
    EXPECT_NE(said.find("the destination accepted the live check\n"), std::string::npos) << said;
    EXPECT_EQ(said.find("account"), std::string::npos) << said;

    const CommandResult d = ws_.synchost({"describe", "jsonl_file"});
    ASSERT_EQ(d.exit_code, 0) << d.err;
    EXPECT_NE(d.out.find("  record:\n"), std::string::npos) << d.out;
    for (const char *pinterest_only : {"user_data", "custom_data", "app_data", "device_data", "Required mapping", "bytes"})
        EXPECT_EQ(d.out.find(pinterest_only), std::string::npos) << pinterest_only << " in:\n" << d.out;
}

// A plugin library does not need CMake's "lib" prefix to be found.
TEST_F(ModesE2E, ALibraryWithoutTheLibPrefixIsFoundByItsFileName) {
    const std::string dir = ws_.dir() + "/plugins";
    fs::create_directories(dir);
    fs::copy_file(std::string(PLUGIN_DIR) + "/libjsonl_file.so", dir + "/files.so");
    const CommandResult list = Command::run({SYNCHOST_EXE, "plugins", "--plugin-path", dir}, ws_.dir(), {});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find("files  0."), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("(the library declares id \"jsonl_file\")"), std::string::npos) << list.out;

    write_sync(R"("mode": "insert")");
    std::string def = read_text(ws_.dir() + "/people.json");
    def.replace(def.find("\"jsonl_file\""), 12, "\"files\"");
    std::ofstream(ws_.dir() + "/people.json") << def;
    const CommandResult r = Command::run({SYNCHOST_EXE, "sync", "people.json", "--plugin-path", dir}, ws_.dir(), {});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(new_lines().size(), 5u);
}

// A model query that would run other than as written is refused by `check` and `sync` alike:
// one cut short by a NUL, and a write dressed as a SELECT.
TEST_F(ModesE2E, CheckAndSyncRefuseAQueryCutByANulAndAWrite) {
    write_sync(R"("mode": "insert")");
    const std::string good = read_text(ws_.dir() + "/people.json");
    const std::string query = "SELECT * FROM people";
    for (const std::string &bad : {std::string(R"(SELECT * FROM people\u0000; DELETE FROM people)"),
                                  std::string("DELETE FROM people RETURNING *")}) {
        std::string def = good;
        def.replace(def.find(query), query.size(), bad);
        std::ofstream(ws_.dir() + "/people.json") << def;
        for (const char *cmd : {"check", "sync"}) {
            const CommandResult r = ws_.synchost({cmd, "people.json"});
            EXPECT_EQ(r.exit_code, 2) << cmd << " " << bad << "\n" << r.out << r.err;
            const std::string said = r.out + r.err;
            EXPECT_TRUE(said.find("contains a NUL character") != std::string::npos ||
                        said.find("writes to the database") != std::string::npos)
                << cmd << " " << bad << "\n" << said;
        }
    }
    EXPECT_TRUE(!fs::exists(out_path()) || fs::file_size(out_path()) == 0) << "nothing was sent";
    std::ofstream(ws_.dir() + "/people.json") << good;
    EXPECT_EQ(run_ok().size(), 5u) << "the model is intact";
}

// Once the sync has state, `sync` wraps a SQLite model query to leave out what was delivered: a
// write is still refused as one (not as a syntax error of the wrapper), quoting the query as
// written, by `check` and `sync` alike.
TEST_F(ModesE2E, AWriteIsRefusedInTheSameWordsOnceTheSyncHasState) {
    write_sync(R"("mode": "insert")");
    ASSERT_EQ(run_ok().size(), 5u);
    const std::string good = read_text(ws_.dir() + "/people.json");
    const std::string query = "SELECT * FROM people", bad = "DELETE FROM people RETURNING *";
    std::string def = good;
    def.replace(def.find(query), query.size(), bad);
    std::ofstream(ws_.dir() + "/people.json") << def;
    for (const char *cmd : {"check", "sync"}) {
        const CommandResult r = ws_.synchost({cmd, "people.json"});
        EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
        const std::string said = r.out + r.err;
        EXPECT_NE(said.find("the model query writes to the database"), std::string::npos) << cmd << "\n" << said;
        EXPECT_NE(said.find("\"" + bad + "\""), std::string::npos) << cmd << "\n" << said;
        EXPECT_EQ(said.find("synchost_key"), std::string::npos) << cmd << ": the wrapper shows\n" << said;
    }
    // A first run of a sync sorting newest first wraps the query too.
    def.insert(def.rfind('}'), R"(, "newest_first": "value")");
    std::ofstream(ws_.dir() + "/people.json") << def;
    const CommandResult sorted = ws_.synchost({"sync", "people.json", "--state-dir", ws_.dir() + "/fresh-state"});
    EXPECT_EQ(sorted.exit_code, 2) << sorted.out << sorted.err;
    EXPECT_NE(sorted.err.find("the model query writes to the database"), std::string::npos) << sorted.err;
    EXPECT_TRUE(new_lines().empty()) << "nothing was sent";
    std::ofstream(ws_.dir() + "/people.json") << good;
    EXPECT_EQ(run_ok({"--full-resync", "--yes"}).size(), 5u) << "the model is intact";
}

// The same for a primary key the query does not return: named as `check` names it, not as a
// column the wrapper could not find.
TEST_F(ModesE2E, AMissingPrimaryKeyIsNamedAsCheckNamesItOnceTheSyncHasState) {
    write_sync(R"("mode": "insert")");
    ASSERT_EQ(run_ok().size(), 5u);
    const std::string def_file = ws_.dir() + "/people.json", good = read_text(def_file);
    std::string def = good;
    const std::string key = "\"primary_key\": \"id\"";
    def.replace(def.find(key), key.size(), "\"primary_key\": \"idx\"");
    std::ofstream(def_file) << def;
    for (const char *cmd : {"check", "sync"}) {
        const CommandResult r = ws_.synchost({cmd, "people.json"});
        EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
        EXPECT_NE((r.out + r.err).find("the primary_key column \"idx\" is not in the query result (did you mean "
                                       "\"id\"?)"),
                  std::string::npos)
            << cmd << "\n" << r.out << r.err;
    }
    EXPECT_TRUE(new_lines().empty()) << "nothing was sent";
    std::ofstream(def_file) << good;
}

// "Every command takes --help" (README): its usage on stdout, exit 0, for each command the
// top-level usage lists and for the state command's subcommand.
TEST_F(ModesE2E, EveryCommandPrintsItsUsageWithHelp) {
    for (const std::vector<std::string> &cmd : std::vector<std::vector<std::string>>{
             {"plugins"}, {"describe"}, {"connect"}, {"check"}, {"sync"}, {"status"}, {"quality"}, {"state"},
             {"state", "move"}}) {
        std::vector<std::string> args = cmd;
        args.push_back("--help");
        const CommandResult r = ws_.synchost(args);
        const std::string name = cmd.front() + (cmd.size() > 1 ? " " + cmd.back() : "");
        EXPECT_EQ(r.exit_code, 0) << name << "\n" << r.out << r.err;
        EXPECT_EQ(r.out.rfind("usage: synchost " + cmd.front(), 0), 0u) << name << "\n" << r.out << r.err;
    }
    // The subcommand's own help, not its parent's.
    EXPECT_NE(ws_.synchost({"state", "move", "--help"}).out.find("Moves the sync's delivered keys"), std::string::npos);
}

// A definition is read up to 1 MiB: a bigger one (here a query padded past it) is refused by
// name before it is parsed, and one just under still runs.
TEST_F(ModesE2E, ADefinitionLargerThanOneMiBIsRefused) {
    write_sync(R"("mode": "insert")");
    const std::string good = read_text(ws_.dir() + "/people.json");
    const std::string query = "SELECT * FROM people";
    const std::size_t limit = std::size_t{1} << 20;
    std::string big = good;
    big.replace(big.find(query), query.size(), query + std::string(limit - good.size() + 1, ' '));
    ASSERT_EQ(big.size(), limit + 1);
    std::ofstream(ws_.dir() + "/people.json") << big;
    for (const char *cmd : {"check", "sync", "status"}) {
        const CommandResult r = ws_.synchost({cmd, "people.json"});
        EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
        EXPECT_NE((r.out + r.err).find("people.json: larger than 1 MiB"), std::string::npos) << cmd << "\n" << r.out << r.err;
    }
    big.erase(big.find(query) + query.size(), 2);  // two spaces of the padding: 1 MiB - 1 bytes
    std::ofstream(ws_.dir() + "/people.json") << big;
    EXPECT_EQ(run_ok().size(), 5u);
}
