// `synchost connect`'s OAuth 2.0 authorization-code flow for a native app (RFC 6749 section 4.1,
// RFC 8252): a loopback redirect listener, an authorize URL with a random state, then the code
// exchanged at the token endpoint and the connection stored in the credentials file.
//
// Two steps, so the caller can show (and a test can follow) the URL before anything blocks: the
// constructor starts listening and builds the URL; finish() waits for the redirect.
#pragma once

#include "auth/credentials.hpp"
#include "auth/loopback_listener.hpp"
#include "auth/secret.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace synchost::auth {

struct ConnectSettings {
    std::string plugin_id;
    std::string name;  // the connection's name in the credentials file
    std::filesystem::path credentials_file;
    std::string authorize_url;
    std::string token_url;
    std::vector<std::string> scopes;
    std::string scope_separator = " ";
    std::string client_auth = "basic";  // or "body"
    std::string client_id;
    Secret client_secret;
    std::string ca_file;      // extra CA for the token endpoint, stored with the connection
    int64_t token_timeout_seconds = 0;  // stored with the connection; 0: the default
    unsigned short port = 0;  // of the loopback listener; 0: any free port
    std::chrono::seconds timeout{300};
};

class ConnectFlow {
public:
    // Validates the URLs and starts the listener. Throws CliError(kExitConfig).
    explicit ConnectFlow(ConnectSettings settings);
    ConnectFlow(const ConnectFlow &) = delete;
    ConnectFlow &operator=(const ConnectFlow &) = delete;

    const std::string &authorize_url() const { return authorize_url_; }
    const std::string &redirect_uri() const { return redirect_uri_; }

    // Waits (up to the timeout) for the redirect, checks its state, exchanges the code, stores the
    // connection and answers the browser. Returns the stored connection. Throws CliError with
    // kExitAuth (wrong state, provider error, refused code or client), kExitTransient (timeout,
    // network, server error) or kExitConfig (anything else); the browser gets a page saying so.
    Connection finish();

private:
    [[noreturn]] void fail(unsigned http_status, const std::string &page, int exit_code, const std::string &message);

    ConnectSettings s_;
    LoopbackListener listener_;
    Secret state_;  // 128 random bits in hex: ties the redirect to this run (CSRF protection)
    std::string redirect_uri_;
    std::string authorize_url_;
};

}  // namespace synchost::auth
