#include "auth/connect_flow.hpp"

#include "auth/token_endpoint.hpp"
#include "exit_codes.hpp"

#include <support/suggest.hpp>

#include <set>
#include <stdexcept>

namespace synchost::auth {

namespace {

// Exit code for a failed code exchange.
int exit_code_for(const TokenReply &r) {
    static const std::set<std::string, std::less<>> refusals = {
        "invalid_grant", "invalid_client", "unauthorized_client", "access_denied", "invalid_scope"};
    if (r.transient() || r.kind == TokenReply::Kind::bad_response) return kExitTransient;
    if (r.kind == TokenReply::Kind::oauth_error && refusals.count(r.error)) return kExitAuth;
    if (r.kind == TokenReply::Kind::http_error && (r.status == 401 || r.status == 403)) return kExitAuth;
    return kExitConfig;
}

// Scopes as granted ("a,b" or "a b"), or as requested when the provider does not say.
std::vector<std::string> granted_scopes(const std::string &scope, const std::vector<std::string> &requested) {
    if (scope.empty()) return requested;
    std::vector<std::string> out;
    std::string cur;
    for (char c : scope + " ") {
        if (c == ',' || c == ' ') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    return out;
}

}  // namespace

ConnectFlow::ConnectFlow(ConnectSettings settings)
    : s_(std::move(settings)), listener_(s_.port), state_(random_hex(16)), redirect_uri_(listener_.redirect_uri()) {
    parse_https_url(s_.token_url, "token URL");
    parse_https_url(s_.authorize_url, "authorize URL");
    if (s_.authorize_url.find('#') != std::string::npos)
        throw CliError(kExitConfig, "authorize URL must not have a fragment");
    // Parameters go after any query the provider's URL already has.
    const char last = s_.authorize_url.back();
    const char *joiner = s_.authorize_url.find('?') == std::string::npos ? "?"
                         : (last == '?' || last == '&')                  ? ""
                                                                         : "&";
    authorize_url_ = s_.authorize_url + joiner + "client_id=" + url_encode(s_.client_id) +
                     "&redirect_uri=" + url_encode(redirect_uri_) + "&response_type=code" +
                     "&scope=" + url_encode(support::join(s_.scopes, s_.scope_separator)) + "&state=" + state_.str();
}

void ConnectFlow::fail(unsigned http_status, const std::string &page, int exit_code, const std::string &message) {
    listener_.respond(http_status, page + " Nothing was stored; see the terminal. You can close this window.");
    throw CliError(exit_code, message);
}

Connection ConnectFlow::finish() {
    const auto deadline = std::chrono::steady_clock::now() + s_.timeout;
    std::optional<CallbackRequest> cb = listener_.wait(deadline);
    if (!cb)
        throw CliError(kExitTransient, "timed out after " + std::to_string(s_.timeout.count()) +
                                           " s waiting for the authorization redirect to " + redirect_uri_ +
                                           " (open the URL above, or raise --timeout)");
    auto param = [&](const std::string &k) -> const std::string * {
        auto it = cb->params.find(k);
        return it == cb->params.end() ? nullptr : &it->second;
    };

    // The state comes first, even before an error: only the answer to our own request counts.
    const std::string *state = param("state");
    if (cb->repeated || state == nullptr || !(state_ == *state))
        fail(400, "Refused: this redirect does not answer the authorization synchost started (wrong or missing state).",
             kExitAuth,
             "refused the redirect: its state parameter is missing or wrong, so it does not answer this "
             "authorization request; run synchost connect again");
    if (const std::string *error = param("error")) {
        const std::string *desc = param("error_description");
        fail(400, "Authorization was not granted: " + printable(*error) + ".", kExitAuth,
             "authorization was not granted: " + printable(*error) + (desc ? " (" + printable(*desc) + ")" : ""));
    }
    const std::string *code = param("code");
    if (code == nullptr || code->empty())
        fail(400, "The redirect carried no authorization code.", kExitAuth,
             "the redirect carried no authorization code");

    Connection c;
    c.kind = ConnectionKind::oauth2;
    c.plugin = s_.plugin_id;
    c.token_url = s_.token_url;
    c.client_id = s_.client_id;
    c.client_secret = s_.client_secret;
    c.client_auth = s_.client_auth;
    c.ca_file = s_.ca_file;
    c.token_timeout_seconds = s_.token_timeout_seconds;
    const TokenReply reply = request_token(c, {{"grant_type", "authorization_code"},
                                               {"code", *code},
                                               {"redirect_uri", redirect_uri_},
                                               {"continuous_refresh", "true"}});
    cleanse(cb->params["code"]);
    if (reply.kind != TokenReply::Kind::ok)
        fail(502, "Connecting failed: the token endpoint did not accept the authorization code.", exit_code_for(reply),
             "the token endpoint did not accept the authorization code: " + reply.summary());

    apply_tokens(reply, c, unix_now());
    c.scopes = granted_scopes(reply.scope, s_.scopes);
    try {
        save_connection(s_.credentials_file, s_.name, c);
    } catch (const CliError &e) {
        fail(500, "Connected, but saving the credentials failed.", e.code(), e.what());
    } catch (const std::exception &e) {
        fail(500, "Connected, but saving the credentials failed.", kExitConfig, e.what());
    }
    listener_.respond(200, "Connected. You can close this window.");
    return c;
}

}  // namespace synchost::auth
