// State kept beside the model ("state": {"location": "source"}), end to end against the real
// PostgreSQL server scripts/start-postgres.sh runs: every mode sends what it sends with local
// state while only the rows it acts on leave the database; a run killed mid-flight resumes
// without gaps or new event ids; a second run of the sync from another state directory is
// refused by the advisory lock; a role that may not create the table is told what to grant.
#include "require_test_pg.hpp"
#include "workspace.hpp"

#include <unistd.h>

#include <set>

using namespace e2e;

namespace {

using V = std::vector<std::string>;

class BesideModelE2E : public ::testing::Test {
protected:
    void SetUp() override {
        SYNCHOST_REQUIRE_TEST_PG(pg_);
        static int n = 0;
        suffix_ = std::to_string(::getpid()) + "_" + std::to_string(++n);
        table_ = "people_" + suffix_;
        schema_ = "st_" + suffix_;
        psql_ok("CREATE TABLE " + table_ +
                "(id text PRIMARY KEY, email text, value integer);"
                "INSERT INTO " +
                table_ +
                " VALUES('a', 'a@x.example', 1), ('b', 'b@x.example', 2), "
                "('c', 'c@x.example', 3), ('d', 'd@x.example', 4), ('e', 'e@x.example', 5);");
    }
    void TearDown() override {
        if (!pg_.empty())
            psql("DROP TABLE IF EXISTS " + table_ + "; DROP SCHEMA IF EXISTS " + schema_ +
                 " CASCADE; DROP SCHEMA IF EXISTS " + schema_ + "_m CASCADE;");
    }

    CommandResult psql(const std::string &sql) {
        return Command::run({"/usr/bin/psql", pg_, "-v", "ON_ERROR_STOP=1", "-qAtc", sql}, ws_.dir());
    }
    void psql_ok(const std::string &sql) {
        const CommandResult r = psql(sql);
        ASSERT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
    }
    int64_t count(const std::string &sql) { return std::stoll(psql(sql).out); }

    // The jsonl_file plugin (every mode) writing to out.jsonl, the keys in schema_.
    void write_sync(const std::string &mode_line, const std::string &extra = "") {
        std::ofstream(ws_.dir() + "/people.json")
            << "{\"name\": \"people\",\n \"source\": {\"type\": \"postgres\", \"connection_env\": \"E2E_PG\", "
            << "\"query\": \"SELECT * FROM " << table_ << "\"},\n \"primary_key\": \"id\",\n " << mode_line
            << ",\n \"state\": {\"location\": \"source\", \"schema\": \"" << schema_ << "\"},\n"
            << " \"destination\": {\"plugin\": \"jsonl_file\", \"config\": {\"path\": \"out.jsonl\"}},\n"
            << " \"mapping\": {\"email\": \"email\", \"value\": \"value\"}" << extra << "}\n";
    }

    CommandResult sync(std::vector<std::string> more = {}) {
        std::vector<std::string> args = {"sync", "people.json", "--json"};
        args.insert(args.end(), more.begin(), more.end());
        return ws_.synchost(args, {{"E2E_PG", pg_}});
    }

    // Runs a sync that must succeed; returns "op key" of each line it wrote, sorted.
    V run_ok() {
        last_ = sync();
        EXPECT_EQ(last_.exit_code, 0) << last_.out << last_.err;
        const std::string text = read_text(ws_.dir() + "/out.jsonl");
        V out;
        for (size_t nl; (nl = text.find('\n', read_)) != std::string::npos; read_ = nl + 1) {
            const json::object o = json::parse(text.substr(read_, nl - read_)).as_object();
            out.push_back(std::string(o.at("op").as_string()) + " " + std::string(o.at("key").as_string()));
        }
        std::sort(out.begin(), out.end());
        return out;
    }
    int64_t last(const char *key) const { return summary(last_).at(key).to_number<int64_t>(); }

