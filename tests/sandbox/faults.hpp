// pinterest-sandbox: fault injection (--fault SPEC). Grammar:
//   SPEC   := ACTION[:ARG][,KEY=VALUE]...
//   KEY    := on (N or N-M, 1-based request number on the target endpoint) | every (K: every Kth)
//           | p (probability 0..1, drawn from the --seed'ed RNG) | target (events | token)
//           | retry_after (any text, sent verbatim as Retry-After; may contain commas, not '=')
//           | code (status only: the error body's code instead of the default for the status)
//           | contains (TEXT: only requests whose body contains TEXT, e.g. one event_id; no commas)
//           | account (ID: only events requests for ad account ID)
//           | message (status and event_fail: the error message sent instead of the default one, any
//             bytes but '=', e.g. escape sequences and line breaks to try a client's printing)
// Selection keys combine with AND; without any, the fault hits every request. With several
// --fault options the first one that selects a request wins.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sandbox {

enum class FaultAction {
    status,               // reply ARG with a Pinterest-shaped error body
    reset,                // RST the TCP connection right after reading the request
    reset_after_headers,  // send the response header, then close TCP (no TLS close_notify)
    reset_mid_body,       // send the header and half the body, then close TCP
    hang,                 // never answer; keep the connection open
    trickle,              // send the response one byte per second
    truncated_json,       // 200 whose JSON body is cut short
    invalid_json,         // 200 whose body is not JSON
    wrong_count,          // 200 whose events array is shorter than the request's data
    event_fail,           // 200 where event ARG (index, i+j+k, or "random") failed
    close,                // add Connection: close and close after the response
    drop_idle,            // answer kept alive, then close TCP (no close_notify): dead when reused
    stray_record,         // answer kept alive, and in the same TCP segment a TLS record nobody asked for
    huge_body,            // 200 with a 100 MiB body, streamed
    huge_headers,         // response with about 1 MiB of header fields
    invalid_grant,        // token endpoint only: 400 invalid_grant
    delay,                // process and answer normally, ARG ms later (on top of --latency-ms)
};

enum class FaultTarget { events, token };

struct FaultSpec {
    std::string text;  // the SPEC as given, for messages
    FaultAction action = FaultAction::status;
    FaultTarget target = FaultTarget::events;
    unsigned status = 0;
    std::optional<std::string> retry_after;
    std::optional<int> code;  // status only: overrides the error body's code
    std::vector<std::size_t> fail_indices;
    bool fail_random = false;
    std::uint64_t on_from = 0, on_to = 0;  // 0 = no range
    std::uint64_t every = 0;               // 0 = no modulus
    double probability = 1.0;
    std::string contains;  // empty = any body
    std::string account;   // empty = any ad account
    std::uint64_t delay_ms = 0;  // delay only
    std::optional<std::string> message;  // status and event_fail: replaces the default message
};

const char* to_string(FaultAction a);

// True for faults that replace processing altogether: the sandbox answers without looking at the
// request, so nothing is counted as processed. False for event_fail, close, drop_idle,
// stray_record, reset_after_headers, reset_mid_body and delay, which process the request first (a
// real server would have).
bool answers_without_processing(FaultAction a);

// Parses one SPEC; throws std::invalid_argument with a message naming the problem.
FaultSpec parse_fault(std::string_view spec);

class FaultInjector {
public:
    explicit FaultInjector(std::vector<FaultSpec> specs) : specs_(std::move(specs)) {}

    // Counts one request on `target` and returns the fault that applies to it, if any. `account`:
    // the ad account an events request is for.
    const FaultSpec* select(FaultTarget target, std::mt19937_64& rng, std::string_view body = {},
                            std::string_view account = {});

    // Forgets request numbers, so on=N counts from the next request (POST /_sandbox/reset).
    void reset() { events_seen_ = token_seen_ = 0; }

    // Drops every --fault: the server is healthy from the next request on (POST /_sandbox/heal).
    void clear() { specs_.clear(); }

private:
    std::vector<FaultSpec> specs_;
    std::uint64_t events_seen_ = 0;
    std::uint64_t token_seen_ = 0;
};

}  // namespace sandbox
