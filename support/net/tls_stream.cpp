#include "net/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace spnet {

namespace net = boost::asio;
namespace ssl = net::ssl;

TlsStream::TlsStream(net::io_context &ioc, ssl::context &tls) : tcp_(ioc), ssl_(SSL_new(tls.native_handle())) {
    BIO *bio = ssl_ ? BIO_new(bio_method()) : nullptr;
    if (!bio) {
        SSL_free(ssl_);
        throw std::runtime_error("cannot create a TLS connection (out of memory)");
    }
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_, bio, bio);  // one reference, for reading and writing
    // Record buffers are freed between records, as Asio's streams do: a pooled connection is cheap.
    SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
    // A post-handshake message (a TLS 1.3 session ticket) is processed inside SSL_read, which
    // goes on to the records after it: the op asks the socket for more only when OpenSSL has
    // nothing left to decrypt. OpenSSL 3's default, set in case a context cleared it.
    SSL_set_mode(ssl_, SSL_MODE_AUTO_RETRY);
    SSL_set_connect_state(ssl_);
}

TlsStream::~TlsStream() {
    notify_close();
    SSL_free(ssl_);
}

void TlsStream::notify_close() {
    if (!tcp_.socket().is_open() || failed_ || has_output() || SSL_is_init_finished(ssl_) != 1 ||
        (SSL_get_shutdown(ssl_) & SSL_SENT_SHUTDOWN) != 0)
        return;
    ERR_clear_error();
    if (SSL_shutdown(ssl_) >= 0 && has_output()) {
        const net::const_buffer alert = output();
        // Not through the reactor: the stream is going away, and a socket that cannot take a
        // few bytes at once is not waited for.
        [[maybe_unused]] const ssize_t n =
            ::send(tcp_.socket().native_handle(), alert.data(), alert.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    ERR_clear_error();
}

void TlsStream::release_buffers() {
    if (busy_) return;  // a pending operation uses them
    if (!has_output()) {
        std::vector<char>().swap(out_);
        out_sent_ = 0;
    }
    if (in_begin_ == in_end_) {
        in_.reset();
        in_cap_ = in_begin_ = in_end_ = 0;
    }
}

TlsStream::Step TlsStream::handshake() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    return r == 1 ? Step{} : failure(r);
}

TlsStream::Step TlsStream::write_plan() {
    // Room for a whole write's records at once: grown by doubling it would reach 256 KiB, after
    // copying 240 KiB on the way, for every request of a connection the pool just gave back.
    if (out_.capacity() < out_.size() + write_room) out_.reserve(out_.size() + write_room);
    ERR_clear_error();
    std::size_t skip = planned_done_;  // a retry after more input resumes where OpenSSL stopped
    for (const auto &b : plan_) {
        if (skip >= b.size()) {
            skip -= b.size();
            continue;
        }
        std::size_t written = 0;
        if (SSL_write_ex(ssl_, static_cast<const char *>(b.data()) + skip, b.size() - skip, &written) != 1)
            return failure(0);
        planned_done_ += written;
        skip = 0;
    }
    return Step{{}, false, planned_done_};
}

TlsStream::Step TlsStream::read_into() {
    if (read_into_.size() == 0) return Step{};
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_read_ex(ssl_, read_into_.data(), read_into_.size(), &n) != 1) return failure(0);
    return Step{{}, false, n};
}

TlsStream::Step TlsStream::failure(int ret) {
    switch (SSL_get_error(ssl_, ret)) {
        case SSL_ERROR_WANT_READ:
            return Step{{}, true, 0};
        case SSL_ERROR_ZERO_RETURN:
            return Step{net::error::eof, false, 0};  // the peer's close_notify
        default:
            failed_ = true;  // OpenSSL forbids SSL_shutdown after SSL_ERROR_SSL or _SYSCALL
            break;
    }
    // As Asio's engine reports them: the first queued OpenSSL error, in the SSL category.
    if (const unsigned long e = ERR_get_error(); e != 0) {
        ERR_clear_error();  // the rest of the queue is this failure's detail; leave no stale errors on the thread
        return Step{error_code(static_cast<int>(e), net::error::get_ssl_category()), false, 0};
    }
    return Step{ssl::error::unexpected_result, false, 0};
}

void TlsStream::sent(std::size_t n) {
    out_sent_ += n;
    if (out_sent_ == out_.size()) {
        out_.clear();  // keeps the capacity for the next write
        out_sent_ = 0;
    }
}

net::mutable_buffer TlsStream::input_space() {
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    if (in_cap_ - in_end_ < read_chunk && in_begin_ > 0) {
        std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
    }
    if (in_cap_ - in_end_ < read_chunk) {
        const std::size_t cap = in_end_ + read_chunk;
        std::unique_ptr<char[]> grown(new char[cap]);
        if (in_end_ > 0) std::memcpy(grown.get(), in_.get(), in_end_);
        in_ = std::move(grown);
        in_cap_ = cap;
    }
    return {in_.get() + in_end_, in_cap_ - in_end_};
}

TlsStream::error_code TlsStream::input_failed(error_code ec) {
    failed_ = true;
    // The peer closed the socket: an orderly end only after its close_notify, else the stream was
    // cut short (what a reused connection the server dropped while idle looks like).
    if (ec == net::error::eof && !(SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN)) return ssl::error::stream_truncated;
    return ec;
}

BIO_METHOD *TlsStream::bio_method() {
    // Freed when the library holding it is unloaded (a plugin is, by its host), never leaked. By
    // then no stream is left: each belongs to a client or a pool that its instance's close ended.
    static const std::unique_ptr<BIO_METHOD, void (*)(BIO_METHOD *)> method(
        [] {
            BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "spnet TlsStream");
            if (!m) throw std::runtime_error("cannot create the TLS stream's BIO method (out of memory)");
            BIO_meth_set_write_ex(m, bio_write);
            BIO_meth_set_read_ex(m, bio_read);
            BIO_meth_set_ctrl(m, bio_ctrl);
            return m;
        }(),
        BIO_meth_free);
    return method.get();
}

int TlsStream::bio_write(BIO *b, const char *data, std::size_t len, std::size_t *written) {
    auto &s = *static_cast<TlsStream *>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    try {
        s.out_.insert(s.out_.end(), data, data + len);
    } catch (const std::bad_alloc &) {
        return 0;  // no retry flag: OpenSSL fails the call, and no exception crosses its C frames
    }
    *written = len;
    return 1;
}

int TlsStream::bio_read(BIO *b, char *data, std::size_t len, std::size_t *read) {
    auto &s = *static_cast<TlsStream *>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    const std::size_t n = std::min(len, s.in_end_ - s.in_begin_);
    if (n == 0) {
        BIO_set_retry_read(b);  // SSL_ERROR_WANT_READ: the op reads the socket and calls again
        return 0;
    }
    std::memcpy(data, s.in_.get() + s.in_begin_, n);
    s.in_begin_ += n;
    *read = n;
    return 1;
}

long TlsStream::bio_ctrl(BIO *, int cmd, long, void *) {
    // Writes land in out_ at once, so there is never anything to flush; nothing else is supported.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

}  // namespace spnet