    Workspace ws_;
    std::string pg_, suffix_, table_, schema_;
    CommandResult last_;
    size_t read_ = 0;
};

// What each mode sends on the first run, after the model changed (c changes, d leaves, f joins),
// and once d is back, with how many rows the database returned for the second run: with local
// state all 5 would be read.
struct ModeCase {
    const char *mode_line;
    V first, changed, returned;
    int64_t read_when_changed;
};

const ModeCase kModeCases[] = {
    {R"("mode": "insert")", {"upsert a", "upsert b", "upsert c", "upsert d", "upsert e"}, {"upsert f"}, {}, 1},
    {R"("mode": "update")",
     {"upsert a", "upsert b", "upsert c", "upsert d", "upsert e"},
     {"upsert c", "upsert f"},
     {},
     2},
    {R"("mode": "upsert")",
     {"upsert a", "upsert b", "upsert c", "upsert d", "upsert e"},
     {"upsert c", "upsert f"},
     {},
     2},
    {R"("mode": "mirror")",
     {"upsert a", "upsert b", "upsert c", "upsert d", "upsert e"},
     {"delete d", "upsert c", "upsert f"},
     {"upsert d"},
     2},
    {R"("audience": {"mode": "add"})",
     {"add a#1", "add b#1", "add c#1", "add d#1", "add e#1"},
     {"add f#1"},
     {"add d#2"},
     1},
    {R"("audience": {"mode": "remove"})", {}, {"remove d#1"}, {}, 1},
    {R"("audience": {"mode": "mirror"})",
     {"add a#1", "add b#1", "add c#1", "add d#1", "add e#1"},
     {"add f#1", "remove d#1"},
     {"add d#2"},
     1},
    {R"("audience": {"mode": "upsert"})",
     {"add a#1", "add b#1", "add c#1", "add d#1", "add e#1"},
     {"add c#1", "add f#1"},
     {"add d#2"},
     2},
};

}  // namespace

TEST_F(BesideModelE2E, EveryModeSendsWhatItSendsLocallyWhileOnlyTheRowsItActsOnLeaveTheDatabase) {
    for (const ModeCase &m : kModeCases) {
        SCOPED_TRACE(m.mode_line);
        psql_ok("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; DELETE FROM " + table_ + "; INSERT INTO " + table_ +
                " VALUES('a', 'a@x.example', 1), ('b', 'b@x.example', 2), ('c', 'c@x.example', 3), "
                "('d', 'd@x.example', 4), ('e', 'e@x.example', 5);");
        std::filesystem::remove_all(ws_.dir() + "/.synchost");
        write_sync(m.mode_line);
        EXPECT_EQ(run_ok(), m.first);
        EXPECT_EQ(last("rows_read"), 5);
        psql_ok("UPDATE " + table_ + " SET value = 30 WHERE id = 'c'; DELETE FROM " + table_ +
                " WHERE id = 'd'; INSERT INTO " + table_ + " VALUES('f', 'f@x.example', 6);");
        EXPECT_EQ(run_ok(), m.changed);
        EXPECT_EQ(last("rows_read"), m.read_when_changed) << "rows the database returned";
        EXPECT_EQ(run_ok(), V{}) << "nothing changed since";
        EXPECT_EQ(last("rows_read"), 0);
        psql_ok("INSERT INTO " + table_ + " VALUES('d', 'd@x.example', 4);");
        EXPECT_EQ(run_ok(), m.returned);
    }
}

TEST_F(BesideModelE2E, StatusCountsTheKeysWhereTheyLiveAndAFullResyncForgetsThem) {
    write_sync(R"("mode": "mirror")");
    const CommandResult before = ws_.synchost({"check", "people.json", "--offline"}, {{"E2E_PG", pg_}});
    EXPECT_EQ(before.exit_code, 0) << before.out << before.err;
    EXPECT_NE((before.out + before.err).find("will be created by the first run"), std::string::npos) << before.out;
    ASSERT_EQ(run_ok().size(), 5u);
    EXPECT_EQ(count("SELECT count(*) FROM " + schema_ + ".people"), 5);
    const CommandResult after = ws_.synchost({"check", "people.json", "--offline"}, {{"E2E_PG", pg_}});
    EXPECT_NE((after.out + after.err).find("\".\"people\": 5"), std::string::npos) << after.out;
    const CommandResult st = ws_.synchost({"status", "people.json", "--json"}, {{"E2E_PG", pg_}});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    const json::value s = json::parse(st.out);
    EXPECT_EQ(s.at("delivered").as_int64(), 5);
    EXPECT_EQ(s.at("keys_table").as_string(), "\"" + schema_ + "\".\"people\"");
    // The local state holds no delivered key: they live in the table only.
    const CommandResult local = Command::run(
        {"/usr/bin/sqlite3", ws_.state_file("people"), "SELECT count(*) FROM delivered; SELECT count(*) FROM rows;"},
        ws_.dir());
    EXPECT_EQ(local.out, "0\n0\n");

    const CommandResult again = sync();
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.err.find("did not make"), std::string::npos) << "its own keys: " << again.err;

    const CommandResult resync = sync({"--full-resync", "--yes"});
    ASSERT_EQ(resync.exit_code, 0) << resync.err;
    EXPECT_EQ(summary(resync).at("sent").as_int64(), 5);
}

