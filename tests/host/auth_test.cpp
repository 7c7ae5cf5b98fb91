// synchost's auth against a real pinterest-sandbox over TLS: the connect flow driven without a
// human (the test plays the browser: it GETs the authorize URL from the sandbox and follows the 302
// to the loopback listener), the credentials file's safety rules, and the token service's refresh
// semantics (expiry, single flight, rotation persisted first, invalid_grant, server errors).
// Every failure message is checked against canary secrets.
#include "auth/connect_flow.hpp"
#include "auth/credentials.hpp"
#include "auth/token_service.hpp"
#include "cli/commands.hpp"
#include "exit_codes.hpp"
#include "source_test_support.hpp"

#include <sandbox_process.hpp>

#include <gmock/gmock.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <sys/stat.h>
#include <future>
#include <latch>
#include <set>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
namespace auth = synchost::auth;
using sandbox_test::Sandbox;
using synchost::CliError;
using synchost::TokenService;
using testing::HasSubstr;

constexpr char kPlugin[] = "pinterest_conversions";
constexpr char kClientId[] = "sandbox-client";
// Canaries: must never show up in any message.
constexpr char kClientSecret[] = "canary-client-secret-5e1f";
constexpr char kStaticToken[] = "canary-static-token-90ab";

std::unique_ptr<Sandbox> start_sandbox(std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--client-secret", kClientSecret});
    return std::make_unique<Sandbox>(SANDBOX_EXE, kStaticToken, extra);
}

struct HttpReply {
    unsigned status = 0;
    std::string location;
    std::string body;
};

// One plain-HTTP GET (the loopback listener speaks no TLS), every step bounded by a timeout.
HttpReply http_get(const std::string &url) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    auto u = boost::urls::parse_absolute_uri(url);
    if (!u) throw std::runtime_error("bad URL " + url);
    boost::asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    boost::asio::ip::tcp::resolver resolver(ioc);
    stream.connect(resolver.resolve(std::string(u->host()), std::string(u->port())));
    http::request<http::empty_body> req(http::verb::get, u->encoded_resource(), 11);
    req.set(http::field::host, u->encoded_host_and_port());
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return {res.result_int(), std::string(res[http::field::location]), res.body()};
}

// What a browser does with the authorize URL: the sandbox auto-approves with a 302 to the loopback
// listener, which is followed.
HttpReply approve(const Sandbox &sb, const std::string &authorize_url) {
    EXPECT_EQ(authorize_url.rfind(sb.url() + "/oauth/?", 0), 0u) << authorize_url;
    auto r = sb.client()->request("GET", authorize_url.substr(sb.url().size()));
    EXPECT_EQ(r.status, 302u) << r.body;
    return http_get(r.header("location"));
}

std::string param_of(const std::string &url, const std::string &key) {
    auto u = boost::urls::parse_absolute_uri(url);
    auto it = u->params().find(key);
    return it == u->params().end() ? std::string() : std::string((*it).value);
}

