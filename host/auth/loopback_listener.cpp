#include "auth/loopback_listener.hpp"

#include "runtime/html_text.hpp"

#include "exit_codes.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <functional>

namespace synchost::auth {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::chrono::seconds kReadTimeout{15};
constexpr std::chrono::seconds kWriteTimeout{5};

std::string page(std::string_view text) {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>synchost</title></head>"
           "<body><p>" +
           html_escape(text) + "</p></body></html>\n";
}

}  // namespace

struct LoopbackListener::Impl {
    // One accepted connection: reads one request, hands /callback to the listener, answers the
    // rest itself, and closes after one response.
    struct Session : std::enable_shared_from_this<Session> {
        Impl &owner;
        beast::tcp_stream stream;
        beast::flat_buffer buffer;
        http::request_parser<http::empty_body> parser;
        http::response<http::string_body> res;

        Session(Impl &o, tcp::socket s) : owner(o), stream(std::move(s)) {
            parser.header_limit(8 * 1024);
            parser.body_limit(1024);
        }

        void start() {
            stream.expires_after(kReadTimeout);
            http::async_read(stream, buffer, parser, [self = shared_from_this()](error_code ec, size_t) {
                if (!ec) self->on_request();  // else: idle, timed out or garbage; dropped
            });
        }

        void on_request() {
            const auto &req = parser.get();
            auto target = boost::urls::parse_origin_form(req.target());
            if (req.method() != http::verb::get) return reply(405, "Only GET is supported here.", nullptr);
            if (!target || target->path() != "/callback") return reply(404, "Not found.", nullptr);
            CallbackRequest cb;
            for (const auto &p : target->params()) {
                if (!cb.params.emplace(p.key, p.value).second) cb.repeated = true;
            }
            owner.arrived(shared_from_this(), std::move(cb));
        }

        void reply(unsigned status, std::string_view text, std::function<void()> done) {
            res = {};
            res.result(status);
            res.version(11);
            res.set(http::field::content_type, "text/html; charset=utf-8");
            res.set(http::field::cache_control, "no-store");
            res.set("Referrer-Policy", "no-referrer");  // the code in our URL must not leak onwards
            res.keep_alive(false);
            res.body() = page(text);
            res.prepare_payload();
            stream.expires_after(kWriteTimeout);
            http::async_write(stream, res, [self = shared_from_this(), done = std::move(done)](error_code, size_t) {
                error_code ignored;
                self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                self->stream.close();
                if (done) done();
            });
        }
    };

    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    std::shared_ptr<Session> held;  // the /callback connection awaiting respond()
    std::optional<CallbackRequest> callback;
    bool answered = false;  // the callback was taken: later ones are turned away

    void accept() {
        acceptor.async_accept([this](error_code ec, tcp::socket socket) {
            if (!ec) std::make_shared<Session>(*this, std::move(socket))->start();
            if (acceptor.is_open()) accept();
        });
    }

    void arrived(std::shared_ptr<Session> s, CallbackRequest cb) {
        if (held || answered) return s->reply(409, "This authorization was already received.", nullptr);
        held = std::move(s);
        callback = std::move(cb);
    }
};

LoopbackListener::LoopbackListener(unsigned short port) : impl_(std::make_unique<Impl>()) {
    const tcp::endpoint ep(net::ip::make_address_v4("127.0.0.1"), port);
    error_code ec;
    impl_->acceptor.open(ep.protocol(), ec);
    if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) impl_->acceptor.bind(ep, ec);
    if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw CliError(kExitConfig, "cannot listen on 127.0.0.1:" + std::to_string(port) +
                                        " for the OAuth redirect: " + ec.message() + " (choose another --port)");
    impl_->accept();
}

LoopbackListener::~LoopbackListener() = default;

unsigned short LoopbackListener::port() const {
    return impl_->acceptor.local_endpoint().port();
}

std::string LoopbackListener::redirect_uri() const {
    return "http://127.0.0.1:" + std::to_string(port()) + "/callback";
}

std::optional<CallbackRequest> LoopbackListener::wait(std::chrono::steady_clock::time_point deadline) {
    while (!impl_->callback && std::chrono::steady_clock::now() < deadline) {
        if (impl_->ioc.run_one_until(deadline) == 0) break;
    }
    std::optional<CallbackRequest> out = std::move(impl_->callback);
    impl_->callback.reset();
    return out;
}

void LoopbackListener::respond(unsigned status, std::string_view text) {
    std::shared_ptr<Impl::Session> s = std::move(impl_->held);
    impl_->answered = true;
    if (!s) return;
    // Shared, not a reference to this frame: the handler may outlive a timed-out wait.
    auto written = std::make_shared<bool>(false);
    s->reply(status, text, [written] { *written = true; });
    const auto until = std::chrono::steady_clock::now() + kWriteTimeout + std::chrono::seconds(1);
    while (!*written && std::chrono::steady_clock::now() < until) {
        if (impl_->ioc.run_one_until(until) == 0) break;
    }
}

}  // namespace synchost::auth
