// Pure transport pieces: Retry-After parsing, backoff bounds, pacing, response parsing, endpoints.
#include "transport/event_quality.hpp"
#include "transport/endpoint.hpp"
#include "transport/pacer.hpp"
#include "transport/response.hpp"
#include "transport/retry_policy.hpp"

#include "event_results_oracle.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <set>

using namespace pcapi;
using namespace pcapi::transport;
using std::chrono::milliseconds;

TEST(RetryAfter, SecondsDatesGarbageAndClamping) {
    const int64_t now = 1445412480;  // Wed, 21 Oct 2015 07:28:00 GMT
    const milliseconds cap(600000);
    EXPECT_EQ(parse_retry_after("7", now, cap), milliseconds(7000));
    EXPECT_EQ(parse_retry_after(" 0 ", now, cap), milliseconds(0));
    EXPECT_EQ(parse_retry_after("86400", now, cap), cap);
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:07 GMT", now, cap), milliseconds(7000));
    EXPECT_EQ(parse_retry_after("Wednesday, 21-Oct-15 07:28:09 GMT", now, cap), milliseconds(9000));
    EXPECT_EQ(parse_retry_after("Wed Oct 21 07:28:05 2015", now, cap), milliseconds(5000));
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now, cap), milliseconds(0));  // past
    EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2099 07:00:00 GMT", now, cap), cap);
    for (const char *bad : {"", "soon", "-5", "1.5", "7s", "Wed, 32 Oct 2015 07:28:00 GMT", "99999999999999999999",
                            "Fri, 31 Dec 9999999200999 23:59:59 GMT"})
        EXPECT_FALSE(parse_retry_after(bad, now, cap).has_value()) << bad;
}

TEST(Backoff, FullJitterStaysWithinTheExponentialCeiling) {
    RetryPolicy p;
    p.initial = milliseconds(100);
    p.max_backoff = milliseconds(1000);
    std::mt19937_64 rng(1);
    for (unsigned attempt = 0; attempt < 50; ++attempt) {
        const int64_t ceiling = std::min<int64_t>(1000, 100LL << std::min(attempt, 20u));
        int64_t max_seen = 0;
        for (int i = 0; i < 200; ++i) {
            const auto w = backoff(p, attempt, rng).count();
            ASSERT_GE(w, 0);
            ASSERT_LE(w, ceiling);
            max_seen = std::max(max_seen, w);
        }
        EXPECT_GT(max_seen, ceiling / 2) << "jitter spans the range";
    }
    EXPECT_EQ(next_wait(p, 0, milliseconds(5000), rng), milliseconds(5000));  // Retry-After is a floor
}

// Exactly the statuses the README's failure table retries: 408, 429, 500, 502, 503, 504.
TEST(RetryClassification, OnlyTimeoutRateLimitAndServerErrorsAreRetried) {
    const std::set<unsigned> retried{408, 429, 500, 502, 503, 504};
    for (unsigned s = 100; s < 600; ++s) EXPECT_EQ(retryable_status(s), retried.count(s) == 1) << s;
}

// 503 code 4197 is "endpoint ramped down" (reference section 10: back off harder); nothing else is.
TEST(RetryClassification, RampedDownIsA503WithCode4197Only) {
    EXPECT_TRUE(ramped_down(503, R"({"code":4197,"message":"The endpoint is ramped down. Try again later."})"));
    EXPECT_FALSE(ramped_down(503, R"({"code":1,"message":"Service unavailable"})"));
    EXPECT_FALSE(ramped_down(500, R"({"code":4197,"message":"m"})"));
    EXPECT_FALSE(ramped_down(429, R"({"code":4197})"));
    EXPECT_FALSE(ramped_down(503, R"({"code":"4197"})"));
    EXPECT_FALSE(ramped_down(503, "<html>503</html>"));
    EXPECT_FALSE(ramped_down(503, ""));
}