int64_t token_requests(const Sandbox &sb, const char *grant) {
    auto r = sb.client()->request("GET", "/_sandbox/stats");
    const json::value v = json::parse(r.body);
    if (grant == nullptr) return v.at("token_refreshes").to_number<int64_t>();
    const json::value *n = v.at("token_requests").as_object().if_contains(grant);
    return n ? n->to_number<int64_t>() : 0;
}

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class AuthTest : public testing::Test {
protected:
    source_test::TempDir dir;
    const fs::path file = dir.file("state") / "credentials.json";  // the directory is created too
    std::set<std::string> secrets{kClientSecret, kStaticToken};

    auth::ConnectSettings settings(const Sandbox &sb, const std::string &name) const {
        auth::ConnectSettings s;
        s.plugin_id = kPlugin;
        s.name = name;
        s.credentials_file = file;
        s.authorize_url = sb.url() + "/oauth/";
        s.token_url = sb.url() + "/v5/oauth/token";
        s.scopes = {"ads:write", "ads:read"};
        s.scope_separator = ",";
        s.client_id = kClientId;
        s.client_secret = auth::Secret(std::string(kClientSecret));
        // A copy: the sandbox deletes its own directory when it stops.
        s.ca_file = dir.file("ca.pem").string();
        fs::copy_file(sb.ca_file(), s.ca_file, fs::copy_options::overwrite_existing);
        s.timeout = std::chrono::seconds(20);
        return s;
    }

    // The whole connect flow: finish() waits in a thread while the test plays the browser.
    auth::Connection connect(const Sandbox &sb, const std::string &name) {
        auth::ConnectFlow flow(settings(sb, name));
        auto done = std::async(std::launch::async, [&] { return flow.finish(); });
        const HttpReply page = approve(sb, flow.authorize_url());
        EXPECT_EQ(page.status, 200u);
        EXPECT_THAT(page.body, HasSubstr("Connected. You can close this window."));
        auth::Connection c = done.get();
        remember_secrets();
        return c;
    }

    json::object stored(const std::string &name) const {
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        return json::parse(ss.str()).at("connections").at(name).as_object();
    }
    std::string stored_str(const std::string &name, const char *key) const {
        return std::string(stored(name).at(key).as_string());
    }

    // Every token ever stored joins the canaries.
    void remember_secrets() {
        std::ifstream in(file);
        std::stringstream ss;
        ss << in.rdbuf();
        const json::value doc = json::parse(ss.str());
        for (const auto &kv : doc.at("connections").as_object())
            for (const char *key : {"access_token", "refresh_token", "client_secret"})
                if (const json::value *v = kv.value().as_object().if_contains(key)) secrets.emplace(v->as_string());
    }
    void expect_no_secret(const std::string &message) const {
        for (const auto &s : secrets) EXPECT_THAT(message, testing::Not(HasSubstr(s))) << "a secret leaked";
    }

    // The CliError a callable throws (fails the test when it throws none).
    template <class F>
    CliError error_of(F &&f) {
        try {
            f();
        } catch (const CliError &e) {
            expect_no_secret(e.what());
            return e;
        }
        ADD_FAILURE() << "no CliError thrown";
        return CliError(-1, "");
    }

    void expect_get(TokenService &svc, bool force, const char *rejected, sp_credential_status want, std::string &token,
                    std::string &message) {
        token.clear();
        message.clear();
        EXPECT_EQ(svc.get(force, rejected, token, message), want) << message;
        remember_secrets();
        expect_no_secret(message);
    }
};

// ---------------------------------------------------------------------------------------------
// synchost connect

