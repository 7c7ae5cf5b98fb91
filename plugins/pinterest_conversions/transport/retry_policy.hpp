// When to retry and how long to wait: exponential backoff with full jitter, Retry-After honoured
// as a floor (seconds or HTTP-date, clamped), all within a total time budget. Pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace pcapi::transport {

using std::chrono::milliseconds;

struct RetryPolicy {
    milliseconds initial{1000};
    milliseconds max_backoff{30000};
    milliseconds max_elapsed{600000};  // total budget per request, from its first attempt
    milliseconds max_retry_after{600000};  // a Retry-After beyond this is clamped
};

// HTTP statuses worth retrying: 408, 429, 500, 502, 503, 504.
bool retryable_status(unsigned status) noexcept;

// Full jitter: uniform in [0, min(max_backoff, initial * 2^attempt)], attempt counted from 0.
milliseconds backoff(const RetryPolicy &p, unsigned attempt, std::mt19937_64 &rng);

// Retry-After as a delay: delta-seconds ("7") or an HTTP-date (IMF-fixdate, RFC 850 or asctime).
// Garbage, negative values or dates in the past give nullopt or zero; the result is clamped to
// `max`. `now_unix_s` is the current wall-clock time.
std::optional<milliseconds> parse_retry_after(std::string_view value, int64_t now_unix_s, milliseconds max);

// The wait before the next attempt: max(backoff, retry_after).
milliseconds next_wait(const RetryPolicy &p, unsigned attempt, std::optional<milliseconds> retry_after,
                       std::mt19937_64 &rng);

}  // namespace pcapi::transport
