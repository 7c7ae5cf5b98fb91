// Kept-alive connections are shared by every HttpsClient of the process with the same destination,
// CA configuration and io_context (support/net/https_client.hpp): a client holds a connection only
// while a request is on it, so the plugin's many mostly idle tenants hold few connections, and a
// tenant that starts delivering reuses one another warmed up. Real TLS against pinterest-sandbox,
// whose count of accepted connections is the ground truth.
#include "sandbox_process.hpp"

#include "net/https_client.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using spnet::HttpResponse;
using spnet::HttpsClient;

const std::string kToken = "connection-pool-test-token-3";

struct Destination {
    explicit Destination(std::vector<std::string> sandbox_args = {})
        : sandbox(SANDBOX_EXE, kToken, std::move(sandbox_args)) {}

    sandbox_test::Sandbox sandbox;

    // The sandbox's address, as the plugin would be configured with it (https://HOST:PORT).
    spnet::ClientOptions options(const std::string &host = "") const {
        const std::string rest = sandbox.url().substr(sandbox.url().find("://") + 3);
        spnet::ClientOptions o;
        o.host = host.empty() ? rest.substr(0, rest.rfind(':')) : host;
        o.port = rest.substr(rest.rfind(':') + 1);
        o.ca_file = sandbox.ca_file();
        o.step_timeout = std::chrono::seconds(10);
        return o;
    }

    json::object stats() const {
        return json::parse(sandbox.client()->request("GET", "/_sandbox/stats").body).as_object();
    }

    // Closes the client ended with a close_notify, as the sandbox counted them. Synchronous: the
    // sandbox serves every connection on its one thread, in the order the kernel reports them. The
    // close_notify and FIN are in its socket before this question's connection sends its SYN, and
    // reading them takes one turn of that thread; answering takes a TLS handshake first, several.
    int64_t closes_with_close_notify() const {
        return stats().at("client_closes_with_close_notify").to_number<int64_t>();
    }

    int64_t connections_accepted() const {
        // The test client's own connection for this question is counted too: not ours.
        return stats().at("connections_accepted").to_number<int64_t>() - 1;
    }
};

// Sends `n` requests at once, one per slot, and runs `ioc` until all are answered.
std::vector<HttpResponse> send_at_once(boost::asio::io_context &ioc, HttpsClient &client, size_t n) {
    std::vector<HttpResponse> answers(n);
    const std::string authorization = "Bearer " + kToken;
    for (size_t i = 0; i < n; ++i) {
        HttpsClient::Request r;
        r.target = "/_sandbox/stats";
        r.authorization = authorization;
        client.request(i, r, [&answers, i](HttpResponse got) { answers[i] = std::move(got); });
    }
    ioc.restart();
    ioc.run();
    return answers;
}

void expect_answered(const std::vector<HttpResponse> &answers) {
    for (const auto &a : answers) {
        EXPECT_EQ(a.error, spnet::NetError::none) << a.error_detail;
        EXPECT_EQ(a.status, 200u);
    }
}

class ConnectionPool : public ::testing::Test {
protected:
    // Sends `n` requests at once on `client` and says how many connections it has opened in all.
    size_t opened_after_sending(HttpsClient &client, size_t n, boost::asio::io_context *on = nullptr) {
        expect_answered(send_at_once(on ? *on : ioc, client, n));
        return client.connections_opened();
    }

    Destination d;
    boost::asio::io_context ioc;
};

}  // namespace

TEST_F(ConnectionPool, AClientThatStartsSendingReusesTheConnectionsAnotherWarmedUp) {
    HttpsClient first(ioc, d.options(), 2);
    EXPECT_EQ(opened_after_sending(first, 2), 2u);
    // The first client is idle and holds nothing: the second takes both of its connections.
    HttpsClient second(ioc, d.options(), 2);
    EXPECT_EQ(opened_after_sending(second, 2), 0u);
    // And the first, sending again, finds them back in the pool.
    EXPECT_EQ(opened_after_sending(first, 1), 2u);
    EXPECT_EQ(d.connections_accepted(), 2);
}

TEST_F(ConnectionPool, AnotherCaConfigurationOrHostNameNeverGetsTheConnection) {
    HttpsClient first(ioc, d.options(), 1);
    EXPECT_EQ(opened_after_sending(first, 1), 1u);

    // The same CA under another path is another trust configuration: the connection was verified
    // under the first one's, so it is not handed to a client that trusts something else.
    const fs::path copy = fs::path(d.sandbox.dir()) / "same-ca-elsewhere.pem";
    fs::copy_file(d.sandbox.ca_file(), copy);
    spnet::ClientOptions other_ca = d.options();
    other_ca.ca_file = copy.string();
    HttpsClient trusting_another(ioc, other_ca, 1);
    EXPECT_EQ(opened_after_sending(trusting_another, 1), 1u);

    // Another name for the same server is another destination (SNI and the certificate check).
    HttpsClient by_another_name(ioc, d.options(d.options().host == "localhost" ? "127.0.0.1" : "localhost"), 1);
    EXPECT_EQ(opened_after_sending(by_another_name, 1), 1u);

    // Another io_context is another I/O thread: its connections are its own.
    boost::asio::io_context other_thread;
    HttpsClient elsewhere(other_thread, d.options(), 1);
    EXPECT_EQ(opened_after_sending(elsewhere, 1, &other_thread), 1u);
    EXPECT_EQ(d.connections_accepted(), 4);
}

