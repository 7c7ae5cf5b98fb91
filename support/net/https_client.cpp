#include "net/https_client.hpp"

#include "net/shared_by_key.hpp"
#include "net/system_trust.hpp"
#include "net/tls_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace spnet {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Stream = TlsStream;
using steady = std::chrono::steady_clock;

const char *to_string(NetError e) {
    switch (e) {
    case NetError::none: return "none";
    case NetError::timeout: return "timeout";
    case NetError::resolve: return "name resolution failed";
    case NetError::connect: return "connection failed";
    case NetError::tls_verify: return "TLS certificate verification failed";
    case NetError::tls: return "TLS handshake failed";
    case NetError::reset: return "connection reset";
    case NetError::limit: return "response too large";
    case NetError::protocol: return "invalid HTTP response";
    case NetError::cancelled: return "cancelled";
    }
    return "unknown";
}

namespace {

// Kept-alive connections that carry no request, to one destination (host and port) under one TLS
// context (one CA configuration on one io_context), shared by every client of the process there.
// A slot gives its connection back after each response and takes one from here before opening
// one, so a client holds a connection only while a request is on it: an idle tenant holds none,
// and a tenant that starts delivering reuses a connection that another warmed up instead of paying
// a TCP and TLS handshake. Nothing of a tenant stays on a connection: its token travels in each
// request's header, and a connection with unread bytes is closed, not given back. Streams never
// cross io_contexts (the TLS context is per io_context), so each is used on its own thread only.
// With close_on_time, a connection idle for max_age is closed then, on the io_context's thread,
// not at the pool's next use: a worker whose tenants all went quiet holds no sockets the server
// has long closed.
class IdleConnections : public std::enable_shared_from_this<IdleConnections> {
public:
    IdleConnections(net::io_context &ioc, size_t max_idle, std::chrono::milliseconds max_age, bool close_on_time)
        : max_idle_(max_idle), max_age_(max_age), close_on_time_(close_on_time), sweep_(ioc) {}

    // The connection given back last (the warmest), or null; older than max_age ones are closed:
    // the server has most likely closed them meanwhile.
    std::unique_ptr<Stream> take() {
        const auto now = steady::now();
        std::lock_guard lock(mu_);
        while (!parked_.empty()) {
            Parked p = std::move(parked_.back());
            parked_.pop_back();
            if (now - p.since < max_age_) return std::move(p.stream);
        }
        return nullptr;
    }

    // Keeps at most max_idle connections, the newest; the oldest and the expired are closed.
    void give(std::unique_ptr<Stream> stream) {
        const auto now = steady::now();
        std::lock_guard lock(mu_);
        close_expired(now);
        if (max_idle_ == 0) return;
        if (parked_.size() >= max_idle_) parked_.erase(parked_.begin());
        stream->release_buffers();
        parked_.push_back({std::move(stream), now});
        if (close_on_time_ && !sweeping_) sweep_for_oldest();
    }

    // The process's pool for one destination, made on first use and kept while a client holds it.
    static std::shared_ptr<IdleConnections> shared(net::io_context &ioc, const void *tls_context,
                                                   const ClientOptions &o) {
        const std::string key = std::to_string(reinterpret_cast<std::uintptr_t>(tls_context)) + "\n" + o.host +
                                "\n" + o.port + "\n" + std::to_string(o.max_idle_connections) + "\n" +
                                std::to_string(o.max_idle_age.count()) + "\n" + (o.close_idle_on_time ? "t" : "u");
        return shared_by_key<IdleConnections>(
            key, [&] { return std::make_shared<IdleConnections>(ioc, o.max_idle_connections, o.max_idle_age,
                                                                  o.close_idle_on_time); });
    }

private:
    // With mu_ held: closes the connections that have waited max_age by `now`.
    void close_expired(steady::time_point now) {
        std::erase_if(parked_, [&](const Parked &p) { return now - p.since >= max_age_; });
    }

    // With mu_ held and a connection parked: waits until the oldest has waited max_age, closes
    // the expired ones then, and waits for the next. The wait holds the pool weakly: the last
    // client gone, the pool goes, its wait with it.
    void sweep_for_oldest() {
        sweeping_ = true;
        sweep_.expires_at(parked_.front().since + max_age_);
        sweep_.async_wait([weak = weak_from_this()](error_code ec) {
            const auto self = weak.lock();
            if (ec || !self) return;
            std::lock_guard lock(self->mu_);
            self->close_expired(steady::now());
            self->sweeping_ = false;
            if (!self->parked_.empty()) self->sweep_for_oldest();
        });
    }

