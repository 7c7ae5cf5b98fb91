// Tests of pinterest-sandbox through its real interface: each test starts the built executable
// as a child process, reads the URL line, and talks HTTPS to it with certificate verification
// against the CA the sandbox wrote (--ca-out).
#include "sandbox_process.hpp"
#include "test_client.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace json = boost::json;
using sandbox_test::Client;
using sandbox_test::ClientOptions;
using sandbox_test::Response;

const std::string kToken = "static-test-token";
const std::string kAccount = "549755885175";
const std::string kHash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";  // sha256("password")

// The sandbox under test, with this suite's static token.
class Sandbox : public sandbox_test::Sandbox {
public:
    explicit Sandbox(std::vector<std::string> extra = {}) : sandbox_test::Sandbox(SANDBOX_EXE, kToken, std::move(extra)) {}
};

long long now() { return static_cast<long long>(std::time(nullptr)); }

std::string event(const std::string& id, long long time = now(), const std::string& extra = "") {
    return R"({"event_name":"checkout","action_source":"web","event_time":)" + std::to_string(time) +
           R"(,"event_id":")" + id + R"(","user_data":{"em":[")" + kHash + R"("]})" + extra + "}";
}

std::string batch(const std::vector<std::string>& events) {
    std::string b = R"({"data":[)";
    for (std::size_t i = 0; i < events.size(); ++i) b += (i ? "," : "") + events[i];
    return b + "]}";
}

std::string batch_of(int n, const std::string& prefix = "e") {
    std::vector<std::string> ev;
    for (int i = 0; i < n; ++i) ev.push_back(event(prefix + std::to_string(i)));
    return batch(ev);
}

Response post_events(Client& c, const std::string& body, const std::string& token = kToken,
                     const std::string& account = kAccount, const std::string& query = "") {
    sandbox_test::Headers h = {{"Content-Type", "application/json"}};
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    return c.request("POST", "/v5/ad_accounts/" + account + "/events" + query, body, h);
}

json::value body_json(const Response& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    return ec ? json::value() : v;
}

json::value stats(Client& c) {
    auto r = c.request("GET", "/_sandbox/stats");
    EXPECT_EQ(r.status, 200u);
    return body_json(r);
}

std::int64_t stat(Client& c, const char* key) { return stats(c).at(key).to_number<std::int64_t>(); }

std::string basic_auth(const std::string& user, const std::string& pass) {
    static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string in = user + ":" + pass, out;
    int val = 0, bits = -6;
    for (unsigned char c : in) {
        val = (val << 8) + c;
        bits += 8;
        while (bits >= 0) {
            out.push_back(tbl[(val >> bits) & 0x3F]);
            bits -= 6;
        }
    }
    if (bits > -6) out.push_back(tbl[((val << 8) >> (bits + 8)) & 0x3F]);
    while (out.size() % 4) out.push_back('=');
    return "Basic " + out;
}

Response token_request(Client& c, const std::string& form, const std::string& secret = "sandbox-secret") {
    return c.request("POST", "/v5/oauth/token", form,
                     {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"Authorization", basic_auth("sandbox-client", secret)}});
}

// Runs the authorize step and returns the code from the redirect.
std::string authorize(Client& c, const std::string& redirect = "http://127.0.0.1:8765/callback") {
    auto r = c.request("GET", "/oauth/?client_id=sandbox-client&redirect_uri=" + redirect +
                                  "&response_type=code&scope=ads:write,ads:read&state=st4te");
    EXPECT_EQ(r.status, 302u);
    const std::string location = r.header("location");  // the url_view below points into it
    auto loc = boost::urls::parse_absolute_uri(location);
    if (!loc) return {};
    auto it = loc->params().find("code");
    return it == loc->params().end() ? std::string() : std::string((*it).value);
}

// ---------------------------------------------------------------- events: success and validation