// A ramped-down wait lies between twice and four times the ordinary ceiling (capped), so it is
// never shorter than the longest ordinary wait; Retry-After stays a floor on top.
TEST(Backoff, RampedDownWaitsBetweenTwiceAndFourTimesTheCeiling) {
    RetryPolicy p;  // 1 s doubling to 30 s
    std::mt19937_64 rng(3);
    for (unsigned attempt = 0; attempt < 12; ++attempt) {
        const int64_t ordinary = std::min<int64_t>(30000, 1000LL << attempt);
        const int64_t lo = std::min<int64_t>(30000, 2 * ordinary), hi = std::min<int64_t>(30000, 4 * ordinary);
        for (int i = 0; i < 200; ++i) {
            const auto w = next_wait(p, attempt, std::nullopt, rng, true).count();
            ASSERT_GE(w, lo) << attempt;
            ASSERT_LE(w, hi) << attempt;
        }
    }
    EXPECT_EQ(next_wait(p, 0, milliseconds(9000), rng, true), milliseconds(9000));
}

TEST(Pacer, SpacesCallsAndSlowsDownAfter429) {
    Pacer pacer(6000);  // 100 per second: 10 ms apart
    auto t = Pacer::clock::now();
    for (int i = 0; i < Pacer::kBurst; ++i) EXPECT_EQ(pacer.reserve(t), t) << "a fresh pacer starts with a full bank";
    auto a = pacer.reserve(t), b = pacer.reserve(t), c = pacer.reserve(t);
    EXPECT_EQ(a - t, std::chrono::milliseconds(10));
    EXPECT_EQ(b - a, std::chrono::milliseconds(10));
    EXPECT_EQ(c - b, std::chrono::milliseconds(10));
    pacer.on_rate_limited();
    EXPECT_DOUBLE_EQ(pacer.current_calls_per_minute(), 3000);
    auto d = pacer.reserve(t);
    auto e = pacer.reserve(t);
    EXPECT_EQ(e - d, std::chrono::milliseconds(20));
    for (int i = 0; i < 100; ++i) pacer.on_success();
    EXPECT_DOUBLE_EQ(pacer.current_calls_per_minute(), 6000);
    // Idle time banks at most kBurst calls, never more.
    auto later = t + std::chrono::seconds(10);
    for (int i = 0; i < Pacer::kBurst; ++i) EXPECT_EQ(pacer.reserve(later), later) << i;
    EXPECT_EQ(pacer.reserve(later), later + std::chrono::milliseconds(10));
    EXPECT_EQ(pacer.reserve(later), later + std::chrono::milliseconds(20));
}

// A small budget banks fewer calls: a fifth of a second's worth, at least one.
TEST(Pacer, ASmallBudgetBanksAFifthOfASecondsCalls) {
    const auto t = Pacer::clock::now();
    for (auto [per_minute, banked] : {std::pair{60.0, 1}, {300.0, 1}, {600.0, 2}, {900.0, 3}, {1200.0, 4}, {5000.0, 4}}) {
        Pacer pacer(per_minute);
        EXPECT_EQ(pacer.bank(), banked) << per_minute;
        for (int i = 0; i < banked; ++i) EXPECT_EQ(pacer.reserve(t), t) << per_minute << " call " << i;
        EXPECT_GT(pacer.reserve(t), t) << per_minute << ": call " << banked + 1 << " waits";
    }
    Pacer slowed(1200);
    slowed.on_rate_limited();  // 600 a minute now
    EXPECT_EQ(slowed.bank(), 2);
}