// With the keys beside the model, the query PostgreSQL runs wraps the model query; an error in the
// model query still quotes it as written, with the position counted in it, as `check` (which runs
// it unwrapped) says it.
TEST_F(BesideModelE2E, AnErrorInTheWrappedModelQueryIsPlacedInTheQueryAsWritten) {
    write_sync(R"("mode": "upsert")");
    ASSERT_EQ(run_ok().size(), 5u);
    const std::string def_file = ws_.dir() + "/people.json", good = read_text(def_file);
    const std::string query = "SELECT * FROM " + table_, bad = query + " WHERE valu > 0";
    std::string def = good;
    def.replace(def.find(query), query.size(), bad);
    std::ofstream(def_file) << def;
    const std::string at = "at character " + std::to_string(query.size() + std::string(" WHERE ").size() + 1) + ")";
    for (const char *cmd : {"check", "sync"}) {
        const CommandResult r = ws_.synchost({cmd, "people.json"}, {{"E2E_PG", pg_}});
        EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.out << r.err;
        const std::string said = r.out + r.err;
        EXPECT_NE(said.find("\"" + bad + "\""), std::string::npos) << cmd << "\n" << said;
        EXPECT_NE(said.find("column \"valu\" does not exist (SQLSTATE 42703, " + at), std::string::npos)
            << cmd << "\n" << said;
    }
    std::ofstream(def_file) << good;
}

// The keys beside the model wrap the query, on a first run (the state table is made from it) and
// after one (the diff); a write inside either wrapping must still be named a write, not a syntax
// error of synchost's wrapping, in the words `check` uses, and nothing may change or be sent. A
// SELECT ... INTO (which makes a table) is named for what it lacks: columns.
TEST_F(BesideModelE2E, AWriteInTheWrappedModelQueryIsRefusedAsAWrite) {
    write_sync(R"("mode": "insert")");
    const std::string def_file = ws_.dir() + "/people.json", good = read_text(def_file);
    const std::string query = "SELECT * FROM " + table_, out = ws_.dir() + "/out.jsonl";
    auto lines_sent = [&] {
        const std::string text = std::filesystem::exists(out) ? read_text(out) : "";
        return std::count(text.begin(), text.end(), '\n');
    };
    for (const bool after_a_run : {false, true}) {
        if (after_a_run) {
            ASSERT_EQ(run_ok().size(), 5u);
        }
        const auto sent = lines_sent();
        const std::string writes = ": the model query writes to the database; it must only read",
                          no_columns = " returns no columns (the model query must be a SELECT of the columns to sync";
        for (const auto &[write, says] : std::vector<std::pair<std::string, std::string>>{
                 {"DELETE FROM " + table_ + " RETURNING *", writes},
                 {"WITH gone AS (DELETE FROM " + table_ + " RETURNING *) SELECT * FROM gone", writes},
                 {"SELECT * INTO " + table_ + "_copy FROM " + table_, no_columns}}) {
            SCOPED_TRACE(write + (after_a_run ? ", after a run" : ", first run"));
            std::string def = good;
            def.replace(def.find(query), query.size(), write);
            std::ofstream(def_file) << def;
            const std::string refusal = "\"" + write + "\"" + says;
            for (const CommandResult &r : {ws_.synchost({"check", "people.json"}, {{"E2E_PG", pg_}}), sync()}) {
                const std::string said = r.out + r.err;  // check reports on stdout
                EXPECT_EQ(r.exit_code, 2) << said;
                EXPECT_NE(said.find(refusal), std::string::npos) << said;
                EXPECT_EQ(said.find("syntax error"), std::string::npos) << said;
                EXPECT_EQ(said.find("top level"), std::string::npos) << said;
                EXPECT_EQ(said.find("not allowed here"), std::string::npos) << said;
            }
            EXPECT_EQ(count("SELECT count(*) FROM " + table_), 5);
            EXPECT_EQ(psql("SELECT to_regclass('" + table_ + "_copy') IS NULL").out, "t\n");
            EXPECT_EQ(lines_sent(), sent);
        }
        std::ofstream(def_file) << good;
    }
}