    struct Parked {
        std::unique_ptr<Stream> stream;
        steady::time_point since;
    };
    const size_t max_idle_;
    const std::chrono::milliseconds max_age_;
    const bool close_on_time_;
    std::mutex mu_;
    std::vector<Parked> parked_;  // oldest first
    net::steady_timer sweep_;     // on the pool's io_context, armed while a connection is parked
    bool sweeping_ = false;
};

}  // namespace

struct HttpsClient::Impl {
    // One connection slot: the request it is carrying and, while it carries one, its connection.
    struct Slot {
        Impl &c;
        tcp::resolver resolver;
        net::steady_timer resolve_timer;
        std::unique_ptr<Stream> stream;
        beast::flat_buffer buffer;
        std::optional<http::response_parser<http::string_body>> parser;
        http::request<http::span_body<const char>> req;
        Handler done;
        bool reused = false;         // this request runs on a connection that served one before
        bool stale_retried = false;  // already reconnected once for this request
        bool cancelled = false;
        size_t outstanding = 0;  // operations started whose handlers have not run yet

        explicit Slot(Impl &client) : c(client), resolver(client.ioc), resolve_timer(client.ioc) {
            // Beast reads as much as the buffer has room for: without this, a 70 KB response
            // (1,000 event results) would arrive 512 bytes per read.
            buffer.reserve(64 * 1024);
        }

        // Wraps a completion handler so that `outstanding` counts the operation until it has run:
        // the owner of the client may destroy it only once no operation refers to it any more.
        template <class F>
        auto counted(F f) {
            ++outstanding;
            // Constrained, so that Asio's overload checks see the wrapped handler's signature.
            return [this, f = std::move(f)](auto &&...args) mutable
                       requires std::invocable<F &, decltype(args)...> {
                --outstanding;
                f(std::forward<decltype(args)>(args)...);
            };
        }

        void start() {
            cancelled = false;
            stale_retried = false;
            if ((stream = c.idle->take())) {
                reused = true;
                write();
            } else {
                connect();
            }
        }

        void connect() {
            close();
            reused = false;
            stream = std::make_unique<Stream>(c.ioc, c.tls);
            // SNI, and the name the certificate must carry.
            if (!SSL_set_tlsext_host_name(stream->native_handle(), c.opt.host.c_str()))
                return fail(NetError::tls, "cannot set SNI host name");
            SSL_set_verify(stream->native_handle(), SSL_VERIFY_PEER, nullptr);
            // OpenSSL checks the name itself (rather than a verify callback), so that a mismatch
            // is reported as one ("hostname mismatch"), not as an unspecified verification error.
            X509_VERIFY_PARAM *param = SSL_get0_param(stream->native_handle());
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            error_code not_ip;
            net::ip::make_address(c.opt.host, not_ip);
            if (!(not_ip ? X509_VERIFY_PARAM_set1_host(param, c.opt.host.c_str(), c.opt.host.size())
                         : X509_VERIFY_PARAM_set1_ip_asc(param, c.opt.host.c_str())))
                return fail(NetError::tls, "cannot set the host name to verify");
            resolve_timer.expires_after(c.opt.step_timeout);
            resolve_timer.async_wait(counted([this](error_code ec) {
                if (!ec) resolver.cancel();
            }));
            resolver.async_resolve(c.opt.host, c.opt.port,
                                   counted([this](error_code ec, const tcp::resolver::results_type &results) {
                                       const bool timed_out = resolve_timer.expiry() <= net::steady_timer::clock_type::now();
                                       resolve_timer.cancel();
                                       if (ec) return fail(timed_out ? NetError::timeout : NetError::resolve, ec.message());
                                       on_resolve(results);
                                   }));
        }

        void on_resolve(const tcp::resolver::results_type &results) {
            if (cancelled) return fail(NetError::cancelled, "");
            beast::get_lowest_layer(*stream).expires_after(c.opt.step_timeout);
            beast::get_lowest_layer(*stream).async_connect(results, counted([this](error_code ec, const tcp::endpoint &) {
                if (ec) return fail(classify(ec, NetError::connect), ec.message());
                ++c.connections_opened;
                error_code ignored;
                beast::get_lowest_layer(*stream).socket().set_option(tcp::no_delay(true), ignored);
                beast::get_lowest_layer(*stream).expires_after(c.opt.step_timeout);
                stream->async_handshake(counted([this](error_code hec, size_t) { on_handshake(hec); }));
            }));
        }

