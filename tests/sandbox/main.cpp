// pinterest-sandbox: a local HTTPS stand-in for Pinterest's API v5 (Conversions API, ad accounts,
// conversion tags, OAuth) with fault injection, for tests and benchmarks of the plugin.
// This file is the command line: parse, make certificates, print the URL, run.
#include "api.hpp"
#include "cert.hpp"
#include "faults.hpp"
#include "options.hpp"
#include "server.hpp"
#include "state.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace {

constexpr const char *kHelp = R"(pinterest-sandbox: a local HTTPS server that behaves like Pinterest API v5 for a
Conversions API destination (events, ad accounts, conversion tags, OAuth), with fault injection.

Usage: pinterest-sandbox [OPTIONS]

The first line on stdout is the base URL (https://127.0.0.1:PORT), flushed at once. Nothing else
is printed unless --verbose (then one line per request on stderr, without tokens or bodies).
Listens on 127.0.0.1 only. Stops on SIGINT/SIGTERM.

Network and TLS:
  --port N                  port to listen on (default 0: any free port)
  --ca-out FILE             write the generated CA certificate (PEM) to FILE, atomically, before
                            the URL is printed; clients trust it to verify the server
  --cert-host NAME          the server certificate names only NAME (DNS or IP) instead of
                            localhost and 127.0.0.1: for hostname-mismatch tests
  --cert-expired            the server certificate expired yesterday
  --cert-intermediate       the server certificate is signed by an intermediate CA that the CA
                            signed, and sent with it (not the CA), as public servers send theirs
  --cert-intermediate-out FILE
                            as --cert-intermediate, but the server sends the leaf alone and the
                            intermediate is written to FILE (atomically, before the URL), as a
                            server that withholds it relies on clients knowing it from elsewhere
  --idle-timeout SECONDS    close keep-alive connections idle this long (default 60)
  --body-limit BYTES        largest request body; bigger gets 413 (default 16777216)

Accounts and tokens:
  --ad-account ID           ad account the tokens can access (repeatable; default 549755885175)
  --forbidden-account ID    ad account that exists but is not accessible: 403 code 29 (repeatable)
                            any other numeric id: 404; a non-numeric id: 400
  --conversion-tag ID[:STATUS][@ACCOUNT]
                            conversion tag, STATUS ACTIVE (default) or INACTIVE, of ACCOUNT only
                            or, without @, of every account (repeatable)
  --static-token TOKEN      bearer token accepted without OAuth, like a conversion access token
                            (repeatable)
  --client-id ID            OAuth client id (default sandbox-client)
  --client-secret SECRET    OAuth client secret (default sandbox-secret)
  --access-token-ttl S      access token lifetime in seconds (default 2592000)
  --refresh-token-ttl S     refresh token lifetime in seconds (default 5184000); every refresh
                            rotates the refresh token and invalidates the old one

Events endpoint behaviour:
  --event-max-age-days N    events older than this fail with 422 (default 7)
  --event-max-future-seconds N
                            events further in the future fail with 422 (default 300)
  --rate-limit N            calls per minute per ad account: token bucket of rate N/60 per second
                            and capacity max(1, N/60); over it: 429 code 8 (default: none)
  --account-rate-limit ID:N the same for ad account ID alone, in place of --rate-limit (repeatable):
                            each account on its own tier, as Pinterest's budgets are
  --latency-ms N            delay each events response by N ms (asynchronously)
  --capture-dir DIR         write each schema-valid events body to DIR/NNNNNN.json
  --fast                    benchmark mode: no JSON parsing or validation of events; events are
                            counted by their "event_id" keys; auth, accounts, rate limit still apply

Fault injection:
  --fault SPEC              inject a fault (repeatable; the first SPEC that selects a request wins)
  --seed N                  seed of the RNG behind p= and event_fail:random (default 1)

  SPEC := ACTION[:ARG][,KEY=VALUE]...
  Selection (combined with AND; none = every request; numbers count requests on the target):
    on=N | on=N-M    the Nth (to Mth) request, 1-based
    every=K          every Kth request
    p=P              with probability P (0..1)
    target=events|token
                     the endpoint: POST /v5/ad_accounts/{id}/events (default) or POST /v5/oauth/token
    contains=TEXT    only requests whose body contains TEXT (e.g. one event_id)
    account=ID       only events requests for ad account ID
  Actions:
    status:CODE      reply CODE with a Pinterest error body (429: code 8; 500/502/503/504: code 4197)
                     retry_after=VALUE adds Retry-After: VALUE verbatim (commas allowed, '=' not)
                     code=N puts code N in the error body instead (e.g. status:503,code=1: a 503
                     that is not Pinterest's "endpoint ramped down")
                     message=TEXT puts TEXT in the error body instead ('=' not allowed)
    reset            read the request, then RST the connection without answering
    reset_after_headers
                     process, send the response header, then close TCP (no TLS close_notify)
    reset_mid_body   process, send the header and half the body, then close TCP
    hang             never answer; keep the connection open until the client closes it
    trickle          answer a 200 at one byte per second
    truncated_json   200 whose JSON body is cut in half
    invalid_json     200 whose body is HTML
    wrong_count      200 whose events array is one shorter than the request's data
    event_fail:K     process; event K (0-based; i+j+k for several; 'random') reports failed in a 200
                     message=TEXT is its error_message ('=' not allowed)
    close            process and answer normally with Connection: close, then close
    drop_idle        process and answer normally, kept alive, then close TCP (no TLS close_notify):
                     the connection the client kept is dead when it next sends on it
    delay:MS         process and answer normally, MS milliseconds later (after --latency-ms)
    stray_record     process and answer normally, kept alive, and send in the same TCP segment a
                     second TLS record holding a 200 nobody asked for: a client that reuses the
                     connection reads it as the answer to its next request
    huge_body        200 whose body is 100 MiB (streamed)
    huge_headers     200 with about 1 MiB of header fields
    invalid_grant    (target=token only) 400 invalid_grant
  Events of requests answered by a fault count as processed only for event_fail (the others in the
  batch), close, drop_idle, stray_record, reset_after_headers and reset_mid_body: there the server
  did process them.

Control endpoints (no auth; loopback only):
  GET  /_sandbox/stats      counters as JSON
  GET  /_sandbox/log        arrivals of events and token requests as a JSON array of
                            {t_ms, endpoint, status (0: none), events, account, grant_type, fault}
  GET  /_sandbox/event_ids  lines "<event_id> <times processed>"
  POST /_sandbox/reset      clear counters, the log, event ids and fault request numbers
  POST /_sandbox/heal       drop every --fault: healthy from the next request on
  POST /_sandbox/revoke     revoke every OAuth access token (?static=true: static tokens too)

Other:
  --verbose                 log each request (method, path, status, time) to stderr
  --help                    show this help
Exit codes: 0 after SIGINT/SIGTERM, 1 on a runtime failure, 2 on a usage error.
)";

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

long long to_number(const std::string& opt, const std::string& v, long long lo, long long hi) {
    std::size_t used = 0;
    long long n = 0;
    try {
        n = std::stoll(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != v.size() || n < lo || n > hi)
        throw UsageError(opt + " needs an integer between " + std::to_string(lo) + " and " + std::to_string(hi));
    return n;
}

bool numeric_id(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
}

sandbox::Options parse(int argc, char** argv, bool& help) {
    sandbox::Options o;
    bool accounts_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw UsageError(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            help = true;
        } else if (a == "--port") {
            o.port = static_cast<unsigned short>(to_number(a, value(), 0, 65535));
        } else if (a == "--ca-out") {
            o.ca_out = value();
        } else if (a == "--cert-host") {
            o.cert_host = value();
            if (o.cert_host.empty()) throw UsageError("--cert-host needs a non-empty name");
        } else if (a == "--cert-expired") {
            o.cert_expired = true;
        } else if (a == "--cert-intermediate") {
            o.cert_intermediate = true;
        } else if (a == "--cert-intermediate-out") {
            o.intermediate_out = value();
            if (o.intermediate_out.empty()) throw UsageError("--cert-intermediate-out needs a file name");
            o.cert_intermediate = true;
        } else if (a == "--idle-timeout") {
            o.idle_timeout_seconds = static_cast<unsigned>(to_number(a, value(), 1, 86400));
        } else if (a == "--body-limit") {
            o.body_limit = static_cast<std::size_t>(to_number(a, value(), 1024, 1LL << 32));
        } else if (a == "--ad-account") {
            auto v = value();
            if (!numeric_id(v)) throw UsageError("--ad-account needs a numeric id of at most 18 digits");
            o.ad_accounts.push_back(v);
            accounts_given = true;
        } else if (a == "--forbidden-account") {
            auto v = value();
            if (!numeric_id(v)) throw UsageError("--forbidden-account needs a numeric id of at most 18 digits");
            o.forbidden_accounts.push_back(v);
        } else if (a == "--conversion-tag") {
            auto v = value();
            std::string account;
            if (const auto at = v.find('@'); at != std::string::npos) {
                account = v.substr(at + 1);
                v.resize(at);
                if (!numeric_id(account)) throw UsageError("--conversion-tag ID@ACCOUNT needs a numeric account id");
            }
            auto colon = v.find(':');
            sandbox::ConversionTag t{v.substr(0, colon), colon == std::string::npos ? "ACTIVE" : v.substr(colon + 1),
                                     account};
            if (t.id.empty() || t.id.find_first_not_of("0123456789") != std::string::npos)
                throw UsageError("--conversion-tag needs a numeric id");
            if (t.status != "ACTIVE" && t.status != "INACTIVE")
                throw UsageError("--conversion-tag status must be ACTIVE or INACTIVE");
            o.conversion_tags.push_back(t);
        } else if (a == "--static-token") {
            auto v = value();
            if (v.empty()) throw UsageError("--static-token needs a non-empty token");
            o.static_tokens.push_back(v);
        } else if (a == "--client-id") {
            o.client_id = value();
        } else if (a == "--client-secret") {
            o.client_secret = value();
        } else if (a == "--access-token-ttl") {
            o.access_token_ttl = to_number(a, value(), 1, 1LL << 40);
        } else if (a == "--refresh-token-ttl") {
            o.refresh_token_ttl = to_number(a, value(), 1, 1LL << 40);
        } else if (a == "--capture-dir") {
            o.capture_dir = value();
            if (!std::filesystem::is_directory(o.capture_dir))
                throw UsageError("--capture-dir must name an existing directory");
        } else if (a == "--rate-limit") {
            o.rate_limit_per_minute = static_cast<double>(to_number(a, value(), 1, 1LL << 40));
        } else if (a == "--account-rate-limit") {
            const std::string v = value();
            const auto colon = v.find(':');
            if (colon == std::string::npos || !numeric_id(v.substr(0, colon)))
                throw UsageError("--account-rate-limit needs ID:CALLS_PER_MINUTE with a numeric id");
            o.account_rate_limits[v.substr(0, colon)] =
                static_cast<double>(to_number(a, v.substr(colon + 1), 1, 1LL << 40));
        } else if (a == "--latency-ms") {
            o.latency_ms = static_cast<unsigned>(to_number(a, value(), 0, 3600000));
        } else if (a == "--fast") {
            o.fast = true;
        } else if (a == "--event-max-age-days") {
            o.event_max_age_days = to_number(a, value(), 1, 36500);
        } else if (a == "--event-max-future-seconds") {
            o.event_max_future_seconds = to_number(a, value(), 0, 1LL << 40);
        } else if (a == "--fault") {
            o.fault_specs.push_back(value());
        } else if (a == "--seed") {
            o.seed = static_cast<std::uint64_t>(to_number(a, value(), 0, (1LL << 62)));
        } else if (a == "--verbose" || a == "-v") {
            o.verbose = true;
        } else {
            throw UsageError("unknown option '" + a + "' (see --help)");
        }
    }
    if (!accounts_given) o.ad_accounts.push_back("549755885175");
    return o;
}

// tmp + rename, so a reader polling for the file never sees half a certificate.
void write_atomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw std::runtime_error("cannot write " + tmp);
        f << content;
        f.flush();
        if (!f) throw std::runtime_error("cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw std::runtime_error("cannot rename the certificate file into " + path);
    }
}

}  // namespace