TEST_F(BesideModelE2E, AKeyTheModelRepeatsAfterItsFirstRowWasRecordedIsARowErrorNotASecondDelivery) {
    // Newest first by value: a (100), e, d, c, b, a (1), two rows a batch, so the repeat comes two
    // checkpoints after its first row: the table, not the rows in flight, must catch it.
    write_sync(R"("mode": "upsert", "batch_size": 2, "newest_first": "value")");
    std::string d = read_text(ws_.dir() + "/people.json");
    const std::string from = "SELECT * FROM " + table_;
    d.replace(d.find(from), from.size(), from + " UNION ALL SELECT id, email, 100 FROM " + table_ + " WHERE id = 'a'");
    std::ofstream(ws_.dir() + "/people.json") << d;
    const CommandResult r = sync();
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const json::value s = summary(r);
    EXPECT_EQ(s.at("delivered").as_int64(), 5) << r.out;
    EXPECT_EQ(s.at("row_errors").as_int64(), 1) << r.out;
    EXPECT_NE(r.err.find("its first row was sent, and the repeat carried the same event id"), std::string::npos)
        << r.err;
    EXPECT_EQ(count("SELECT count(*) FROM " + schema_ + ".people"), 5);
}

// The definition as written by write_sync, with the keys local.
void keep_local(const std::string &dir) {
    std::string d = read_text(dir + "/people.json");
    const auto at = d.find(" \"state\"");
    d.erase(at, d.find('\n', at) - at + 1);
    std::ofstream(dir + "/people.json") << d;
}

TEST_F(BesideModelE2E, AnExistingSyncMovedBesideTheModelAndBackResendsNothing) {
    write_sync(R"("mode": "upsert")");
    keep_local(ws_.dir());
    EXPECT_EQ(run_ok().size(), 5u);
    psql_ok("UPDATE " + table_ + " SET value = 30 WHERE id = 'c'");  // changed since it was delivered

    write_sync(R"("mode": "upsert")");
    const CommandResult refused = sync();
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("synchost state move people.json --to source"), std::string::npos) << refused.err;
    const CommandResult moved = ws_.synchost({"state", "move", "people.json", "--to", "source"}, {{"E2E_PG", pg_}});
    ASSERT_EQ(moved.exit_code, 0) << moved.err;
    EXPECT_NE(moved.err.find("moved 5 delivered keys"), std::string::npos) << moved.err;
    EXPECT_EQ(run_ok(), (V{"upsert c"})) << "only the row that changed since its delivery";
    EXPECT_EQ(last("rows_read"), 1);

    keep_local(ws_.dir());
    EXPECT_EQ(sync().exit_code, 2) << "the keys are beside the model";
    psql_ok("UPDATE " + table_ + " SET value = 50 WHERE id = 'e'");
    const CommandResult back = ws_.synchost({"state", "move", "people.json", "--to", "local"}, {{"E2E_PG", pg_}});
    ASSERT_EQ(back.exit_code, 0) << back.err;
    EXPECT_EQ(run_ok(), (V{"upsert e"}));
    EXPECT_EQ(last("rows_read"), 5) << "read whole again: the keys are local";
    EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema_ + "'"), 0)
        << "the table is dropped";
}

