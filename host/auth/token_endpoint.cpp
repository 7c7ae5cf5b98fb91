#include "auth/token_endpoint.hpp"

#include "exit_codes.hpp"

#include <net/https_client.hpp>

#include <openssl/evp.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

namespace synchost::auth {

namespace json = boost::json;

namespace {

std::string base64(std::string_view in) {
    std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                  reinterpret_cast<const unsigned char *>(in.data()), static_cast<int>(in.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

void append_param(std::string &body, std::string_view name, std::string_view value) {
    if (!body.empty()) append_cleansed(body, "&");
    append_cleansed(body, name);
    append_cleansed(body, "=");
    std::string encoded = url_encode(value);
    append_cleansed(body, encoded);
    cleanse(encoded);
}

// Replaces any secret we sent that a provider might echo back in an error description.
std::string redact(std::string text, const std::vector<std::string_view> &secrets) {
    for (std::string_view s : secrets) {
        if (s.size() < 4) continue;
        for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at))
            text.replace(at, s.size(), "[redacted]");
    }
    return text;
}

std::string string_field(const json::object &o, std::string_view key) {
    const json::value *v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t int_field(const json::object &o, std::string_view key) {
    const json::value *v = o.if_contains(key);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), INT64_MAX));
    if (v->is_double()) return static_cast<int64_t>(v->get_double());
    return 0;
}

// Fills `r` from an HTTP response body.
void parse_body(TokenReply &r, const std::string &body) {
    json::error_code ec;
    json::value v = json::parse(body, ec, cleansing_storage());
    const bool ok_status = r.status >= 200 && r.status < 300;
    if (ec || !v.is_object()) {
        r.kind = ok_status ? TokenReply::Kind::bad_response : TokenReply::Kind::http_error;
        if (ok_status) r.description = "the token response is not a JSON object";
        return;
    }
    const json::object &o = v.get_object();
    if (!ok_status) {
        r.error = printable(string_field(o, "error"));
        r.description = printable(string_field(o, "error_description"));
        if (r.description.empty()) r.description = printable(string_field(o, "message"));  // Pinterest's API errors
        r.kind = r.error.empty() ? TokenReply::Kind::http_error : TokenReply::Kind::oauth_error;
        return;
    }
    r.access_token = Secret(string_field(o, "access_token"));
    std::string type = string_field(o, "token_type");
    for (auto &c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (r.access_token.empty() || (!type.empty() && type != "bearer")) {
        r.kind = TokenReply::Kind::bad_response;
        r.description = r.access_token.empty() ? "the token response has no access_token"
                                               : "the token response is not a bearer token";
        return;
    }
    if (!fits_a_header(r.access_token.str()) || !fits_a_header(string_field(o, "refresh_token"))) {
        r.kind = TokenReply::Kind::bad_response;
        r.description = "a token in the token response holds a control character, space or non-ASCII byte";
        return;
    }
    r.kind = TokenReply::Kind::ok;
    r.refresh_token = Secret(string_field(o, "refresh_token"));
    r.expires_in = int_field(o, "expires_in");
    r.refresh_token_expires_in = int_field(o, "refresh_token_expires_in");
    r.refresh_token_expires_at = int_field(o, "refresh_token_expires_at");
    r.scope = string_field(o, "scope");
}

}  // namespace

std::string url_encode(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);  // never reallocates: secrets pass through here
    for (unsigned char c : s) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

HttpsUrl parse_https_url(std::string_view url, std::string_view what) {
    auto u = boost::urls::parse_absolute_uri(url);
    const std::string prefix = std::string(what) + " \"" + printable(url) + "\"";
    if (!u) throw CliError(kExitConfig, prefix + " is not a valid absolute URL");
    if (u->scheme_id() != boost::urls::scheme::https) throw CliError(kExitConfig, prefix + " must use https");
    if (u->has_fragment() || u->has_userinfo() || u->host_address().empty())
        throw CliError(kExitConfig, prefix + " must be https://HOST[:PORT]/PATH without user info or fragment");
    HttpsUrl out;
    out.host = u->host_address();
    out.port = u->has_port() ? std::string(u->port()) : "443";
    out.target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
    if (u->has_query()) out.target += "?" + std::string(u->encoded_query());
    return out;
}

std::string printable(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (out.size() >= 200) {
            out += "...";
            break;
        }
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return out;
}

