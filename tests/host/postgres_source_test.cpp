// PostgreSQL source against a real server: scripts/start-postgres.sh starts one and prints the
// connection string that SYNCHOST_TEST_PG must hold (scripts/test.sh does both). Without it these
// tests skip, or fail when CI is set (tests/support/require_test_pg.hpp). Each test makes its own
// uniquely named table and drops it.
#include "require_test_pg.hpp"
#include "source_test_support.hpp"

#include <gmock/gmock.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>

using namespace source_test;
using synchost::SourceConfig;
using testing::HasSubstr;
using testing::Not;

namespace {

class PostgresSourceTest : public testing::Test {
protected:
    void SetUp() override {
        SYNCHOST_REQUIRE_TEST_PG(conninfo_);
        admin_ = PQconnectdb(conninfo_.c_str());
        ASSERT_EQ(PQstatus(admin_), CONNECTION_OK) << PQerrorMessage(admin_);
        exec("SET client_min_messages = warning");  // no NOTICE from DROP TABLE IF EXISTS
        // Unique per process (ctest runs each test in its own) and short of the 63-byte limit.
        std::string name = testing::UnitTest::GetInstance()->current_test_info()->name();
        table_ = "synchost_t_" + std::to_string(::getpid()) + "_" + name.substr(0, 32);
        for (char &c : table_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    void TearDown() override {
        if (admin_ != nullptr) {
            exec("DROP TABLE IF EXISTS " + table_);
            PQfinish(admin_);
        }
    }
    void exec(const std::string &sql) {
        PGresult *r = PQexec(admin_, sql.c_str());
        EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
            << PQresultErrorMessage(r);
        PQclear(r);
    }
    // The first cell of a one-row query, as text.
    std::string scalar(const std::string &sql) {
        PGresult *r = PQexec(admin_, sql.c_str());
        EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQresultErrorMessage(r);
        std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        PQclear(r);
        return out;
    }
    // Server sessions (other than ours) whose current query contains `marker`; waits up to 10 s,
    // on the server, for that number to become `want` (a backend ends shortly after its client
    // says goodbye). Returns the last count.
    int sessions_running(const std::string &marker, int want) {
        const std::string count = "(SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%" +
                                  marker + "%')";
        exec("DO $$ BEGIN FOR i IN 1..1000 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN " + count + " = " +
             std::to_string(want) + "; PERFORM pg_sleep(0.01); END LOOP; END $$");
        return std::stoi(scalar("SELECT " + count));
    }
    SourceConfig postgres(const std::string &query) const {
        SourceConfig c;
        c.type = "postgres";
        c.connection = conninfo_;
        c.query = query;
        return c;
    }
    // The test connection string with its password replaced.
    std::string with_password(const std::string &password) const {
        return std::regex_replace(conninfo_, std::regex(R"(password=\S+)"), "password=" + password);
    }

    std::string conninfo_;
    PGconn *admin_ = nullptr;
    std::string table_;
};

TEST_F(PostgresSourceTest, ColumnsAndTypedCells) {
    exec("CREATE TABLE " + table_ +
         " (id int8, small int2, n int4, f4 float4, f8 float8, price numeric(30,10), ok bool, data bytea,"
         " email text, code varchar(8), at timestamp, doc jsonb, u uuid, nothing text)");
    exec("INSERT INTO " + table_ +
         " VALUES (9223372036854775807, -32768, 42, 1.5, 0.1, 12345678901234567890.0123456789, true, '\\x00ff10',"
         " 'Zoë 東京', '', '2024-01-02 03:04:05', '{\"ids\": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL)");
    exec("INSERT INTO " + table_ +
         " VALUES (-9223372036854775808, 0, 0, 'NaN', '-Infinity', -0.5, false, '', 'b', 'x', NULL, 'null', NULL, "
         "NULL)");
    auto source = synchost::open_source(postgres("SELECT *, 7::oid AS o FROM " + table_ + " ORDER BY id DESC"));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"id", "small", "n", "f4", "f8", "price", "ok", "data",
                                                           "email", "code", "at", "doc", "u", "nothing", "o"}));
    EXPECT_EQ(read_all(*source), (Rows{{"i:9223372036854775807", "i:-32768", "i:42", "r:1.5", "r:0.10000000000000001",
                                        "t:12345678901234567890.0123456789", "bool:true", "b:00ff10", "t:Zoë 東京",
                                        "t:", "t:2024-01-02 03:04:05", R"(t:{"ids": [1, 2]})",
                                        "t:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "NULL", "i:7"},
                                       {"i:-9223372036854775808", "i:0", "i:0", "r:nan", "r:-inf", "t:-0.5000000000",
                                        "bool:false", "b:", "t:b", "t:x", "NULL", "t:null", "NULL", "NULL", "i:7"}}));
    EXPECT_EQ(source->rows_read(), 2u);
    std::vector<sp_value> cells;
    EXPECT_FALSE(source->next(cells));
}

TEST_F(PostgresSourceTest, NumericStaysExactText) {
    auto source = synchost::open_source(postgres(
        "SELECT 0.1::numeric + 0.2::numeric AS a, 123456789012345678901234567890.000000000000000001::numeric AS b"));
    EXPECT_EQ(read_all(*source), (Rows{{"t:0.3", "t:123456789012345678901234567890.000000000000000001"}}));
}

TEST_F(PostgresSourceTest, EmptyResultStillHasColumns) {
    exec("CREATE TABLE " + table_ + " (email text, n int4)");
    auto source = synchost::open_source(postgres("SELECT email, n FROM " + table_));
    EXPECT_EQ(source->columns(), (std::vector<std::string>{"email", "n"}));
    EXPECT_TRUE(read_all(*source).empty());
    EXPECT_EQ(source->rows_read(), 0u);
}

TEST_F(PostgresSourceTest, StreamsManyRowsInSingleRowMode) {
    auto source =
        synchost::open_source(postgres("SELECT i AS id, 'user' || i || '@example.com' AS email, i * 0.5 AS half FROM "
                                       "generate_series(1, 100000) AS i"));
    std::vector<sp_value> cells;
    uint64_t n = 0;
    while (source->next(cells)) {
        ++n;
        if (n == 65432) {
            EXPECT_EQ(render(cells[0]), "i:65432");
            EXPECT_EQ(render(cells[1]), "t:user65432@example.com");
            EXPECT_EQ(render(cells[2]), "t:32716.0");  // i * 0.5 is numeric: exact text
        }
    }
    EXPECT_EQ(n, 100000u);
    EXPECT_EQ(source->rows_read(), 100000u);
}

// Dropping a source mid-stream ends its server session (no leaked connection still streaming a
// million rows), and the rows it had were the first ones.
TEST_F(PostgresSourceTest, DroppingASourceMidStreamIsClean) {
    const std::string marker = table_ + "_stream";
    auto source = synchost::open_source(postgres("SELECT i AS " + marker + " FROM generate_series(1, 1000000) AS i"));
    std::vector<sp_value> cells;
    for (int k = 1; k <= 10; ++k) {
        ASSERT_TRUE(source->next(cells));
        EXPECT_EQ(render(cells[0]), "i:" + std::to_string(k));
    }
    EXPECT_EQ(source->rows_read(), 10u);
    EXPECT_EQ(sessions_running(marker, 1), 1) << "the source's session should be streaming";
    source.reset();  // closes the connection without reading the rest
    EXPECT_EQ(sessions_running(marker, 0), 0) << "the dropped source's session is still there";
}

TEST_F(PostgresSourceTest, QueryErrorNamesQueryAndMessage) {
    std::string msg = error_of([&] { open_and_drain(postgres("SELECT nope FROM " + table_ + "_missing")); });
    EXPECT_THAT(msg, HasSubstr("\"SELECT nope FROM " + table_ + "_missing\""));
    EXPECT_THAT(msg, HasSubstr("does not exist"));
    EXPECT_THAT(msg, HasSubstr("SQLSTATE 42P01"));
    msg = error_of([&] { open_and_drain(postgres("SELEC 1")); });
    EXPECT_THAT(msg, HasSubstr("syntax error"));
}

TEST_F(PostgresSourceTest, SecondStatementIsRejected) {
    exec("CREATE TABLE " + table_ + " (n int4)");
    std::string msg = error_of([&] { open_and_drain(postgres("SELECT 1; DROP TABLE " + table_)); });
    EXPECT_THAT(msg, HasSubstr("multiple commands"));
    exec("SELECT * FROM " + table_);  // still there
}

TEST_F(PostgresSourceTest, DataErrorMidStreamHidesTheValue) {
    exec("CREATE TABLE " + table_ + " (id int4, v text)");
    exec("INSERT INTO " + table_ + " SELECT i, i::text FROM generate_series(1, 5) AS i");
    exec("INSERT INTO " + table_ + " VALUES (6, 'secret@example.com')");
    std::string msg =
        error_of([&] { open_and_drain(postgres("SELECT id, v::int AS n FROM " + table_ + " ORDER BY id")); });
    EXPECT_THAT(msg, HasSubstr("invalid input syntax for type integer"));
    EXPECT_THAT(msg, HasSubstr("SQLSTATE 22P02"));
    EXPECT_THAT(msg, Not(HasSubstr("secret")));
}

TEST_F(PostgresSourceTest, DuplicateColumnNamesAndNonSelect) {
    EXPECT_THAT(error_of([&] { open_and_drain(postgres("SELECT 1 AS a, 2 AS a")); }),
                HasSubstr("duplicate column name 'a'"));
    EXPECT_THAT(error_of([&] { open_and_drain(postgres("SET work_mem = '8MB'")); }), HasSubstr("returns no rows"));
    EXPECT_THAT(error_of([&] { open_and_drain(postgres("  ")); }), HasSubstr("the query is empty"));
    EXPECT_THAT(error_of([&] { open_and_drain(postgres("SELECT FROM generate_series(1, 3)")); }),
                HasSubstr("returns no columns"));
}

TEST_F(PostgresSourceTest, AWriteDisguisedAsASelectChangesNothing) {
    exec("CREATE TABLE " + table_ + " (id int8)");
    exec("INSERT INTO " + table_ + " VALUES (1), (2)");
    // Named a write in the SQLite source's words, before anything runs: a data-modifying WITH too.
    for (const std::string &write : {"DELETE FROM " + table_ + " RETURNING *",
                                     "WITH gone AS (DELETE FROM " + table_ + " RETURNING id) SELECT * FROM gone"}) {
        const std::string msg = error_of([&] { open_and_drain(postgres(write)); });
        EXPECT_THAT(msg, HasSubstr("PostgreSQL query \"" + write.substr(0, 20)));  // long queries are shortened
        EXPECT_THAT(msg, HasSubstr("\": the model query writes to the database; it must only read (a SELECT)"));
    }
    // SELECT ... INTO plans as its SELECT, but described it has no columns: it makes a table.
    EXPECT_THAT(error_of([&] { open_and_drain(postgres("SELECT * INTO " + table_ + "_copy FROM " + table_)); }),
                HasSubstr("returns no columns (the model query must be a SELECT of the columns to sync; SELECT ... "
                          "INTO makes a table instead)"));
    EXPECT_EQ(scalar("SELECT count(*) FROM " + table_), "2");
    EXPECT_EQ(scalar("SELECT to_regclass('" + table_ + "_copy') IS NULL"), "t");
}

TEST_F(PostgresSourceTest, AQueryThatSpellsAWritingPlanInALiteralStillReads) {
    // The plan quotes the literal in its filter, JSON-escaped: it cannot pass for a ModifyTable node.
    exec("CREATE TABLE " + table_ + " (note text)");
    exec("INSERT INTO " + table_ + " VALUES ('kept')");
    auto source = synchost::open_source(
        postgres("SELECT note FROM " + table_ + R"( WHERE note <> '"Node Type": "ModifyTable"')"));
    EXPECT_EQ(read_all(*source), (Rows{{"t:kept"}}));
}

TEST_F(PostgresSourceTest, WrongPasswordNeverAppearsInTheMessage) {
    SourceConfig c = postgres("SELECT 1");
    c.connection = with_password("Hunter2-not-the-password");
    std::string msg = error_of([&] { open_and_drain(c); });
    EXPECT_THAT(msg, HasSubstr("cannot connect to PostgreSQL (host 127.0.0.1"));
    EXPECT_THAT(msg, HasSubstr("database synchost_test"));
    EXPECT_THAT(msg, HasSubstr("password authentication failed"));
    EXPECT_THAT(msg, Not(HasSubstr("Hunter2")));
}

TEST_F(PostgresSourceTest, UnreachableServerAndMalformedStringsHideThePassword) {
    SourceConfig c = postgres("SELECT 1");
    // Port 1 on loopback: refused at once.
    c.connection = "host=127.0.0.1 port=1 dbname=x user=y password=Hunter2-secret";
    std::string msg = error_of([&] { open_and_drain(c); });
    EXPECT_THAT(msg, HasSubstr("cannot connect to PostgreSQL (host 127.0.0.1, port 1"));
    EXPECT_THAT(msg, Not(HasSubstr("Hunter2")));

    c.connection = "postgresql://y:Hunter2-secret@127.0.0.1:1/x";
    msg = error_of([&] { open_and_drain(c); });
    EXPECT_THAT(msg, HasSubstr("cannot connect to PostgreSQL"));
    EXPECT_THAT(msg, Not(HasSubstr("Hunter2")));

    // libpq echoes the unparsable word, which here is the second half of an unquoted password.
    c.connection = "host=127.0.0.1 password=Hunter2 Hunter3";
    msg = error_of([&] { open_and_drain(c); });
    EXPECT_THAT(msg, HasSubstr("invalid PostgreSQL connection string: missing \"=\" after"));
    EXPECT_THAT(msg, Not(HasSubstr("Hunter")));

    c.connection = "postgresql://y:Hunter2-secret@[::1/x";  // libpq quotes the whole URI
    msg = error_of([&] { open_and_drain(c); });
    EXPECT_THAT(msg, HasSubstr("invalid PostgreSQL connection string"));
    EXPECT_THAT(msg, Not(HasSubstr("Hunter2")));

    c.connection = "host=127.0.0.1 password='Hunter2 secret' bogus_option=1";
    msg = error_of([&] { open_and_drain(c); });
    EXPECT_THAT(msg, HasSubstr("invalid connection option \"bogus_option\""));
    EXPECT_THAT(msg, Not(HasSubstr("Hunter2")));
}

}  // namespace
