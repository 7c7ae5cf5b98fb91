// A TLS client stream over a Beast tcp_stream that hands the socket many records per write.
//
// Asio's ssl::stream passes ciphertext through a 17 KB BIO pair, so a 700 KB request (1,000
// events) costs ~45 SSL_write calls, ~45 sendmsg calls and ~45 trips through the scheduler, with
// the ciphertext copied twice on the way. This stream encrypts up to write_chunk bytes of
// plaintext per call into one buffer it owns (a BIO of our own, no pair) and gives that buffer to
// the socket in one write. Reads decrypt from the bytes the socket returned in chunks of
// read_chunk. Everything else is OpenSSL's: the SSL object is configured by the caller before the
// handshake (SNI, the name to verify) through native_handle().
//
// Errors are reported as Asio's SSL streams report them, so callers can tell them apart the same
// way: OpenSSL errors in net::error::get_ssl_category(), the peer closing without close_notify as
// ssl::error::stream_truncated, an orderly close as net::error::eof, and the tcp_stream's own
// errors (beast::error::timeout, operation_aborted) unchanged.
//
// Threading: on the stream's executor, and one operation at a time of any kind, unlike Asio's
// streams: a read and a write share the ciphertext buffer (a read may write, e.g. the reply to a
// TLS 1.3 KeyUpdate), so a request is written and then its response read, as HTTP/1.1 does. An
// operation started while another is pending is refused, without touching the pending one: its
// handler gets net::error::already_started, through a post.
#pragma once

#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

namespace spnet {

class TlsStream {
public:
    using executor_type = boost::beast::tcp_stream::executor_type;
    using error_code = boost::system::error_code;

    static constexpr std::size_t write_chunk = 128 * 1024;  // plaintext encrypted per write
    static constexpr std::size_t read_chunk = 32 * 1024;    // ciphertext asked of the socket per read
    // The ciphertext of one write: its plaintext, and per 16 KiB record at most a 5-byte header, an
    // 8-byte explicit nonce (TLS 1.2), a 16-byte tag and TLS 1.3's content type, with room to spare.
    static constexpr std::size_t write_room = write_chunk + (write_chunk / 16384 + 1) * 64;

    // A client connection under `tls` (held by the caller for the stream's life), not connected.
    TlsStream(boost::asio::io_context &ioc, boost::asio::ssl::context &tls);
    // Sends the peer a close_notify first when the connection is between operations and sound
    // (handshake done, nothing failed, nothing unsent, the socket still open), as RFC 8446 section
    // 6.1 asks of the party that closes; best effort, never blocking. A caller ending a broken
    // connection closes the socket first, and then nothing is sent.
    ~TlsStream();
    TlsStream(const TlsStream &) = delete;
    TlsStream &operator=(const TlsStream &) = delete;

    SSL *native_handle() { return ssl_; }
    boost::beast::tcp_stream &next_layer() { return tcp_; }
    executor_type get_executor() { return tcp_.get_executor(); }

    // Frees the buffers while the connection waits unused; bytes not yet consumed are kept.
    // Does nothing while an operation is pending (a pending read may be filling the input buffer).
    void release_buffers();

    // True when the peer sent bytes no read has consumed yet: ciphertext taken from the socket,
    // or plaintext OpenSSL holds. A connection with such bytes after a complete response is not
    // reused, or the next request would take them for its answer. (Bytes still in the kernel
    // cannot be seen; the HTTP parser's leftovers are the caller's to check.)
    bool has_buffered_input() const { return in_begin_ != in_end_ || SSL_has_pending(ssl_) == 1; }

    template <class Token>
    auto async_handshake(Token &&token) {
        if (busy_) return refuse(std::forward<Token>(token));
        return start(handshake_step{}, std::forward<Token>(token));
    }

    // Encrypts and sends at most write_chunk bytes of `buffers`; completes with how many.
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence &buffers, Token &&token) {
        if (busy_) return refuse(std::forward<Token>(token));
        plan_.clear();
        planned_done_ = 0;
        std::size_t total = 0;
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers) && total < write_chunk; ++it) {
            boost::asio::const_buffer b = boost::asio::buffer(*it, write_chunk - total);
            if (b.size() == 0) continue;
            plan_.push_back(b);
            total += b.size();
        }
        return start(write_step{}, std::forward<Token>(token));
    }

    // Decrypts into the first non-empty buffer of `buffers`; completes with how many bytes.
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence &buffers, Token &&token) {
        if (busy_) return refuse(std::forward<Token>(token));
        read_into_ = {};
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
            if (boost::asio::mutable_buffer b = *it; b.size() != 0) {
                read_into_ = b;
                break;
            }
        }
        return start(read_step{}, std::forward<Token>(token));
    }

