// pinterest-sandbox: Beast listener and session. The only translation unit that includes Beast,
// so the heavy templates are compiled once. See server.hpp.
#include "server.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

namespace sandbox {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kHandshakeTimeout = 10s;
constexpr auto kWriteTimeout = 30s;
constexpr auto kShutdownTimeout = 5s;
constexpr std::size_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kChunk = 64 * 1024;  // huge_body write size

// Request body: like http::string_body, but the reader appends, where string_body resizes
// (zero-filling) and then copies; at 400 KB per request the memset alone was 4% of the CPU.
struct AppendStringBody {
    using value_type = std::string;

    static std::uint64_t size(const value_type& v) { return v.size(); }

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

        void init(const boost::optional<std::uint64_t>& length, beast::error_code& ec) {
            if (length) body_.reserve(static_cast<std::size_t>(*length));  // body_limit already checked it
            ec = {};
        }

        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
            std::size_t n = 0;
            for (auto b : beast::buffers_range_ref(buffers)) {
                body_.append(static_cast<const char*>(b.data()), b.size());
                n += b.size();
            }
            ec = {};
            return n;
        }

        void finish(beast::error_code& ec) { ec = {}; }

    private:
        value_type& body_;
    };
};

struct Shared {
    const Options& opts;
    Api& api;
    State& state;
    ssl::context& tls;
};

