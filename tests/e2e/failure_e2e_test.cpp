// End to end, the ways a run ends badly: `synchost sync` against pinterest-sandbox with faults
// injected. Server errors beyond the retry budget (exit 4, the rows go next run), a revoked grant
// and a 401 right after a refresh (exit 3), a plugin's internal error (exit 5), SIGTERM against a
// destination that fails or hangs (exit 130, fast, after checkpointing) and a second run of a
// sync that is mid-delivery (refused by the lock). Every wait is on the sandbox's own counters or
// on the process; timeouts only turn a hang into a failure.
#include "workspace.hpp"

#include <signal.h>

using namespace e2e;

namespace {

int64_t num(const json::value &stats, const char *key) {
    return stats.at(key).to_number<int64_t>();
}

int64_t injected(const json::value &stats, const char *action) {
    const json::value *n = stats.at("faults_by_action").as_object().if_contains(action);
    return n ? n->to_number<int64_t>() : 0;
}

// 500 valid orders in batches of 100, one request at a time: request N carries rows 100(N-1)+1..100N.
void one_request_at_a_time(Workspace &w, const std::string &extra_config = "") {
    w.add_valid_orders(1, 500);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 100)", "SELECT * FROM orders", kOrderMapping,
                 ", \"max_in_flight\": 1" + extra_config);
}

// The next run against the healed sandbox sends exactly what was not recorded, once each.
void expect_next_run_sends_the_rest(Workspace &w, int64_t recorded) {
    w.heal();
    const int64_t received = w.stat("events_received");
    CommandResult rest = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(rest.exit_code, 0) << rest.err;
    EXPECT_EQ(summary(rest).at("sent").as_int64(), 500 - recorded);
    EXPECT_EQ(w.stat("events_received") - received, 500 - recorded);
    EXPECT_EQ(w.stat("distinct_event_ids"), 500);
    EXPECT_EQ(w.stat("duplicate_events"), 0) << "a row recorded as delivered was sent again";
}

}  // namespace

// Requests 3 on fail with 503 beyond the retry budget: the first two batches are delivered, the
// other 300 rows are RETRY, the run ends transient, and the next healthy run sends those 300 once.
TEST(FailureE2E, RowsHeldAsRetryEndWithExit4AndTheNextHealthyRunSendsEachOnce) {
    Workspace w({"--fault", "status:503,on=3-1000000"});
    one_request_at_a_time(w, ", \"retry_max_elapsed_seconds\": 1, \"retry_max_backoff_ms\": 50");
    CommandResult first = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(first.exit_code, 4) << first.err;
    EXPECT_NE(first.err.find("the next run sends them again"), std::string::npos) << first.err;
    EXPECT_EQ(summary(first).at("delivered").as_int64(), 200);
    EXPECT_EQ(summary(first).at("retry").as_int64(), 300);
    EXPECT_GE(w.faults("status"), 2) << "the 503s were retried";
    EXPECT_EQ(w.stat("events_received"), 200);
    EXPECT_EQ(w.status("orders").at("delivered").as_int64(), 200);
    expect_next_run_sends_the_rest(w, 200);
}

// A grant revoked at Pinterest: the access token is refused, the refresh token too
// (invalid_grant): exit 3 with the command that reconnects, and nothing recorded.
TEST(FailureE2E, ARevokedGrantEndsWithExit3AndTheReconnectHint) {
    // Token request 1 is connect's code exchange; every later one (the refresh) is refused.
    Workspace w({"--fault", "invalid_grant,target=token,on=2-1000"});
    ASSERT_EQ(w.connect("pinterest").exit_code, 0);
    ASSERT_EQ(w.sandbox().client()->request("POST", "/_sandbox/revoke").status, 200u);
    w.add_valid_orders(1, 50);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, "", R"("pinterest")");
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("reconnect: synchost connect pinterest_conversions --name pinterest"), std::string::npos)
        << r.err;
    EXPECT_EQ(w.stat("events_received"), 0);
    EXPECT_EQ(w.faults("invalid_grant"), 1) << "the refresh was tried once";
    EXPECT_EQ(w.status("orders").at("delivered").as_int64(), 0);
}

// Pinterest refuses the token, the refresh succeeds, and the fresh token is refused too: that is
// not a stale token, so the run stops (exit 3) after one refresh instead of refreshing forever.
TEST(FailureE2E, A401RightAfterASuccessfulRefreshEndsWithExit3) {
    // Two 401s, then a healthy server: a host that refreshed again would succeed (and fail here).
    Workspace w({"--fault", "status:401,on=1-2"});
    ASSERT_EQ(w.connect("pinterest").exit_code, 0);
    w.add_valid_orders(1, 50);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping, ", \"max_in_flight\": 1",
                 R"("pinterest")");
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("even after a refresh"), std::string::npos) << r.err;
    const json::value s = w.stats();
    EXPECT_EQ(num(s, "token_refreshes"), 1);
    EXPECT_EQ(injected(s, "status"), 2);
    EXPECT_EQ(num(s, "events_received"), 0);
    EXPECT_EQ(w.status("orders").at("delivered").as_int64(), 0);
}

