// The transport's schedule on a manual clock: the real HttpsDelivery sends real requests to
// pinterest-sandbox over TLS, but every wait (pacing, backoff, Retry-After) goes through
// test_support::ManualClock, so nothing sleeps and each delay is asserted exactly: attempt
// counts, each backoff within its jitter bounds and equal to the formula's draw from the same
// seed (written out below, independently of retry_policy.cpp), Retry-After as a floor, the retry
// budget, pacing intervals. Requests take no time on that clock (it stands still while one is
// out), so the schedule is the one the transport computed, with one connection or several.
#include "abi_objects.hpp"
#include "manual_clock.hpp"
#include "sandbox_process.hpp"
#include "test_host.hpp"

#include "pipeline/pipeline.hpp"
#include "plugin/manifest.hpp"
#include "transport/https_delivery.hpp"

#include <support/batch_builder.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <optional>
#include <random>

using namespace test_support;
namespace json = boost::json;
using std::chrono::milliseconds;
using WaitReason = pcapi::transport::WaitReason;

namespace {

const std::string kToken = "schedule-test-token-41";
constexpr uint64_t kSeed = 20261201;
constexpr int64_t kInitial = 1000, kMaxBackoff = 30000, kBudget = 600000;  // production defaults
// Wed, 21 Oct 2015 07:28:00 GMT: the wall clock the host reports, for HTTP-date Retry-After.
constexpr int64_t kWallMs = 1445412480000;

// The jitter formula, independently of the code under test. Ordinary: uniform in [0, c(attempt)]
// with c(n) = min(max, initial * 2^n). After a 503 code 4197 (endpoint ramped down): uniform in
// [c(attempt + 1), c(attempt + 2)].
struct Jitter {
    std::mt19937_64 rng{kSeed};
    int64_t initial = kInitial, max = kMaxBackoff;

    int64_t ceiling(unsigned n) const {
        int64_t c = std::min(max, initial);
        for (unsigned k = 0; k < n; ++k) c = std::min(max, 2 * c);
        return c;
    }
    std::pair<int64_t, int64_t> bounds(unsigned attempt, bool ramped) const {
        return ramped ? std::pair{ceiling(attempt + 1), ceiling(attempt + 2)} : std::pair{int64_t{0}, ceiling(attempt)};
    }
    int64_t draw(unsigned attempt, bool ramped = false) {
        auto [lo, hi] = bounds(attempt, ramped);
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    }
};

// One sandbox, one delivery on a manual clock, production retry settings unless a test changes them.
struct Rig {
    sandbox_test::Sandbox sandbox;
    TestHost host{kToken};
    sp_host host_with_wall_clock{};
    ManualClock clock;
    pcapi::PluginConfig config;

    explicit Rig(std::vector<std::string> sandbox_args) : sandbox(SANDBOX_EXE, kToken, std::move(sandbox_args)) {
        host_with_wall_clock = *host.get();
        host_with_wall_clock.now_unix_ms = [](void *) -> int64_t { return kWallMs; };
        config.ad_account_id = "549755885175";
        config.api_base_url = sandbox.url();
        config.ca_file = sandbox.ca_file();
        config.max_in_flight = 1;
        config.calls_per_minute = 60'000'000;  // pacing out of the way (1 us apart) unless a test sets it
        config.request_timeout_seconds = 10;   // real time: a guard against a stuck sandbox only
    }