TEST_F(AuthTest, ConnectEndToEndStoresTokensInAPrivateFile) {
    auto sb = start_sandbox();
    const mode_t old_umask = ::umask(0277);  // the file and directory must not depend on it
    auth::ConnectFlow flow(settings(*sb, "prod"));
    const std::string url = flow.authorize_url();
    EXPECT_EQ(param_of(url, "client_id"), kClientId);
    EXPECT_EQ(param_of(url, "redirect_uri"), flow.redirect_uri());
    EXPECT_EQ(param_of(url, "response_type"), "code");
    EXPECT_EQ(param_of(url, "scope"), "ads:write,ads:read");
    EXPECT_THAT(url, HasSubstr("&redirect_uri=http%3A%2F%2F127.0.0.1%3A"));
    EXPECT_THAT(url, HasSubstr("&scope=ads%3Awrite%2Cads%3Aread&"));
    EXPECT_THAT(param_of(url, "state"), testing::MatchesRegex("[0-9a-f]{32}"));

    auto done = std::async(std::launch::async, [&] { return flow.finish(); });
    EXPECT_EQ(approve(*sb, url).status, 200u);
    const auth::Connection c = done.get();
    ::umask(old_umask);
    remember_secrets();

    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat(file.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    const json::object o = stored("prod");
    EXPECT_EQ(o.at("plugin").as_string(), kPlugin);
    EXPECT_EQ(o.at("kind").as_string(), "oauth2");
    EXPECT_EQ(o.at("client_id").as_string(), kClientId);
    EXPECT_EQ(o.at("client_secret").as_string(), kClientSecret);
    EXPECT_EQ(o.at("token_url").as_string(), sb->url() + "/v5/oauth/token");
    EXPECT_EQ(o.at("ca_file").as_string(), dir.file("ca.pem").string());
    EXPECT_EQ(json::serialize(o.at("scopes")), R"(["ads:read","ads:write"])");
    EXPECT_EQ(o.at("access_token").as_string(), c.access_token.str());
    EXPECT_FALSE(o.at("access_token").as_string().empty());
    EXPECT_FALSE(o.at("refresh_token").as_string().empty());
    EXPECT_NEAR(static_cast<double>(o.at("expires_at").as_int64()), static_cast<double>(now_s() + 2592000), 30);
    EXPECT_GT(o.at("refresh_token_expires_at").as_int64(), now_s());
    EXPECT_EQ(token_requests(*sb, "authorization_code"), 1);
    // No temp file left behind.
    for (const auto &e : fs::directory_iterator(file.parent_path()))
        EXPECT_THAT(e.path().filename().string(), testing::Not(HasSubstr(".tmp.")));
}

TEST_F(AuthTest, RedirectWithWrongMissingOrRepeatedStateIsRefused) {
    auto sb = start_sandbox();
    for (const std::string query : {"code=abc&state=0123456789abcdef0123456789abcdef", "code=abc", "RIGHT"}) {
        auth::ConnectFlow flow(settings(*sb, "prod"));
        const std::string state = param_of(flow.authorize_url(), "state");
        auto done = std::async(std::launch::async, [&] { return flow.finish(); });
        const std::string q = query == "RIGHT" ? "code=abc&state=" + state + "&state=" + state : query;
        const HttpReply r = http_get(flow.redirect_uri() + "?" + q);
        EXPECT_EQ(r.status, 400u) << q;
        EXPECT_THAT(r.body, HasSubstr("wrong or missing state"));
        const CliError e = error_of([&] { done.get(); });
        EXPECT_EQ(e.code(), synchost::kExitAuth);
        EXPECT_THAT(e.what(), HasSubstr("state parameter is missing or wrong"));
    }
    EXPECT_FALSE(fs::exists(file));
    EXPECT_EQ(token_requests(*sb, "authorization_code"), 0);
}

TEST_F(AuthTest, OtherPathsGet404AndWaitingGoesOn) {
    auto sb = start_sandbox();
    auth::ConnectFlow flow(settings(*sb, "prod"));
    auto done = std::async(std::launch::async, [&] { return flow.finish(); });
    const std::string base =
        flow.redirect_uri().substr(0, flow.redirect_uri().size() - std::string("/callback").size());
    EXPECT_EQ(http_get(base + "/favicon.ico").status, 404u);
    EXPECT_EQ(approve(*sb, flow.authorize_url()).status, 200u);
    EXPECT_FALSE(done.get().access_token.empty());
}

TEST_F(AuthTest, ProviderErrorFailsWithItsWords) {
    auto sb = start_sandbox();
    auth::ConnectFlow flow(settings(*sb, "prod"));
    const std::string state = param_of(flow.authorize_url(), "state");
    auto done = std::async(std::launch::async, [&] { return flow.finish(); });
    const HttpReply r =
        http_get(flow.redirect_uri() + "?error=access_denied&error_description=The+user+said+no&state=" + state);
    EXPECT_EQ(r.status, 400u);
    const CliError e = error_of([&] { done.get(); });
    EXPECT_EQ(e.code(), synchost::kExitAuth);
    EXPECT_STREQ(e.what(), "authorization was not granted: access_denied (The user said no)");
    EXPECT_FALSE(fs::exists(file));
}

TEST_F(AuthTest, ConnectTimesOutAsTransient) {
    auto sb = start_sandbox();
    auto s = settings(*sb, "prod");
    s.timeout = std::chrono::seconds(1);
    auth::ConnectFlow flow(std::move(s));
    const CliError e = error_of([&] { flow.finish(); });
    EXPECT_EQ(e.code(), synchost::kExitTransient);
    EXPECT_THAT(e.what(), HasSubstr("timed out after 1 s"));
}

TEST_F(AuthTest, WrongClientSecretExitsAuthWithoutEchoingIt) {
    auto sb = start_sandbox();
    auto s = settings(*sb, "prod");
    s.client_secret = auth::Secret(std::string("canary-wrong-secret-3344"));
    secrets.insert("canary-wrong-secret-3344");
    auth::ConnectFlow flow(std::move(s));
    auto done = std::async(std::launch::async, [&] { return flow.finish(); });
    EXPECT_EQ(approve(*sb, flow.authorize_url()).status, 502u);
    const CliError e = error_of([&] { done.get(); });
    EXPECT_EQ(e.code(), synchost::kExitAuth);
    EXPECT_THAT(e.what(), HasSubstr("invalid_client"));
    EXPECT_FALSE(fs::exists(file));
}

TEST_F(AuthTest, TokenEndpointDownDuringConnectIsTransient) {
    auto sb = start_sandbox({"--fault", "status:503,target=token"});
    auth::ConnectFlow flow(settings(*sb, "prod"));
    auto done = std::async(std::launch::async, [&] { return flow.finish(); });
    EXPECT_EQ(approve(*sb, flow.authorize_url()).status, 502u);
    const CliError e = error_of([&] { done.get(); });
    EXPECT_EQ(e.code(), synchost::kExitTransient);
    EXPECT_THAT(e.what(), HasSubstr("HTTP 503"));
}

TEST_F(AuthTest, ConnectCommandChecksItsFlagsFirst) {
    using synchost::cmd_connect;
    ::setenv("SYNCHOST_CREDENTIALS", file.c_str(), 1);
    ::unsetenv("AUTH_TEST_SECRET");
    auto code = [&](const synchost::Argv &argv) { return error_of([&] { cmd_connect(argv); }).code(); };
    EXPECT_EQ(code({kPlugin}), synchost::kExitConfig);                                         // no --name
    EXPECT_EQ(code({kPlugin, "--name", "../x"}), synchost::kExitConfig);                       // not a plain name
    EXPECT_EQ(code({kPlugin, "--name", "p"}), synchost::kExitConfig);                          // no --client-id
    EXPECT_EQ(code({kPlugin, "--name", "p", "--client-secret", "s"}), synchost::kExitConfig);  // no such flag
    const CliError e = error_of([&] {
        cmd_connect({kPlugin, "--name", "p", "--client-id", "c", "--client-secret-env", "AUTH_TEST_SECRET"});
    });
    EXPECT_THAT(e.what(), HasSubstr("environment variable AUTH_TEST_SECRET"));
    EXPECT_EQ(code({kPlugin, "--name", "p", "--token-env", "V", "--client-id", "c"}), synchost::kExitConfig);
    ::unsetenv("SYNCHOST_CREDENTIALS");
    EXPECT_FALSE(fs::exists(file));
}

// ---------------------------------------------------------------------------------------------
// Token service

TEST_F(AuthTest, ValidTokenIsReturnedWithoutANetworkCall) {
    auto sb = start_sandbox();
    const auth::Connection c = connect(*sb, "prod");
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, false, nullptr, SP_CRED_OK, token, message);
    EXPECT_EQ(token, c.access_token.str());
    // A rejected token that is no longer current: the current one, still no refresh.
    expect_get(*svc, true, "some-older-token", SP_CRED_OK, token, message);
    EXPECT_EQ(token, c.access_token.str());
    EXPECT_EQ(token_requests(*sb, "refresh_token"), 0);
}