std::string TokenReply::summary() const {
    switch (kind) {
        case Kind::ok:
            return "ok";
        case Kind::oauth_error:
            return error + (description.empty() ? "" : " (" + description + ")");
        case Kind::http_error:
            return "HTTP " + std::to_string(status) + (description.empty() ? "" : " (" + description + ")");
        case Kind::network_error:
        case Kind::bad_response:
        case Kind::local_error:
            return description;
    }
    return description;
}

bool TokenReply::transient() const {
    if (kind == Kind::network_error) return true;
    if (kind == Kind::http_error || kind == Kind::oauth_error) return status >= 500 || status == 408 || status == 429;
    return false;
}

TokenReply request_token(const Connection &conn,
                         const std::vector<std::pair<std::string_view, std::string_view>> &form) {
    TokenReply r;
    try {
        const HttpsUrl url = parse_https_url(conn.token_url, "token URL");
        std::string body, authorization;
        for (const auto &[name, value] : form) append_param(body, name, value);
        if (conn.client_auth == "body") {
            append_param(body, "client_id", conn.client_id);
            append_param(body, "client_secret", conn.client_secret.str());
        } else {
            // RFC 6749 section 2.3.1: both parts are form-encoded before joining and base64.
            std::string pair = url_encode(conn.client_id);
            append_cleansed(pair, ":");
            std::string encoded_secret = url_encode(conn.client_secret.str());
            append_cleansed(pair, encoded_secret);
            cleanse(encoded_secret);
            authorization = "Basic " + base64(pair);
            cleanse(pair);
        }

        boost::asio::io_context ioc;
        spnet::ClientOptions opt;
        opt.host = url.host;
        opt.port = url.port;
        opt.ca_file = conn.ca_file;
        // One deadline for the whole request: a hanging token endpoint must not hold a run (or
        // its stop) for a multiple of it, one per step.
        const std::chrono::seconds deadline(conn.token_timeout_seconds > 0 ? conn.token_timeout_seconds
                                                                           : kDefaultTokenTimeoutSeconds);
        opt.step_timeout = deadline + std::chrono::seconds(1);  // the deadline below ends a hang first
        opt.max_body_bytes = 64 * 1024;
        opt.user_agent = "synchost/0.1";
        spnet::HttpResponse res;
        {
            spnet::HttpsClient client(ioc, opt, 1);
            spnet::HttpsClient::Request req;
            req.method = "POST";
            req.target = url.target;
            req.authorization = authorization;
            req.content_type = "application/x-www-form-urlencoded";
            req.body = body;
            bool answered = false;
            client.request(0, req, [&](spnet::HttpResponse got) { res = std::move(got), answered = true; });
            ioc.run_for(deadline);
            if (!answered) {
                client.cancel_all();
                ioc.restart();
                ioc.run();
                res.error = spnet::NetError::timeout;
                res.error_detail = "no complete answer within " + std::to_string(deadline.count()) +
                                   " s (token_timeout_seconds of the connection)";
            }
        }
        cleanse(body);
        cleanse(authorization);

        r.status = res.status;
        if (res.error != spnet::NetError::none) {
            r.kind = TokenReply::Kind::network_error;
            r.description = std::string(spnet::to_string(res.error)) +
                            (res.error_detail.empty() ? "" : ": " + printable(res.error_detail));
        } else {
            parse_body(r, res.body);
            cleanse(res.body);
        }
    } catch (const std::exception &e) {
        r.kind = TokenReply::Kind::local_error;
        r.description = printable(e.what());
    }
    std::vector<std::string_view> sent{conn.client_secret.str(), conn.refresh_token.str()};
    for (const auto &[name, value] : form)
        if (name == "code" || name == "refresh_token") sent.push_back(value);
    r.description = redact(std::move(r.description), sent);
    return r;
}

void apply_tokens(const TokenReply &reply, Connection &conn, int64_t now) {
    conn.access_token = reply.access_token;
    conn.expires_at = reply.expires_in > 0 ? now + reply.expires_in : 0;
    if (!reply.refresh_token.empty()) {
        conn.refresh_token = reply.refresh_token;
        conn.refresh_token_expires_at = 0;  // a new refresh token: the old expiry no longer applies
    }
    if (reply.refresh_token_expires_at > 0)
        conn.refresh_token_expires_at = reply.refresh_token_expires_at;
    else if (reply.refresh_token_expires_in > 0)
        conn.refresh_token_expires_at = now + reply.refresh_token_expires_in;
    conn.updated_at = now;
}

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string utc_time(int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace synchost::auth