TEST(Responses, PerEventResultsFrom200And422) {
    std::vector<EventOutcome> out;
    std::string problem;
    ASSERT_TRUE(parse_event_results(
        R"({"num_events_received":2,"num_events_processed":1,"events":[{"status":"processed","warning_message":"w"},{"status":"failed","error_message":"bad"}]})",
        2, out, problem));
    EXPECT_EQ(out[0].status, SP_RECORD_OK);
    EXPECT_EQ(out[0].message, "Pinterest warning: w");
    EXPECT_EQ(out[1].status, SP_RECORD_REJECTED);
    EXPECT_EQ(out[1].message, "Pinterest rejected the event: bad");
    ASSERT_TRUE(parse_event_results(
        R"({"code":953,"message":"m","details":{"events":[{"status":"failed","error_message":"old"}]}})", 1, out, problem));
    EXPECT_EQ(out[0].status, SP_RECORD_REJECTED);
    EXPECT_FALSE(parse_event_results(R"({"events":[{"status":"processed"}]})", 2, out, problem));
    EXPECT_NE(problem.find("1 events for 2"), std::string::npos);
    EXPECT_FALSE(parse_event_results(R"({"events":[{"status":"proce)", 1, out, problem));
    EXPECT_FALSE(parse_event_results("<html>", 1, out, problem));
    EXPECT_FALSE(parse_event_results(R"({"events":[{"status":"weird"}]})", 1, out, problem));
    EXPECT_EQ(error_summary(400, R"({"code":4196,"message":"Invalid request"})"), "HTTP 400, code 4196: Invalid request");
    EXPECT_EQ(error_summary(502, "<html>bad gateway</html>"), "HTTP 502");
}

TEST(Responses, LongMessagesAreClippedAtACharacterBoundary) {
    // 299 ASCII bytes, then a 2-byte character straddling the 300-byte cut.
    const std::string message = std::string(299, 'x') + "\xC3\xA9" + std::string(50, 'y');
    std::vector<EventOutcome> out;
    std::string problem;
    ASSERT_TRUE(parse_event_results(R"({"events":[{"status":"failed","error_message":")" + message + R"("}]})", 1, out,
                                    problem));
    const std::string &m = out[0].message;
    EXPECT_EQ(m.substr(m.size() - 3), "...");
    EXPECT_EQ(m.find('\xC3'), std::string::npos) << "half a character left in the message";
}

// The streaming reader against the DOM reading it replaced, on answers shaped to reach every branch:
// duplicate keys (the last wins), values of the wrong type, escapes, nesting, a 422's "details",
// and malformed JSON. Problems must read the same, outcomes must be identical.
TEST(Responses, StreamingReaderAgreesWithTheDomReading) {
    const std::vector<std::string> bodies = {
        R"({"events":[{"status":"processed"},{"status":"failed","error_message":"bad"}]})",
        R"({"events":[{"status":"processed","warning_message":"w"},{"status":"failed"}]})",
        R"({"num_events_received":2,"events":[{"warning_message":"w","status":"processed","x":{"status":"failed"}},{"status":"failed","error_message":"e","error_message":"last"}]})",
        R"({"events":[{"status":"processed","status":"failed"},{"status":"failed","status":"processed"}]})",
        R"({"events":[{"status":"processed","warning_message":5},{"status":"failed","error_message":["a"]}]})",
        R"({"events":[{"status":["processed"]},{"status":"processed"}]})",
        R"({"events":[{"status":"process\u0065d"},{"st\u0061tus":"failed","error_message":"\u00e9\n\"q\""}]})",
        R"({"events":[1,{"status":"processed"}]})",
        R"({"events":[{"status":"processed"},[]]})",
        R"({"events":[{"status":"weird"},{"status":"processed"}]})",
        R"({"events":[{"status":"processed"},{"status":"processed"},{"status":"processed"}]})",
        R"({"events":[{"status":"processed"}]})",
        R"({"events":{"status":"processed"}})",
        R"({"events":[{"status":"processed"},{"status":"processed"}],"events":"none"})",
        R"({"events":"none","events":[{"status":"processed"},{"status":"failed"}]})",
        R"({"code":1,"details":{"events":[{"status":"failed","error_message":"d"},{"status":"processed"}]},"events":[]})",
        R"({"details":{"events":[{"status":"failed"},{"status":"failed"}]},"details":7,"events":[{"status":"processed"},{"status":"processed"}]})",
        R"({"details":{"note":1},"events":[{"status":"processed"},{"status":"processed"}]})",
        R"({"details":{"events":[{"status":"processed"},{"status":"processed"}],"events":[]}})",
        R"({"details":[{"events":[]}],"events":[{"status":"processed"},{"status":"processed"}]})",
        R"({"a":{"events":[{"status":"failed"}]},"events":[{"status":"processed"},{"status":"processed"}]})",
        R"({"events":[{"status":"processed"},{"status":"processed"}]} )",
        R"({"events":[{"status":"processed"},{"status":"processed"}]} x)",
        R"({"events":[{"status":"processed"},{"status":"processed"}]}{})",
        R"({"events":[{"status":"processed"},{"status":"proce)",
        R"([{"status":"processed"},{"status":"processed"}])",
        R"("events")",
        "",
        "<html>",
        "{\"events\":[{\"status\":\"failed\",\"error_message\":\"" + std::string(299, 'x') + "\xC3\xA9" + std::string(40, 'y') +
            "\"},{\"status\":\"processed\",\"warning_message\":\"\xFF\"}]}",
    };
    // The comparison itself can tell readings apart.
    auto accepts_anything = [](std::string_view, size_t n, std::vector<EventOutcome> &out, std::string &) {
        out.assign(n, EventOutcome{});
        return true;
    };
    EXPECT_NE(oracle::disagreement(accepts_anything, "<html>", 1), "");
    EXPECT_NE(oracle::disagreement(accepts_anything, R"({"events":[{"status":"failed"}]})", 1), "");
    for (size_t expected : {size_t{1}, size_t{2}, size_t{3}})
        for (const auto &body : bodies)
            EXPECT_EQ(oracle::disagreement(parse_event_results, body, expected), "") << body << " (expected " << expected << ")";
}

