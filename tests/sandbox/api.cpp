// pinterest-sandbox: routing, the /v5/ad_accounts endpoints, faults on the events endpoint, and
// the /_sandbox control endpoints. OAuth lives in oauth.cpp, schema rules in validate.cpp.
#include "api.hpp"
#include "validate.hpp"

#include <boost/json.hpp>
#include <boost/url.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>

namespace sandbox {
namespace json = boost::json;
namespace {

constexpr std::string_view kProcessedItem = R"({"status":"processed","error_message":null,"warning_message":null})";

ApiReply json_reply(unsigned status, std::string body) {
    ApiReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

ApiReply error_reply(unsigned status, int code, std::string_view message) {
    return json_reply(status, Api::error_body(code, message));
}

std::string_view bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return {};
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return {};
    auto t = authorization.substr(scheme.size());
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    return t;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

bool is_json_content_type(std::string_view ct) {
    auto semi = ct.find(';');
    auto base = ct.substr(0, semi);
    while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
    if (base.size() != 16) return false;
    for (std::size_t i = 0; i < base.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(base[i])) != "application/json"[i]) return false;
    return true;
}

// Body of a 200 whose per-event results are given (empty message = processed).
std::string results_body(const std::vector<std::string>& errors, std::size_t processed) {
    std::string out = R"({"num_events_received":)" + std::to_string(errors.size()) +
                      R"(,"num_events_processed":)" + std::to_string(processed) + R"(,"events":[)";
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (i) out.push_back(',');
        if (errors[i].empty()) {
            out.append(kProcessedItem);
        } else {
            out.append(R"({"status":"failed","error_message":)");
            out.append(json::serialize(json::string_view(errors[i])));
            out.append(R"(,"warning_message":null})");
        }
    }
    out.append("]}");
    return out;
}

const char* status_fault_message(unsigned status) {
    switch (status) {
    case 429: return "You have exceeded your rate limit. Try again later.";
    case 500: return "Something went wrong on our end. Sorry about that.";
    case 502: return "Bad gateway. Try again later.";
    case 503: return "The endpoint is ramped down. Try again later.";
    case 504: return "Gateway timeout. Try again later.";
    default: return "Injected failure.";
    }
}

int status_fault_code(unsigned status) {
    switch (status) {
    case 400: return 4196;
    case 401: return 2;
    case 403: return 29;
    case 429: return 8;
    case 500: case 502: case 503: case 504: return 4197;
    default: return static_cast<int>(status);
    }
}

}  // namespace

std::string Api::error_body(int code, std::string_view message) {
    json::object o;
    o["code"] = code;
    o["message"] = message;
    return json::serialize(o);
}

std::string processed_body(std::size_t n) {
    std::string out = R"({"num_events_received":)" + std::to_string(n) + R"(,"num_events_processed":)" +
                      std::to_string(n) + R"(,"events":[)";
    out.reserve(out.size() + n * (kProcessedItem.size() + 1) + 2);
    for (std::size_t i = 0; i < n; ++i) {
        if (i) out.push_back(',');
        out.append(kProcessedItem);
    }
    out.append("]}");
    return out;
}

