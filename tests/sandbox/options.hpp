// pinterest-sandbox: command-line options shared by every part of the server.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sandbox {

struct ConversionTag {
    std::string id;
    std::string status;   // ACTIVE or INACTIVE
    std::string account;  // the ad account it belongs to; empty: every account
};

struct Options {
    unsigned short port = 0;  // 0: the kernel picks a free port
    std::string ca_out;       // where the CA certificate PEM is written ("" = nowhere)
    std::string cert_host;    // leaf SAN: "" = localhost + 127.0.0.1, else only this name
    bool cert_expired = false;
    bool cert_intermediate = false;  // the leaf is signed by an intermediate CA, sent with it
    std::string intermediate_out;    // non-empty: the intermediate is written here and not sent

    std::vector<std::string> ad_accounts;            // accessible with any valid token
    std::vector<std::string> forbidden_accounts;     // exist, but 403
    std::vector<ConversionTag> conversion_tags;
    std::vector<std::string> static_tokens;          // accepted without OAuth

    std::string client_id = "sandbox-client";
    std::string client_secret = "sandbox-secret";
    std::int64_t access_token_ttl = 2592000;   // 30 days, as Pinterest
    std::int64_t refresh_token_ttl = 5184000;  // 60 days (continuous refresh)

    std::string capture_dir;
    double rate_limit_per_minute = 0;  // 0 = unlimited
    std::map<std::string, double> account_rate_limits;  // per ad account, instead of the above
    unsigned latency_ms = 0;
    bool fast = false;
    std::int64_t event_max_age_days = 7;
    std::int64_t event_max_future_seconds = 300;

    std::vector<std::string> fault_specs;  // parsed by FaultInjector
    std::uint64_t seed = 1;

    unsigned idle_timeout_seconds = 60;
    std::size_t body_limit = 16 * 1024 * 1024;
    bool verbose = false;
};

}  // namespace sandbox