TEST(Events, ValidBatchIsProcessedInOrder) {
    Sandbox sb;
    auto c = sb.client();
    auto r = post_events(*c, batch_of(3));
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_FALSE(r.header("x-pinterest-rid").empty());
    auto j = body_json(r);
    EXPECT_EQ(j.at("num_events_received").as_int64(), 3);
    EXPECT_EQ(j.at("num_events_processed").as_int64(), 3);
    ASSERT_EQ(j.at("events").as_array().size(), 3u);
    for (auto& e : j.at("events").as_array()) {
        EXPECT_EQ(e.at("status").as_string(), "processed");
        EXPECT_TRUE(e.at("error_message").is_null());
    }
    // A second request on the same kept-alive connection gets a different request id.
    auto r2 = post_events(*c, batch_of(1, "x"));
    EXPECT_EQ(r2.status, 200u);
    EXPECT_NE(r2.header("x-pinterest-rid"), r.header("x-pinterest-rid"));
    auto s = stats(*c);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 4);
    EXPECT_EQ(s.at("connections_accepted").to_number<std::int64_t>(), 1);
    EXPECT_EQ(s.at("requests").at("events").to_number<std::int64_t>(), 2);
    EXPECT_EQ(s.at("responses").at("200").to_number<std::int64_t>(), 2);
}

TEST(Events, FullEventWithEveryFieldGroupIsAccepted) {
    Sandbox sb;
    auto c = sb.client();
    const std::string extra =
        R"(,"event_source_url":"https://shop.example/p/1","opt_out":false,"partner_name":"ss-test",)"
        R"("language":"en","wifi":true,"app_name":null,)"
        R"("custom_data":{"currency":"USD","value":"19.99","content_ids":["a","b"],"num_items":2,)"
        R"("order_id":"o-1","predicted_ltv":"100","contents":[{"id":"a","item_price":"9.5","quantity":1}]},)"
        R"("app_info":{"app_id":"x","install_time":1700000000},"device_info":{"brand":"b","languages":["en"]})";
    auto r = post_events(*c, batch({event("full", now(), extra)}));
    EXPECT_EQ(r.status, 200u) << r.body;
}