std::size_t count_events_cheaply(std::string_view body) {
    // Fast mode must stay far below the cost of TLS. A match needs 'e' one byte after a quote and
    // 'd' eight bytes after it ("event_id"), which almost nothing else in an events body has; the
    // two tests run 16 bytes at a time with GCC vector extensions (SSE2 on x86, NEON on ARM), and
    // only candidates are checked in full: about 50 us for a 400 KB batch, half of memmem's time.
    using v16 = unsigned char __attribute__((vector_size(16)));
    static constexpr std::string_view needle = "\"event_id\"";
    const char* p = body.data();
    const std::size_t size = body.size();
    std::size_t n = 0;
    auto key_at = [&](std::size_t i) {
        if (body.compare(i, needle.size(), needle) != 0) return false;
        std::size_t j = i + needle.size();
        while (j < size && (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r')) ++j;
        return j < size && p[j] == ':';  // a key, not a string value that happens to match
    };
    std::size_t i = 0;
    for (; i + 8 + 16 <= size; i += 16) {
        v16 e, d;
        std::memcpy(&e, p + i + 1, 16);
        std::memcpy(&d, p + i + 8, 16);
        auto m = (e == 'e') & (d == 'd');
        std::uint64_t lo, hi;
        std::memcpy(&lo, &m, 8);
        std::memcpy(&hi, reinterpret_cast<const char*>(&m) + 8, 8);
        if ((lo | hi) == 0) continue;
        for (std::size_t k = 0; k < 16; ++k)
            if (reinterpret_cast<const unsigned char*>(&m)[k] && key_at(i + k)) ++n;
    }
    for (; i + needle.size() <= size; ++i)
        if (p[i] == '"' && key_at(i)) ++n;
    return n;
}

Api::Api(const Options& opts, State& state, FaultInjector& faults)
    : opts_(opts), state_(state), faults_(faults), fast_replies_(opts.fast ? 1001 : 0) {}

// ---------------------------------------------------------------- routing

Outcome Api::handle(const ApiRequest& req) {
    // Arrival time: retry tests care when a request came in, not when its (delayed) answer left.
    started_ = std::chrono::steady_clock::now();
    Outcome out;
    auto parsed = boost::urls::parse_origin_form(req.target);
    if (!parsed) {
        state_.count_request("other");
        out.reply = error_reply(400, 4196, "Malformed request target");
    } else {
        std::vector<std::string> seg(parsed->segments().begin(), parsed->segments().end());
        const bool get = req.method == "GET", post = req.method == "POST";
        auto method_not_allowed = [&] { out.reply = error_reply(405, 405, "Method not allowed"); };

        if (seg.size() >= 3 && seg[0] == "v5" && seg[1] == "ad_accounts") {
            const std::string& account = seg[2];
            if (seg.size() == 4 && seg[3] == "events") {
                bool test = false;
                if (auto it = parsed->params().find("test"); it != parsed->params().end()) {
                    std::string v = (*it).value;
                    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
                    test = v == "true";
                }
                if (post) {
                    out = events(req, account, test);
                } else {
                    state_.count_request("events");
                    method_not_allowed();
                }
            } else if (seg.size() == 3) {
                state_.count_request("ad_account");
                if (get) out = ad_account(req, account); else method_not_allowed();
            } else if (seg.size() == 4 && seg[3] == "conversion_eqs") {
                state_.count_request("conversion_eqs");
                if (get) out = conversion_eqs(req, account, parsed->params()); else method_not_allowed();
            } else if (seg.size() == 5 && seg[3] == "conversion_tags") {
                state_.count_request("conversion_tag");
                if (get) out = conversion_tag(req, account, seg[4]); else method_not_allowed();
            } else {
                state_.count_request("other");
                out.reply = error_reply(404, 404, "Not found");
            }
        } else if (!seg.empty() && seg[0] == "oauth" && (seg.size() == 1 || (seg.size() == 2 && seg[1].empty()))) {
            state_.count_request("oauth_authorize");
            if (get) out = oauth_authorize(req); else method_not_allowed();
        } else if (seg.size() == 3 && seg[0] == "v5" && seg[1] == "oauth" && seg[2] == "token") {
            if (post) {
                out = oauth_token(req);
            } else {
                state_.count_request("oauth_token");
                method_not_allowed();
            }
        } else if (seg.size() == 2 && seg[0] == "_sandbox") {
            state_.count_request("sandbox");
            out = control(req, seg[1]);
        } else {
            state_.count_request("other");
            out.reply = error_reply(404, 404, "Not found");
        }
    }
    const bool answered = out.transport != Transport::reset && out.transport != Transport::hang;
    if (out.count_response && answered) state_.count_response(out.reply.status);
    if (out.log_endpoint) {
        state_.log_request({state_.ms_since_start(started_), out.log_endpoint, answered ? out.reply.status : 0u, out.log_events,
                            std::move(out.log_grant_type), out.log_fault ? out.log_fault : "", std::move(out.log_account)});
    }
    return out;
}

// ---------------------------------------------------------------- /v5/ad_accounts

bool Api::check_auth_and_account(const ApiRequest& req, const std::string& account, Outcome& out) {
    auto token = bearer_token(req.authorization);
    if (token.empty() || !state_.access_token_valid(token)) {
        out.reply = error_reply(401, 2, "Authentication failed.");
        return false;
    }
    if (!all_digits(account) || account.size() > 18) {
        out.reply = error_reply(400, 4196, "Invalid ad account id: it must be numeric, at most 18 digits.");
        return false;
    }
    if (contains(opts_.forbidden_accounts, account)) {
        out.reply = error_reply(403, 29, "You are not permitted to access this ad account.");
        return false;
    }
    if (!contains(opts_.ad_accounts, account)) {
        out.reply = error_reply(404, 404, "Ad account not found.");
        return false;
    }
    return true;
}

Outcome Api::ad_account(const ApiRequest& req, const std::string& account) {
    Outcome out;
    if (!check_auth_and_account(req, account, out)) return out;
    json::object o;
    o["id"] = account;
    o["name"] = "Sandbox account";
    o["owner"] = json::object{{"username", "sandbox"}};
    o["country"] = "US";
    o["currency"] = "USD";
    o["permissions"] = json::array{"OWNER"};
    out.reply = json_reply(200, json::serialize(o));
    return out;
}

Outcome Api::conversion_tag(const ApiRequest& req, const std::string& account, const std::string& tag) {
    Outcome out;
    if (!check_auth_and_account(req, account, out)) return out;
    if (!all_digits(tag) || tag.size() > 20) {
        out.reply = error_reply(400, 4196, "Invalid conversion tag id: it must be numeric.");
        return out;
    }
    auto it = std::find_if(opts_.conversion_tags.begin(), opts_.conversion_tags.end(),
                           [&](const ConversionTag& t) { return t.id == tag && (t.account.empty() || t.account == account); });
    if (it == opts_.conversion_tags.end()) {
        out.reply = error_reply(404, 404, "Conversion tag not found.");
        return out;
    }
    json::object o;
    o["id"] = tag;
    o["ad_account_id"] = account;
    o["name"] = "Sandbox tag";
    o["status"] = it->status;
    o["version"] = "3";
    o["code_snippet"] = "<!-- Pinterest tag (sandbox) -->";
    o["enhanced_match_status"] = "VALIDATED";
    o["last_fired_time_ms"] = nullptr;
    o["configs"] = json::object{{"aem_enabled", true}, {"md_frequency", 1}};
    out.reply = json_reply(200, json::serialize(o));
    return out;
}

// GET /v5/ad_accounts/{id}/conversion_eqs: the Event Quality Score, scored from the events this
// sandbox processed for the account (both lookback periods see the same events; the sandbox keeps
// no time series). Needs ads:read, which a static (conversion) token never has. Each component's
// coverage is the share of an event name's events carrying it; overall_status is GOOD when the
// email coverage over all events is at least 80 %, FAIR from 50 %, else NEEDS_IMPROVEMENT; a
// component under 50 % gets a LOW_COVERAGE issue. No tag sends events here, so overlap is 0.
Outcome Api::conversion_eqs(const ApiRequest& req, const std::string& account, const boost::urls::params_view& params) {
    Outcome out;
    if (!check_auth_and_account(req, account, out)) return out;
    const std::string scope = state_.token_scope(bearer_token(req.authorization));
    if (("," + scope + ",").find(",ads:read,") == std::string::npos) {
        out.reply = error_reply(403, 29, "You are not permitted to access that resource: it needs the ads:read scope.");
        return out;
    }
    std::string lookback, source = "CONVERSIONS_API";
    if (auto it = params.find("lookback_period"); it != params.end()) lookback = (*it).value;
    if (auto it = params.find("ingestion_source"); it != params.end()) source = (*it).value;
    if (lookback != "1d" && lookback != "14d") {
        out.reply = error_reply(400, 4196, "lookback_period must be 1d or 14d.");
        return out;
    }
    json::object components;
    std::uint64_t events = 0, with_email = 0;
    // Only the Conversions API's events are here; other ingestion sources have none.
    static const std::map<std::string, State::EqsCounts> kNone;
    const auto& counts = source == "CONVERSIONS_API" ? state_.quality(account) : kNone;
    for (std::size_t c = 0; c < std::size(kEqsComponents); ++c) {
        json::object by_event;
        for (const auto& [name, n] : counts) {
            const double coverage = n.events ? 100.0 * static_cast<double>(n.with[c]) / static_cast<double>(n.events) : 0.0;
            json::array issues;
            if (coverage < 50.0)
                issues.push_back(json::object{{"id", "LOW_COVERAGE"}, {"name", "Low coverage"},
                                              {"reason", std::string("fewer than half of these events carry ") + kEqsComponents[c]}});
            json::object cell{{"coverage", coverage}, {"issues", std::move(issues)}};
            cell["overlap"] = std::string_view(kEqsComponents[c]) == "external_event_id" ? json::value(0.0) : json::value(nullptr);
            by_event[name] = std::move(cell);
            if (c == 0) {
                events += n.events;
                with_email += n.with[0];
            }
        }
        components[kEqsComponents[c]] = std::move(by_event);
    }
    const double email = events ? 100.0 * static_cast<double>(with_email) / static_cast<double>(events) : 0.0;
    json::object score{{"overall_status", email >= 80.0 ? "GOOD" : email >= 50.0 ? "FAIR" : "NEEDS_IMPROVEMENT"},
                       {"ingestion_source", source},
                       {"source_platform", "WEB"},
                       {"lookback_period", lookback},
                       {"quality_components", std::move(components)}};
    out.reply = json_reply(200, json::serialize(json::array{std::move(score)}));
    return out;
}

// ---------------------------------------------------------------- events

Outcome Api::events(const ApiRequest& req, const std::string& account, bool test) {
    state_.count_request("events");
    Outcome out;
    out.in_flight = state_.begin_in_flight();
    out.delay = std::chrono::milliseconds(opts_.latency_ms);

    const FaultSpec* fault = faults_.select(FaultTarget::events, state_.rng(), req.body, account);
    out.log_endpoint = "events";
    out.log_account = account;
    out.log_events = count_events_cheaply(req.body);
    if (fault) {
        state_.count_fault(to_string(fault->action));
        out.log_fault = to_string(fault->action);
    }
    if (fault && answers_without_processing(fault->action)) {
        const std::size_t n = out.log_events;
        return apply_event_fault(*fault, std::move(out), n);
    }

    if (!check_auth_and_account(req, account, out)) return out;
    if (!state_.rate_allow(account)) {
        state_.count_rate_limited(account);
        out.reply = error_reply(429, 8, "You have exceeded your rate limit. Try again later.");
        return out;
    }
    if (!is_json_content_type(req.content_type)) {
        out.reply = error_reply(400, 4196, "Content-Type must be application/json");
        return out;
    }

    // Event ids (or just the count, in fast mode) and each event's failure message, if any.
    std::vector<std::string> errors;
    std::vector<std::string> ids;
    std::vector<std::pair<std::string, std::uint32_t>> quality;  // event name, EQS components
    bool real_failure = false;
    if (opts_.fast) {
        // Benchmark mode: no JSON parsing; the events are counted (above), not checked.
        const std::size_t n = out.log_events;
        if (n == 0 || n > 1000) {
            out.reply = error_reply(400, 4196, "body: 'data' must hold 1 to 1000 events, got " + std::to_string(n));
            return out;
        }
        errors.resize(n);
    } else {
        EventTimeWindow window{unix_now(), opts_.event_max_age_days * 86400, opts_.event_max_future_seconds};
        auto v = validate_events(req.body, window);
        if (!v.schema_error.empty()) {
            out.reply = error_reply(400, 4196, v.schema_error);
            return out;
        }
        for (auto& e : v.events) {
            real_failure = real_failure || !e.error_message.empty();
            errors.push_back(std::move(e.error_message));
            ids.push_back(std::move(e.event_id));
            quality.emplace_back(std::move(e.event_name), e.components);
        }
    }

    if (fault && fault->action == FaultAction::event_fail) {
        std::vector<std::size_t> idx = fault->fail_indices;
        if (fault->fail_random)
            idx.push_back(std::uniform_int_distribution<std::size_t>(0, errors.size() - 1)(state_.rng()));
        for (auto i : idx)
            if (i < errors.size() && errors[i].empty())
                errors[i] = fault->message.value_or("Event could not be processed: injected failure (sandbox fault event_fail).");
    }

    const std::size_t n = errors.size();
    const std::size_t processed = static_cast<std::size_t>(std::count_if(errors.begin(), errors.end(), [](auto& e) { return e.empty(); }));
    if (test) {
        state_.count_test_events(n);
    } else {
        state_.count_received(n);
        state_.count_failed(n - processed);
        state_.count_account(account, processed);
        if (opts_.fast) {
            state_.count_processed_anonymous(processed);
        } else {
            for (std::size_t i = 0; i < n; ++i)
                if (errors[i].empty()) {
                    state_.count_processed(ids[i]);
                    state_.count_quality(account, quality[i].first, quality[i].second);
                }
        }
    }
    if (!opts_.capture_dir.empty()) capture(req.body);

    if (real_failure) {
        // DetailedError: the per-event results live under details.
        json::object details;
        details["num_events_received"] = n;
        details["num_events_processed"] = processed;
        details["events"] = json::parse(results_body(errors, processed)).at("events");
        json::object o;
        o["code"] = 953;
        o["message"] = "Not all events were processed successfully. Check details for the failed events.";
        o["details"] = std::move(details);
        out.reply = json_reply(422, json::serialize(o));
    } else if (processed == n && opts_.fast) {
        auto& cached = fast_replies_[n];
        if (cached.empty()) cached = processed_body(n);
        out.reply = json_reply(200, cached);
    } else {
        out.reply = json_reply(200, results_body(errors, processed));
    }

    if (fault && fault->action == FaultAction::close) out.reply.close = true;
    if (fault && fault->action == FaultAction::reset_after_headers) out.transport = Transport::reset_after_headers;
    if (fault && fault->action == FaultAction::reset_mid_body) out.transport = Transport::reset_mid_body;
    if (fault && fault->action == FaultAction::drop_idle) out.transport = Transport::drop_after;
    if (fault && fault->action == FaultAction::stray_record) out.transport = Transport::stray_after;
    if (fault && fault->action == FaultAction::delay) out.delay += std::chrono::milliseconds(fault->delay_ms);
    return out;
}

// Builds the reply for a fault that answers without processing (events or token endpoint).
// `n_events` sizes the bodies that pretend to be a 200 for the request.
Outcome Api::apply_event_fault(const FaultSpec& f, Outcome out, std::size_t n_events) {
    auto ok_body = [&] { return processed_body(n_events); };
    switch (f.action) {
    case FaultAction::status:
        if (f.status >= 200 && f.status < 300)
            out.reply = json_reply(f.status, ok_body());
        else
            out.reply = error_reply(f.status, f.code.value_or(status_fault_code(f.status)),
                                    f.message ? std::string_view(*f.message) : status_fault_message(f.status));
        break;
    case FaultAction::invalid_grant:
        out.reply = json_reply(400, R"({"error":"invalid_grant","error_description":"The refresh token is invalid or expired (sandbox fault)."})");
        break;
    case FaultAction::reset:
        out.transport = Transport::reset;
        break;
    case FaultAction::hang:
        out.transport = Transport::hang;
        break;
    case FaultAction::trickle:
        out.reply = json_reply(200, ok_body());
        out.transport = Transport::trickle;
        break;
    case FaultAction::truncated_json: {
        auto body = ok_body();
        out.reply = json_reply(200, body.substr(0, std::max<std::size_t>(1, body.size() / 2)));
        break;
    }
    case FaultAction::invalid_json:
        out.reply = json_reply(200, "<html><body>502 Bad Gateway (sandbox fault invalid_json)</body></html>");
        break;
    case FaultAction::wrong_count: {
        // num_events_received claims the whole batch but the array is one short (empty for 1).
        std::string body = processed_body(n_events ? n_events - 1 : 0);
        auto pos = body.find(',');
        body = R"({"num_events_received":)" + std::to_string(n_events) + body.substr(pos);
        out.reply = json_reply(200, std::move(body));
        break;
    }
    case FaultAction::huge_body:
        out.reply = json_reply(200, {});
        out.transport = Transport::huge_body;
        break;
    case FaultAction::huge_headers: {
        out.reply = json_reply(200, ok_body());
        const std::string pad(1000, 'p');
        for (int i = 0; i < 1024; ++i)
            out.reply.headers.emplace_back("x-sandbox-padding-" + std::to_string(i), pad);
        break;
    }
    case FaultAction::close:
    case FaultAction::drop_idle:
    case FaultAction::stray_record:
    case FaultAction::event_fail:
    case FaultAction::reset_after_headers:
    case FaultAction::reset_mid_body:
    case FaultAction::delay:
        break;  // handled by the endpoint, after processing
    }
    if (f.retry_after) out.reply.headers.emplace_back("Retry-After", *f.retry_after);
    return out;
}

void Api::capture(std::string_view body) {
    char name[16];
    std::snprintf(name, sizeof name, "%06llu.json", static_cast<unsigned long long>(state_.next_capture_seq()));
    std::ofstream f(opts_.capture_dir + "/" + name, std::ios::binary);
    f.write(body.data(), static_cast<std::streamsize>(body.size()));
}

// ---------------------------------------------------------------- /_sandbox

Outcome Api::control(const ApiRequest& req, std::string_view what) {
    Outcome out;
    out.count_response = false;  // the observer stays out of what it observes
    const bool get = req.method == "GET", post = req.method == "POST";
    if (what == "stats" && get) {
        out.reply = json_reply(200, json::serialize(state_.stats_json()));
    } else if (what == "log" && get) {
        out.reply = json_reply(200, json::serialize(state_.log_json()));
    } else if (what == "event_ids" && get) {
        out.reply = json_reply(200, state_.event_ids_text());
        out.reply.content_type = "text/plain; charset=utf-8";
    } else if (what == "reset" && post) {
        state_.reset_counters();
        faults_.reset();
        out.reply = json_reply(200, R"({"reset":true})");
    } else if (what == "heal" && post) {
        faults_.clear();
        out.reply = json_reply(200, R"({"healed":true})");
    } else if (what == "revoke" && post) {
        const bool include_static = req.target.find("static=true") != std::string_view::npos;
        state_.revoke_all(include_static);
        out.reply = json_reply(200, R"({"revoked":true})");
    } else {
        out.reply = error_reply(404, 404, "Not found");
    }
    return out;
}

}  // namespace sandbox