TEST_F(AuthTest, ShortLivedTokenIsRefreshedAndTheRotationIsSavedFirst) {
    auto sb = start_sandbox({"--access-token-ttl", "1"});  // always inside the 60 s margin
    const auth::Connection c = connect(*sb, "prod");
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, false, nullptr, SP_CRED_OK, token, message);
    EXPECT_NE(token, c.access_token.str());
    EXPECT_EQ(token_requests(*sb, nullptr), 1);
    // On disk by the time get() returned: the new access token and the rotated refresh token.
    EXPECT_EQ(stored_str("prod", "access_token"), token);
    EXPECT_NE(stored_str("prod", "refresh_token"), c.refresh_token.str());
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(AuthTest, ExpiredStoredTokenIsRefreshed) {
    auto sb = start_sandbox();
    auth::Connection c = connect(*sb, "prod");
    c.expires_at = now_s() - 10;
    auth::save_connection(file, "prod", c);
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, false, nullptr, SP_CRED_OK, token, message);
    EXPECT_NE(token, c.access_token.str());
    EXPECT_EQ(token_requests(*sb, nullptr), 1);
    EXPECT_GT(stored(("prod")).at("expires_at").as_int64(), now_s() + 1000);
}

TEST_F(AuthTest, EightThreadsRejectingTheSameTokenCauseOneRefresh) {
    auto sb = start_sandbox();
    const auth::Connection c = connect(*sb, "prod");
    auto svc = TokenService::open(file, "prod", kPlugin);
    const std::string old = c.access_token.str();
    constexpr int kThreads = 8;
    std::latch start(kThreads);
    std::vector<std::string> tokens(kThreads);
    std::vector<sp_credential_status> statuses(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
        threads.emplace_back([&, i] {
            std::string message;
            start.arrive_and_wait();
            statuses[i] = svc->get(true, old.c_str(), tokens[i], message);
        });
    for (auto &t : threads) t.join();
    remember_secrets();
    for (int i = 0; i < kThreads; ++i) {
        EXPECT_EQ(statuses[i], SP_CRED_OK);
        EXPECT_EQ(tokens[i], tokens[0]);
    }
    EXPECT_NE(tokens[0], old);
    EXPECT_EQ(token_requests(*sb, nullptr), 1);
    EXPECT_EQ(stored_str("prod", "access_token"), tokens[0]);
}

TEST_F(AuthTest, AnotherProcessRefreshIsAdoptedNotRepeated) {
    auto sb = start_sandbox();
    const auth::Connection c = connect(*sb, "prod");
    // Two services on one file stand for two synchost processes sharing the connection.
    auto a = TokenService::open(file, "prod", kPlugin);
    auto b = TokenService::open(file, "prod", kPlugin);
    std::string ta, tb, message;
    expect_get(*a, true, c.access_token.str().c_str(), SP_CRED_OK, ta, message);
    // b still holds the spent refresh token; it finds a's tokens in the file instead of failing.
    expect_get(*b, true, c.access_token.str().c_str(), SP_CRED_OK, tb, message);
    EXPECT_EQ(tb, ta);
    EXPECT_EQ(token_requests(*sb, nullptr), 1);
}

TEST_F(AuthTest, RefusedRefreshTokenRequiresReconnecting) {
    auto sb = start_sandbox();
    const auth::Connection c = connect(*sb, "prod");
    auto first = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*first, true, nullptr, SP_CRED_OK, token, message);  // rotates the refresh token
    auth::save_connection(file, "prod", c);                         // a backup with the spent one
    auto svc = TokenService::open(file, "prod", kPlugin);
    expect_get(*svc, true, c.access_token.str().c_str(), SP_CRED_REAUTH_REQUIRED, token, message);
    EXPECT_EQ(
        message,
        "the refresh token was refused (invalid_grant): reconnect: synchost connect pinterest_conversions --name prod");
}