TEST(Events, UnknownKeyIs400NamingIt) {
    Sandbox sb;
    auto c = sb.client();
    auto r = post_events(*c, batch({event("a"), event("b", now(), R"(,"custom_data":{"coupon":"X"})")}));
    EXPECT_EQ(r.status, 400u);
    auto j = body_json(r);
    EXPECT_EQ(j.at("code").as_int64(), 4196);
    const std::string msg(j.at("message").as_string());
    EXPECT_NE(msg.find("data[1].custom_data"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'coupon'"), std::string::npos) << msg;
    EXPECT_EQ(stat(*c, "events_processed"), 0);
}

TEST(Events, SchemaRulesAre400) {
    Sandbox sb;
    auto c = sb.client();
    struct Case {
        std::string body, expect;
    };
    const std::string upper(64, 'A');
    std::string languages_101 = R"("en")";
    for (int i = 0; i < 100; ++i) languages_101 += R"(,"en")";
    std::vector<Case> cases = {
        {batch({R"({"event_name":"checkout","action_source":"web","event_time":1,"event_id":"a","user_data":{"em":[")" + upper + R"("]}})"}), "user_data.em[0]"},
        {batch({R"({"event_name":"checkout","action_source":"web","event_time":1,"event_id":"a","user_data":{"em":["abc"]}})"}), "64 lowercase hex"},
        {batch({R"({"event_name":"checkout","action_source":"web","event_time":1,"event_id":"a","user_data":{"client_ip_address":"1.2.3.4"}})"}), "client_user_agent"},
        {batch({event("a", now(), R"(,"custom_data":{"value":19.99})")}), "custom_data.value"},
        {batch({event("a", now(), R"(,"custom_data":{"currency":"usd"})")}), "ISO-4217"},
        {batch({event("a", now(), R"(,"custom_data":{"num_items":"2"})")}), "custom_data.num_items"},
        {batch({R"({"event_name":"checkout","action_source":"email","event_time":1,"event_id":"a","user_data":{"em":[")" + kHash + R"("]}})"}), "action_source"},
        {batch({R"({"event_name":"bad name!","action_source":"web","event_time":1,"event_id":"a","user_data":{"em":[")" + kHash + R"("]}})"}), "event_name"},
        {batch({R"({"event_name":"checkout","action_source":"web","event_time":1.7e9,"event_id":"a","user_data":{"em":[")" + kHash + R"("]}})"}), "event_time"},
        {batch({R"({"event_name":"checkout","action_source":"web","event_time":1,"user_data":{"em":[")" + kHash + R"("]}})"}), "event_id"},
        {R"({"data":[]})", "1 to 1000"},
        {R"({"data":[],"extra":1})", "'extra'"},
        {"not json", "not valid JSON"},
        {batch_of(1001), "1 to 1000"},
        // app_info and device_info: maxLength, minimum/maximum, enum, maxItems, and no other keys
        {batch({event("a", now(), R"(,"device_info":{"timezone_abbr":"CESTXY"})")}), "device_info.timezone_abbr: longer than maxLength 5"},
        {batch({event("a", now(), R"(,"device_info":{"battery_level":101})")}), "device_info.battery_level: outside minimum 0 / maximum 100"},
        {batch({event("a", now(), R"(,"app_info":{"window_width":-1})")}), "app_info.window_width: outside minimum 0"},
        {batch({event("a", now(), R"(,"device_info":{"os_family":"Android"})")}), "device_info.os_family: not one of the enum's values"},
        {batch({event("a", now(), R"(,"device_info":{"languages":[)" + languages_101 + "]}")}), "more than maxItems 100"},
        {batch({event("a", now(), R"(,"app_info":{"bundle":"x"})")}), "app_info: unknown key 'bundle'"},
    };
    for (auto& k : cases) {
        auto r = post_events(*c, k.body);
        EXPECT_EQ(r.status, 400u) << k.expect;
        const std::string msg = body_json(r).at("message").as_string().c_str();
        EXPECT_NE(msg.find(k.expect), std::string::npos) << "message: " << msg;
        EXPECT_EQ(msg.find(kHash), std::string::npos) << "a value leaked into the message";
    }
}

TEST(Events, OldAndFutureEventsAre422WithDetails) {
    Sandbox sb;
    auto c = sb.client();
    auto r = post_events(*c, batch({event("ok"), event("old", now() - 8 * 86400), event("future", now() + 3600)}));
    EXPECT_EQ(r.status, 422u);
    auto j = body_json(r);
    EXPECT_EQ(j.at("code").as_int64(), 953);
    auto& d = j.at("details");
    EXPECT_EQ(d.at("num_events_received").as_int64(), 3);
    EXPECT_EQ(d.at("num_events_processed").as_int64(), 1);
    auto& ev = d.at("events").as_array();
    EXPECT_EQ(ev[0].at("status").as_string(), "processed");
    EXPECT_EQ(ev[1].at("status").as_string(), "failed");
    EXPECT_NE(std::string(ev[1].at("error_message").as_string()).find("Given timestamp is in the past"), std::string::npos);
    EXPECT_NE(std::string(ev[2].at("error_message").as_string()).find("in the future"), std::string::npos);
    auto s = stats(*c);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 1);
    EXPECT_EQ(s.at("events_failed").to_number<std::int64_t>(), 2);
}

TEST(Events, TestModeValidatesButDoesNotCount) {
    Sandbox sb;
    auto c = sb.client();
    EXPECT_EQ(post_events(*c, batch_of(2), kToken, kAccount, "?test=true").status, 200u);
    auto s = stats(*c);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 0);
    EXPECT_EQ(s.at("test_events").to_number<std::int64_t>(), 2);
}