private:
    // What one call into OpenSSL came to: an error, more ciphertext wanted from the peer, or done
    // with `bytes` of plaintext. Ciphertext it produced waits in out_ either way.
    struct Step {
        error_code ec;
        bool want_input = false;
        std::size_t bytes = 0;
    };
    struct handshake_step {
        Step operator()(TlsStream &s) const { return s.handshake(); }
    };
    struct write_step {
        Step operator()(TlsStream &s) const { return s.write_plan(); }
    };
    struct read_step {
        Step operator()(TlsStream &s) const { return s.read_into(); }
    };

    Step handshake();
    Step write_plan();
    Step read_into();
    Step failure(int ret);

    bool has_output() const { return out_sent_ < out_.size(); }
    boost::asio::const_buffer output() const { return {out_.data() + out_sent_, out_.size() - out_sent_}; }
    void sent(std::size_t n);
    boost::asio::mutable_buffer input_space();
    void received(std::size_t n) { in_end_ += n; }
    error_code input_failed(error_code ec);
    void notify_close();

    // The BIO OpenSSL reads ciphertext from and writes it to.
    static BIO_METHOD *bio_method();
    static int bio_write(BIO *b, const char *data, std::size_t len, std::size_t *written);
    static int bio_read(BIO *b, char *data, std::size_t len, std::size_t *read);
    static long bio_ctrl(BIO *b, int cmd, long num, void *ptr);

    // One call into OpenSSL, then the socket I/O it asks for, until the step is done: output is
    // always flushed before the step completes or more input is read, a failed step's too (the
    // alert OpenSSL wrote tells the peer why, as Asio's streams do). Completes through a post
    // when no I/O was needed, so a handler never runs inside the call that started it.
    template <class StepFn>
    struct io_op {
        TlsStream &s;
        StepFn step;
        enum class State { start, flushing, reading, posted } state = State::start;
        bool done = false;
        Step result{};

        template <class Self>
        void operator()(Self &self, error_code ec = {}, std::size_t n = 0) {
            switch (state) {
                case State::posted:
                    return finish(self, result.ec, result.bytes);
                case State::reading:
                    if (ec) return finish(self, s.input_failed(ec), 0);
                    s.received(n);
                    break;
                case State::flushing:
                    s.sent(n);  // what went out before a failure too: nothing is sent twice
                    if (ec) {
                        s.failed_ = true;
                        if (const std::size_t kept = kept_on_failed_flush()) return finish(self, {}, kept);
                        return finish(self, result.ec ? result.ec : ec, 0);
                    }
                    if (done) return finish(self, result.ec, result.bytes);
                    break;
                case State::start:
                    break;
            }
            if (!done) {
                const State was = state;
                result = step(s);
                done = !result.want_input;
                if (result.ec) result.bytes = 0;
                if (result.ec && !s.has_output()) return was == State::start ? post(self) : finish(self, result.ec, 0);
            }
            if (s.has_output()) {
                state = State::flushing;
                return boost::asio::async_write(s.tcp_, s.output(), std::move(self));
            }
            if (done) return state == State::start ? post(self) : finish(self, result.ec, result.bytes);
            state = State::reading;
            s.tcp_.async_read_some(s.input_space(), std::move(self));
        }

        // A read that decrypted bytes into the caller's buffer reports them though the output it
        // produced (a KeyUpdate reply) could not be sent: the next operation meets the broken
        // socket when it flushes what is left.
        std::size_t kept_on_failed_flush() const {
            return done && !result.ec && std::is_same_v<StepFn, read_step> ? result.bytes : 0;
        }

        // Every completion: the stream is free again before the handler runs (it may start the
        // next operation, or destroy the stream).
        template <class Self>
        void finish(Self &self, error_code ec, std::size_t n) {
            s.busy_ = false;
            self.complete(ec, n);
        }

        template <class Self>
        void post(Self &self) {
            state = State::posted;
            boost::asio::post(s.tcp_.get_executor(), std::move(self));
        }
    };

    template <class StepFn, class Token>
    auto start(StepFn step, Token &&token) {
        busy_ = true;
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(io_op<StepFn>{*this, step}, token,
                                                                                tcp_);
    }

    // An operation started while another is pending: completes, through a post, with
    // already_started and no bytes, and leaves the pending one and the stream's state alone.
    struct refused_op {
        executor_type executor;
        bool posted = false;
        template <class Self>
        void operator()(Self &self) {
            if (posted) return self.complete(boost::asio::error::already_started, 0);
            posted = true;
            boost::asio::post(executor, std::move(self));
        }
    };
    template <class Token>
    auto refuse(Token &&token) {
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(refused_op{get_executor()}, token,
                                                                                tcp_);
    }

    boost::beast::tcp_stream tcp_;
    SSL *ssl_ = nullptr;
    std::vector<char> out_;  // ciphertext to send; out_sent_ of it sent
    std::size_t out_sent_ = 0;
    std::unique_ptr<char[]> in_;  // ciphertext received: [in_begin_, in_end_) not yet decrypted
    std::size_t in_cap_ = 0, in_begin_ = 0, in_end_ = 0;
    std::vector<boost::asio::const_buffer> plan_;  // what the current write encrypts
    std::size_t planned_done_ = 0;                 // bytes of plan_ already encrypted
    boost::asio::mutable_buffer read_into_;
    bool failed_ = false;  // OpenSSL failed or the peer vanished: nothing more may be sent
    bool busy_ = false;    // an operation is pending
};

}  // namespace spnet