// A definition that names another table than the one holding the keys (its schema changed) is
// refused before anything is created there, and the steps the refusal gives move the keys.
TEST_F(BesideModelE2E, ARunWhoseDefinitionNamesAnotherTableIsRefusedWithStepsThatWork) {
    write_sync(R"("mode": "upsert")");
    ASSERT_EQ(run_ok().size(), 5u);
    const std::string def_file = ws_.dir() + "/people.json", moved_schema = schema_ + "_m";
    auto name_schema = [&](const std::string &schema) {
        std::string d = read_text(def_file);
        d.replace(d.find("\"" + schema_), schema_.size() + 1, "\"" + schema);
        std::ofstream(def_file) << d;
    };
    name_schema(moved_schema);
    const CommandResult refused = sync();
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_NE(refused.err.find("keep them local in the definition (\"location\": \"local\") and run synchost state "
                               "move people.json --to local, then name \"" + moved_schema + "\".\"people\" again"),
              std::string::npos)
        << refused.err;
    EXPECT_EQ(count("SELECT count(*) FROM pg_namespace WHERE nspname = '" + moved_schema + "'"), 0)
        << "nothing was created for the refused run";

    keep_local(ws_.dir());
    const CommandResult back = ws_.synchost({"state", "move", "people.json", "--to", "local"}, {{"E2E_PG", pg_}});
    ASSERT_EQ(back.exit_code, 0) << back.err;
    write_sync(R"("mode": "upsert")");
    name_schema(moved_schema);
    const CommandResult there = ws_.synchost({"state", "move", "people.json", "--to", "source"}, {{"E2E_PG", pg_}});
    ASSERT_EQ(there.exit_code, 0) << there.err;
    EXPECT_TRUE(run_ok().empty()) << "nothing is sent again";
    EXPECT_EQ(count("SELECT count(*) FROM " + moved_schema + ".people"), 5);
}

// A keys table another state directory made but that holds no key is nothing to warn about.
TEST_F(BesideModelE2E, AnEmptyKeysTableFromAnotherStateDirectoryIsUsedWithoutAWarning) {
    psql_ok("DELETE FROM " + table_);
    write_sync(R"("mode": "insert")");
    EXPECT_TRUE(run_ok().empty());
    EXPECT_EQ(count("SELECT count(*) FROM " + schema_ + ".people"), 0) << "the table is there, empty";
    psql_ok("INSERT INTO " + table_ + " VALUES('a', 'a@x.example', 1)");
    const CommandResult elsewhere = sync({"--state-dir", ws_.dir() + "/elsewhere"});
    EXPECT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
    EXPECT_EQ(summary(elsewhere).at("delivered").as_int64(), 1);
    EXPECT_EQ(elsewhere.err.find("did not make"), std::string::npos) << elsewhere.err;
}

TEST_F(BesideModelE2E, AMovedAudienceKeepsEachMembersGeneration) {
    write_sync(R"("audience": {"mode": "mirror"})");
    keep_local(ws_.dir());
    EXPECT_EQ(run_ok().size(), 5u);
    psql_ok("DELETE FROM " + table_ + " WHERE id = 'd'");
    EXPECT_EQ(run_ok(), (V{"remove d#1"}));
    psql_ok("INSERT INTO " + table_ + " VALUES('d', 'd@x.example', 4)");
    EXPECT_EQ(run_ok(), (V{"add d#2"}));

    write_sync(R"("audience": {"mode": "mirror"})");
    ASSERT_EQ(ws_.synchost({"state", "move", "people.json", "--to", "source"}, {{"E2E_PG", pg_}}).exit_code, 0);
    psql_ok("DELETE FROM " + table_ + " WHERE id = 'd'");
    EXPECT_EQ(run_ok(), (V{"remove d#2"}));
    psql_ok("INSERT INTO " + table_ + " VALUES('d', 'd@x.example', 4)");
    EXPECT_EQ(run_ok(), (V{"add d#3"}));

    keep_local(ws_.dir());
    ASSERT_EQ(ws_.synchost({"state", "move", "people.json", "--to", "local"}, {{"E2E_PG", pg_}}).exit_code, 0);
    EXPECT_EQ(run_ok(), V{});
    psql_ok("DELETE FROM " + table_ + " WHERE id = 'd'");
    EXPECT_EQ(run_ok(), (V{"remove d#3"}));
}

