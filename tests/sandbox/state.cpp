// pinterest-sandbox: counters, OAuth grants, rate limiter. See state.hpp.
#include "state.hpp"
#include "validate.hpp"

#include <boost/json.hpp>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace sandbox {

std::int64_t unix_now() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string random_hex(std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string raw(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    std::string out;
    out.reserve(2 * n);
    for (unsigned char c : raw) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

State::State(const Options& opts) : opts_(opts), rng_(opts.seed) {
    // A random base keeps request ids unique across sandbox restarts too; 16 digits like Pinterest.
    rid_base_ = 1000000000000000ULL + std::stoull(random_hex(6), nullptr, 16);
    static_tokens_.insert(opts.static_tokens.begin(), opts.static_tokens.end());
}

std::string State::next_request_id() { return std::to_string(rid_base_ + ++rid_seq_); }

// ---------------------------------------------------------------- OAuth

std::string State::issue_code(std::string redirect_uri, std::string scope) {
    std::string code = random_hex(20);
    // Ten minutes, like most authorization servers: long enough for a slow test, short enough to matter.
    codes_[code] = AuthCode{std::move(redirect_uri), std::move(scope), unix_now() + 600};
    return code;
}

bool State::redeem_code(const std::string& code, AuthCode& out) {
    auto it = codes_.find(code);
    if (it == codes_.end()) return false;
    out = std::move(it->second);
    codes_.erase(it);  // single use, even when it turns out to be expired
    return out.expires_at > unix_now();
}

IssuedTokens State::issue_tokens(const std::string& scope) {
    const auto now = unix_now();
    // Lazily drop expired grants so a long run with short TTLs does not grow without bound.
    if (access_.size() > 10000)
        std::erase_if(access_, [&](const auto& kv) { return kv.second.expires_at <= now; });
    IssuedTokens t;
    t.access_token = "pina_" + random_hex(32);
    t.refresh_token = "pinr_" + random_hex(32);
    t.scope = scope;
    t.refresh_expires_at = now + opts_.refresh_token_ttl;
    access_[t.access_token] = Grant{scope, now + opts_.access_token_ttl};
    refresh_[t.refresh_token] = Grant{scope, t.refresh_expires_at};
    return t;
}

bool State::rotate_refresh(const std::string& refresh_token, IssuedTokens& out) {
    auto it = refresh_.find(refresh_token);
    if (it == refresh_.end()) return false;
    Grant g = std::move(it->second);
    refresh_.erase(it);  // rotation: the presented token is dead from now on, whatever happens next
    if (g.expires_at <= unix_now()) return false;
    out = issue_tokens(g.scope);
    return true;
}

bool State::access_token_valid(std::string_view token) {
    std::string key(token);
    if (static_tokens_.count(key)) return true;
    auto it = access_.find(key);
    return it != access_.end() && it->second.expires_at > unix_now();
}

std::string State::token_scope(std::string_view token) const {
    auto it = access_.find(std::string(token));
    return it == access_.end() ? std::string() : it->second.scope;
}

void State::count_quality(const std::string& account, const std::string& event_name, std::uint32_t components) {
    EqsCounts& c = quality_[account][event_name];
    c.with.resize(std::size(kEqsComponents));
    ++c.events;
    for (std::size_t i = 0; i < c.with.size(); ++i) c.with[i] += (components >> i) & 1u;
}

const std::map<std::string, State::EqsCounts>& State::quality(const std::string& account) const {
    static const std::map<std::string, EqsCounts> kNone;
    auto it = quality_.find(account);
    return it == quality_.end() ? kNone : it->second;
}

void State::revoke_all(bool include_static) {
    access_.clear();
    if (include_static) static_tokens_.clear();
}

// ---------------------------------------------------------------- rate limiter

bool State::rate_allow(const std::string& ad_account) {
    const auto own = opts_.account_rate_limits.find(ad_account);
    const double per_minute = own != opts_.account_rate_limits.end() ? own->second : opts_.rate_limit_per_minute;
    if (per_minute <= 0) return true;
    const double rate = per_minute / 60.0;  // tokens per second
    const double capacity = std::max(1.0, rate);             // one second's worth
    const auto now = std::chrono::steady_clock::now();
    auto [it, fresh] = buckets_.try_emplace(ad_account);
    Bucket& b = it->second;
    if (fresh) {
        b.tokens = capacity;
    } else {
        const double dt = std::chrono::duration<double>(now - b.last).count();
        b.tokens = std::min(capacity, b.tokens + dt * rate);
    }
    b.last = now;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

// ---------------------------------------------------------------- in-flight gauge

State::InFlight::InFlight(State* s) : s_(s) {
    if (++s_->in_flight_ > s_->max_in_flight_) s_->max_in_flight_ = s_->in_flight_;
}

State::InFlight& State::InFlight::operator=(InFlight&& o) noexcept {
    if (this != &o) {
        release();
        s_ = o.s_;
        o.s_ = nullptr;
    }
    return *this;
}

void State::InFlight::release() {
    if (s_) --s_->in_flight_;
    s_ = nullptr;
}

// ---------------------------------------------------------------- counters

void State::count_processed(std::string_view event_id) {
    ++events_processed_;
    auto& n = event_ids_[std::string(event_id)];
    if (n++ > 0) ++duplicates_;
}

void State::log_request(LogEntry e) {
    // Bounded: a benchmark run must not grow memory; tests look at the first few hundred.
    if (log_.size() < 100000) log_.push_back(std::move(e));
}

boost::json::value State::log_json() const {
    namespace json = boost::json;
    json::array a;
    for (const auto& e : log_) {
        json::object o;
        o["t_ms"] = e.t_ms;
        o["endpoint"] = e.endpoint;
        o["status"] = e.status;
        if (e.endpoint == "events") {
            o["events"] = e.events;
            o["account"] = e.account;
        }
        if (!e.grant_type.empty()) o["grant_type"] = e.grant_type;
        o["fault"] = e.fault.empty() ? json::value(nullptr) : json::value(e.fault);
        a.push_back(std::move(o));
    }
    return a;
}

boost::json::value State::stats_json() const {
    namespace json = boost::json;
    json::object o;
    json::object req;
    for (auto& [k, v] : requests_) req[k] = v;
    o["requests"] = std::move(req);
    json::object res;
    for (auto& [k, v] : responses_) res[std::to_string(k)] = v;
    o["responses"] = std::move(res);
    o["events_received"] = events_received_;
    o["events_processed"] = events_processed_;
    json::object accounts;
    for (auto& [a, n] : by_account_) accounts[a] = n;
    o["events_by_account"] = std::move(accounts);
    o["events_failed"] = events_failed_;
    o["test_events"] = test_events_;
    o["distinct_event_ids"] = static_cast<std::uint64_t>(event_ids_.size());
    o["duplicate_events"] = duplicates_;
    json::object tok;
    for (auto& [k, v] : token_requests_) tok[k] = v;
    o["token_requests"] = std::move(tok);
    o["token_refreshes"] = token_refreshes_;
    o["in_flight"] = in_flight_;
    o["max_concurrent_requests"] = max_in_flight_;
    o["rate_limited"] = rate_limited_;
    json::object limited;
    for (auto& [a, n] : rate_limited_by_account_) limited[a] = n;
    o["rate_limited_by_account"] = std::move(limited);
    o["faults_injected"] = faults_total_;
    json::object fa;
    for (auto& [k, v] : faults_) fa[k] = v;
    o["faults_by_action"] = std::move(fa);
    o["connections_accepted"] = connections_;
    o["client_closes_with_close_notify"] = closes_notified_;
    o["client_closes_without_close_notify"] = closes_truncated_;
    return o;
}

std::string State::event_ids_text() const {
    // Sorted so test output is stable.
    std::vector<std::pair<std::string_view, std::uint64_t>> rows(event_ids_.begin(), event_ids_.end());
    std::sort(rows.begin(), rows.end());
    std::string out;
    for (auto& [id, n] : rows) {
        out.append(id);
        out.push_back(' ');
        out.append(std::to_string(n));
        out.push_back('\n');
    }
    return out;
}

void State::reset_counters() {
    requests_.clear();
    responses_.clear();
    token_requests_.clear();
    faults_.clear();
    event_ids_.clear();
    quality_.clear();
    by_account_.clear();
    buckets_.clear();
    token_refreshes_ = rate_limited_ = faults_total_ = 0;
    rate_limited_by_account_.clear();
    events_received_ = events_processed_ = events_failed_ = test_events_ = 0;
    duplicates_ = connections_ = closes_notified_ = closes_truncated_ = 0;
    max_in_flight_ = in_flight_;  // requests still in flight stay counted
    log_.clear();
    // capture_seq_ keeps counting: restarting it would overwrite files already captured.
}

}  // namespace sandbox