TEST(Events, BodyOverLimitIs413) {
    Sandbox sb({"--body-limit", "2048"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(20));
    EXPECT_EQ(r.status, 413u);
}

// ---------------------------------------------------------------- auth and accounts

TEST(Auth, MissingOrWrongTokenIs401) {
    Sandbox sb;
    auto c = sb.client();
    for (const std::string tok : {"", "nope"}) {
        auto r = post_events(*c, batch_of(1), tok);
        EXPECT_EQ(r.status, 401u);
        EXPECT_EQ(body_json(r).at("code").as_int64(), 2);
        EXPECT_EQ(body_json(r).at("message").as_string(), "Authentication failed.");
    }
}

TEST(Auth, AdAccountRules) {
    Sandbox sb({"--ad-account", "111", "--forbidden-account", "222"});
    auto c = sb.client();
    EXPECT_EQ(post_events(*c, batch_of(1), kToken, "111").status, 200u);
    auto forbidden = post_events(*c, batch_of(1), kToken, "222");
    EXPECT_EQ(forbidden.status, 403u);
    EXPECT_EQ(body_json(forbidden).at("code").as_int64(), 29);
    EXPECT_EQ(post_events(*c, batch_of(1), kToken, "333").status, 404u);
    auto bad = post_events(*c, batch_of(1), kToken, "abc");
    EXPECT_EQ(bad.status, 400u);
    EXPECT_NE(bad.body.find("ad account id"), std::string::npos);
    // The default account is replaced by --ad-account.
    EXPECT_EQ(post_events(*c, batch_of(1), kToken, kAccount).status, 404u);

    auto acct = c->request("GET", "/v5/ad_accounts/111", "", {{"Authorization", "Bearer " + kToken}});
    EXPECT_EQ(acct.status, 200u);
    EXPECT_EQ(body_json(acct).at("id").as_string(), "111");
    EXPECT_EQ(body_json(acct).at("currency").as_string(), "USD");
    EXPECT_EQ(c->request("GET", "/v5/ad_accounts/222", "", {{"Authorization", "Bearer " + kToken}}).status, 403u);
    EXPECT_EQ(c->request("GET", "/v5/ad_accounts/111").status, 401u);
    EXPECT_EQ(c->request("GET", "/v5/nothing/here").status, 404u);
}

TEST(Auth, ConversionTags) {
    Sandbox sb({"--conversion-tag", "2612345678901", "--conversion-tag", "77:INACTIVE"});
    auto c = sb.client();
    sandbox_test::Headers h = {{"Authorization", "Bearer " + kToken}};
    auto r = c->request("GET", "/v5/ad_accounts/" + kAccount + "/conversion_tags/2612345678901", "", h);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(body_json(r).at("status").as_string(), "ACTIVE");
    EXPECT_EQ(body_json(r).at("ad_account_id").as_string(), kAccount);
    r = c->request("GET", "/v5/ad_accounts/" + kAccount + "/conversion_tags/77", "", h);
    EXPECT_EQ(body_json(r).at("status").as_string(), "INACTIVE");
    EXPECT_EQ(c->request("GET", "/v5/ad_accounts/" + kAccount + "/conversion_tags/5", "", h).status, 404u);
}

TEST(Auth, HostnameMismatchAndExpiredCertificatesFailTheHandshake) {
    {
        Sandbox sb({"--cert-host", "other.example"});
        Client c(sb.options());
        EXPECT_TRUE(c.connect());  // verifying 127.0.0.1 against a cert for other.example
        auto o = sb.options();
        o.verify_name = "other.example";
        Client named(o);
        EXPECT_FALSE(named.connect());
    }
    {
        Sandbox sb({"--cert-expired"});
        Client c(sb.options());
        EXPECT_TRUE(c.connect());
    }
    {
        Sandbox sb;  // the default certificate names both localhost and 127.0.0.1
        auto o = sb.options();
        o.verify_name = "localhost";
        Client c(o);
        EXPECT_FALSE(c.connect());
    }
}

// ---------------------------------------------------------------- OAuth

TEST(OAuth, AuthorizeRedirectsWithCodeAndState) {
    Sandbox sb;
    auto c = sb.client();
    auto r = c->request("GET", "/oauth/?client_id=sandbox-client&redirect_uri=http%3A%2F%2Flocalhost%3A9%2Fcb"
                               "&response_type=code&scope=ads:write,ads:read&state=abc123");
    EXPECT_EQ(r.status, 302u);
    const std::string loc = r.header("location");
    EXPECT_EQ(loc.rfind("http://localhost:9/cb?code=", 0), 0u) << loc;
    EXPECT_NE(loc.find("&state=abc123"), std::string::npos) << loc;

    for (const std::string bad : {
             "/oauth/?client_id=other&redirect_uri=http://127.0.0.1/cb&response_type=code&scope=ads:read",
             "/oauth/?client_id=sandbox-client&redirect_uri=https://evil.example/cb&response_type=code&scope=ads:read",
             "/oauth/?client_id=sandbox-client&redirect_uri=http://127.0.0.1/cb&response_type=token&scope=ads:read",
             "/oauth/?client_id=sandbox-client&redirect_uri=http://127.0.0.1/cb&response_type=code&scope=ads:read,root"}) {
        auto e = c->request("GET", bad);
        EXPECT_EQ(e.status, 400u) << bad;
        EXPECT_EQ(e.header("content-type").rfind("text/plain", 0), 0u);
    }
}

TEST(OAuth, CodeExchangeRefreshRotationAndRevoke) {
    Sandbox sb({"--access-token-ttl", "3600", "--refresh-token-ttl", "7200"});
    auto c = sb.client();
    const std::string redirect = "http://127.0.0.1:8765/callback";
    const std::string code = authorize(*c, redirect);
    ASSERT_FALSE(code.empty());

    EXPECT_EQ(token_request(*c, "grant_type=authorization_code&code=" + code + "&redirect_uri=" + redirect, "wrong").status, 401u);
    auto r = token_request(*c, "grant_type=authorization_code&code=" + code + "&redirect_uri=" + redirect);
    ASSERT_EQ(r.status, 200u) << r.body;
    auto j = body_json(r);
    const std::string access(j.at("access_token").as_string()), refresh(j.at("refresh_token").as_string());
    EXPECT_EQ(access.rfind("pina_", 0), 0u);
    EXPECT_EQ(refresh.rfind("pinr_", 0), 0u);
    EXPECT_EQ(j.at("token_type").as_string(), "bearer");
    EXPECT_EQ(j.at("expires_in").as_int64(), 3600);
    EXPECT_EQ(j.at("refresh_token_expires_in").as_int64(), 7200);
    EXPECT_NEAR(static_cast<double>(j.at("refresh_token_expires_at").as_int64()), static_cast<double>(now() + 7200), 5);
    EXPECT_EQ(j.at("scope").as_string(), "ads:read,ads:write");

    // The code is single-use.
    auto again = token_request(*c, "grant_type=authorization_code&code=" + code + "&redirect_uri=" + redirect);
    EXPECT_EQ(again.status, 400u);
    EXPECT_EQ(body_json(again).at("error").as_string(), "invalid_grant");

    EXPECT_EQ(post_events(*c, batch_of(1), access).status, 200u);

    // Refresh rotates: the old refresh token is dead afterwards.
    auto r2 = token_request(*c, "grant_type=refresh_token&refresh_token=" + refresh);
    ASSERT_EQ(r2.status, 200u) << r2.body;
    const std::string access2(body_json(r2).at("access_token").as_string());
    const std::string refresh2(body_json(r2).at("refresh_token").as_string());
    EXPECT_NE(refresh2, refresh);
    auto stale = token_request(*c, "grant_type=refresh_token&refresh_token=" + refresh);
    EXPECT_EQ(stale.status, 400u);
    EXPECT_EQ(body_json(stale).at("error").as_string(), "invalid_grant");
    EXPECT_EQ(token_request(*c, "grant_type=refresh_token&refresh_token=" + refresh2).status, 200u);

    auto s = stats(*c);
    EXPECT_EQ(s.at("token_refreshes").to_number<std::int64_t>(), 2);
    EXPECT_EQ(s.at("token_requests").at("refresh_token").to_number<std::int64_t>(), 3);
    EXPECT_EQ(s.at("token_requests").at("authorization_code").to_number<std::int64_t>(), 3);

    // Revoke: OAuth access tokens stop working, static tokens keep working.
    EXPECT_EQ(c->request("POST", "/_sandbox/revoke").status, 200u);
    EXPECT_EQ(post_events(*c, batch_of(1), access2).status, 401u);
    EXPECT_EQ(post_events(*c, batch_of(1)).status, 200u);
}

TEST(OAuth, TokenEndpointFaults) {
    Sandbox sb({"--fault", "status:503,target=token,on=1", "--fault", "invalid_grant,target=token,on=3"});
    auto c = sb.client();
    const std::string redirect = "http://127.0.0.1:8765/callback";
    const std::string code = authorize(*c, redirect);
    const std::string form = "grant_type=authorization_code&code=" + code + "&redirect_uri=" + redirect;
    EXPECT_EQ(token_request(*c, form).status, 503u);
    auto ok = token_request(*c, form);  // the faulted request did not consume the code
    ASSERT_EQ(ok.status, 200u);
    const std::string refresh(body_json(ok).at("refresh_token").as_string());
    auto bad = token_request(*c, "grant_type=refresh_token&refresh_token=" + refresh);
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(body_json(bad).at("error").as_string(), "invalid_grant");
    EXPECT_EQ(token_request(*c, "grant_type=refresh_token&refresh_token=" + refresh).status, 200u);
}

// ---------------------------------------------------------------- faults

TEST(Faults, Status429WithRetryAfterThenSuccess) {
    Sandbox sb({"--fault", "status:429,on=1,retry_after=7", "--fault",
                "status:503,on=2,retry_after=Wed, 21 Oct 2015 07:28:00 GMT"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(2));
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(r.header("retry-after"), "7");
    EXPECT_EQ(body_json(r).at("code").as_int64(), 8);
    r = post_events(*c, batch_of(2));
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(r.header("retry-after"), "Wed, 21 Oct 2015 07:28:00 GMT");
    EXPECT_EQ(body_json(r).at("code").as_int64(), 4197);
    EXPECT_EQ(post_events(*c, batch_of(2)).status, 200u);
    auto s = stats(*c);
    EXPECT_EQ(s.at("faults_injected").to_number<std::int64_t>(), 2);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 2);  // faulted requests processed nothing
    EXPECT_EQ(s.at("duplicate_events").to_number<std::int64_t>(), 0);

    // The arrival log lets retry tests check attempts and their spacing.
    auto log = body_json(c->request("GET", "/_sandbox/log"));
    ASSERT_EQ(log.as_array().size(), 3u);
    EXPECT_EQ(log.at(0).at("status").to_number<int>(), 429);
    EXPECT_EQ(log.at(0).at("fault").as_string(), "status");
    EXPECT_EQ(log.at(0).at("events").to_number<int>(), 2);
    EXPECT_EQ(log.at(2).at("status").to_number<int>(), 200);
    EXPECT_TRUE(log.at(2).at("fault").is_null());
    EXPECT_LE(log.at(0).at("t_ms").to_number<double>(), log.at(1).at("t_ms").to_number<double>());
}

// code=N replaces the error body's code: a 503 that is not "endpoint ramped down" (4197).
TEST(Faults, StatusWithAnotherErrorCode) {
    Sandbox sb({"--fault", "status:503,on=1,code=1", "--fault", "status:408,on=2"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(1));
    EXPECT_EQ(r.status, 503u);
    EXPECT_EQ(body_json(r).at("code").as_int64(), 1);
    r = post_events(*c, batch_of(1));
    EXPECT_EQ(r.status, 408u);
    EXPECT_EQ(body_json(r).at("code").as_int64(), 408);
    EXPECT_EQ(post_events(*c, batch_of(1)).status, 200u);
}

TEST(Faults, ResetClosesWithoutAnswer) {
    Sandbox sb({"--fault", "reset,on=1"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(1));
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(post_events(*c, batch_of(1)).status, 200u);  // reconnects
    EXPECT_EQ(stat(*c, "events_processed"), 1);
}

TEST(Faults, ResetMidBodyCountsTheEventsItProcessed) {
    Sandbox sb({"--fault", "reset_mid_body,on=1", "--fault", "reset_after_headers,on=2"});
    auto c = sb.client();
    const auto body = batch_of(3);
    auto r = post_events(*c, body);
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(r.status, 200u);  // the header arrived, the body did not
    r = post_events(*c, body);
    EXPECT_TRUE(r.ec);
    EXPECT_EQ(post_events(*c, body).status, 200u);
    auto s = stats(*c);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 9);
    EXPECT_EQ(s.at("distinct_event_ids").to_number<std::int64_t>(), 3);
    EXPECT_EQ(s.at("duplicate_events").to_number<std::int64_t>(), 6);
}

TEST(Faults, EventFailMarksOneEvent) {
    Sandbox sb({"--fault", "event_fail:1,on=1"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(3));
    EXPECT_EQ(r.status, 200u);
    auto j = body_json(r);
    EXPECT_EQ(j.at("num_events_received").as_int64(), 3);
    EXPECT_EQ(j.at("num_events_processed").as_int64(), 2);
    EXPECT_EQ(j.at("events").at(0).at("status").as_string(), "processed");
    EXPECT_EQ(j.at("events").at(1).at("status").as_string(), "failed");
    EXPECT_TRUE(j.at("events").at(1).at("error_message").is_string());
    EXPECT_EQ(stat(*c, "events_processed"), 2);
}

TEST(Faults, CloseAfterEveryResponse) {
    Sandbox sb({"--fault", "close"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(1));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_FALSE(c->connected());
    EXPECT_EQ(post_events(*c, batch_of(1, "y")).status, 200u);
    auto s = stats(*c);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 2);
    EXPECT_EQ(s.at("connections_accepted").to_number<std::int64_t>(), 3);  // two events + one stats connection
}

TEST(Faults, HugeBodyIsStoppedByTheClientLimit) {
    Sandbox sb({"--fault", "huge_body"});
    auto o = sb.options();
    o.body_limit = 1024 * 1024;
    Client c(o);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = post_events(c, batch_of(1));
    EXPECT_EQ(r.ec, boost::beast::http::error::body_limit) << r.ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST(Faults, HugeHeadersAreStoppedByTheClientLimit) {
    Sandbox sb({"--fault", "huge_headers"});
    Client c(sb.options());
    auto r = post_events(c, batch_of(1));
    EXPECT_EQ(r.ec, boost::beast::http::error::header_limit) << r.ec.message();
}

TEST(Faults, HangAndTrickleHitTheClientTimeout) {
    Sandbox sb({"--fault", "hang,on=1", "--fault", "trickle,on=2"});
    auto o = sb.options();
    o.timeout = std::chrono::milliseconds(400);
    Client c(o);
    for (int i = 0; i < 2; ++i) {
        auto r = post_events(c, batch_of(1));
        EXPECT_EQ(r.ec, boost::beast::error::timeout) << r.ec.message();
    }
    EXPECT_EQ(post_events(c, batch_of(1)).status, 200u);
}

TEST(Faults, BadBodiesIn200) {
    Sandbox sb({"--fault", "truncated_json,on=1", "--fault", "invalid_json,on=2", "--fault", "wrong_count,on=3"});
    auto c = sb.client();
    for (int i = 0; i < 3; ++i) {
        auto r = post_events(*c, batch_of(3));
        EXPECT_EQ(r.status, 200u);
        boost::system::error_code ec;
        auto v = json::parse(r.body, ec);
        if (i < 2) {
            EXPECT_TRUE(ec) << r.body;
        } else {
            ASSERT_FALSE(ec);
            EXPECT_EQ(v.at("num_events_received").as_int64(), 3);
            EXPECT_EQ(v.at("events").as_array().size(), 2u);
        }
    }
    EXPECT_EQ(stat(*c, "events_processed"), 0);
}

// delay:MS with account=ID selects that account's requests only, and a delayed request is processed
// and answered as any other. (That the answer comes later is what
// Schedule.AnswersArrivingAfterTheRunStoppedStillCount relies on.)
TEST(Faults, DelaySelectsOneAccountsRequestsAndAnswersThemNormally) {
    Sandbox sb({"--ad-account", kAccount, "--ad-account", "111", "--fault", "delay:50,account=111"});
    auto c = sb.client();
    EXPECT_EQ(post_events(*c, batch_of(1, "held-"), kToken, "111").status, 200u);
    EXPECT_EQ(post_events(*c, batch_of(2)).status, 200u);
    const auto s = stats(*c);
    EXPECT_EQ(s.at("events_by_account").at("111").to_number<std::int64_t>(), 1);
    EXPECT_EQ(s.at("events_by_account").at(kAccount).to_number<std::int64_t>(), 2);
    EXPECT_EQ(s.at("faults_by_action").at("delay").to_number<std::int64_t>(), 1) << "only account 111's request";
    std::map<std::string, std::string> fault_by_account;
    const json::value log = json::parse(c->request("GET", "/_sandbox/log").body);
    for (const auto& e : log.as_array())
        if (e.at("endpoint") == "events") {
            const json::value* f = e.as_object().if_contains("fault");
            fault_by_account[json::value_to<std::string>(e.at("account"))] =
                f && f->is_string() ? json::value_to<std::string>(*f) : "";
        }
    EXPECT_EQ(fault_by_account, (std::map<std::string, std::string>{{"111", "delay"}, {kAccount, ""}}));
}

TEST(Faults, BadSpecsAndOptionsExitWith2) {
    for (const std::string args : {"--fault bogus", "--fault status", "--fault status:503,on=0",
                                   "--fault invalid_grant", "--fault delay", "--fault delay:5,target=token",
                                   "--fault status:503,account=", "--port x", "--nope", "--ad-account abc"}) {
        const std::string cmd = std::string(SANDBOX_EXE) + " " + args + " >/dev/null 2>&1";
        const int rc = std::system(cmd.c_str());
        EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 2) << args;
    }
}

// ---------------------------------------------------------------- counters, modes, limits

TEST(Stats, DuplicatesEventIdsAndReset) {
    Sandbox sb;
    auto c = sb.client();
    const auto body = batch_of(3);
    EXPECT_EQ(post_events(*c, body).status, 200u);
    EXPECT_EQ(post_events(*c, body).status, 200u);
    auto s = stats(*c);
    EXPECT_EQ(s.at("events_received").to_number<std::int64_t>(), 6);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 6);
    EXPECT_EQ(s.at("distinct_event_ids").to_number<std::int64_t>(), 3);
    EXPECT_EQ(s.at("duplicate_events").to_number<std::int64_t>(), 3);
    auto ids = c->request("GET", "/_sandbox/event_ids");
    EXPECT_EQ(ids.body, "e0 2\ne1 2\ne2 2\n");
    EXPECT_EQ(c->request("POST", "/_sandbox/reset").status, 200u);
    s = stats(*c);
    EXPECT_EQ(s.at("events_processed").to_number<std::int64_t>(), 0);
    EXPECT_EQ(s.at("distinct_event_ids").to_number<std::int64_t>(), 0);
}

TEST(Stats, ConcurrentRequestsDuringLatencyAreCounted) {
    Sandbox sb({"--latency-ms", "800"});  // long enough for four handshakes on a busy machine
    std::vector<std::thread> threads;
    std::vector<unsigned> status(4);
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            Client c(sb.options());
            status[i] = post_events(c, batch_of(1, "t" + std::to_string(i) + "-")).status;
        });
    for (auto& t : threads) t.join();
    for (auto s : status) EXPECT_EQ(s, 200u);
    auto c = sb.client();
    EXPECT_EQ(stat(*c, "max_concurrent_requests"), 4);
    EXPECT_EQ(stat(*c, "in_flight"), 0);
}

