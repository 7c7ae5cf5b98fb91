// Client-side pacing to the destination's call budget (Pinterest: 5,000 calls per minute per ad
// account). Calls are spaced evenly (idle time banks at most a few); after a 429 the pace halves (down to 1/16) and recovers
// gradually with successes, so a throttled run backs off instead of hammering. Pure: the caller
// passes the clock.
#pragma once

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
    void on_success();       // recover towards the configured pace

    double current_calls_per_minute() const { return calls_per_minute_ * factor_; }

    static constexpr int kBurst = 4;  // calls that idle time may bank

private:
    double calls_per_minute_;
    double factor_ = 1.0;
    clock::time_point next_{};
};

}  // namespace pcapi::transport
