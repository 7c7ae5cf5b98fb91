// spnet::TlsStream (support/net/tls_stream.hpp) takes one operation at a time: one started while
// another is pending is refused with already_started, and the pending one completes as if alone.
// Real TLS against pinterest-sandbox.
#include "sandbox_process.hpp"

#include "net/tls_stream.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace net = boost::asio;
using boost::system::error_code;

constexpr char kToken[] = "tls-stream-test-token-7";

struct Connection {
    explicit Connection(const sandbox_test::Sandbox &sandbox) {
        tls.load_verify_file(sandbox.ca_file());
        tls.set_verify_mode(net::ssl::verify_peer);
        stream.emplace(ioc, tls);
        const std::string &url = sandbox.url();
        const auto port = static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
        stream->next_layer().connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    // Runs the I/O context until every started operation has completed.
    void run() {
        ioc.restart();
        ioc.run();
    }

    net::io_context ioc;
    net::ssl::context tls{net::ssl::context::tls_client};
    std::optional<spnet::TlsStream> stream;
};

struct Outcome {
    bool done = false;
    error_code ec;
    std::size_t bytes = 0;
    auto handler() {
        return [this](error_code e, std::size_t n) {
            done = true;
            ec = e;
            bytes = n;
        };
    }
};

}  // namespace

TEST(TlsStream, AnOperationStartedWhileAnotherIsPendingIsRefusedAndTheFirstCompletesAsIfAlone) {
    sandbox_test::Sandbox sandbox(SANDBOX_EXE, kToken);
    Connection c(sandbox);

    Outcome handshake, second_handshake;
    c.stream->async_handshake(handshake.handler());
    c.stream->async_handshake(second_handshake.handler());
    c.run();
    ASSERT_TRUE(handshake.done);
    EXPECT_FALSE(handshake.ec) << handshake.ec.message();
    ASSERT_TRUE(second_handshake.done);
    EXPECT_EQ(second_handshake.ec, net::error::already_started);

    // A read started while the request is being written is refused; the write is whole.
    const std::string request =
        std::string("GET /_sandbox/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ") + kToken +
        "\r\nConnection: close\r\n\r\n";
    std::array<char, 4096> buffer{};
    Outcome write, early_read;
    c.stream->async_write_some(net::buffer(request), write.handler());
    c.stream->async_read_some(net::buffer(buffer), early_read.handler());
    c.run();
    EXPECT_FALSE(write.ec) << write.ec.message();
    EXPECT_EQ(write.bytes, request.size());
    EXPECT_EQ(early_read.ec, net::error::already_started);
    EXPECT_EQ(early_read.bytes, 0u);

    // The stream is free again once the write completed: the answer is read.
    Outcome read;
    c.stream->async_read_some(net::buffer(buffer), read.handler());
    c.run();
    EXPECT_FALSE(read.ec) << read.ec.message();
    EXPECT_TRUE(std::string_view(buffer.data(), read.bytes).starts_with("HTTP/1.1 200"))
        << std::string_view(buffer.data(), read.bytes);
}