TEST_F(BesideModelE2E, SourceSettingsApplyToTheModelsSessionAndCannotLiftReadOnly) {
    psql_ok("CREATE SCHEMA " + schema_ + "_m; CREATE TABLE " + schema_ + "_m.folks AS SELECT * FROM " + table_ + ";");
    auto with_settings = [&](const std::string &settings) {
        write_sync(R"("mode": "insert")");
        std::string d = read_text(ws_.dir() + "/people.json");
        d.replace(d.find("SELECT * FROM " + table_), ("SELECT * FROM " + table_).size(), "SELECT * FROM folks");
        d.replace(d.find("\"},\n \"primary_key\""), 2, "\", \"settings\": " + settings + "}");
        std::ofstream(ws_.dir() + "/people.json") << d;
    };
    with_settings(R"({"search_path": ")" + schema_ + R"(_m", "work_mem": "8MB"})");
    EXPECT_EQ(run_ok().size(), 5u) << "the unqualified table is found through the search_path set";
    with_settings(R"({"default_transaction_read_only": "off"})");
    const CommandResult r = sync();
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("setting \"default_transaction_read_only\" is not allowed"), std::string::npos) << r.err;
}

TEST_F(BesideModelE2E, ATableThatVanishedIsNotRecreatedEmptyAndAMoveDoesNotOverwriteKeys) {
    write_sync(R"("mode": "insert")");
    ASSERT_EQ(run_ok().size(), 5u);
    psql_ok("DROP TABLE " + schema_ + ".people");
    const CommandResult r = sync();
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("which no longer exists in this database"), std::string::npos) << r.err;
    EXPECT_EQ(count("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema_ + "'"), 0)
        << "the empty table is not left for the next run to fill";
    EXPECT_EQ(sync().exit_code, 2) << "refused again: no empty table was left for this run";

    // Keys of another state directory in the table are not replaced by a move.
    std::filesystem::remove_all(ws_.dir() + "/.synchost");
    EXPECT_EQ(run_ok().size(), 5u);
    std::filesystem::remove_all(ws_.dir() + "/.synchost");
    keep_local(ws_.dir());
    EXPECT_EQ(run_ok().size(), 5u);
    write_sync(R"("mode": "insert")");
    const CommandResult move = ws_.synchost({"state", "move", "people.json", "--to", "source"}, {{"E2E_PG", pg_}});
    EXPECT_EQ(move.exit_code, 2);
    EXPECT_NE(move.err.find("already holds 5 keys"), std::string::npos) << move.err;
}

TEST_F(BesideModelE2E, AKeyTypeWhoseTextIsNotTheSameBothWaysIsRefused) {
    psql_ok("CREATE TABLE " + table_ +
            "_b(id bytea PRIMARY KEY, email text, value integer);"
            "INSERT INTO " +
            table_ + "_b VALUES('\\x6162', 'a@x.example', 1);");
    write_sync(R"("mode": "insert")");
    std::string d = read_text(ws_.dir() + "/people.json");
    d.replace(d.find("FROM " + table_), ("FROM " + table_).size(), "FROM " + table_ + "_b");
    std::ofstream(ws_.dir() + "/people.json") << d;
    const CommandResult r = sync();
    psql("DROP TABLE " + table_ + "_b");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("is of type bytea, which cannot key the state beside the model"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(ws_.dir() + "/out.jsonl"));
}

// One member, as with local state (a repeat is the same membership); the batch is not refused.
TEST_F(BesideModelE2E, AMemberTheModelRepeatsInOneTrackedBatchIsRecordedOnceAndTheSyncCarriesOn) {
    write_sync(R"("audience": {"mode": "remove"})");
    std::string d = read_text(ws_.dir() + "/people.json");
    const std::string from = "SELECT * FROM " + table_;
    d.replace(d.find(from), from.size(), from + " UNION ALL SELECT * FROM " + table_ + " WHERE id = 'a'");
    std::ofstream(ws_.dir() + "/people.json") << d;
    for (int run = 1; run <= 2; ++run) {
        const CommandResult r = sync();
        EXPECT_EQ(r.exit_code, 0) << "run " << run << ": " << r.err;
    }
    EXPECT_EQ(count("SELECT count(*) FROM " + schema_ + ".people WHERE active"), 5);
}

TEST_F(BesideModelE2E, ARoleThatMayNotCreateTheTableIsToldWhatToGrantAndNothingIsSent) {
    psql_ok("CREATE SCHEMA " + schema_ + "; REVOKE CREATE ON SCHEMA " + schema_ + " FROM CURRENT_USER;");
    write_sync(R"("mode": "insert")");
    const CommandResult checked = ws_.synchost({"check", "people.json", "--offline"}, {{"E2E_PG", pg_}});
    EXPECT_EQ(checked.exit_code, 2) << checked.out << checked.err;
    EXPECT_NE((checked.out + checked.err).find("grant it USAGE, CREATE ON SCHEMA \"" + schema_ + "\""),
              std::string::npos)
        << checked.out << checked.err;
    const CommandResult r = sync();
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("may not create the state table \"" + schema_ + "\".\"people\""), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("GRANT USAGE, CREATE ON SCHEMA \"" + schema_ + "\""), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(ws_.dir() + "/out.jsonl"));
}

