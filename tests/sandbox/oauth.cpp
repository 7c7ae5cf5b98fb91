// pinterest-sandbox: OAuth 2.0 as Pinterest runs it. GET /oauth/ auto-approves and redirects with
// a one-time code; POST /v5/oauth/token exchanges codes and rotates refresh tokens. Tokens are
// random (RAND_bytes) and never appear in anything the sandbox prints.
#include "api.hpp"

#include <boost/json.hpp>
#include <boost/url.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <optional>
#include <set>

namespace sandbox {
namespace json = boost::json;
namespace urls = boost::urls;
namespace {

// Pinterest's documented v5 scopes; anything else is refused at authorize time.
const std::set<std::string, std::less<>> kKnownScopes = {
    "ads:read", "ads:write", "billing:read", "billing:write", "biz_access:read", "biz_access:write",
    "boards:read", "boards:read_secret", "boards:write", "boards:write_secret", "catalogs:read",
    "catalogs:write", "pins:read", "pins:read_secret", "pins:write", "pins:write_secret",
    "user_accounts:read", "user_accounts:write",
};

std::optional<std::string> param(const urls::params_view& p, std::string_view key) {
    auto it = p.find(key);
    if (it == p.end() || !(*it).has_value) return std::nullopt;
    return std::string((*it).value);
}

ApiReply text_reply(unsigned status, std::string text) {
    ApiReply r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(text);
    return r;
}

ApiReply oauth_error(unsigned status, std::string_view error, std::string_view description) {
    json::object o;
    o["error"] = error;
    o["error_description"] = description;
    ApiReply r;
    r.status = status;
    r.body = json::serialize(o);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

// Splits "a,b" (Pinterest's separator; spaces tolerated) into a sorted set.
std::set<std::string> split_scopes(std::string_view s) {
    std::set<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',' || c == ' ') {
            if (!cur.empty()) out.insert(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) out.insert(cur);
    return out;
}

std::string join_scopes(const std::set<std::string>& s) {
    std::string out;
    for (auto& x : s) out += (out.empty() ? "" : ",") + x;
    return out;
}

bool loopback_http(std::string_view uri) {
    auto u = urls::parse_absolute_uri(uri);
    if (!u || u->scheme() != "http" || u->has_fragment()) return false;
    auto host = u->host();
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

std::optional<std::string> base64_decode(std::string_view in) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = val(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    return out;
}

bool same_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Outcome Api::oauth_authorize(const ApiRequest& req) {
    Outcome out;
    auto u = urls::parse_origin_form(req.target);
    urls::params_view p(u->params(), urls::encoding_opts(true));
    auto client_id = param(p, "client_id");
    auto redirect_uri = param(p, "redirect_uri");
    auto response_type = param(p, "response_type");
    auto scope = param(p, "scope");
    auto state = param(p, "state");

    if (!client_id || *client_id != opts_.client_id) {
        out.reply = text_reply(400, "invalid client_id: unknown app\n");
        return out;
    }
    if (!redirect_uri || !loopback_http(*redirect_uri)) {
        out.reply = text_reply(400, "invalid redirect_uri: the sandbox accepts only http://127.0.0.1 or http://localhost URLs\n");
        return out;
    }
    if (!response_type || *response_type != "code") {
        out.reply = text_reply(400, "invalid response_type: must be 'code'\n");
        return out;
    }
    auto scopes = split_scopes(scope.value_or(""));
    if (scopes.empty()) {
        out.reply = text_reply(400, "invalid scope: at least one scope is required (comma-separated)\n");
        return out;
    }
    for (auto& s : scopes)
        if (!kKnownScopes.count(s)) {
            out.reply = text_reply(400, "invalid scope: unknown scope in the list\n");
            return out;
        }

    // Auto-approve: the sandbox plays the user who clicks "Give access".
    std::string code = state_.issue_code(*redirect_uri, join_scopes(scopes));
    urls::url location(*redirect_uri);
    location.params().append({"code", code});
    if (state) location.params().append({"state", *state});
    out.reply = text_reply(302, "Redirecting\n");
    out.reply.headers.emplace_back("Location", std::string(location.buffer()));
    return out;
}

Outcome Api::oauth_token(const ApiRequest& req) {
    state_.count_request("oauth_token");
    Outcome out;
    const FaultSpec* fault = faults_.select(FaultTarget::token, state_.rng());
    out.log_endpoint = "oauth_token";
    if (fault) {
        state_.count_fault(to_string(fault->action));
        out.log_fault = to_string(fault->action);
    }

    // Client authentication comes first, as on any OAuth server.
    constexpr std::string_view basic = "Basic ";
    bool client_ok = false;
    if (req.authorization.size() > basic.size() && req.authorization.substr(0, basic.size()) == basic) {
        if (auto creds = base64_decode(req.authorization.substr(basic.size()))) {
            auto colon = creds->find(':');
            client_ok = colon != std::string::npos &&
                        same_secret(std::string_view(*creds).substr(0, colon), opts_.client_id) &&
                        same_secret(std::string_view(*creds).substr(colon + 1), opts_.client_secret);
        }
    }

    auto q = urls::parse_query(req.body);
    std::string grant_type = "none";
    std::optional<urls::params_view> p;
    if (q) {
        p.emplace(*q, urls::encoding_opts(true));
        grant_type = param(*p, "grant_type").value_or("none");
    }
    if (grant_type != "authorization_code" && grant_type != "refresh_token" && grant_type != "none")
        grant_type = "other";
    state_.count_token_request(grant_type);
    out.log_grant_type = grant_type;

    if (fault && answers_without_processing(fault->action))
        return apply_event_fault(*fault, std::move(out), 0);

    if (!client_ok) {
        out.reply = oauth_error(401, "invalid_client", "Client authentication failed (HTTP Basic client_id:client_secret).");
        return out;
    }
    const auto ct = req.content_type.substr(0, req.content_type.find(';'));
    if (ct != "application/x-www-form-urlencoded" || !p) {
        out.reply = oauth_error(400, "invalid_request", "Body must be application/x-www-form-urlencoded.");
        return out;
    }

    IssuedTokens t;
    if (grant_type == "authorization_code") {
        auto code = param(*p, "code");
        auto redirect_uri = param(*p, "redirect_uri");
        if (!code || !redirect_uri) {
            out.reply = oauth_error(400, "invalid_request", "code and redirect_uri are required.");
            return out;
        }
        AuthCode granted;
        if (!state_.redeem_code(*code, granted)) {
            out.reply = oauth_error(400, "invalid_grant", "The authorization code is invalid, expired or already used.");
            return out;
        }
        if (granted.redirect_uri != *redirect_uri) {
            out.reply = oauth_error(400, "invalid_grant", "redirect_uri does not match the one used at authorization.");
            return out;
        }
        t = state_.issue_tokens(granted.scope);
    } else if (grant_type == "refresh_token") {
        auto refresh = param(*p, "refresh_token");
        if (!refresh) {
            out.reply = oauth_error(400, "invalid_request", "refresh_token is required.");
            return out;
        }
        if (!state_.rotate_refresh(*refresh, t)) {
            out.reply = oauth_error(400, "invalid_grant", "The refresh token is invalid, expired or was already rotated.");
            return out;
        }
        state_.count_refresh();
    } else {
        out.reply = oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
        return out;
    }

    json::object o;
    o["access_token"] = t.access_token;
    o["token_type"] = "bearer";
    o["expires_in"] = opts_.access_token_ttl;
    o["scope"] = t.scope;
    o["refresh_token"] = t.refresh_token;
    o["refresh_token_expires_in"] = opts_.refresh_token_ttl;
    o["refresh_token_expires_at"] = t.refresh_expires_at;
    o["response_type"] = grant_type;
    out.reply.status = 200;
    out.reply.body = json::serialize(o);
    out.reply.headers.emplace_back("Cache-Control", "no-store");
    // Faults that act after processing: note that a broken connection here loses the rotated
    // refresh token, exactly the case a client must survive (it has to re-authorize).
    if (fault && fault->action == FaultAction::close) out.reply.close = true;
    if (fault && fault->action == FaultAction::reset_after_headers) out.transport = Transport::reset_after_headers;
    if (fault && fault->action == FaultAction::reset_mid_body) out.transport = Transport::reset_mid_body;
    if (fault && fault->action == FaultAction::drop_idle) out.transport = Transport::drop_after;
    if (fault && fault->action == FaultAction::stray_record) out.transport = Transport::stray_after;
    return out;
}

}  // namespace sandbox
