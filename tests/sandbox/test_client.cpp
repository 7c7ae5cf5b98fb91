// Test/benchmark HTTPS client. See test_client.hpp.
#include "test_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>

namespace sandbox_test {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

struct Client::Impl {
    ClientOptions o;
    net::io_context ioc{1};
    ssl::context tls{ssl::context::tls_client};
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
    beast::flat_buffer buffer;

    // Starts one async operation, runs the private io_context until it completes, returns its error.
    template <class Start>
    error_code run(Start&& start) {
        error_code result = net::error::would_block;
        start([&result](error_code ec, auto&&...) { result = ec; });
        ioc.restart();
        ioc.run();
        return result;
    }
};

Client::Client(ClientOptions o) : impl_(std::make_unique<Impl>()) {
    impl_->o = std::move(o);
    impl_->tls.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(impl_->tls.native_handle(), TLS1_2_VERSION);
    if (!impl_->o.ca_file.empty()) impl_->tls.load_verify_file(impl_->o.ca_file);
}

Client::~Client() = default;

bool Client::connected() const { return impl_->stream.has_value(); }

void Client::close() {
    impl_->stream.reset();
    impl_->buffer.clear();
}

error_code Client::connect() {
    auto& m = *impl_;
    close();
    m.stream.emplace(m.ioc, m.tls);
    m.stream->set_verify_callback(ssl::host_name_verification(m.o.verify_name));
    error_code ec;
    net::ip::make_address(m.o.verify_name, ec);
    if (ec)  // SNI only for names, never for addresses (RFC 6066)
        SSL_set_tlsext_host_name(m.stream->native_handle(), m.o.verify_name.c_str());
    auto& tcp_layer = beast::get_lowest_layer(*m.stream);
    tcp_layer.expires_after(m.o.timeout);
    tcp::endpoint ep{net::ip::make_address(m.o.host), m.o.port};
    ec = m.run([&](auto h) { tcp_layer.async_connect(ep, std::move(h)); });
    if (!ec) {
        tcp_layer.socket().set_option(tcp::no_delay(true));
        tcp_layer.expires_after(m.o.timeout);
        ec = m.run([&](auto h) { m.stream->async_handshake(ssl::stream_base::client, std::move(h)); });
    }
    if (ec) close();
    m.buffer.reserve(64 * 1024);  // else Beast reads a large body 512 bytes at a time
    return ec;
}

Response Client::request(const std::string& method, const std::string& target, const std::string& body,
                         const Headers& headers) {
    auto& m = *impl_;
    Response r;
    if (!connected()) {
        r.ec = connect();
        if (r.ec) return r;
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, m.o.verify_name + ":" + std::to_string(m.o.port));
    req.set(http::field::user_agent, "sandbox-test-client");
    for (auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST") req.body() = body;
    req.prepare_payload();

    auto& tcp_layer = beast::get_lowest_layer(*m.stream);
    tcp_layer.expires_after(m.o.timeout);
    r.ec = m.run([&](auto h) { http::async_write(*m.stream, req, std::move(h)); });
    if (r.ec) {
        close();
        return r;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(m.o.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(m.o.header_limit));
    tcp_layer.expires_after(m.o.timeout);
    r.ec = m.run([&](auto h) { http::async_read(*m.stream, m.buffer, parser, std::move(h)); });
    if (parser.is_header_done()) {
        auto& res = parser.get();
        r.status = res.result_int();
        for (auto& f : res) {
            std::string name(f.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = std::string(f.value());
        }
        r.keep_alive = res.keep_alive();
        r.body = std::move(res.body());
    }
    if (r.ec || !r.keep_alive) close();
    return r;
}

unsigned short port_of(const std::string& base_url) {
    auto colon = base_url.rfind(':');
    if (base_url.rfind("https://127.0.0.1:", 0) != 0 || colon == std::string::npos) return 0;
    try {
        return static_cast<unsigned short>(std::stoul(base_url.substr(colon + 1)));
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace sandbox_test