int main(int argc, char** argv) {
    // A reader that closes our stdout must not kill the server.
    std::signal(SIGPIPE, SIG_IGN);

    sandbox::Options opts;
    std::vector<sandbox::FaultSpec> faults;
    try {
        bool help = false;
        opts = parse(argc, argv, help);
        if (help) {
            std::cout << kHelp;
            return 0;
        }
        for (const auto& s : opts.fault_specs) faults.push_back(sandbox::parse_fault(s));
    } catch (const std::exception& e) {
        std::cerr << "pinterest-sandbox: " << e.what() << "\n";
        return 2;
    }

    try {
        auto certs = sandbox::make_certificates(opts.cert_host, opts.cert_expired, opts.cert_intermediate);
        if (!opts.intermediate_out.empty()) {
            write_atomically(opts.intermediate_out, certs.intermediate_pem);
            certs.chain_pem = certs.leaf_pem;
        }
        if (!opts.ca_out.empty()) write_atomically(opts.ca_out, certs.ca_pem);

        sandbox::State state(opts);
        sandbox::FaultInjector injector(std::move(faults));
        sandbox::Api api(opts, state, injector);
        sandbox::run_server(opts, certs, api, state, [](unsigned short port) {
            std::cout << "https://127.0.0.1:" << port << std::endl;  // endl: tests wait for this line
        });
    } catch (const std::exception& e) {
        std::cerr << "pinterest-sandbox: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