TEST_F(AuthTest, InjectedInvalidGrantRequiresReconnecting) {
    auto sb = start_sandbox({"--fault", "invalid_grant,target=token,on=2"});  // 1 is the code exchange
    connect(*sb, "prod");
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, true, nullptr, SP_CRED_REAUTH_REQUIRED, token, message);
    EXPECT_THAT(message, HasSubstr("(invalid_grant): reconnect: synchost connect pinterest_conversions --name prod"));
}

TEST_F(AuthTest, ServerErrorIsTransientAndTheNextCallRecovers) {
    auto sb = start_sandbox({"--fault", "status:503,target=token,on=2"});
    const auth::Connection c = connect(*sb, "prod");
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, true, c.access_token.str().c_str(), SP_CRED_TRANSIENT, token, message);
    EXPECT_THAT(message, HasSubstr("HTTP 503"));
    EXPECT_EQ(stored_str("prod", "refresh_token"), c.refresh_token.str());  // nothing was spent
    expect_get(*svc, true, c.access_token.str().c_str(), SP_CRED_OK, token, message);
    EXPECT_NE(token, c.access_token.str());
}

// A token endpoint that never answers holds the refresh for the connection's deadline, not for a
// step timeout per step: the failure is transient and names the deadline it ran into.
TEST_F(AuthTest, AHangingTokenEndpointFailsAtTheConnectionsDeadline) {
    auto sb = start_sandbox({"--fault", "hang,target=token,on=2"});  // 1 is the code exchange
    const auth::Connection c = connect(*sb, "prod");
    auth::Connection with_deadline = c;
    with_deadline.token_timeout_seconds = 1;
    auth::save_connection(file, "prod", with_deadline);
    EXPECT_EQ(stored("prod").at("token_timeout_seconds").as_int64(), 1);
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, true, c.access_token.str().c_str(), SP_CRED_TRANSIENT, token, message);
    EXPECT_THAT(message, HasSubstr("no complete answer within 1 s (token_timeout_seconds of the connection)"));
    EXPECT_EQ(stored_str("prod", "refresh_token"), c.refresh_token.str());  // nothing was spent

    with_deadline.token_timeout_seconds = 301;
    auth::save_connection(file, "prod", with_deadline);
    const CliError e = error_of([&] { TokenService::open(file, "prod", kPlugin); });
    EXPECT_EQ(e.code(), synchost::kExitConfig);
    EXPECT_THAT(e.what(), HasSubstr("\"token_timeout_seconds\" must be 1 to 300 seconds"));
}

