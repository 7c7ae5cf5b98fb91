// The OAuth 2.0 token endpoint (RFC 6749 section 3.2), spoken through the shared HTTPS client:
// a form POST with client authentication, and a parsed reply. Used for both the authorization-
// code exchange (synchost connect) and refreshes (TokenService).
#pragma once

#include "auth/credentials.hpp"
#include "auth/secret.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synchost::auth {

// Percent-encodes everything but RFC 3986 unreserved characters: valid in a URL query and in an
// application/x-www-form-urlencoded body alike.
std::string url_encode(std::string_view s);

// Where an https URL points, split for spnet::HttpsClient.
struct HttpsUrl {
    std::string host;
    std::string port;
    std::string target;  // path and query
};
// Throws CliError(kExitConfig) naming `what` unless `url` is an absolute https URL without a
// fragment or user info.
HttpsUrl parse_https_url(std::string_view url, std::string_view what);

// A one-line text from a remote party (provider error, description) made safe to print: printable
// ASCII only, at most 200 characters.
std::string printable(std::string_view text);

struct TokenReply {
    enum class Kind {
        ok,
        oauth_error,    // the endpoint answered with an OAuth error ("error": "invalid_grant", ...)
        http_error,     // a non-2xx status without an OAuth error body
        network_error,  // no HTTP response at all
        bad_response,   // 2xx, but not a usable token response
        local_error     // could not even send (unusable CA file, bad URL)
    };
    Kind kind = Kind::local_error;
    unsigned status = 0;
    std::string error;        // OAuth error code, printable()
    std::string description;  // error_description or failure detail, printable(), secrets redacted
    Secret access_token;
    Secret refresh_token;    // empty when the provider did not send one
    int64_t expires_in = 0;  // 0 when not stated
    int64_t refresh_token_expires_in = 0;
    int64_t refresh_token_expires_at = 0;
    std::string scope;

    // One line for messages, never a secret: "invalid_grant (...)", "HTTP 503", "timeout (...)".
    std::string summary() const;
    // Worth trying again later: no response, 5xx, 408 or 429.
    bool transient() const;
};

// POSTs grant `form` (name, value pairs; values are encoded here) to conn.token_url with the
// connection's client authentication ("basic": an Authorization header; "body": client_id and
// client_secret in the form) and its ca_file. Never throws: failures come back as a reply kind.
TokenReply request_token(const Connection &conn,
                         const std::vector<std::pair<std::string_view, std::string_view>> &form);

// Stores a successful reply's tokens and expiry times in `conn`, keeping its refresh token when
// the provider did not rotate it. `now` is Unix seconds.
void apply_tokens(const TokenReply &reply, Connection &conn, int64_t now);

// Unix seconds now.
int64_t unix_now();

// "2026-12-28 13:00:58 UTC"
std::string utc_time(int64_t unix_seconds);

}  // namespace synchost::auth