// The Pinterest plugin against the sandbox, keys beside the model: 6,000 orders, every 50th with
// an email the plugin rejects.
class BesideModelPinterestE2E : public BesideModelE2E {
protected:
    void add_orders(Workspace &w) {
        orders_ = "orders_" + suffix_;
        psql_ok("CREATE TABLE " + orders_ +
                "(order_id bigint PRIMARY KEY, event_type text, created_at bigint, "
                "email text, total numeric(10,2)); INSERT INTO " +
                orders_ +
                " SELECT g, 'checkout', "
                "extract(epoch from now())::bigint - 60, CASE WHEN g % 50 = 0 THEN 'no-at-sign.example' ELSE 'pg' || g "
                "|| '@shop.example' END, g * 1.5 FROM generate_series(1, 6000) g;");
        w.write_sync("orders", R"("mode": "insert", "batch_size": 300)", "SELECT 1", kOrderMapping,
                     ", \"max_in_flight\": 1");
        std::string d = read_text(w.dir() + "/orders.json");
        const auto at = d.find("\"source\"");
        d.replace(at, d.find("},", at) - at + 2,
                  "\"source\": {\"type\": \"postgres\", \"connection_env\": \"E2E_PG\", \"query\": \"SELECT * FROM " +
                      orders_ + "\"},\n  \"state\": {\"location\": \"source\", \"schema\": \"" + schema_ + "\"},");
        std::ofstream(w.dir() + "/orders.json") << d;
    }
    void TearDown() override {
        if (!orders_.empty()) psql("DROP TABLE IF EXISTS " + orders_);
        BesideModelE2E::TearDown();
    }
    CommandResult run(Workspace &w, std::vector<std::string> more = {}) {
        more.insert(more.begin(), {"sync", "orders.json", "--json"});
        return w.synchost(more, {{"E2E_TOKEN", kToken}, {"E2E_PG", pg_}});
    }
    std::unique_ptr<test_support::Command> start(Workspace &w, std::vector<std::string> more = {}) {
        std::vector<std::string> args = {SYNCHOST_EXE, "sync", "orders.json", "--quiet", "--plugin-path", PLUGIN_DIR};
        args.insert(args.end(), more.begin(), more.end());
        return std::make_unique<test_support::Command>(
            args, w.dir(), std::vector<std::pair<std::string, std::string>>{{"E2E_TOKEN", kToken}, {"E2E_PG", pg_}});
    }
    int64_t keys() { return count("SELECT count(*) FROM " + schema_ + ".orders"); }
    // A run right after a SIGKILL: the server frees the killed session's advisory lock once it
    // notices the closed socket, so a run refused by the lock (which sends nothing) is tried again.
    CommandResult run_once_unlocked(Workspace &w, std::vector<std::string> more = {}) {
        CommandResult r;
        eventually(
            [&] {
                r = run(w, more);
                return r.err.find("is in progress") == std::string::npos;
            },
            std::chrono::seconds(20));
        return r;
    }
    std::string orders_;
};

