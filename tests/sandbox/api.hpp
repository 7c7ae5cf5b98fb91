// pinterest-sandbox: the HTTP-independent half of the server. The Beast session (server.cpp)
// turns each parsed request into an ApiRequest, calls Api::handle, and carries out the Outcome:
// a plain reply, possibly delayed, possibly delivered through a transport fault. Keeping Beast
// out of here keeps compile times down and makes the endpoint logic easy to read.
#pragma once

#include "faults.hpp"
#include "options.hpp"
#include "state.hpp"

#include <boost/json/fwd.hpp>
#include <boost/url/params_view.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sandbox {

struct ApiRequest {
    std::string_view method;
    std::string_view target;  // origin-form: path and query
    std::string_view authorization;
    std::string_view content_type;
    std::string_view body;
};

struct ApiReply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra fields (Location, Retry-After)
    bool close = false;  // send Connection: close and close after the response
};

// What the session must do with the reply.
enum class Transport {
    normal,
    reset,                // RST without answering
    reset_after_headers,  // header only, then FIN without close_notify
    reset_mid_body,       // header + half the body, then FIN
    drop_after,           // the whole response, kept alive, then FIN without close_notify
    stray_after,          // the whole response, kept alive, and a stray record in the same segment
    hang,                 // never answer
    trickle,              // one byte per second
    huge_body,            // header announcing 100 MiB, body streamed in chunks
};

struct Outcome {
    ApiReply reply;
    Transport transport = Transport::normal;
    std::chrono::milliseconds delay{0};  // --latency-ms for events requests
    State::InFlight in_flight;           // held until the response starts (events requests only)
    bool count_response = true;          // control endpoints stay out of the response counters

    // For GET /_sandbox/log (events and token requests only): what arrived and how it was met.
    const char* log_endpoint = nullptr;
    std::size_t log_events = 0;
    std::string log_grant_type;
    std::string log_account;  // events requests: the ad account of the path
    const char* log_fault = nullptr;
};

// Size of the huge_body fault's body, and the bytes it starts with (the rest is padding).
inline constexpr std::uint64_t kHugeBodyBytes = 100ull * 1024 * 1024;

class Api {
public:
    Api(const Options& opts, State& state, FaultInjector& faults);
    Outcome handle(const ApiRequest& req);

    // JSON error bodies in Pinterest's shape: {"code":N,"message":"..."}.
    static std::string error_body(int code, std::string_view message);

private:
    Outcome events(const ApiRequest& req, const std::string& account, bool test);
    Outcome ad_account(const ApiRequest& req, const std::string& account);
    Outcome conversion_tag(const ApiRequest& req, const std::string& account, const std::string& tag);
    Outcome conversion_eqs(const ApiRequest& req, const std::string& account, const boost::urls::params_view& params);
    Outcome oauth_authorize(const ApiRequest& req);
    Outcome oauth_token(const ApiRequest& req);
    Outcome control(const ApiRequest& req, std::string_view path);

    // 401 / 403 / 404 / 400 checks shared by every /v5/ad_accounts route; true = go on.
    bool check_auth_and_account(const ApiRequest& req, const std::string& account, Outcome& out);
    Outcome apply_event_fault(const FaultSpec& f, Outcome normal, std::size_t n_events);
    void capture(std::string_view body);

    const Options& opts_;
    State& state_;
    FaultInjector& faults_;
    std::vector<std::string> fast_replies_;  // fast mode: canned 200 bodies by event count
    std::chrono::steady_clock::time_point started_;  // arrival of the request being handled
};

// ---- helpers shared by api.cpp, oauth.cpp and validate.cpp ----

// Pinterest's 200 body for `n` processed events (also the basis of faulted bodies).
std::string processed_body(std::size_t n);

// Counts events in a body without parsing it: occurrences of "event_id" as a key.
std::size_t count_events_cheaply(std::string_view body);

}  // namespace sandbox