// RFC 7231 Date header, reformatted at most once a second.
const std::string& http_date() {
    static std::time_t last = 0;
    static std::string text;
    std::time_t now = std::time(nullptr);
    if (now != last) {
        char buf[64];
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        text = buf;
        last = now;
    }
    return text;
}

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, Shared& shared)
        : stream_(std::move(socket), shared.tls), timer_(stream_.get_executor()), sh_(shared) {}

    void run() {
        beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
        stream_.async_handshake(ssl::stream_base::server,
                                beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
    }

private:
    void on_handshake(beast::error_code ec) {
        if (ec) return log_error("handshake", ec);
        // Beast sizes each read by the buffer's free capacity (at least 512 bytes). The parser
        // drains the buffer into the body as it goes, so an unreserved buffer stays tiny and a
        // 400 KB body arrives in 800 reads of 512 bytes, 30 handlers per TLS record. 64 KiB
        // lets one read take a whole TLS record: several times the throughput.
        buffer_.reserve(64 * 1024);
        do_read();
    }

    void do_read() {
        // A fresh parser per request: the body limit applies per message.
        parser_.emplace();
        parser_->body_limit(sh_.opts.body_limit);
        parser_->header_limit(kHeaderLimit);
        // Covers the idle wait between keep-alive requests as well as the read itself.
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(sh_.opts.idle_timeout_seconds));
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream) {  // the client's close_notify, between requests
            sh_.state.count_client_close(true);
            return do_shutdown();
        }
        if (ec == net::ssl::error::stream_truncated && buffer_.size() == 0 && !parser_->got_some()) {
            sh_.state.count_client_close(false);
            return log_error("read", ec);
        }
        if (ec == http::error::body_limit) {
            return reply_and_close(413, Api::error_body(4196, "Request body too large: the limit is " +
                                                                  std::to_string(sh_.opts.body_limit) + " bytes"));
        }
        if (ec == http::error::header_limit)
            return reply_and_close(431, Api::error_body(4196, "Request header fields too large"));
        if (ec) return log_error("read", ec);

        auto& req = parser_->get();
        started_ = std::chrono::steady_clock::now();
        ApiRequest ar{req.method_string(), req.target(), req[http::field::authorization],
                      req[http::field::content_type], req.body()};
        Outcome out = sh_.api.handle(ar);
        if (sh_.opts.verbose) {
            // Path only: the query of /oauth/ carries state and redirect data.
            auto t = req.target();
            log_line_ = std::string(req.method_string()) + " " + std::string(t.substr(0, t.find('?')));
        }

        keep_alive_ = req.keep_alive() && !out.reply.close;
        transport_ = out.transport;
        in_flight_ = std::move(out.in_flight);
        build_response(out.reply, req.version());

        if (out.delay.count() > 0) {
            // Other connections keep being served while this one waits.
            beast::get_lowest_layer(stream_).expires_never();
            timer_.expires_after(out.delay);
            timer_.async_wait(beast::bind_front_handler(&Session::on_delay, shared_from_this()));
        } else {
            send();
        }
    }

    void build_response(ApiReply& reply, unsigned version) {
        res_ = {};
        res_.version(version);
        res_.result(reply.status);
        res_.set(http::field::server, "pinterest-sandbox");
        res_.set(http::field::date, http_date());
        res_.set(http::field::content_type, reply.content_type);
        res_.set("x-pinterest-rid", sh_.state.next_request_id());
        for (auto& [k, v] : reply.headers) res_.insert(k, v);
        res_.keep_alive(keep_alive_);
        res_.body() = std::move(reply.body);
        res_.prepare_payload();
    }

    void on_delay(beast::error_code ec) {
        if (ec) return;
        send();
    }

    void send() {
        // Processing is over once the answer starts; a hung request stays in flight until its
        // client gives up (do_hang), so a test can see a request held unanswered.
        if (transport_ != Transport::hang) in_flight_.release();
        if (sh_.opts.verbose)
            std::cerr << log_line_ << " -> " << res_.result_int() << " ("
                      << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count()
                      << " us)" << std::endl;
        switch (transport_) {
        case Transport::normal:
            return do_write();
        case Transport::reset:
            return hard_reset();
        case Transport::hang:
            return do_hang();
        case Transport::reset_after_headers:
            wire_ = header_text();
            return write_raw_then_drop();
        case Transport::reset_mid_body:
            wire_ = header_text() + res_.body().substr(0, res_.body().size() / 2);
            return write_raw_then_drop();
        case Transport::drop_after:
            // As a server closing a kept-alive connection idle too long: the client parked it whole
            // and finds it dead only when it sends the next request on it.
            beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
            return http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) {
                self->drop_tcp();
            });
        case Transport::stray_after:
            return write_then_stray();
        case Transport::trickle:
            wire_ = header_text() + res_.body();
            wire_pos_ = 0;
            return trickle_next();
        case Transport::huge_body:
            return start_huge_body();
        }
    }

    // ---- the normal path ----

    void do_write() {
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        http::async_write(stream_, res_, beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return log_error("write", ec);
        after_response();
    }

    void after_response() {
        if (!keep_alive_) return do_shutdown();
        res_ = {};  // free the body before waiting for the next request
        do_read();
    }

    void reply_and_close(unsigned status, std::string body) {
        ApiReply r;
        r.status = status;
        r.body = std::move(body);
        keep_alive_ = false;
        transport_ = Transport::normal;
        build_response(r, 11);
        sh_.state.count_response(status);
        send();
    }

    void do_shutdown() {
        beast::get_lowest_layer(stream_).expires_after(kShutdownTimeout);
        stream_.async_shutdown(beast::bind_front_handler(&Session::on_shutdown, shared_from_this()));
    }

    void on_shutdown(beast::error_code) {
        // Errors are expected here (the peer may already be gone); close regardless.
        beast::error_code ec;
        beast::get_lowest_layer(stream_).socket().close(ec);
    }

    // ---- transport faults ----

    std::string header_text() {
        std::ostringstream os;
        os << res_.base();
        return os.str();
    }

    void hard_reset() {
        // SO_LINGER 0: close() sends RST instead of FIN.
        beast::error_code ec;
        auto& s = beast::get_lowest_layer(stream_).socket();
        s.set_option(net::socket_base::linger(true, 0), ec);
        s.close(ec);
    }

    void drop_tcp() {
        // FIN without TLS close_notify: the client sees the stream end mid-message.
        beast::error_code ec;
        auto& s = beast::get_lowest_layer(stream_).socket();
        s.shutdown(tcp::socket::shutdown_both, ec);
        s.close(ec);
    }

    // The response, then a record of its own holding a 200 nobody asked for, both held back by
    // TCP_CORK until the second is written: they leave in one segment, so the client's one socket
    // read takes both and the stray record waits, undecrypted, in its TLS layer.
    void write_then_stray() {
        set_cork(true);
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->log_error("write", ec);
            self->wire_ = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
            net::async_write(self->stream_, net::buffer(self->wire_), [self](beast::error_code ec, std::size_t) {
                self->set_cork(false);
                if (ec) return self->log_error("write", ec);
                self->after_response();
            });
        });
    }

    void set_cork(bool on) {
        const int v = on ? 1 : 0;
        ::setsockopt(beast::get_lowest_layer(stream_).socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof v);
    }

    void write_raw_then_drop() {
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        net::async_write(stream_, net::buffer(wire_),
                         [self = shared_from_this()](beast::error_code, std::size_t) { self->drop_tcp(); });
    }

    void do_hang() {
        // No timeout: the connection stays open until the client gives up and closes it.
        beast::get_lowest_layer(stream_).expires_never();
        stream_.async_read_some(net::buffer(probe_), [self = shared_from_this()](beast::error_code, std::size_t) {
            self->in_flight_.release();
            self->drop_tcp();
        });
    }

    void trickle_next() {
        if (wire_pos_ >= wire_.size()) return after_response();
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        net::async_write(stream_, net::buffer(wire_.data() + wire_pos_, 1),
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec) return;
                             if (++self->wire_pos_ >= self->wire_.size()) return self->after_response();
                             self->timer_.expires_after(1s);
                             self->timer_.async_wait([self](beast::error_code ec2) {
                                 if (!ec2) self->trickle_next();
                             });
                         });
    }

    void start_huge_body() {
        // The body is {"padding":"xxxx...x"}, 100 MiB in all, written from one shared chunk so
        // memory stays flat; a client with a sane body limit aborts long before the end.
        static const std::string prefix = R"({"padding":")", suffix = R"("})";
        res_.content_length(kHugeBodyBytes);
        wire_ = header_text() + prefix;
        huge_left_ = kHugeBodyBytes - prefix.size() - suffix.size();
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        net::async_write(stream_, net::buffer(wire_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec) self->huge_next();
        });
    }

    void huge_next() {
        static const std::string filler(kChunk, 'x');
        if (huge_left_ == 0) {
            wire_ = R"("})";
            net::async_write(stream_, net::buffer(wire_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
                if (!ec) self->after_response();
            });
            return;
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(huge_left_, kChunk));
        huge_left_ -= n;
        beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
        net::async_write(stream_, net::buffer(filler.data(), n), [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec) self->huge_next();
        });
    }

    void log_error(const char* what, beast::error_code ec) {
        // Resets, timeouts and truncated TLS streams are routine for a fault-injecting server.
        if (sh_.opts.verbose) std::cerr << "connection " << what << ": " << ec.message() << std::endl;
    }

    beast::ssl_stream<beast::tcp_stream> stream_;
    net::steady_timer timer_;
    Shared& sh_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<AppendStringBody>> parser_;
    http::response<http::string_body> res_;
    State::InFlight in_flight_;
    Transport transport_ = Transport::normal;
    bool keep_alive_ = true;
    std::string wire_;
    std::size_t wire_pos_ = 0;
    std::uint64_t huge_left_ = 0;
    char probe_[512];
    std::string log_line_;
    std::chrono::steady_clock::time_point started_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, tcp::acceptor&& acceptor, Shared& shared)
        : ioc_(ioc), acceptor_(std::move(acceptor)), retry_(ioc), sh_(shared) {}

    void run() { do_accept(); }