        void on_handshake(error_code ec) {
            if (ec) {
                if (ec.category() == net::error::get_ssl_category() &&
                    ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
                    const long v = SSL_get_verify_result(stream->native_handle());
                    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
                        return fail(NetError::tls_verify, std::string(X509_verify_cert_error_string(v)) +
                                                              ": the server's certificate is not valid for " + c.opt.host);
                    return fail(NetError::tls_verify, std::string(X509_verify_cert_error_string(v)) + " for host " + c.opt.host);
                }
                return fail(classify(ec, NetError::tls), ec.message());
            }
            write();
        }

        // The TLS layer hands the socket up to 128 KB of records per write, and with TCP_NODELAY
        // the tail of each would leave as its own small packet. Corked while a request is written,
        // the kernel sends full-sized segments instead (a request is ~6 writes); uncorking after
        // the last write pushes the rest at once, so the request never waits.
        void cork(bool on) {
            const int v = on ? 1 : 0;
            ::setsockopt(beast::get_lowest_layer(*stream).socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof v);
        }

        void write() {
            beast::get_lowest_layer(*stream).expires_after(c.opt.step_timeout);
            cork(true);
            http::async_write(*stream, req, counted([this](error_code ec, size_t) {
                if (ec) return broken(ec, false);
                cork(false);
                read();
            }));
        }

        void read() {
            parser.emplace();
            parser->header_limit(static_cast<uint32_t>(c.opt.max_header_bytes));
            parser->body_limit(c.opt.max_body_bytes);
            beast::get_lowest_layer(*stream).expires_after(c.opt.step_timeout);
            http::async_read(*stream, buffer, *parser, counted([this](error_code ec, size_t) {
                if (ec) return broken(ec, parser->got_some());
                on_response();
            }));
        }

        // A write or read failed. On a reused connection that broke before any response byte, the
        // server most likely closed it while idle: reconnect once and send again.
        void broken(error_code ec, bool got_response_bytes) {
            if (cancelled) return fail(NetError::cancelled, "");
            const bool stale = ec == http::error::end_of_stream || ec == net::error::eof ||
                               ec == net::error::connection_reset || ec == net::error::broken_pipe ||
                               ec == ssl::error::stream_truncated;
            if (reused && !stale_retried && !got_response_bytes && stale) {
                stale_retried = true;
                return connect();
            }
            NetError kind = NetError::reset;
            if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow)
                kind = NetError::limit;
            else if (ec == beast::error::timeout) kind = NetError::timeout;
            else if (!stale && ec.category() == http::make_error_code(http::error::bad_version).category())
                kind = NetError::protocol;
            fail(kind, ec.message());
        }

        void on_response() {
            auto &res = parser->get();
            HttpResponse out;
            out.status = res.result_int();
            if (auto it = res.find("x-pinterest-rid"); it != res.end()) out.request_id = std::string(it->value());
            if (auto it = res.find(http::field::retry_after); it != res.end()) out.retry_after = std::string(it->value());
            const bool keep = res.keep_alive();
            out.body = std::move(res.body());
            parser.reset();
            // Bytes after a complete response would be read as the next request's answer.
            if (keep && buffer.size() == 0 && !stream->has_buffered_input())
                c.idle->give(std::move(stream));
            else
                close(true);
            finish(std::move(out));
        }

        NetError classify(error_code ec, NetError otherwise) const {
            if (cancelled || ec == net::error::operation_aborted) return NetError::cancelled;
            if (ec == beast::error::timeout) return NetError::timeout;
            return otherwise;
        }

        void fail(NetError kind, std::string detail) {
            close();
            HttpResponse r;
            r.error = cancelled ? NetError::cancelled : kind;
            r.error_detail = std::move(detail);
            finish(std::move(r));
        }

        void finish(HttpResponse r) {
            req = {};  // drops the Authorization header and the body view
            Handler d = std::move(done);
            done = nullptr;
            if (d) d(std::move(r));
        }

        // Ends the connection. One `sound` (between requests, nothing failed) is left to the
        // stream's destructor, which sends the server a close_notify first; a broken one is cut.
        void close(bool sound = false) {
            if (stream) {
                error_code ignored;
                if (!sound) beast::get_lowest_layer(*stream).socket().close(ignored);
                stream.reset();
            }
            buffer.clear();
        }