// A plugin that fails inside (tests/fixtures/throwing_plugin.cpp: every call throws, and its
// guard turns that into an internal error): exit 5, the plugin's message, nothing recorded.
TEST(FailureE2E, AnInternalErrorOfThePluginEndsWithExit5) {
    Workspace w;
    w.add_valid_orders(1, 20);
    std::ofstream(w.dir() + "/boom.json")
        << R"({"name": "boom", "source": {"type": "sqlite", "database": "shop.db", "query": "SELECT * FROM orders"},
              "primary_key": "order_id", "mode": "insert",
              "destination": {"plugin": "throwing_plugin", "config": {}}, "mapping": {}})";
    CommandResult r =
        Command::run({SYNCHOST_EXE, "sync", "boom.json", "--json", "--plugin-path", FIXTURE_DIR}, w.dir());
    EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
    EXPECT_NE(r.err.find("stub failure"), std::string::npos) << r.err;
    CommandResult st =
        Command::run({SYNCHOST_EXE, "status", "boom.json", "--json", "--plugin-path", FIXTURE_DIR}, w.dir());
    ASSERT_EQ(st.exit_code, 0) << st.err;
    EXPECT_EQ(json::parse(st.out).at("delivered").as_int64(), 0);
}

// One SIGTERM while the destination keeps failing one batch (503 on every attempt at rows
// o201-o300) or hangs on it (its request is never answered), two requests at a time: the batches
// after it are acknowledged while it is held. The run stops retrying, records the four
// acknowledged batches (two of them collected only after the signal), and exits 130 long before
// its 600 s retry budget. The next run sends only the held batch.
class FastStop : public testing::TestWithParam<const char *> {};

TEST_P(FastStop, OneSigtermStopsRetryingCheckpointsAndExits130) {
    Workspace w({"--fault", GetParam()});
    w.add_valid_orders(1, 500);
    w.write_sync("orders", R"("mode": "insert", "batch_size": 100)", "SELECT * FROM orders", kOrderMapping,
                 ", \"max_in_flight\": 2, \"retry_max_elapsed_seconds\": 600, \"request_timeout_seconds\": 600");
    auto c = w.start_synchost({"sync", "orders.json", "--json"});
    // The third batch is in the sandbox's hands (hung and held in flight, or answered 503 and
    // now backed off and retried); the other four were acknowledged.
    ASSERT_TRUE(w.wait_for_sandbox([](const json::value &s) {
        const bool held = (injected(s, "hang") == 1 && num(s, "in_flight") == 1) || injected(s, "status") >= 1;
        return held && num(s, "events_received") == 400;
    })) << c->stderr_text();
    c->signal(SIGTERM);
    // A guard far below the retry budget, not a speed check.
    std::optional<CommandResult> r = c->wait_for_exit(std::chrono::seconds(60));
    ASSERT_TRUE(r.has_value()) << "one SIGTERM did not stop a run against " << GetParam();
    EXPECT_EQ(r->exit_code, 130) << r->err;
    EXPECT_EQ(summary(*r).at("delivered").as_int64(), 400);
    EXPECT_EQ(summary(*r).at("retry").as_int64(), 100);
    EXPECT_EQ(w.status("orders").at("delivered").as_int64(), 400);
    expect_next_run_sends_the_rest(w, 400);
}

INSTANTIATE_TEST_SUITE_P(FailingOrHanging, FastStop,
                         testing::Values(R"(status:503,contains="o250")", R"(hang,contains="o250")"),
                         [](const testing::TestParamInfo<const char *> &i) {
                             return std::string(i.param).find("hang") == 0 ? "Hanging" : "Failing503";
                         });

// While one run of a sync is mid-delivery (its second request held unanswered by the sandbox), a
// second run of the same sync is refused by the lock before it sends anything.
TEST(FailureE2E, ASecondRunOfTheSameSyncIsRefusedWhileTheFirstDelivers) {
    Workspace w({"--fault", "hang,on=2"});
    one_request_at_a_time(w);
    auto first = w.start_synchost({"sync", "orders.json", "--json"});
    ASSERT_TRUE(w.wait_for_sandbox([](const json::value &s) {
        return injected(s, "hang") == 1 && num(s, "in_flight") == 1;
    })) << first->stderr_text();
    const int64_t requests = w.stats().at("requests").at("events").to_number<int64_t>();
    CommandResult second = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(second.exit_code, 2) << second.err;
    EXPECT_NE(second.err.find("another synchost process is using sync \"orders\""), std::string::npos) << second.err;
    EXPECT_EQ(w.stats().at("requests").at("events").to_number<int64_t>(), requests) << "the second run sent";
    // The first run is still the one delivering: stop it, then the rest goes once.
    first->signal(SIGTERM);
    std::optional<CommandResult> r = first->wait_for_exit(std::chrono::seconds(60));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->exit_code, 130) << r->err;
    EXPECT_EQ(summary(*r).at("delivered").as_int64(), 100);
    expect_next_run_sends_the_rest(w, 100);
}
