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

// The exponential ceiling: min(max_backoff, initial * 2^attempt), attempt counted from 0.
milliseconds backoff_ceiling(const RetryPolicy &p, unsigned attempt);

// Full jitter: uniform in [0, backoff_ceiling(attempt)].
milliseconds backoff(const RetryPolicy &p, unsigned attempt, std::mt19937_64 &rng);

// After a 503 with code 4197, Pinterest's "endpoint ramped down", which asks clients to back off
// harder (shared/reference/pinterest-conversions-api.md, section 10): uniform in
// [backoff_ceiling(attempt + 1), backoff_ceiling(attempt + 2)], i.e. between twice and four times
// the ordinary ceiling, both capped at max_backoff: never shorter than the longest ordinary wait.
milliseconds ramped_down_backoff(const RetryPolicy &p, unsigned attempt, std::mt19937_64 &rng);

// True for a 503 whose error body carries code 4197.
bool ramped_down(unsigned status, std::string_view body);

// Retry-After as a delay: delta-seconds ("7") or an HTTP-date (IMF-fixdate, RFC 850 or asctime).
// Garbage, negative values or dates in the past give nullopt or zero; the result is clamped to
// `max`. `now_unix_s` is the current wall-clock time.
std::optional<milliseconds> parse_retry_after(std::string_view value, int64_t now_unix_s, milliseconds max);

// The wait before the next attempt: max(backoff, retry_after), the backoff ramped_down_backoff()
// when `ramped` is set.
milliseconds next_wait(const RetryPolicy &p, unsigned attempt, std::optional<milliseconds> retry_after,
                       std::mt19937_64 &rng, bool ramped = false);

}  // namespace pcapi::transport