private:
    void do_accept() {
        acceptor_.async_accept(ioc_, beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) return;
        if (ec) {
            // Out of descriptors and the like: back off briefly instead of spinning.
            if (sh_.opts.verbose) std::cerr << "accept: " << ec.message() << std::endl;
            retry_.expires_after(100ms);
            retry_.async_wait([self = shared_from_this()](beast::error_code) { self->do_accept(); });
            return;
        }
        // Nagle plus delayed ACK stalls every keep-alive response by up to 40 ms.
        socket.set_option(tcp::no_delay(true), ec);
        sh_.state.count_connection();
        std::make_shared<Session>(std::move(socket), sh_)->run();
        do_accept();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer retry_;
    Shared& sh_;
};

}  // namespace

void run_server(const Options& opts, const Certificates& certs, Api& api, State& state,
                const std::function<void(unsigned short)>& on_listening) {
    net::io_context ioc{1};  // run by this one thread only

    ssl::context tls{ssl::context::tls_server};
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
    tls.use_certificate_chain(net::buffer(certs.chain_pem));
    tls.use_private_key(net::buffer(certs.leaf_key_pem), ssl::context::pem);

    tcp::acceptor acceptor{ioc};
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), opts.port};
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(net::socket_base::max_listen_connections);
    const unsigned short port = acceptor.local_endpoint().port();

    Shared shared{opts, api, state, tls};
    std::make_shared<Listener>(ioc, std::move(acceptor), shared)->run();

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) { ioc.stop(); });

    on_listening(port);
    ioc.run();
}

}  // namespace sandbox
