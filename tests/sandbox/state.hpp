// pinterest-sandbox: everything the server remembers between requests: OAuth codes and tokens,
// per-event_id delivery counts, counters for /_sandbox/stats, the per-account rate limiter.
// The server runs one io_context on one thread, so none of this needs a lock.
#pragma once

#include "options.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sandbox {

// Seconds since the Unix epoch (wall clock: event_time and token expiry are wall-clock facts).
std::int64_t unix_now();

// `n` random bytes from OpenSSL's CSPRNG as lowercase hex (2n characters).
std::string random_hex(std::size_t n);

// Token grants remember the scope so responses can echo it.
struct Grant {
    std::string scope;
    std::int64_t expires_at = 0;
};

struct AuthCode {
    std::string redirect_uri;
    std::string scope;
    std::int64_t expires_at = 0;
};

struct IssuedTokens {
    std::string access_token;
    std::string refresh_token;
    std::string scope;
    std::int64_t refresh_expires_at = 0;
};

class State {
public:
    explicit State(const Options& opts);

    // ---- request ids: unique per process, numeric like Pinterest's x-pinterest-rid ----
    std::string next_request_id();

    // ---- OAuth ----
    std::string issue_code(std::string redirect_uri, std::string scope);
    // Consumes the code (single use). Returns false if unknown, used, expired.
    bool redeem_code(const std::string& code, AuthCode& out);
    IssuedTokens issue_tokens(const std::string& scope);
    // Rotates: the old refresh token stops working. Returns false if unknown/rotated/expired.
    bool rotate_refresh(const std::string& refresh_token, IssuedTokens& out);
    bool access_token_valid(std::string_view token);
    // The scopes granted with a valid OAuth access token (comma-separated); empty for a static
    // token, which stands for a conversion access token and carries no ads:read.
    std::string token_scope(std::string_view token) const;
    // Revokes OAuth access tokens (and static tokens when `include_static`).
    void revoke_all(bool include_static);

    // ---- rate limiting: token bucket per ad account; true = allowed ----
    bool rate_allow(const std::string& ad_account);

    // ---- in-flight gauge for events requests (latency delay counts as in flight) ----
    class InFlight {
    public:
        InFlight() = default;
        explicit InFlight(State* s);
        InFlight(InFlight&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
        InFlight& operator=(InFlight&& o) noexcept;
        InFlight(const InFlight&) = delete;
        InFlight& operator=(const InFlight&) = delete;
        ~InFlight() { release(); }
        void release();
    private:
        State* s_ = nullptr;
    };
    InFlight begin_in_flight() { return InFlight(this); }

    // ---- counters ----
    void count_request(const char* endpoint) { ++requests_[endpoint]; }
    void count_response(unsigned status) { ++responses_[status]; }
    void count_token_request(const std::string& grant_type) { ++token_requests_[grant_type]; }
    void count_refresh() { ++token_refreshes_; }
    void count_rate_limited(const std::string& account) {
        ++rate_limited_;
        ++rate_limited_by_account_[account];
    }
    void count_fault(const std::string& action) { ++faults_[action]; ++faults_total_; }
    void count_received(std::uint64_t n) { events_received_ += n; }
    void count_failed(std::uint64_t n) { events_failed_ += n; }
    void count_test_events(std::uint64_t n) { test_events_ += n; }
    // Anonymous processed events (fast mode does not parse event ids).
    void count_processed_anonymous(std::uint64_t n) { events_processed_ += n; }
    void count_processed(std::string_view event_id);
    // Processed events per ad account (/_sandbox/stats events_by_account), for many-tenant runs.
    void count_account(const std::string& account, std::uint64_t n) { by_account_[account] += n; }
    // What conversion_eqs scores: processed events per ad account and event name, and how many
    // of them carried each EQS component (validate.hpp).
    struct EqsCounts {
        std::uint64_t events = 0;
        std::vector<std::uint64_t> with;
    };
    void count_quality(const std::string& account, const std::string& event_name, std::uint32_t components);
    const std::map<std::string, EqsCounts>& quality(const std::string& account) const;
    void count_connection() { ++connections_; }
    // How a client ended a connection between requests: with a TLS close_notify, or by closing TCP
    // without one (what RFC 8446 section 6.1 forbids, and what a server sees as a truncated stream).
    void count_client_close(bool notified) { ++(notified ? closes_notified_ : closes_truncated_); }

    // Arrival log of events and token requests, so tests can check retry timing and attempts.
    struct LogEntry {
        double t_ms;  // since the sandbox started (steady clock)
        std::string endpoint;
        unsigned status;  // 0: no response (reset, hang)
        std::size_t events;
        std::string grant_type;
        std::string fault;
        std::string account;  // events requests: the ad account they were sent to
    };
    void log_request(LogEntry e);
    double ms_since_start(std::chrono::steady_clock::time_point t) const {
        return std::chrono::duration<double, std::milli>(t - started_).count();
    }

    boost::json::value stats_json() const;
    boost::json::value log_json() const;
    std::string event_ids_text() const;
    void reset_counters();

    std::mt19937_64& rng() { return rng_; }
    std::uint64_t next_capture_seq() { return ++capture_seq_; }

private:
    friend class InFlight;
    struct Bucket {
        double tokens = 0;
        std::chrono::steady_clock::time_point last;
    };

    const Options& opts_;
    std::mt19937_64 rng_;
    std::uint64_t rid_base_ = 0;
    std::uint64_t rid_seq_ = 0;
    std::uint64_t capture_seq_ = 0;

    std::unordered_map<std::string, AuthCode> codes_;
    std::unordered_map<std::string, Grant> access_;
    std::unordered_map<std::string, Grant> refresh_;
    std::unordered_set<std::string> static_tokens_;
    std::unordered_map<std::string, Bucket> buckets_;

    std::map<std::string, std::uint64_t> requests_;
    std::map<unsigned, std::uint64_t> responses_;
    std::map<std::string, std::uint64_t> token_requests_;
    std::map<std::string, std::uint64_t> faults_;
    std::unordered_map<std::string, std::uint64_t> event_ids_;
    std::uint64_t token_refreshes_ = 0, rate_limited_ = 0, faults_total_ = 0;
    std::map<std::string, std::uint64_t> rate_limited_by_account_;
    std::uint64_t events_received_ = 0, events_processed_ = 0, events_failed_ = 0, test_events_ = 0;
    std::uint64_t duplicates_ = 0, connections_ = 0, closes_notified_ = 0, closes_truncated_ = 0;
    std::uint64_t in_flight_ = 0, max_in_flight_ = 0;
    std::vector<LogEntry> log_;
    std::map<std::string, std::map<std::string, EqsCounts>> quality_;
    std::map<std::string, std::uint64_t> by_account_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace sandbox