    // Delivers `rows` events, `per_request` per request, and returns the report. With `accounts`
    // (one per row), each row is routed to its own ad account (the ad_account_id field).
    pcapi::DeliveryReport deliver(int rows, size_t per_request = 1000, const std::vector<std::string> &accounts = {}) {
        OwnedMapping mapping =
            accounts.empty()
                ? OwnedMapping({{"event_name", "=checkout"}, {"email", "email"}})
                : OwnedMapping({{"event_name", "=checkout"}, {"email", "email"}, {"ad_account_id", "acct"}});
        pcapi::PipelineOptions opt = pcapi::pipeline_options();
        opt.sync_id = "schedule-test";
        pcapi::Pipeline pipeline(pcapi::Mapping::compile(mapping.get(), {}), opt, per_request, 4 << 20);
        support::BatchBuilder b(accounts.empty() ? std::vector<std::string>{"email"}
                                                 : std::vector<std::string>{"email", "acct"});
        for (int i = 0; i < rows; ++i) {
            b.begin_row("k" + std::to_string(i));
            b.add_text("person" + std::to_string(i) + "@example.com");
            if (!accounts.empty()) b.add_text(accounts[static_cast<size_t>(i)]);
        }
        pcapi::EncodedBatch encoded;
        // The events' own timestamps: the sandbox checks them against its real wall clock.
        const int64_t now_s =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        pipeline.encode(*b.finish(), now_s, encoded);
        pcapi::DeliveryOptions options;
        options.clock = &clock;
        options.jitter_seed = kSeed;
        auto delivery = pcapi::make_https_delivery(config, false, &host_with_wall_clock, options);
        pcapi::DeliveryReport report;
        // The budget is 10 minutes: an hour of this clock's time is a delivery that never ends.
        EXPECT_TRUE(clock.run([&](std::function<void()> done) { delivery->start(encoded.payloads, report, done); },
                              std::chrono::seconds(60), std::chrono::hours(1)))
            << "the delivery neither finished nor waited, or was still waiting after an hour";
        delivery->close();
        return report;
    }

    // Delivers `rows` events, expects every one delivered after exactly `requests` requests, and
    // returns the backoff delays in ms.
    std::vector<int64_t> backoffs_delivering(int rows, int64_t requests);

    int64_t events_requests() {
        auto r = sandbox.client()->request("GET", "/_sandbox/stats");
        const auto stats = json::parse(r.body);
        const auto &req = stats.at("requests").as_object();
        return req.contains("events") ? req.at("events").to_number<int64_t>() : 0;
    }
    int64_t stat(const char *key) {
        auto r = sandbox.client()->request("GET", "/_sandbox/stats");
        return json::parse(r.body).at(key).to_number<int64_t>();
    }
};

std::vector<int64_t> delays(const std::vector<ManualClock::Wait> &waits) {
    std::vector<int64_t> out;
    for (const auto &w : waits) out.push_back(w.delay().count());
    return out;
}

size_t count(const pcapi::DeliveryReport &r, sp_record_status s) {
    size_t n = 0;
    for (const auto &p : r.outcomes)
        for (const auto &o : p) n += o.status == s;
    return n;
}

std::vector<int64_t> Rig::backoffs_delivering(int rows, int64_t requests) {
    const auto report = deliver(rows);
    EXPECT_EQ(count(report, SP_RECORD_OK), static_cast<size_t>(rows));
    EXPECT_EQ(events_requests(), requests);
    return delays(clock.waits(WaitReason::backoff));
}

}  // namespace

// Five server errors, then success: six attempts, five waits, each drawn from full jitter under
// the doubling ceiling (1 s, 2 s, 4 s, 8 s, 16 s). An implementation without backoff, with a
// fixed wait or with a ceiling that does not double fails the equality with the formula's draws.
TEST(Schedule, ServerErrorsBackOffWithFullJitterThenSucceed) {
    Rig rig({"--fault", "status:500,on=1-5"});
    const auto got = rig.backoffs_delivering(3, 6);
    ASSERT_EQ(got.size(), 5u);
    Jitter j;
    for (unsigned i = 0; i < got.size(); ++i) {
        const auto [lo, hi] = j.bounds(i, false);
        EXPECT_GE(got[i], lo) << "wait " << i;
        EXPECT_LE(got[i], hi) << "wait " << i;
        EXPECT_EQ(got[i], j.draw(i)) << "wait " << i;
    }
}

// 408 Request Timeout is retried like a 5xx, end to end.
TEST(Schedule, RequestTimeout408IsRetried) {
    Rig rig({"--fault", "status:408,on=1-2"});
    const auto got = rig.backoffs_delivering(2, 3);
    Jitter j;
    const int64_t first = j.draw(0), second = j.draw(1);
    EXPECT_EQ(got, (std::vector<int64_t>{first, second}));
}

