// SQLite source: storage classes as cell types, read-only open, single-statement rule, streaming.
#include "source_test_support.hpp"

#include <gmock/gmock.h>
#include <sqlite3.h>

using namespace source_test;
using synchost::SourceConfig;
using testing::HasSubstr;
using testing::Not;

namespace {

// Runs SQL on a (new) database file with a writable connection.
void exec(const std::filesystem::path &db, const std::string &sql) {
    sqlite3 *h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    char *err = nullptr;
    int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
    sqlite3_close(h);
}

SourceConfig sqlite(const std::filesystem::path &db, const std::string &query) {
    SourceConfig c;  // type left empty: sqlite is the default
    c.path = db;
    c.query = query;
    return c;
}

class SqliteSourceTest : public testing::Test {
protected:
    void SetUp() override {
        db_ = dir_.file("shop.db");
        exec(db_,
             "CREATE TABLE users(id INTEGER, email TEXT, score REAL, avatar BLOB, note);"
             "INSERT INTO users VALUES(1, 'a@example.com', 1.5, x'00ff10', NULL);"
             "INSERT INTO users VALUES(9223372036854775807, 'Zoë 東京', -0.25, x'', '');"
             "INSERT INTO users VALUES(-9223372036854775808, 'secret-value', 1e300, NULL, 42);");
    }
    TempDir dir_;
    std::filesystem::path db_;
};

TEST_F(SqliteSourceTest, ColumnsAndTypedCells) {
    auto source =
        synchost::open_source(sqlite(db_, "SELECT id, email, score, avatar, note AS remark FROM users ORDER BY rowid"));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"id", "email", "score", "avatar", "remark"}));
    EXPECT_EQ(read_all(*source),
              (Rows{{"i:1", "t:a@example.com", "r:1.5", "b:00ff10", "NULL"},
                    {"i:9223372036854775807", "t:Zoë 東京", "r:-0.25", "b:", "t:"},
                    {"i:-9223372036854775808", "t:secret-value", "r:1.0000000000000001e+300", "NULL", "i:42"}}));
    EXPECT_EQ(source->rows_read(), 3u);
    std::vector<sp_value> cells;
    EXPECT_FALSE(source->next(cells));  // does not rerun the query
    EXPECT_EQ(source->estimated_rows(), std::nullopt);
}

TEST_F(SqliteSourceTest, TrailingSemicolonsAndCommentsAreFine) {
    auto source = synchost::open_source(sqlite(db_, "SELECT id FROM users; ;\n-- done\n/* really */  "));
    EXPECT_EQ(read_all(*source).size(), 3u);
}

TEST_F(SqliteSourceTest, SecondStatementIsRejected) {
    std::string msg = error_of([&] { open_and_drain(sqlite(db_, "SELECT id FROM users; DELETE FROM users")); });
    EXPECT_THAT(msg, HasSubstr("more than one statement"));
    EXPECT_THAT(msg, HasSubstr("SELECT id FROM users"));
    msg = error_of([&] { open_and_drain(sqlite(db_, "SELECT 1; garbage here")); });
    EXPECT_THAT(msg, HasSubstr("more than one statement"));
}

TEST_F(SqliteSourceTest, SyntaxErrorNamesQueryAndSqliteMessage) {
    std::string msg = error_of([&] { open_and_drain(sqlite(db_, "SELEC id FROM users")); });
    EXPECT_THAT(msg, HasSubstr("\"SELEC id FROM users\""));
    EXPECT_THAT(msg, HasSubstr("syntax error"));
    msg = error_of([&] { open_and_drain(sqlite(db_, "SELECT nope FROM users")); });
    EXPECT_THAT(msg, HasSubstr("no such column: nope"));
}

TEST_F(SqliteSourceTest, EmptyQueryAndNonSelect) {
    EXPECT_THAT(error_of([&] { open_and_drain(sqlite(db_, " -- nothing\n")); }), HasSubstr("the query is empty"));
    EXPECT_THAT(error_of([&] { open_and_drain(sqlite(db_, "DELETE FROM users")); }),
                HasSubstr("the model query writes to the database"));
}

TEST_F(SqliteSourceTest, OpenedReadOnly) {
    // RETURNING makes a write look like a SELECT; it is refused when prepared, before any step
    // (`check` only prepares), and the read-only connection would refuse it anyway.
    std::string msg = error_of([&] { synchost::open_source(sqlite(db_, "DELETE FROM users RETURNING id")); });
    EXPECT_THAT(msg, HasSubstr("the model query writes to the database; it must only read"));
    msg = error_of([&] { synchost::open_source(sqlite(db_, "WITH x AS (SELECT 1) INSERT INTO users(id) SELECT 9 FROM x RETURNING id")); });
    EXPECT_THAT(msg, HasSubstr("writes to the database"));
    auto source = synchost::open_source(sqlite(db_, "SELECT count(*) AS n FROM users"));
    EXPECT_EQ(read_all(*source), (Rows{{"i:3"}}));
}

TEST_F(SqliteSourceTest, DuplicateColumnNamesAreErrors) {
    std::string msg = error_of([&] { open_and_drain(sqlite(db_, "SELECT id, email AS id FROM users")); });
    EXPECT_THAT(msg, HasSubstr("duplicate column name 'id'"));
    EXPECT_THAT(msg, HasSubstr("AS"));
}

