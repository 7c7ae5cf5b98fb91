// pinterest-sandbox: fault SPEC parsing and selection. See faults.hpp for the grammar.
#include "faults.hpp"

#include <charconv>
#include <stdexcept>

namespace sandbox {
namespace {

struct ActionName {
    const char* name;
    FaultAction action;
};
constexpr ActionName kActions[] = {
    {"status", FaultAction::status},
    {"reset", FaultAction::reset},
    {"reset_after_headers", FaultAction::reset_after_headers},
    {"reset_mid_body", FaultAction::reset_mid_body},
    {"hang", FaultAction::hang},
    {"trickle", FaultAction::trickle},
    {"truncated_json", FaultAction::truncated_json},
    {"invalid_json", FaultAction::invalid_json},
    {"wrong_count", FaultAction::wrong_count},
    {"event_fail", FaultAction::event_fail},
    {"close", FaultAction::close},
    {"drop_idle", FaultAction::drop_idle},
    {"stray_record", FaultAction::stray_record},
    {"huge_body", FaultAction::huge_body},
    {"huge_headers", FaultAction::huge_headers},
    {"invalid_grant", FaultAction::invalid_grant},
    {"delay", FaultAction::delay},
};

[[noreturn]] void fail(std::string_view spec, const std::string& why) {
    throw std::invalid_argument("invalid --fault '" + std::string(spec) + "': " + why);
}

std::uint64_t to_u64(std::string_view spec, std::string_view s, const char* what) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        fail(spec, std::string(what) + " must be a non-negative integer");
    return v;
}

// Splits on ',' but glues a piece without '=' back onto the previous one, so that
// retry_after=Wed, 21 Oct 2015 07:28:00 GMT survives intact.
std::vector<std::string> split_spec(std::string_view spec) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= spec.size()) {
        auto comma = spec.find(',', start);
        if (comma == std::string_view::npos) comma = spec.size();
        std::string piece(spec.substr(start, comma - start));
        if (!parts.empty() && parts.size() > 1 && piece.find('=') == std::string::npos)
            parts.back() += "," + piece;
        else if (parts.size() == 1 && piece.find('=') == std::string::npos)
            fail(spec, "expected KEY=VALUE after the action, got '" + piece + "'");
        else
            parts.push_back(std::move(piece));
        start = comma + 1;
    }
    return parts;
}

}  // namespace

const char* to_string(FaultAction a) {
    for (auto& n : kActions)
        if (n.action == a) return n.name;
    return "?";
}

bool answers_without_processing(FaultAction a) {
    switch (a) {
    case FaultAction::event_fail:
    case FaultAction::close:
    case FaultAction::drop_idle:
    case FaultAction::stray_record:
    case FaultAction::reset_after_headers:
    case FaultAction::reset_mid_body:
    case FaultAction::delay:
        return false;
    default:
        return true;
    }
}