TEST_F(AuthTest, UnreachableTokenEndpointIsTransient) {
    auto sb = start_sandbox();
    const auth::Connection c = connect(*sb, "prod");
    sb.reset();  // nothing listens on its port any more
    auto svc = TokenService::open(file, "prod", kPlugin);
    std::string token, message;
    expect_get(*svc, true, c.access_token.str().c_str(), SP_CRED_TRANSIENT, token, message);
    EXPECT_THAT(message, HasSubstr("connection failed"));
}

TEST_F(AuthTest, UpdatingOneConnectionKeepsTheOthers) {
    auto sb = start_sandbox();
    connect(*sb, "a");
    connect(*sb, "b");
    const json::object b_before = stored("b");
    auto svc = TokenService::open(file, "a", kPlugin);
    std::string token, message;
    expect_get(*svc, true, nullptr, SP_CRED_OK, token, message);
    EXPECT_EQ(stored_str("a", "access_token"), token);
    EXPECT_EQ(stored("b"), b_before);
}

// ---------------------------------------------------------------------------------------------
// Credentials file rules and static tokens (no sandbox needed)

TEST_F(AuthTest, FileReadableByOthersIsRefusedWithTheFix) {
    auth::Connection c;
    c.kind = auth::ConnectionKind::static_token;
    c.plugin = kPlugin;
    c.token_env = "AUTH_TEST_TOKEN";
    auth::save_connection(file, "prod", c);
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    const CliError e = error_of([&] { TokenService::open(file, "prod", kPlugin); });
    EXPECT_EQ(e.code(), synchost::kExitConfig);
    EXPECT_EQ(std::string(e.what()), file.string() + " is readable by others (mode 0644): chmod 600 " + file.string());
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    EXPECT_NO_THROW(TokenService::open(file, "prod", kPlugin));
}

TEST_F(AuthTest, MissingConnectionMalformedFileAndWrongPlugin) {
    CliError e = error_of([&] { TokenService::open(file, "prod", kPlugin); });
    EXPECT_EQ(e.code(), synchost::kExitAuth);
    EXPECT_EQ(std::string(e.what()), "no connection named prod in " + file.string() +
                                         ": run synchost connect pinterest_conversions --name prod");
    auth::Connection c;
    c.kind = auth::ConnectionKind::static_token;
    c.plugin = "other_plugin";
    c.token_env = "AUTH_TEST_TOKEN";
    auth::save_connection(file, "prod", c);
    e = error_of([&] { TokenService::open(file, "prod", kPlugin); });
    EXPECT_EQ(e.code(), synchost::kExitConfig);
    EXPECT_THAT(e.what(), HasSubstr("is for plugin other_plugin, not pinterest_conversions"));
    e = error_of([&] { TokenService::open(file, "prd", "other_plugin"); });
    EXPECT_THAT(e.what(), HasSubstr("(did you mean \"prod\"?)"));

    std::ofstream(file) << R"({"connections": {"prod": {"plugin": "x", "access_token": )";
    e = error_of([&] { TokenService::open(file, "prod", "x"); });
    EXPECT_EQ(e.code(), synchost::kExitConfig);
    EXPECT_THAT(e.what(), HasSubstr("is not a valid credentials file"));
}