TEST_F(BesideModelPinterestE2E, KilledMidRunResumesWithoutGapsOrNewEventIds) {
    Workspace w({"--fault", "hang,on=5"});
    add_orders(w);
    auto c = start(w);
    ASSERT_TRUE(w.wait_for_sandbox([](const json::value &s) {
        const json::value *hangs = s.at("faults_by_action").as_object().if_contains("hang");
        return hangs && hangs->to_number<int64_t>() == 1 && s.at("in_flight").to_number<int64_t>() == 1;
    })) << c->stderr_text();
    c->signal(SIGKILL);
    EXPECT_EQ(c->wait().exit_code, -1) << "the run ended before the kill";
    const int64_t kept = w.stat("distinct_event_ids"), recorded = keys();
    EXPECT_GT(recorded, 0);
    EXPECT_LE(recorded, kept) << "the table claims rows the destination never got";

    const CommandResult rest = run_once_unlocked(w);
    ASSERT_EQ(rest.exit_code, 1) << rest.err;  // the rejected rows
    EXPECT_EQ(summary(rest).at("rows_read").as_int64(), 6000 - recorded) << "only what the table lacks is read";
    EXPECT_EQ(w.stat("distinct_event_ids"), 5880);
    // Resent rows carry the same event ids (Pinterest deduplicates); only unrecorded ones went twice.
    EXPECT_EQ(w.stat("duplicate_events"), kept - recorded);
    EXPECT_EQ(keys(), 5880);

    // Rejected rows are recorded locally and are not sent again unchanged; they are the only
    // rows the database still returns.
    const CommandResult again = run(w);
    EXPECT_EQ(summary(again).at("rows_read").as_int64(), 120);
    EXPECT_EQ(summary(again).at("sent").as_int64(), 0);
    psql_ok("UPDATE " + orders_ +
            " SET email = 'fixed' || order_id || '@shop.example' WHERE order_id <= 100 AND "
            "order_id % 50 = 0");
    const CommandResult fixed = run(w);
    EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
    EXPECT_EQ(summary(fixed).at("delivered").as_int64(), 2) << "a rejected row that changed is sent again";
    EXPECT_EQ(keys(), 5882);
    // Delivered now, so no longer counted as rejected in the local state.
    const CommandResult st = w.synchost({"status", "orders.json", "--json"}, {{"E2E_PG", pg_}});
    ASSERT_EQ(st.exit_code, 0) << st.err;
    EXPECT_EQ(json::parse(st.out).at("rejected").as_int64(), 118) << st.out;
    EXPECT_EQ(json::parse(st.out).at("delivered").as_int64(), 5882) << st.out;
}

TEST_F(BesideModelPinterestE2E, ASecondRunOfTheSyncFromAnyStateDirectoryIsRefusedWhileOneHoldsTheLock) {
    Workspace w({"--fault", "hang,on=2"});
    add_orders(w);
    auto first = start(w);
    ASSERT_TRUE(w.wait_for_sandbox([](const json::value &s) {
        return s.at("in_flight").to_number<int64_t>() == 1 && s.at("faults_by_action").as_object().contains("hang");
    })) << first->stderr_text();
    // Another machine: its own state directory, the same database.
    const CommandResult second = run(w, {"--state-dir", w.dir() + "/elsewhere"});
    EXPECT_EQ(second.exit_code, 2) << second.err;
    EXPECT_NE(second.err.find("another run of sync \"orders\" is in progress"), std::string::npos) << second.err;
    first->signal(SIGKILL);
    first->wait();
    // The server releases the lock with the killed session; the other machine carries on from
    // the table, sending nothing twice that the table holds.
    const int64_t recorded = keys();
    const CommandResult moved = run_once_unlocked(w, {"--state-dir", w.dir() + "/elsewhere"});
    EXPECT_EQ(moved.exit_code, 1) << moved.err;
    EXPECT_EQ(summary(moved).at("rows_read").as_int64(), 6000 - recorded);
    EXPECT_EQ(w.stat("distinct_event_ids"), 5880);
    // It says whose keys it went on from: a new sync that took an old one's name would hold rows
    // back without a word otherwise.
    EXPECT_NE(moved.err.find("come from runs this state directory did not make (" + std::to_string(recorded) +
                             " keys)"),
              std::string::npos)
        << moved.err;
}
