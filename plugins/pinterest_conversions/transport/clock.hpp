// The transport's sense of time: what time it is, and waiting until a deadline. Pacing, backoff,
// Retry-After and the retry budget all read it, so a test can inject a manual clock and assert
// the exact schedule without sleeping. Production uses std::chrono::steady_clock and Asio timers.
// (Per-step network timeouts live in the HTTPS client and stay on the real clock; so does the
// 100 ms poll of the host's cancellation flag, which is how fast a stop is noticed, not a schedule.)
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace pcapi::transport {

// Why the transport waits, so a test clock can tell the parts of a schedule apart.
enum class WaitReason { pacing, backoff };

// A one-shot timer whose handler runs on the io_context it was made for.
class Timer {
public:
    using time_point = std::chrono::steady_clock::time_point;
    virtual ~Timer() = default;
    // Runs `handler(true)` once the clock reaches `deadline`, or `handler(false)` when cancel()
    // (or a new wait) comes first. One wait at a time.
    virtual void wait_until(time_point deadline, WaitReason why, std::function<void(bool fired)> handler) = 0;
    virtual void cancel() = 0;
};

class Clock {
public:
    using time_point = std::chrono::steady_clock::time_point;
    virtual ~Clock() = default;
    virtual time_point now() const = 0;
    virtual std::unique_ptr<Timer> make_timer(boost::asio::io_context &ioc) = 0;
    // The transport brackets each request it sends, from just before the send until its response
    // handler runs, and each question to the host for a token, from just before it is asked until
    // the answer's handler runs, on the delivery's thread. A test clock holds time still while one
    // is open (network round trips and the host's answers take no time on it), so a schedule with
    // several connections, or with a token refresh, is as deterministic as one with one request;
    // the real clock ignores them.
    virtual void round_trip_begins() {}
    virtual void round_trip_ends() {}
};

// The real clock: steady_clock::now() and Asio steady timers. Shared, stateless.
Clock &steady_clock();

}  // namespace pcapi::transport
