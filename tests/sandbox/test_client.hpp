// A small HTTPS client for the sandbox's tests and benchmark: Beast over TLS with certificate and
// hostname verification against the sandbox CA, a timeout on every step, limits on header and
// body size. Calls look synchronous but run async operations on a private io_context, so a
// hanging server can never block a test beyond its timeout.
#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sandbox_test {

struct ClientOptions {
    std::string host = "127.0.0.1";  // where to connect
    unsigned short port = 0;
    std::string ca_file;               // PEM CA to trust (the sandbox's --ca-out)
    std::string verify_name = "127.0.0.1";  // name checked against the certificate SAN
    std::chrono::milliseconds timeout{5000};  // per step: connect, handshake, write, read
    std::size_t body_limit = 8 * 1024 * 1024;
    std::size_t header_limit = 64 * 1024;
};

struct Response {
    boost::system::error_code ec;  // set when the exchange failed (no status then, or partial)
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lowercase names; last one wins
    std::string body;
    bool keep_alive = false;

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Client {
public:
    explicit Client(ClientOptions o);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // TCP connect + TLS handshake (with verification). request() calls it when needed.
    boost::system::error_code connect();
    // One request/response on the kept-alive connection.
    Response request(const std::string& method, const std::string& target, const std::string& body = {},
                     const Headers& headers = {});
    // True while a connection is open (false after the server closed it or an error).
    bool connected() const;
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// "https://127.0.0.1:43123" -> 43123; 0 when the URL does not look like that.
unsigned short port_of(const std::string& base_url);

}  // namespace sandbox_test
