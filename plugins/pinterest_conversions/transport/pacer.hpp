// Client-side pacing to the destination's call budget (Pinterest: 5,000 calls per minute per ad
// account). Calls are spaced evenly (idle time banks at most a few); after a 429 the pace halves (down to 1/16) and recovers
// gradually with successes, so a throttled run backs off instead of hammering. Pure: the caller
// passes the clock.
#pragma once

#include <algorithm>
#include <chrono>

namespace pcapi::transport {

class Pacer {
public:
    using clock = std::chrono::steady_clock;

    explicit Pacer(double calls_per_minute);

    // Reserves the next call slot and returns when the call may start (>= now).
    clock::time_point reserve(clock::time_point now);

    // Whether a call reserved now could start at once (nothing is reserved).
    bool ready(clock::time_point now) const { return next_ <= now; }

    void on_rate_limited();  // a 429: slow down
    // No call starts before `t` (a 429's Retry-After: the budget is spent until then), including
    // calls already reserved: their waits end no earlier than held_until().
    void hold_until(clock::time_point t) {
        next_ = std::max(next_, t);
        held_until_ = std::max(held_until_, t);
    }
    clock::time_point held_until() const { return held_until_; }
    void on_success();       // recover towards the configured pace

    double current_calls_per_minute() const { return calls_per_minute_ * factor_; }

    static constexpr int kBurst = 4;  // calls that idle time may bank, at most
    // Calls idle time banks at the current pace: a fifth of a second's budget, at least 1 and at
    // most kBurst. A destination that counts its budget over one second still sees no more than
    // that budget when the network brings calls up to 0.8 s closer together than they were sent
    // (new connections' handshakes take unequal times): at 300 calls/minute a bank of 4 left
    // 0.2 s, and a sanitizer build's slow handshakes drew 429s (FanOutE2E).
    int bank() const { return std::clamp(static_cast<int>(current_calls_per_minute() / 300.0), 1, kBurst); }

private:
    double calls_per_minute_;
    double factor_ = 1.0;
    clock::time_point next_{};
    clock::time_point held_until_{};
};

}  // namespace pcapi::transport
