// sandbox_bench: loopback throughput of pinterest-sandbox. Opens C keep-alive TLS connections
// (TCP_NODELAY, CA-verified) on one thread and posts one prepared events body N times in all,
// then prints requests/s, MB/s and events/s. Pin it and the sandbox to different cores:
//   taskset -c 1 pinterest-sandbox --fast --static-token T --ca-out /tmp/ca.pem &
//   taskset -c 0 sandbox_bench --url https://127.0.0.1:PORT --ca /tmp/ca.pem --token T
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

struct Config {
    std::string url, ca, token = "bench-token", account = "549755885175";
    int connections = 4;
    long requests = 2000;
    int events = 1000;
};

// About 400 bytes per event, shaped like what the plugin sends.
std::string make_body(int n) {
    const std::string h64(64, 'a');
    const long now = static_cast<long>(std::time(nullptr));
    std::string b = R"({"data":[)";
    for (int i = 0; i < n; ++i) {
        if (i) b += ',';
        b += R"({"event_name":"checkout","action_source":"web","event_time":)" + std::to_string(now) +
             R"(,"event_id":"bench-)" + std::to_string(i) + R"(","user_data":{"em":[")" + h64 +
             R"("],"ph":[")" + h64 + R"("],"client_ip_address":"203.0.113.7","client_user_agent":"Mozilla/5.0"},)"
             R"("custom_data":{"currency":"USD","value":"19.99","order_id":"order-)" + std::to_string(i) +
             R"(","content_ids":["sku-1","sku-2"],"num_items":2}})";
    }
    return b + "]}";
}

struct Totals {
    long sent = 0, done = 0, failed = 0;
    long target = 0;
};

class Conn : public std::enable_shared_from_this<Conn> {
public:
    Conn(net::io_context& ioc, ssl::context& tls, const tcp::endpoint& ep, http::request<http::string_body>& req, Totals& t)
        : stream_(ioc, tls), ep_(ep), req_(req), t_(t) {}

    void start() {
        stream_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
        beast::get_lowest_layer(stream_).expires_after(10s);
        beast::get_lowest_layer(stream_).async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->fail("connect", ec);
            beast::get_lowest_layer(self->stream_).socket().set_option(tcp::no_delay(true));
            self->stream_.async_handshake(ssl::stream_base::client, [self](beast::error_code ec2) {
                if (ec2) return self->fail("handshake", ec2);
                self->buf_.reserve(64 * 1024);  // else Beast reads 512 bytes at a time
                self->next();
            });
        });
    }

private:
    void next() {
        if (t_.sent >= t_.target) return;
        ++t_.sent;
        beast::get_lowest_layer(stream_).expires_after(30s);
        http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail("write", ec);
            self->res_ = {};
            http::async_read(self->stream_, self->buf_, self->res_, [self](beast::error_code ec2, std::size_t) {
                if (ec2) return self->fail("read", ec2);
                if (self->res_.result_int() == 200) ++self->t_.done; else ++self->t_.failed;
                self->next();
            });
        });
    }

    void fail(const char* what, beast::error_code ec) {
        ++t_.failed;
        std::cerr << "sandbox_bench: " << what << ": " << ec.message() << "\n";
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    tcp::endpoint ep_;
    http::request<http::string_body>& req_;
    Totals& t_;
    beast::flat_buffer buf_;
    http::response<http::string_body> res_;
};

}  // namespace

int main(int argc, char** argv) {
    Config c;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto v = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "sandbox_bench: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--url") c.url = v();
        else if (a == "--ca") c.ca = v();
        else if (a == "--token") c.token = v();
        else if (a == "--account") c.account = v();
        else if (a == "--connections") c.connections = std::stoi(v());
        else if (a == "--requests") c.requests = std::stol(v());
        else if (a == "--events") c.events = std::stoi(v());
        else {
            std::cerr << "usage: sandbox_bench --url https://127.0.0.1:PORT --ca CA.pem [--token T] [--account ID]\n"
                         "                     [--connections 4] [--requests 2000] [--events 1000]\n";
            return a == "--help" ? 0 : 2;
        }
    }
    const auto colon = c.url.rfind(':');
    if (c.url.rfind("https://127.0.0.1:", 0) != 0 || c.ca.empty()) {
        std::cerr << "sandbox_bench: --url https://127.0.0.1:PORT and --ca are required\n";
        return 2;
    }
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(std::stoi(c.url.substr(colon + 1)))};

    net::io_context ioc{1};
    ssl::context tls{ssl::context::tls_client};
    tls.set_verify_mode(ssl::verify_peer);
    tls.load_verify_file(c.ca);

    http::request<http::string_body> req{http::verb::post, "/v5/ad_accounts/" + c.account + "/events", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + c.token);
    req.set(http::field::content_type, "application/json");
    req.body() = make_body(c.events);
    req.prepare_payload();

    Totals t;
    t.target = c.requests;
    std::vector<std::shared_ptr<Conn>> conns;
    for (int i = 0; i < c.connections; ++i) conns.push_back(std::make_shared<Conn>(ioc, tls, ep, req, t));
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& cn : conns) cn->start();
    conns.clear();
    ioc.run();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::printf("connections=%d requests=%ld ok=%ld failed=%ld body_bytes=%zu seconds=%.3f\n", c.connections,
                t.sent, t.done, t.failed, req.body().size(), s);
    std::printf("requests/s=%.0f MB/s=%.1f events/s=%.0f\n", t.done / s, t.done * req.body().size() / s / 1e6,
                t.done * static_cast<double>(c.events) / s);
    return t.failed ? 1 : 0;
}