// Retry-After is a floor under the jitter, never a replacement: 3 s while the ceiling is below
// it, the jitter's draw once that is larger.
TEST(Schedule, RetryAfterSecondsIsAFloorUnderTheJitter) {
    Rig rig({"--fault", "status:429,on=1-4,retry_after=3"});
    const auto got = rig.backoffs_delivering(2, 5);
    ASSERT_EQ(got.size(), 4u);
    Jitter j;
    for (unsigned i = 0; i < got.size(); ++i) {
        EXPECT_GE(got[i], 3000) << "wait " << i;
        EXPECT_EQ(got[i], std::max<int64_t>(3000, j.draw(i))) << "wait " << i;
    }
}

// An HTTP-date is read against the host's wall clock (sp_host.now_unix_ms), not the machine's:
// 9 s ahead is a 9 s floor; a date in the past is no floor at all.
TEST(Schedule, RetryAfterHttpDateUsesTheHostsWallClock) {
    Rig rig({"--fault", "status:502,on=1,retry_after=Wed, 21 Oct 2015 07:28:09 GMT", "--fault",
             "status:502,on=2,retry_after=Wed, 21 Oct 2015 07:27:00 GMT"});
    const auto got = rig.backoffs_delivering(2, 3);
    Jitter j;
    const int64_t first = std::max<int64_t>(9000, j.draw(0)), second = j.draw(1);
    EXPECT_EQ(got, (std::vector<int64_t>{first, second}));
}

// Garbage and negative Retry-After values are ignored (the jitter alone); a day-long one is
// clamped to 10 minutes, which with the time already spent is past the 10-minute budget: the
// rows come back RETRY at once, with the clamped wait as the hint.
TEST(Schedule, BadRetryAfterIsIgnoredAndAHugeOneIsClampedToTheBudget) {
    Rig rig({"--fault", "status:503,code=1,on=1,retry_after=soon", "--fault", "status:503,code=1,on=2,retry_after=-5",
             "--fault", "status:503,code=1,on=3,retry_after=1.5", "--fault",
             "status:503,code=1,on=4,retry_after=86400"});
    const auto report = rig.deliver(2);
    Jitter j;
    const int64_t d0 = j.draw(0), d1 = j.draw(1), d2 = j.draw(2);
    ASSERT_GT(d0 + d1 + d2, 0) << "the seed must leave time spent before the clamped wait";
    EXPECT_EQ(delays(rig.clock.waits(WaitReason::backoff)), (std::vector<int64_t>{d0, d1, d2}));
    EXPECT_EQ(rig.events_requests(), 4);
    EXPECT_EQ(count(report, SP_RECORD_RETRY), 2u);
    EXPECT_EQ(report.retry_after_ms, 600000u);
}

// 503 with code 4197 ("endpoint ramped down"; shared/reference/pinterest-conversions-api.md,
// section 10: "back off harder") waits between twice and four times the ordinary ceiling, never
// less than the longest ordinary wait; a 503 with another code, and a 500 that carries 4197,
// back off as usual.
TEST(Schedule, RampedDown503BacksOffHarderThanAnOrdinary503) {
    Rig rig({"--fault", "status:503,code=1,on=1", "--fault", "status:500,on=2", "--fault", "status:503,on=3-5"});
    const auto got = rig.backoffs_delivering(2, 6);
    ASSERT_EQ(got.size(), 5u);
    Jitter j;
    for (unsigned i = 0; i < got.size(); ++i) {
        const bool ramped = i >= 2;
        const auto [lo, hi] = j.bounds(i, ramped);
        EXPECT_GE(got[i], lo) << "wait " << i;
        EXPECT_LE(got[i], hi) << "wait " << i;
        if (ramped) {
            EXPECT_GE(got[i], j.bounds(i, false).second)
                << "wait " << i << " is not harder than an ordinary one's ceiling";
        }
        EXPECT_EQ(got[i], j.draw(i, ramped)) << "wait " << i;
    }
}

