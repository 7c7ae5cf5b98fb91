// fuzz_response: what the transport reads from the network, on arbitrary bytes.
//   mode 0: pcapi::transport::parse_event_results(body, expected), which must agree with the DOM
//           reference (tests/support/event_results_oracle.hpp), and error_summary(status, body)
//   mode 1: parse_retry_after(value, now, max) and next_wait()
//   mode 2: the raw HTTP response through boost::beast::http::response_parser<string_body> with the
//           client's limits (header 16 KiB, body 1 MiB; support/net/https_client.hpp), fed in
//           input-chosen chunks the way a read loop does; a complete response's Retry-After and
//           body then go through the parsers above, as the client would.
// Invariants: parse_event_results returns true only with exactly `expected` outcomes, each OK or
// REJECTED, messages valid UTF-8 and short; false always comes with a problem. Retry-After delays
// are within [0, max]. The parser never yields a body over its limit.
#include "fuzz_common.hpp"

#include "transport/response.hpp"
#include "transport/retry_policy.hpp"

#include "event_results_oracle.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <vector>

namespace http = boost::beast::http;
using namespace pcapi::transport;
using pcapi::EventOutcome;

namespace {

constexpr const char *kTarget = "fuzz_response";
constexpr int64_t kNow = 1795000000;
constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kBodyLimit = 1024 * 1024;

[[noreturn]] void finding(const std::string &what) { fuzz::finding(kTarget, what); }

void event_results(std::string_view body, size_t expected, unsigned status) {
    std::vector<EventOutcome> out;
    std::string problem;
    const bool ok = parse_event_results(body, expected, out, problem);
    if (ok) {
        if (out.size() != expected) finding("parse_event_results: " + std::to_string(out.size()) + " outcomes for " +
                                            std::to_string(expected));
        for (const auto &o : out) {
            if (o.status != SP_RECORD_OK && o.status != SP_RECORD_REJECTED) finding("outcome neither OK nor REJECTED");
            if (o.status == SP_RECORD_REJECTED && o.category != SP_ERR_DATA) finding("rejected outcome not SP_ERR_DATA");
            if (o.message.size() > 400) finding("outcome message of " + std::to_string(o.message.size()) + " bytes");
            if (!fuzz::valid_utf8(o.message)) finding("outcome message is not valid UTF-8");
        }
    } else if (problem.empty()) {
        finding("parse_event_results: false without a problem");
    }
    if (!fuzz::valid_utf8(problem)) finding("problem text is not valid UTF-8");
    if (std::string d = oracle::disagreement(parse_event_results, body, expected); !d.empty())
        finding("parse_event_results and the DOM reference disagree: " + d);
    const std::string summary = error_summary(status, body);
    if (summary.rfind("HTTP " + std::to_string(status), 0) != 0) finding("error_summary does not start with HTTP status");
    if (summary.size() > 400) finding("error_summary of " + std::to_string(summary.size()) + " bytes");
    if (!fuzz::valid_utf8(summary)) finding("error_summary is not valid UTF-8");
}

void retry_after(std::string_view value, int64_t now, int64_t max_ms) {
    const auto d = parse_retry_after(value, now, std::chrono::milliseconds(max_ms));
    if (d && (d->count() < 0 || d->count() > max_ms))
        finding("parse_retry_after gave " + std::to_string(d->count()) + " ms, max " + std::to_string(max_ms));
    RetryPolicy p;
    std::mt19937_64 rng(1);
    for (unsigned attempt : {0u, 1u, 7u, 39u, 40u, 1000u}) {
        const auto w = next_wait(p, attempt, d, rng);
        const int64_t cap = std::max<int64_t>(p.max_backoff.count(), d ? std::min(d->count(), p.max_retry_after.count()) : 0);
        if (w.count() < 0 || w.count() > cap) finding("next_wait out of range: " + std::to_string(w.count()));
    }
}

void http_response(FuzzedDataProvider &fdp) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(kHeaderLimit));
    parser.body_limit(kBodyLimit);
    const size_t expected = fdp.ConsumeIntegralInRange<size_t>(0, 1000);
    std::string buffer;  // like the client's flat_buffer: unconsumed bytes stay at the front
    boost::beast::error_code ec;
    bool failed = false;
    while (!parser.is_done() && !failed) {
        if (fdp.remaining_bytes() == 0) {
            parser.put_eof(ec);
            failed = static_cast<bool>(ec);
            break;
        }
        const size_t n = fdp.ConsumeIntegralInRange<size_t>(1, 4096);
        buffer += fdp.ConsumeBytesAsString(n);
        while (!buffer.empty() && !parser.is_done()) {
            const size_t used = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
            buffer.erase(0, used);
            if (ec == http::error::need_more) {
                ec = {};
                break;
            }
            if (ec) {
                failed = true;
                break;
            }
            if (used == 0) break;
        }
        if (buffer.size() > kHeaderLimit + kBodyLimit + 8192) finding("parser stopped consuming its input");
    }
    if (failed || !parser.is_done()) return;
    auto &res = parser.get();
    if (res.body().size() > kBodyLimit) finding("body over the parser's limit");
    (void)res.keep_alive();
    (void)res.result_int();
    if (auto it = res.find("x-pinterest-rid"); it != res.end()) (void)std::string(it->value());
    if (auto it = res.find(http::field::retry_after); it != res.end())
        retry_after(std::string_view(it->value().data(), it->value().size()), kNow, 600000);
    event_results(res.body(), expected, res.result_int());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider fdp(data, size);
    switch (fdp.ConsumeIntegral<uint8_t>() % 3) {
    case 0: {
        const size_t expected = fdp.ConsumeIntegralInRange<size_t>(0, 1000);
        const unsigned status = fdp.ConsumeIntegralInRange<unsigned>(100, 599);
        event_results(fdp.ConsumeRemainingBytesAsString(), expected, status);
        break;
    }
    case 1: {
        const int64_t now = fdp.ConsumeBool() ? kNow : fdp.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 40);
        const int64_t max_ms = fdp.ConsumeBool() ? 600000 : fdp.ConsumeIntegralInRange<int64_t>(0, int64_t{1} << 40);
        retry_after(fdp.ConsumeRemainingBytesAsString(), now, max_ms);
        break;
    }
    default:
        http_response(fdp);
        break;
    }
    return 0;
}