TEST_F(AuthTest, StaticTokenComesFromTheEnvironmentAtEachCall) {
    ::unsetenv("AUTH_TEST_TOKEN");
    auth::Connection c;
    c.kind = auth::ConnectionKind::static_token;
    c.plugin = kPlugin;
    c.token_env = "AUTH_TEST_TOKEN";
    auth::save_connection(file, "manual", c);
    EXPECT_THAT(stored("manual"), testing::SizeIs(3));  // plugin, kind, token_env: never the token
    auto svc = TokenService::open(file, "manual", kPlugin);
    std::string token, message;
    expect_get(*svc, false, nullptr, SP_CRED_NONE, token, message);
    EXPECT_EQ(message, "environment variable AUTH_TEST_TOKEN is not set");
    ::setenv("AUTH_TEST_TOKEN", kStaticToken, 1);
    expect_get(*svc, false, nullptr, SP_CRED_OK, token, message);
    EXPECT_EQ(token, kStaticToken);
    expect_get(*svc, true, "an-older-token", SP_CRED_OK, token, message);
    expect_get(*svc, true, kStaticToken, SP_CRED_REAUTH_REQUIRED, token, message);
    EXPECT_EQ(message, "the static token in AUTH_TEST_TOKEN was rejected: generate a new conversion access token");
    ::setenv("AUTH_TEST_TOKEN", "canary-replaced-token", 1);
    expect_get(*TokenService::from_env("AUTH_TEST_TOKEN"), false, nullptr, SP_CRED_OK, token, message);
    EXPECT_EQ(token, "canary-replaced-token");
    ::unsetenv("AUTH_TEST_TOKEN");
}

// A token holding CR/LF would put a second header line into every request (header injection):
// it is refused wherever it comes from, and never handed to the plugin.
TEST_F(AuthTest, ATokenWithALineBreakIsRefusedNotSent) {
    for (const char *bad : {"zq7canary\r\nX-Injected: x", "zq7canary en", "zq7canary\x1b[2J"}) {
        ::setenv("AUTH_TEST_TOKEN", bad, 1);
        std::string token, message;
        EXPECT_EQ(TokenService::from_env("AUTH_TEST_TOKEN")->get(false, nullptr, token, message),
                  SP_CRED_REAUTH_REQUIRED);
        EXPECT_TRUE(token.empty());
        EXPECT_THAT(message, testing::Not(HasSubstr("zq7canary"))) << "the token leaked";
        EXPECT_THAT(message, HasSubstr("AUTH_TEST_TOKEN holds a control character, space or non-ASCII byte"));
    }
    ::unsetenv("AUTH_TEST_TOKEN");
    EXPECT_TRUE(auth::fits_a_header("pina_AbC-123._~+/="));
    EXPECT_FALSE(auth::fits_a_header("a\nb"));
    EXPECT_FALSE(auth::fits_a_header("caf\xc3\xa9"));
}

TEST_F(AuthTest, CredentialsPathHonoursTheEnvironment) {
    ::unsetenv("SYNCHOST_CREDENTIALS");
    EXPECT_EQ(synchost::credentials_path("/var/lib/x"), fs::path("/var/lib/x/credentials.json"));
    ::setenv("SYNCHOST_CREDENTIALS", "/elsewhere/c.json", 1);
    EXPECT_EQ(synchost::credentials_path("/var/lib/x"), fs::path("/elsewhere/c.json"));
    ::unsetenv("SYNCHOST_CREDENTIALS");
}

}  // namespace