TEST_F(ConnectionPool, KeepsAtMostItsLimitAndNoneOlderThanItsAge) {
    spnet::ClientOptions one_idle = d.options();
    one_idle.max_idle_connections = 1;
    HttpsClient first(ioc, one_idle, 3), second(ioc, one_idle, 3);
    EXPECT_EQ(opened_after_sending(first, 3), 3u);
    EXPECT_EQ(opened_after_sending(second, 3), 2u);  // one kept, two closed

    // An age of 0: every connection given back is too old to reuse.
    spnet::ClientOptions no_age = d.options();
    no_age.max_idle_age = std::chrono::milliseconds(0);
    HttpsClient aging(ioc, no_age, 1);
    EXPECT_EQ(opened_after_sending(aging, 1), 1u);
    EXPECT_EQ(opened_after_sending(aging, 1), 2u);

    // Keeping none: each request opens its own.
    spnet::ClientOptions none = d.options();
    none.max_idle_connections = 0;
    HttpsClient keeping_none(ioc, none, 1);
    EXPECT_EQ(opened_after_sending(keeping_none, 1), 1u);
    EXPECT_EQ(opened_after_sending(keeping_none, 1), 2u);
    EXPECT_EQ(d.connections_accepted(), 3 + 2 + 2 + 2);
}

// Two requests, each of one event, one after the other on slot 0 of one client, against a
// sandbox with `fault` on the first: what each got, and the connections and events counted.
struct TwoInARow {
    std::vector<HttpResponse> answers;
    size_t opened = 0;                      // by the client
    int64_t accepted = 0, processed = 0;    // by the sandbox
};

TwoInARow two_in_a_row(const std::string &fault) {
    Destination d({"--fault", fault + ",on=1"});
    boost::asio::io_context ioc;
    HttpsClient client(ioc, d.options(), 1);
    const std::string hash(64, 'a');
    const std::string authorization = "Bearer " + kToken;
    TwoInARow out;
    for (const char *id : {"first", "second"}) {
        const std::string body =
            std::string(R"({"data":[{"event_name":"checkout","action_source":"web","event_time":)") +
            std::to_string(std::time(nullptr)) + R"(,"event_id":")" + id + R"(","user_data":{"em":[")" + hash +
            R"("]}}]})";
        HttpsClient::Request r;
        r.method = "POST";
        r.target = "/v5/ad_accounts/549755885175/events";
        r.authorization = authorization;
        r.content_type = "application/json";
        r.body = body;
        client.request(0, r, [&out](HttpResponse got) { out.answers.push_back(std::move(got)); });
        ioc.restart();
        ioc.run();
    }
    out.opened = client.connections_opened();
    out.accepted = d.connections_accepted();
    out.processed = d.stats().at("events_processed").to_number<int64_t>();
    return out;
}

// Whoever ends a sound connection between requests, here the pool as its last client goes, tells
// the server with a TLS close_notify first, as RFC 8446 section 6.1 asks of the closing party:
// the server then sees an orderly end, not a truncated stream.
TEST(ConnectionPoolClose, ConnectionsClosedBetweenRequestsEndWithACloseNotify) {
    Destination d;
    {
        boost::asio::io_context ioc;
        HttpsClient client(ioc, d.options(), 2);
        expect_answered(send_at_once(ioc, client, 2));
        EXPECT_EQ(d.closes_with_close_notify(), 0) << "while pooled";
    }
    EXPECT_EQ(d.closes_with_close_notify(), 2);
}

// With close_idle_on_time (the plugin's setting: its I/O threads keep running), a connection that
// has waited max_idle_age is closed then, with a close_notify, though the pool is not used again.
TEST(ConnectionPoolClose, AConnectionIdleForItsAgeIsClosedOnTimeWhenAsked) {
    Destination d;
    boost::asio::io_context ioc;
    spnet::ClientOptions o = d.options();
    o.close_idle_on_time = true;
    o.max_idle_age = std::chrono::milliseconds(50);
    HttpsClient client(ioc, o, 1);
    expect_answered(send_at_once(ioc, client, 1));  // run() returns once nothing is left to wait for
    EXPECT_EQ(d.closes_with_close_notify(), 1) << "still parked, the client alive";
    expect_answered(send_at_once(ioc, client, 1));
    EXPECT_EQ(client.connections_opened(), 2u);
}

// A server closes a kept-alive connection it found idle too long (Pinterest's edge does), without
// a TLS close_notify, and the client learns it only when it sends the next request on it. That
// request goes again once, on a new connection, and reaches the server once.
TEST(ConnectionPoolReuse, AConnectionTheServerDroppedWhileParkedIsReopenedAndTheRequestArrivesOnce) {
    const TwoInARow got = two_in_a_row("drop_idle");
    ASSERT_EQ(got.answers.size(), 2u);
    expect_answered(got.answers);
    EXPECT_EQ(got.opened, 2u);  // the dropped one, then one for the second request
    EXPECT_EQ(got.accepted, 2);
    EXPECT_EQ(got.processed, 2);  // neither request twice
}

// A server sends bytes after a complete response: a TLS record of their own, which arrives with
// the response in one socket read and so waits in the TLS layer, not in the HTTP parser. The
// connection is closed, not parked: the next request on it, perhaps another tenant's, would take
// those bytes (here a 200 with an empty body) for its answer.
TEST(ConnectionPoolReuse, AConnectionWithBytesAfterItsResponseIsClosedInsteadOfReused) {
    const TwoInARow got = two_in_a_row("stray_record");
    ASSERT_EQ(got.answers.size(), 2u);
    expect_answered(got.answers);
    for (const auto &a : got.answers)  // each the sandbox's answer to its own request, not the stray "{}"
        EXPECT_NE(a.body.find(R"("num_events_received":1)"), std::string::npos) << a.body;
    EXPECT_EQ(got.opened, 2u);
    EXPECT_EQ(got.accepted, 2);
    EXPECT_EQ(got.processed, 2);
}