// Server errors forever with the production budget (10 minutes): every wait is the formula's
// draw, the attempts stop exactly when the next wait would pass the budget, and the rows are
// RETRY with that wait as the hint. Ten virtual minutes, no real ones.
TEST(Schedule, ServerErrorForeverStopsExactlyAtTheBudget) {
    Rig rig({"--fault", "status:500"});
    const auto report = rig.deliver(3);
    EXPECT_EQ(count(report, SP_RECORD_RETRY), 3u);
    const auto got = delays(rig.clock.waits(WaitReason::backoff));
    ASSERT_GE(got.size(), 10u);
    Jitter j;
    int64_t spent = 0;
    for (unsigned i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i], j.draw(i)) << "wait " << i;
        spent += got[i];
    }
    for (const auto &w : rig.clock.waits(WaitReason::pacing)) spent += w.delay().count();
    const int64_t refused = j.draw(static_cast<unsigned>(got.size()));
    EXPECT_LE(spent, kBudget);
    EXPECT_GT(spent + refused, kBudget) << "gave up although the next wait fitted the budget";
    EXPECT_EQ(report.retry_after_ms, static_cast<uint64_t>(refused));
    EXPECT_EQ(rig.events_requests(), static_cast<int64_t>(got.size() + 1));
    const std::string &message = report.outcomes[0][0].message;
    EXPECT_NE(message.find("not delivered after " + std::to_string(got.size() + 1) + " attempts"), std::string::npos)
        << message;
}

