// An HTTPS/1.1 client on a caller-owned io_context: a fixed set of connection slots, each carrying
// one request at a time over a kept-alive TLS connection (TLS 1.2+, peer and hostname verified
// against the system store plus an optional CA file; there is no way to turn verification off).
// Between requests, kept-alive connections wait in a pool that every client of the process with
// the same destination, CA configuration and io_context shares: a client holds a connection only
// while a request is on it, so many mostly idle clients (tenants) hold few connections, and a
// client that starts sending reuses one another warmed up.
// Every step (resolve, connect, handshake, write, read) has its own timeout; responses have header
// and body size limits. Generic: used by plugins (API calls) and the host (OAuth token endpoint).
// Beast stays inside the .cpp.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace spnet {

struct ClientOptions {
    std::string host;  // DNS name or IP literal (SNI and certificate name check use it)
    std::string port = "443";
    std::string ca_file;  // extra trusted CAs (PEM), or empty
    std::chrono::milliseconds step_timeout{30000};
    size_t max_header_bytes = 16 * 1024;
    size_t max_body_bytes = 1024 * 1024;
    std::string user_agent = "syncplugin/0.1";
    // The shared pool of kept-alive connections: how many it keeps at most (the most recently used),
    // and how long one may wait there before it is closed instead of reused (servers close idle
    // connections; the sandbox after 60 s). 0 keeps none. Clients with other
    // limits get a pool of their own.
    size_t max_idle_connections = 64;
    std::chrono::milliseconds max_idle_age{30000};
    // Also close a connection once it has waited max_idle_age, on a timer of the io_context,
    // rather than when the pool is next used: for an io_context that keeps running (a work
    // guard), where a pool may go unused for hours. Off for an io_context run until its work is
    // done, which the timer would keep running for max_idle_age.
    bool close_idle_on_time = false;
};

// Why a request got no HTTP response.
enum class NetError {
    none,
    timeout,     // a step ran past step_timeout
    resolve,     // name resolution failed
    connect,     // refused or unreachable
    tls_verify,  // the server's certificate failed verification (wrong CA, name, or expired)
    tls,         // other handshake failures
    reset,       // the connection broke mid-exchange (includes a truncated response)
    limit,       // the response broke a header or body size limit
    protocol,    // not valid HTTP
    cancelled
};
const char *to_string(NetError e);

struct HttpResponse {
    NetError error = NetError::none;
    std::string error_detail;  // for logs: no secrets
    unsigned status = 0;
    std::string body;
    std::string request_id;   // x-pinterest-rid
    std::string retry_after;  // raw Retry-After header, if any
};

class HttpsClient {
public:
    using Handler = std::function<void(HttpResponse)>;

    // Throws std::runtime_error when the CA file cannot be loaded.
    HttpsClient(boost::asio::io_context &ioc, ClientOptions options, size_t slots);
    ~HttpsClient();
    HttpsClient(const HttpsClient &) = delete;
    HttpsClient &operator=(const HttpsClient &) = delete;

    size_t slots() const;

    struct Request {
        std::string_view method = "GET";
        std::string_view target = "/";
        std::string_view authorization;  // whole header value ("Bearer ...", "Basic ..."), or empty
        std::string_view content_type;   // for a body
        std::string_view body;
    };

    // Starts one request on `slot` (which must be idle). The views in `r` must stay valid until
    // `done` runs. A kept-alive connection that turns out to be stale is reconnected once,
    // transparently. `done` runs on the io_context.
    void request(size_t slot, const Request &r, Handler done);

    // Aborts every request in progress (their handlers see NetError::cancelled) and closes idle
    // connections.
    void cancel_all();

    // Asynchronous operations started and not yet completed. After cancel_all() it falls to 0 as
    // the aborted handlers run on the io_context; only then may a client whose io_context keeps
    // running (a shared one) be destroyed. Call on the io_context's thread.
    size_t outstanding() const;

    // Number of TCP connections this client opened so far, not counting the ones it took from the
    // shared pool (for tests and metrics).
    uint64_t connections_opened() const;

    // The TLS context this client's connections use: one per CA configuration (the CA file as it
    // is on disk when the client is made), shared by every client of the process. For tests.
    const void *tls_context() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace spnet
