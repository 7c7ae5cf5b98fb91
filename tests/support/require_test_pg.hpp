// The one rule for tests that need PostgreSQL: the server's connection string comes from
// SYNCHOST_TEST_PG (scripts/start-postgres.sh prints it). Without it a test skips when run by
// hand, but FAILS when the environment variable CI is set (non-empty): in CI a server that did
// not start must not turn into silently skipped tests.
//
//   std::string conninfo;
//   SYNCHOST_REQUIRE_TEST_PG(conninfo);   // in a TEST body or a fixture's SetUp()
//
// The macro returns from the enclosing function (void) after GTEST_SKIP() or GTEST_FAIL(), so
// nothing after it runs without a server; a fatal failure in SetUp() also skips the test body.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace test_support {

struct TestPg {
    std::optional<std::string> conninfo;  // set when SYNCHOST_TEST_PG is
    bool ci = false;                      // CI is set: a missing server is a failure
    std::string why;                      // what to do about a missing server
};

inline TestPg test_pg() {
    TestPg r;
    const char *ci = std::getenv("CI");
    r.ci = ci != nullptr && *ci != '\0';
    const char *conn = std::getenv("SYNCHOST_TEST_PG");
    if (conn != nullptr && *conn != '\0') {
        r.conninfo = conn;
    } else {
        r.why = std::string("SYNCHOST_TEST_PG is not set") +
                (r.ci ? " and CI is: the PostgreSQL server did not start, or its connection string was not passed on"
                      : ": run `export SYNCHOST_TEST_PG=\"$(scripts/start-postgres.sh)\"`");
    }
    return r;
}

}  // namespace test_support

#define SYNCHOST_REQUIRE_TEST_PG(out)                                   \
    do {                                                                \
        const ::test_support::TestPg sp_test_pg_ = ::test_support::test_pg(); \
        if (!sp_test_pg_.conninfo) {                                    \
            if (sp_test_pg_.ci) GTEST_FAIL() << sp_test_pg_.why;        \
            GTEST_SKIP() << sp_test_pg_.why;                            \
        }                                                               \
        (out) = *sp_test_pg_.conninfo;                                  \
    } while (0)