        void cancel() {
            cancelled = true;
            resolver.cancel();
            resolve_timer.cancel();
            if (stream) {
                error_code ignored;
                beast::get_lowest_layer(*stream).socket().close(ignored);
            }
        }
    };

    net::io_context &ioc;
    ClientOptions opt;
    std::shared_ptr<ssl::context> tls_owner;  // shared with every client of the same CA configuration
    ssl::context &tls;
    std::shared_ptr<IdleConnections> idle;  // this destination's, shared with every client of it
    std::vector<std::unique_ptr<Slot>> slots;
    uint64_t connections_opened = 0;

    Impl(net::io_context &io, ClientOptions o, size_t n)
        : ioc(io),
          opt(std::move(o)),
          tls_owner(shared_tls_context(opt.ca_file, io)),
          tls(*tls_owner),
          idle(IdleConnections::shared(io, tls_owner.get(), opt)) {
        for (size_t i = 0; i < n; ++i) slots.push_back(std::make_unique<Slot>(*this));
    }

    // One TLS client context per CA configuration (net/system_trust.hpp) and io_context, shared by
    // every client of the process on that io_context. A context is configured completely before
    // it is shared, and the peer name each connection checks is set on the connection. One per
    // io_context, because a context's connections then all handshake on one thread: with two
    // threads, TSan reported OpenSSL 3.0 writing session data during one handshake that another
    // was reading (openssl/openssl#25202). The system's bundle, the costly part of trusting, is
    // read by a context only if a chain needs it.
    static std::shared_ptr<ssl::context> shared_tls_context(const std::string &ca_file, const net::io_context &io) {
        const std::string key =
            ca_configuration_key(ca_file) + "\n" + std::to_string(reinterpret_cast<std::uintptr_t>(&io));
        return shared_by_key<ssl::context>(key, [&ca_file] { return make_tls_context(ca_file); });
    }

    static std::shared_ptr<ssl::context> make_tls_context(const std::string &ca_file) {
        // The context and the trust its verification uses live and go together; the trust is
        // destroyed last, after the context and anything its connections still call back.
        struct Trusting {
            std::shared_ptr<SystemTrust> trust;
            ssl::context tls{ssl::context::tls_client};
        };
        auto made = std::make_shared<Trusting>();
        std::shared_ptr<ssl::context> tls(made, &made->tls);
        SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
        // TLS 1.3 suites, AES-128-GCM first as browsers offer them: with AES-NI it is as safe in
        // practice and a quarter cheaper than AES-256 per byte, and request bodies are large. The
        // server still chooses.
        SSL_CTX_set_ciphersuites(tls->native_handle(),
                                 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
        if (!ca_file.empty()) {
            error_code ec;
            tls->load_verify_file(ca_file, ec);
            if (ec) throw std::runtime_error("cannot load ca_file: " + ec.message());
        }
        made->trust = trust_system_authorities(tls->native_handle());
        tls->set_verify_mode(ssl::verify_peer);
        return tls;
    }
};

HttpsClient::HttpsClient(net::io_context &ioc, ClientOptions options, size_t slots)
    : impl_(std::make_unique<Impl>(ioc, std::move(options), slots)) {}

HttpsClient::~HttpsClient() {
    for (auto &s : impl_->slots) s->close();
}

size_t HttpsClient::slots() const { return impl_->slots.size(); }

uint64_t HttpsClient::connections_opened() const { return impl_->connections_opened; }

size_t HttpsClient::outstanding() const {
    size_t n = 0;
    for (const auto &s : impl_->slots) n += s->outstanding;
    return n;
}

const void *HttpsClient::tls_context() const { return impl_->tls.native_handle(); }

void HttpsClient::request(size_t slot, const Request &r, Handler done) {
    Impl::Slot &s = *impl_->slots.at(slot);
    s.req = {};
    s.req.method_string(r.method);
    s.req.target(r.target);
    s.req.version(11);
    s.req.set(http::field::host, impl_->opt.port == "443" ? impl_->opt.host : impl_->opt.host + ":" + impl_->opt.port);
    s.req.set(http::field::user_agent, impl_->opt.user_agent);
    s.req.set(http::field::accept, "application/json");
    if (!r.authorization.empty()) s.req.set(http::field::authorization, r.authorization);
    if (!r.content_type.empty()) s.req.set(http::field::content_type, r.content_type);
    s.req.body() = http::span_body<const char>::value_type(r.body.data(), r.body.size());
    s.req.keep_alive(true);
    s.req.prepare_payload();
    s.done = std::move(done);
    s.start();
}

void HttpsClient::cancel_all() {
    for (auto &s : impl_->slots) s->cancel();
}

}  // namespace spnet
