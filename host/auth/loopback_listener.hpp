// The loopback redirect listener of the OAuth authorization-code flow for native apps (RFC 8252
// section 7.3): plain HTTP on 127.0.0.1 only, on a fixed or kernel-chosen port. It serves
// browsers and non-browser clients alike (curl following a 302), one request per connection,
// each with a read timeout, so a stray or idle connection can never stall the flow.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace synchost::auth {

// The decoded query of a GET /callback.
struct CallbackRequest {
    std::map<std::string, std::string> params;  // first value of each name
    bool repeated = false;                      // some parameter appeared more than once
};

class LoopbackListener {
public:
    // Listens on 127.0.0.1:port (0: any free port). Throws CliError(kExitConfig) when it cannot.
    explicit LoopbackListener(unsigned short port);
    ~LoopbackListener();
    LoopbackListener(const LoopbackListener &) = delete;
    LoopbackListener &operator=(const LoopbackListener &) = delete;

    unsigned short port() const;
    // "http://127.0.0.1:PORT/callback"
    std::string redirect_uri() const;

    // Serves connections until a GET /callback arrives, and returns it with its connection held
    // open for respond(); nullopt once `deadline` passes. Any other request gets a 404 (browsers
    // ask for /favicon.ico) and waiting goes on.
    std::optional<CallbackRequest> wait(std::chrono::steady_clock::time_point deadline);

    // Answers the held callback with a small HTML page saying `text`, then closes the connection.
    void respond(unsigned status, std::string_view text);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace synchost::auth