FaultSpec parse_fault(std::string_view spec) {
    FaultSpec f;
    f.text = std::string(spec);
    auto parts = split_spec(spec);

    // ACTION[:ARG]
    std::string_view head = parts[0];
    std::string_view arg;
    bool has_arg = false;
    if (auto colon = head.find(':'); colon != std::string_view::npos) {
        arg = head.substr(colon + 1);
        head = head.substr(0, colon);
        has_arg = true;
    }
    bool known = false;
    for (auto& n : kActions)
        if (head == n.name) {
            f.action = n.action;
            known = true;
        }
    if (!known) fail(spec, "unknown action '" + std::string(head) + "'");

    if (f.action == FaultAction::status) {
        if (!has_arg) fail(spec, "status needs a code, e.g. status:503");
        f.status = static_cast<unsigned>(to_u64(spec, arg, "status code"));
        if (f.status < 200 || f.status > 599) fail(spec, "status code must be 200-599");
    } else if (f.action == FaultAction::event_fail) {
        if (!has_arg) fail(spec, "event_fail needs an index, i+j or 'random'");
        if (arg == "random") {
            f.fail_random = true;
        } else {
            std::size_t start = 0;
            while (start <= arg.size()) {
                auto plus = arg.find('+', start);
                if (plus == std::string_view::npos) plus = arg.size();
                f.fail_indices.push_back(to_u64(spec, arg.substr(start, plus - start), "event index"));
                start = plus + 1;
            }
        }
    } else if (f.action == FaultAction::delay) {
        if (!has_arg) fail(spec, "delay needs milliseconds, e.g. delay:500");
        f.delay_ms = to_u64(spec, arg, "delay");
        if (f.delay_ms > 3600000) fail(spec, "delay must be at most 3600000 ms");
    } else if (has_arg) {
        fail(spec, std::string(to_string(f.action)) + " takes no argument");
    }

    for (std::size_t i = 1; i < parts.size(); ++i) {
        std::string_view kv = parts[i];
        auto eq = kv.find('=');
        std::string_view key = kv.substr(0, eq), val = kv.substr(eq + 1);
        if (key == "on") {
            auto dash = val.find('-');
            f.on_from = to_u64(spec, val.substr(0, dash), "on");
            f.on_to = dash == std::string_view::npos ? f.on_from : to_u64(spec, val.substr(dash + 1), "on");
            if (f.on_from == 0 || f.on_to < f.on_from) fail(spec, "on must be N or N-M with 1 <= N <= M");
        } else if (key == "every") {
            f.every = to_u64(spec, val, "every");
            if (f.every == 0) fail(spec, "every must be >= 1");
        } else if (key == "p") {
            try {
                std::size_t used = 0;
                f.probability = std::stod(std::string(val), &used);
                if (used != val.size()) throw std::invalid_argument("");
            } catch (const std::exception&) {
                fail(spec, "p must be a number between 0 and 1");
            }
            if (!(f.probability >= 0 && f.probability <= 1)) fail(spec, "p must be between 0 and 1");
        } else if (key == "target") {
            if (val == "events") f.target = FaultTarget::events;
            else if (val == "token") f.target = FaultTarget::token;
            else fail(spec, "target must be events or token");
        } else if (key == "retry_after") {
            f.retry_after = std::string(val);
        } else if (key == "code") {
            if (f.action != FaultAction::status) fail(spec, "code applies to status faults only");
            const std::uint64_t c = to_u64(spec, val, "code");
            if (c > 1000000) fail(spec, "code must be at most 1000000");
            f.code = static_cast<int>(c);
        } else if (key == "message") {
            if (f.action != FaultAction::status && f.action != FaultAction::event_fail)
                fail(spec, "message applies to status and event_fail faults only");
            f.message = std::string(val);
        } else if (key == "contains") {
            if (val.empty()) fail(spec, "contains needs a text");
            f.contains = std::string(val);
        } else if (key == "account") {
            if (val.empty()) fail(spec, "account needs an ad account id");
            f.account = std::string(val);
        } else {
            fail(spec, "unknown key '" + std::string(key) +
                           "' (on, every, p, target, retry_after, code, contains, account, message)");
        }
    }

    if (f.target == FaultTarget::token &&
        (f.action == FaultAction::event_fail || f.action == FaultAction::wrong_count))
        fail(spec, std::string(to_string(f.action)) + " applies to the events endpoint only");
    if (f.target == FaultTarget::events && f.action == FaultAction::invalid_grant)
        fail(spec, "invalid_grant needs target=token");
    if (f.target == FaultTarget::token && (f.action == FaultAction::delay || !f.account.empty()))
        fail(spec, "delay and account apply to the events endpoint only");
    return f;
}

const FaultSpec* FaultInjector::select(FaultTarget target, std::mt19937_64& rng, std::string_view body,
                                       std::string_view account) {
    const std::uint64_t n = target == FaultTarget::events ? ++events_seen_ : ++token_seen_;
    for (const auto& f : specs_) {
        if (f.target != target) continue;
        if (f.on_from && (n < f.on_from || n > f.on_to)) continue;
        if (f.every && n % f.every != 0) continue;
        if (!f.contains.empty() && body.find(f.contains) == std::string_view::npos) continue;
        if (!f.account.empty() && account != f.account) continue;
        if (f.probability < 1.0 && std::uniform_real_distribution<double>(0, 1)(rng) >= f.probability) continue;
        return &f;
    }
    return nullptr;
}

}  // namespace sandbox