// Pacing at 1,200 calls per minute: four banked calls go at once, then one every 50 ms. A 429
// halves the pace (the next interval is 100 ms) and each success gives back 2% of it.
TEST(Schedule, PacingSpacesCallsAndSlowsDownAfter429) {
    Rig rig({"--fault", "status:429,on=7"});
    rig.config.calls_per_minute = 1200;
    rig.config.retry_initial_backoff_ms = 1;  // keep the retry's own wait short of the pacing interval
    rig.config.retry_max_backoff_ms = 1;
    const auto report = rig.deliver(12, 1);  // one event per request: 12 requests, then a retry
    EXPECT_EQ(count(report, SP_RECORD_OK), 12u);
    EXPECT_EQ(rig.events_requests(), 13);
    const auto pacing = rig.clock.waits(WaitReason::pacing);
    // Requests 5..13 each waited for their slot (the 13th is the retry of request 7).
    ASSERT_EQ(pacing.size(), 9u);
    EXPECT_EQ(pacing[0].deadline - ManualClock::kStart, milliseconds(50));
    std::vector<double> spacing_ms;
    for (size_t i = 1; i < pacing.size(); ++i)
        spacing_ms.push_back(
            std::chrono::duration<double, std::milli>(pacing[i].deadline - pacing[i - 1].deadline).count());
    // Sends 5, 6, 7 and the retry of 7 at the full pace; the retry reserved its successor's slot
    // at half pace; then each success adds 0.02 to the factor.
    std::vector<double> expected{50, 50, 50, 100};
    for (double f = 0.52; expected.size() < spacing_ms.size(); f += 0.02) expected.push_back(60000.0 / (1200 * f));
    ASSERT_EQ(spacing_ms.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(spacing_ms[i], expected[i], 0.01) << "gap " << i;
}

// After a 401 the delivery asks the host for a fresh token on another thread; on this clock the
// host's answer takes no time, as a request's does, so the schedule stays the one the transport
// computed: the clock holds still while the host answers (it would otherwise jump to the second
// request's pacing slot the moment the delivery's thread went idle), the request that got the 401
// is sent again at once, and the second keeps its slot a second after the first.
TEST(Schedule, TheClockHoldsStillWhileTheHostAnswersATokenRefreshAfterA401) {
    Rig rig({"--fault", "status:401,on=1"});
    rig.config.calls_per_minute = 60;         // one request a second: the second waits for its slot
    rig.host.on_refresh(SP_CRED_OK, kToken);  // the 401 was the sandbox's fault: the same token works
    // The host's token service, seen from inside: what the clock says while a refresh is answered.
    static ManualClock *clock = nullptr;
    static std::vector<int> open_while_refreshing;
    static decltype(sp_host::get_access_token) inner = nullptr;
    clock = &rig.clock;
    open_while_refreshing.clear();
    inner = rig.host_with_wall_clock.get_access_token;
    rig.host_with_wall_clock.get_access_token = [](void *ctx, uint32_t flags, const char *rejected, char *out,
                                                   uint32_t cap, uint32_t *len, char *msg, uint32_t msg_cap) {
        if (flags & SP_CRED_FORCE_REFRESH) open_while_refreshing.push_back(clock->round_trips_out());
        return inner(ctx, flags, rejected, out, cap, len, msg, msg_cap);
    };
    const auto report = rig.deliver(2, 1);
    EXPECT_EQ(count(report, SP_RECORD_OK), 2u);
    EXPECT_EQ(rig.events_requests(), 3);  // the first, its resend after the refresh, the second
    EXPECT_EQ(rig.host.refreshes(), 1);
    ASSERT_EQ(open_while_refreshing.size(), 1u);
    EXPECT_EQ(open_while_refreshing[0], 1) << "the host's answer is not counted as a round trip out";
    const auto pacing = rig.clock.waits(WaitReason::pacing);
    ASSERT_FALSE(pacing.empty());
    for (const auto &w : pacing) EXPECT_EQ(w.deadline - ManualClock::kStart, milliseconds(1000));
    EXPECT_TRUE(rig.clock.waits(WaitReason::backoff).empty());
}

// One sync, many ad accounts: a request backing off holds no connection, so one account's trouble
// does not hold up the others.
TEST(Schedule, AnAccountBackingOffHoldsNoConnectionFromTheOthers) {
    // Account 111 may make one call a minute at the sandbox (real time: it never refills during
    // the test), so its later requests are answered 429 and back off, again and again, for the
    // whole retry budget. Its 8 rows queue before 222's 8, on two connections. Were a backoff to
    // hold its connection, 111's first two failures would hold both for the retry budget, and
    // 222 would wait behind them.
    Rig rig({"--ad-account", "549755885175", "--ad-account", "111", "--ad-account", "222", "--account-rate-limit",
             "111:1"});
    rig.config.max_in_flight = 2;
    rig.config.retry_max_elapsed_seconds = 120;
    std::vector<std::string> accounts(8, "111");
    accounts.resize(16, "222");
    const auto report = rig.deliver(16, 1, accounts);

    std::map<std::string, std::map<uint32_t, int>> statuses;  // account -> status -> events
    for (size_t p = 0; p < report.outcomes.size(); ++p)
        for (const auto &o : report.outcomes[p]) ++statuses[p < 8 ? "111" : "222"][o.status];
    EXPECT_EQ(statuses["222"][SP_RECORD_OK], 8);
    EXPECT_EQ(statuses["111"][SP_RECORD_OK], 1) << "one call a minute";
    EXPECT_EQ(statuses["111"][SP_RECORD_RETRY], 7) << "the others gave up after the retry budget";

    // The order requests arrived in: 111's first three (one delivered, two refused, now backing
    // off), then 222's, while 111 still retries.
    const json::array log = json::parse(rig.sandbox.client()->request("GET", "/_sandbox/log").body).as_array();
    std::vector<std::string> order;
    for (const auto &e : log)
        if (e.at("endpoint") == "events") order.push_back(json::value_to<std::string>(e.at("account")));
    const auto first_222 = std::find(order.begin(), order.end(), "222") - order.begin();
    const auto last_222 = order.rend() - std::find(order.rbegin(), order.rend(), "222") - 1;
    EXPECT_LE(first_222, 3) << "222 waited behind 111's backoffs (" << order.size() << " requests)";
    EXPECT_EQ(std::count(order.begin(), order.end(), "222"), 8);
    EXPECT_GT(std::count(order.begin() + last_222, order.end(), "111"), 7) << "111 kept retrying after 222 was done";
    // A failing account has no more requests at once than it has connections, in flight or
    // backing off: two of 111's backoffs overlap, never more, though 7 of its jobs were waiting.
    // Exactly two: its first refusals both come back at the start, as the clock stands still
    // while a request is out, whichever of the two answers the sandbox sends first.
    std::vector<std::pair<ManualClock::time_point, int>> edges;  // +1 at a backoff's start, -1 at its end
    for (const auto &w : rig.clock.waits(WaitReason::backoff)) {
        edges.emplace_back(w.armed_at, +1);
        edges.emplace_back(w.deadline, -1);
    }
    std::sort(edges.begin(), edges.end());  // at one instant, ends before starts
    int backing_off = 0, most = 0;
    for (const auto &[t, d] : edges) most = std::max(most, backing_off += d);
    EXPECT_EQ(most, 2) << "backoffs of account 111 at once";
}

// One sync, many ad accounts: an account on a small budget holds at most one connection while it
// waits for its pacer, so the other connections stay free for an account that may send.
TEST(Schedule, AnAccountWaitingForItsBudgetHoldsOneConnectionAtMost) {
    // Two paced accounts, 5 rows each, one request per row, and more connections (10) than they
    // use. At these budgets idle time banks one call (Pacer::bank), so the first pump sends one
    // call of each account and then has one call of each wait, all at one instant. Were a waiting
    // account to take every connection left, 111 would hold the spare ones and 222 none.
    Rig rig({"--ad-account", "549755885175", "--ad-account", "111", "--ad-account", "222"});
    rig.config.max_in_flight = 10;
    rig.config.account_calls_per_minute = {{"111", 60}, {"222", 50}};  // one call per 1 s and per 1.2 s
    std::vector<std::string> accounts(5, "111");
    accounts.resize(10, "222");
    const auto report = rig.deliver(10, 1, accounts);
    EXPECT_EQ(count(report, SP_RECORD_OK), 10u);

    // A pacing wait ends on its account's grid (k s for 111, k * 1.2 s for 222; none in common
    // below 6 s), so its deadline says whose it is.
    const auto offset = [](ManualClock::time_point t) {
        return std::chrono::duration_cast<milliseconds>(t - ManualClock::kStart).count();
    };
    std::map<std::string, std::vector<ManualClock::Wait>> waits;
    for (const auto &w : rig.clock.waits(WaitReason::pacing)) {
        ASSERT_LT(offset(w.deadline), 6000) << "a pacing wait past both accounts' 4 waiting calls";
        waits[offset(w.deadline) % 1000 == 0 ? "111" : "222"].push_back(w);
    }
    std::vector<int64_t> at_start;
    for (const auto &w : rig.clock.waits(WaitReason::pacing))
        if (w.armed_at == ManualClock::kStart) at_start.push_back(offset(w.deadline));
    EXPECT_EQ(at_start, (std::vector<int64_t>{1000, 1200}))
        << "each account, and only one call of each, waited from the start";
    for (const auto &[account, list] : waits) {
        EXPECT_LE(list.size(), 4u) << account << ": only calls 2 to 5 wait";
        for (size_t i = 1; i < list.size(); ++i)
            EXPECT_GE(offset(list[i].armed_at), offset(list[i - 1].deadline))
                << "two connections waited on account " << account << " at once (wait " << i << ", ms from the start)";
    }
    const json::object by_account =
        json::parse(rig.sandbox.client()->request("GET", "/_sandbox/stats").body).at("events_by_account").as_object();
    EXPECT_EQ(by_account.at("111").to_number<int64_t>(), 5);
    EXPECT_EQ(by_account.at("222").to_number<int64_t>(), 5);
    EXPECT_EQ(rig.clock.waits(WaitReason::backoff).size(), 0u);
}

// A refusal that stops the run (the configured account's 403) sends nothing new, but the answers
// of requests already out still count: events Pinterest processed are delivered, not left to be
// sent again. Account 111's answers come a second after the refusal (sandbox fault delay).
TEST(Schedule, AnswersArrivingAfterTheRunStoppedStillCount) {
    Rig rig({"--ad-account", "111", "--forbidden-account", "549755885175", "--fault", "delay:1000,account=111"});
    rig.config.max_in_flight = 4;
    const auto report = rig.deliver(4, 1, {"", "111", "111", "111"});
    ASSERT_EQ(report.outcomes.size(), 4u);  // the configured account's request first, then 111's
    EXPECT_EQ(report.fatal_category, SP_ERR_PERMISSION);
    ASSERT_EQ(report.outcomes[0].size(), 1u);
    EXPECT_EQ(report.outcomes[0][0].status, SP_RECORD_RETRY);
    EXPECT_NE(report.outcomes[0][0].message.find("denied access to ad account 549755885175"), std::string::npos)
        << report.outcomes[0][0].message;
    for (size_t p = 1; p < 4; ++p) {
        ASSERT_EQ(report.outcomes[p].size(), 1u);
        EXPECT_EQ(report.outcomes[p][0].status, SP_RECORD_OK)
            << "111's request " << p << ": " << report.outcomes[p][0].message;
    }
    const json::object stats = json::parse(rig.sandbox.client()->request("GET", "/_sandbox/stats").body).as_object();
    EXPECT_EQ(stats.at("events_by_account").at("111").to_number<int64_t>(), 3);
    EXPECT_EQ(stats.at("faults_by_action").at("delay").to_number<int64_t>(), 3) << "111's answers came after the 403";
}

namespace {
// Events requests the sandbox received, by ad account.
std::map<std::string, int> requests_by_account(Rig &rig) {
    std::map<std::string, int> n;
    const json::value log = json::parse(rig.sandbox.client()->request("GET", "/_sandbox/log").body);
    for (const auto &e : log.as_array())
        if (e.at("endpoint") == "events") ++n[json::value_to<std::string>(e.at("account"))];
    return n;
}
}  // namespace

// A token that may not send events (a missing ads:write scope) is refused by every account alike.
// Until some request was accepted, a routed account's 403 may be that: its rows are not rejected
// but left RETRY, and each account is asked once, its other requests held back.
TEST(Schedule, RefusalsBeforeAnyAcceptedRequestMayBeTheTokensAndRejectNothing) {
    Rig rig({"--ad-account", "111", "--ad-account", "222", "--fault", "status:403,code=29"});
    const auto report = rig.deliver(4, 1, {"111", "111", "222", "222"});
    EXPECT_EQ(report.fatal_category, SP_ERR_NONE);
    for (const auto &payload : report.outcomes)
        for (const auto &o : payload) {
            EXPECT_EQ(o.status, SP_RECORD_RETRY) << o.message;
            EXPECT_NE(o.message.find("may be the token's"), std::string::npos) << o.message;
        }
    EXPECT_EQ(requests_by_account(rig), (std::map<std::string, int>{{"111", 1}, {"222", 1}}));
}

// Once another account's request is accepted, the token may send events: a routed account's
// earlier refusal is its own, and its rows held back meanwhile are rejected without another call.
TEST(Schedule, AnotherAccountsAcceptedRequestMakesAnEarlierRefusalTheAccountsOwn) {
    Rig rig({"--forbidden-account", "111", "--ad-account", "222"});
    const auto report = rig.deliver(3, 1, {"111", "111", "222"});
    ASSERT_EQ(report.outcomes.size(), 3u);  // 111's two requests, then 222's
    for (size_t p = 0; p < 2; ++p) {
        EXPECT_EQ(report.outcomes[p][0].status, SP_RECORD_REJECTED) << report.outcomes[p][0].message;
        EXPECT_NE(report.outcomes[p][0].message.find("denied access to ad account 111"), std::string::npos)
            << report.outcomes[p][0].message;
    }
    EXPECT_EQ(report.outcomes[2][0].status, SP_RECORD_OK);
    EXPECT_EQ(requests_by_account(rig), (std::map<std::string, int>{{"111", 1}, {"222", 1}}));
}

// A 429's Retry-After holds back every call of that account, not only the one it answered: the
// account's next call, already waiting for its turn (one call a second), waits for it too instead of
// going out at its turn.
TEST(Schedule, ARetryAfterHoldsBackTheWholeAccount) {
    Rig rig({"--ad-account", "111", "--fault", "status:429,on=1,retry_after=5"});
    rig.config.max_in_flight = 2;
    rig.config.account_calls_per_minute = {{"111", 60}};
    const auto report = rig.deliver(2, 1, {"111", "111"});
    EXPECT_EQ(count(report, SP_RECORD_OK), 2u);
    const auto at = [](ManualClock::time_point t) {
        return std::chrono::duration_cast<milliseconds>(t - ManualClock::kStart).count();
    };
    std::vector<std::pair<int64_t, int64_t>> pacing;  // (armed at, deadline), ms from the start
    for (const auto &w : rig.clock.waits(WaitReason::pacing)) pacing.emplace_back(at(w.armed_at), at(w.deadline));
    ASSERT_GE(pacing.size(), 2u);
    EXPECT_EQ(pacing[0], (std::pair<int64_t, int64_t>{0, 1000})) << "the second call's turn";
    EXPECT_EQ(pacing[1], (std::pair<int64_t, int64_t>{1000, 5000})) << "its turn came before the Retry-After ended";
    EXPECT_EQ(json::parse(rig.sandbox.client()->request("GET", "/_sandbox/stats").body).at("responses").at("429"), 1);
}

// Rows refused for one cause share one reason, whatever request carried them: the request id
// (x-pinterest-rid, one per answer) goes to the log, not into the rows' reason, so that
// `synchost status` counts them together.
TEST(Schedule, RowsRejectedForOneCauseShareOneReasonWithoutTheRequestId) {
    Rig rig({"--fault", "status:422"});
    const auto report = rig.deliver(2, 1);
    ASSERT_EQ(report.outcomes.size(), 2u);
    const std::string &first = report.outcomes[0][0].message;
    EXPECT_EQ(report.outcomes[0][0].status, SP_RECORD_REJECTED);
    EXPECT_NE(first.find("Pinterest rejected the events"), std::string::npos) << first;
    EXPECT_EQ(first.find("x-pinterest-rid"), std::string::npos) << first;
    EXPECT_EQ(report.outcomes[1][0].message, first);
    bool logged = false;
    for (const auto &line : rig.host.logs()) logged = logged || line.find("x-pinterest-rid") != std::string::npos;
    EXPECT_TRUE(logged) << "the request id is in the log";
}

// A Retry-After longer than the retry budget: the request it answered gives up at once, and so does
// every other call of the account, instead of each waiting out the hold and drawing another 429
// (the batch would then outlast the budget by a Retry-After per request). Their events are RETRY,
// and the report says when to try again.
TEST(Schedule, ARetryAfterPastTheBudgetEndsTheAccountsCallsAtOnce) {
    Rig rig({"--ad-account", "111", "--fault", "status:429,retry_after=300"});
    rig.config.retry_max_elapsed_seconds = 60;
    const auto report = rig.deliver(4, 1, {"111", "111", "111", "111"});
    EXPECT_EQ(count(report, SP_RECORD_RETRY), 4u);
    for (size_t p = 1; p < report.outcomes.size(); ++p) {
        EXPECT_EQ(report.outcomes[p][0].category, SP_ERR_RATE_LIMIT);
        EXPECT_NE(report.outcomes[p][0].message.find("may not be called for another 300 s"), std::string::npos)
            << report.outcomes[p][0].message;
    }
    EXPECT_GE(report.retry_after_ms, 299000u);
    EXPECT_TRUE(rig.clock.waits(WaitReason::pacing).empty()) << "a call waited for the hold";
    EXPECT_EQ(requests_by_account(rig), (std::map<std::string, int>{{"111", 1}}));
}