TEST(Modes, FastModeCountsWithoutValidating) {
    Sandbox sb({"--fast"});
    auto c = sb.client();
    auto r = post_events(*c, batch_of(1000));
    EXPECT_EQ(r.status, 200u);
    auto j = body_json(r);
    EXPECT_EQ(j.at("num_events_processed").as_int64(), 1000);
    EXPECT_EQ(j.at("events").as_array().size(), 1000u);
    // No validation: an unknown key passes; auth still applies.
    EXPECT_EQ(post_events(*c, batch({event("z", now(), R"(,"bogus":1)")})).status, 200u);
    EXPECT_EQ(post_events(*c, batch_of(1), "wrong").status, 401u);
    EXPECT_EQ(stat(*c, "events_processed"), 1001);
}

TEST(Modes, RateLimitGives429) {
    Sandbox sb({"--rate-limit", "6"});  // one call per 10 s, bucket of one: no refill during the test
    auto c = sb.client();
    EXPECT_EQ(post_events(*c, batch_of(1)).status, 200u);
    auto r = post_events(*c, batch_of(1));
    EXPECT_EQ(r.status, 429u);
    EXPECT_EQ(body_json(r).at("code").as_int64(), 8);
    EXPECT_EQ(stat(*c, "rate_limited"), 1);
}

TEST(Modes, CaptureDirKeepsBodies) {
    Sandbox sb;
    const std::string dir = sb.dir() + "/capture";
    std::filesystem::create_directory(dir);
    Sandbox cap({"--capture-dir", dir});
    auto c = cap.client();
    const auto body = batch_of(2);
    EXPECT_EQ(post_events(*c, body).status, 200u);
    std::ifstream f(dir + "/000001.json");
    std::stringstream ss;
    ss << f.rdbuf();
    EXPECT_EQ(ss.str(), body);
}

}  // namespace