TEST_F(SqliteSourceTest, RuntimeErrorNamesRowButNoValue) {
    // The third row's value makes the cast fail mid-stream.
    std::string msg = error_of([&] {
        open_and_drain(sqlite(
            db_, "SELECT CASE WHEN email = 'secret-value' THEN abs(id) ELSE id END AS x FROM users ORDER BY rowid"));
    });
    EXPECT_THAT(msg, HasSubstr("after row 2"));
    EXPECT_THAT(msg, HasSubstr("integer overflow"));
    EXPECT_THAT(msg, Not(HasSubstr("9223372036854775808")));
}

TEST(SqliteSource, MissingDatabaseIsAnErrorAndNotCreated) {
    TempDir dir;
    auto db = dir.file("missing.db");
    std::string msg = error_of([&] { open_and_drain(sqlite(db, "SELECT 1")); });
    EXPECT_THAT(msg, HasSubstr("missing.db"));
    EXPECT_THAT(msg, HasSubstr("does not exist"));
    EXPECT_FALSE(std::filesystem::exists(db));
}

TEST(SqliteSource, StreamsManyRows) {
    TempDir dir;
    auto db = dir.file("big.db");
    exec(db,
         "CREATE TABLE t(id INTEGER, email TEXT, v REAL);"
         "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 199999) "
         "INSERT INTO t SELECT i, 'user' || i || '@example.com', i * 0.5 FROM s;");
    auto source = synchost::open_source(sqlite(db, "SELECT id, email, v FROM t ORDER BY id"));
    std::vector<sp_value> cells;
    uint64_t n = 0;
    while (source->next(cells)) {
        if (n == 177777) {
            EXPECT_EQ(render(cells[0]), "i:177777");
            EXPECT_EQ(render(cells[1]), "t:user177777@example.com");
            EXPECT_EQ(render(cells[2]), "r:88888.5");
        }
        ++n;
    }
    EXPECT_EQ(n, 200000u);
    EXPECT_EQ(source->rows_read(), 200000u);
}

// The source reads the database through a read-ahead VFS (256 KB blocks while scanning). Every
// page size, overflow pages (values larger than a page), scans and scattered index lookups must
// read exactly what SQLite's default VFS reads.
TEST(SqliteSource, ReadAheadReadsWhatTheDefaultVfsReads) {
    for (int page : {512, 4096, 65536}) {
        TempDir dir;
        auto db = dir.file("pages.db");
        exec(db, "PRAGMA page_size=" + std::to_string(page) +
                     ";CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, body TEXT);"
                     "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 9999) "
                     "INSERT INTO t SELECT i, hex(randomblob(8)), "
                     "CASE WHEN i % 97 = 0 THEN hex(zeroblob(40000)) || i ELSE 'row ' || i END FROM s;"
                     "CREATE INDEX t_k ON t(k);");
        // The reference: the same queries through the default VFS.
        auto reference = [&](const std::string &query) {
            sqlite3 *h = nullptr;
            EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
            sqlite3_stmt *st = nullptr;
            EXPECT_EQ(sqlite3_prepare_v2(h, query.c_str(), -1, &st, nullptr), SQLITE_OK);
            Rows rows;
            while (sqlite3_step(st) == SQLITE_ROW) {
                std::vector<std::string> row;
                for (int c = 0; c < sqlite3_column_count(st); ++c)
                    row.push_back(sqlite3_column_type(st, c) == SQLITE_INTEGER
                                      ? "i:" + std::to_string(sqlite3_column_int64(st, c))
                                      : "t:" + std::string(reinterpret_cast<const char *>(sqlite3_column_text(st, c))));
                rows.push_back(row);
            }
            sqlite3_finalize(st);
            sqlite3_close(h);
            return rows;
        };
        for (const std::string query : {"SELECT id, k, body FROM t", "SELECT id, k, body FROM t ORDER BY k",
                                         "SELECT id, body FROM t WHERE id % 501 = 3 ORDER BY id DESC"}) {
            auto source = synchost::open_source(sqlite(db, query));
            Rows got = read_all(*source), want = reference(query);
            ASSERT_EQ(got.size(), want.size()) << query << " (page size " << page << ")";
            EXPECT_TRUE(got == want) << query << " (page size " << page << ")";
        }
    }
}

// A writer may commit while the source reads (WAL mode): the source keeps reading its snapshot,
// and the next run of the query sees the change.
TEST(SqliteSource, ReadAheadKeepsTheSnapshotWhileAWriterCommits) {
    TempDir dir;
    auto db = dir.file("live.db");
    exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
             "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 49999) "
             "INSERT INTO t SELECT i, 'old ' || i FROM s;");
    auto source = synchost::open_source(sqlite(db, "SELECT id, v FROM t ORDER BY id"));
    std::vector<sp_value> cells;
    ASSERT_TRUE(source->next(cells));
    // Rewrite every row, then fold the log into the database file as far as readers allow.
    exec(db, "UPDATE t SET v = 'new ' || id; PRAGMA wal_checkpoint(PASSIVE);");
    uint64_t n = 1, old_rows = 1;
    while (source->next(cells)) {
        ++n;
        old_rows += render(cells[1]).rfind("t:old ", 0) == 0 ? 1 : 0;
    }
    EXPECT_EQ(n, 50000u);
    EXPECT_EQ(old_rows, 50000u);
    auto again = synchost::open_source(sqlite(db, "SELECT v FROM t WHERE id = 49999"));
    EXPECT_EQ(read_all(*again), (Rows{{"t:new 49999"}}));
}

TEST(OpenSource, UnknownTypeIsAnError) {
    SourceConfig c;
    c.type = "excel";
    std::string msg = error_of([&] { synchost::open_source(c); });
    EXPECT_THAT(msg, HasSubstr("unknown source type 'excel'"));
    EXPECT_THAT(msg, HasSubstr("sqlite, csv, jsonl or postgres"));
}

}  // namespace