TEST(Endpoints, OnlyHttpsHostAndPort) {
    EXPECT_EQ(parse_endpoint("https://api.pinterest.com").host, "api.pinterest.com");
    EXPECT_EQ(parse_endpoint("https://api.pinterest.com").port, "443");
    EXPECT_EQ(parse_endpoint("https://127.0.0.1:8443/").port, "8443");
    EXPECT_EQ(parse_endpoint("https://[::1]:8443").host, "::1");
    for (const char *bad : {"http://x", "https://", "https://x/path", "https://x:port", "https://u@x", "https://x:123456"})
        EXPECT_THROW(parse_endpoint(bad), sp::failure) << bad;
}

// Pinterest's conversion_eqs answers become the report sp.quality/1 defines: windows labelled by
// lookback and platform, our component order first, event types in lower case.
TEST(EventQualityReport, TranslatesPinterestsScoresIntoTheGenericReport) {
    const std::string day = R"([{"overall_status": "FAIR", "ingestion_source": "CONVERSIONS_API",
        "source_platform": "WEB", "lookback_period": "1d", "quality_components": {
          "source_url": {"CHECKOUT": {"coverage": 10, "issues": [{"id": "X", "name": "Missing", "reason": "r"}]}},
          "hashed_email": {"CHECKOUT": {"coverage": 92.5, "issues": [], "overlap": null}},
          "brand_new_key": {"lead": {"coverage": 1}}}}])";
    const std::string fortnight = R"({"items": [{"overall_status": "GOOD", "quality_components": {}}]})";
    const auto report = boost::json::parse(pcapi::event_quality_report({{"1d", day}, {"14d", fortnight}}));
    const auto &windows = report.at("windows").as_array();
    ASSERT_EQ(windows.size(), 2u);
    EXPECT_EQ(windows[0].at("label").as_string(), "1d web");
    EXPECT_EQ(windows[0].at("status").as_string(), "FAIR");
    EXPECT_EQ(windows[1].at("label").as_string(), "14d");
    const auto &components = windows[0].at("components").as_array();
    ASSERT_EQ(components.size(), 3u);
    EXPECT_EQ(components[0].at("name").as_string(), "hashed_email");  // our order, then Pinterest's new ones
    EXPECT_EQ(components[1].at("name").as_string(), "source_url");
    EXPECT_EQ(components[2].at("name").as_string(), "brand_new_key");
    const auto &email = components[0].at("groups").at(0);
    EXPECT_EQ(email.at("name").as_string(), "checkout");
    EXPECT_DOUBLE_EQ(email.at("coverage_percent").as_double(), 92.5);
    EXPECT_TRUE(email.at("overlap_percent").is_null());
    EXPECT_EQ(components[1].at("groups").at(0).at("issues").at(0).at("name").as_string(), "Missing");
    EXPECT_THROW(pcapi::event_quality_report({{"1d", "<html>busy</html>"}}), sp::failure);
}
