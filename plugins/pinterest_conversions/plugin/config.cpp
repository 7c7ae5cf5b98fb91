#include "plugin/config.hpp"

#include "normalize/normalize.hpp"
#include "pipeline/payload.hpp"
#include "plugin/manifest.hpp"

#include <syncplugin/syncplugin.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <string_view>
#include <map>
#include <regex>
#include <sys/stat.h>
#include <unistd.h>

namespace pcapi {

namespace {

bool parse_int(const std::string &s, int64_t &out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

std::string account_budgets(const std::string &list, std::map<std::string, int64_t, std::less<>> &out);

// The manifest's patterns, compiled once (thread-safe static initialization): building a
// std::regex per open was slow, and concurrent builds race inside libstdc++'s ctype cache.
const std::regex &compiled(const std::string &pattern) {
    static const std::map<std::string, std::regex> patterns = [] {
        std::map<std::string, std::regex> m;
        for (const auto &c : manifest().config)
            if (!c.pattern.empty()) m.emplace(c.pattern, std::regex(c.pattern, std::regex::ECMAScript));
        return m;
    }();
    return patterns.at(pattern);
}

// Checks one value against its spec; appends a problem description (no value) on failure.
void validate(const spmanifest::ConfigField &spec, const std::string &value, std::vector<std::string> &problems) {
    const std::string &k = spec.key;
    switch (spec.type) {
    case SP_CONFIG_INTEGER: {
        int64_t n = 0;
        if (!parse_int(value, n)) {
            problems.push_back(k + " must be an integer");
            return;
        }
        if ((spec.min_value != 0 || spec.max_value != 0) && (n < spec.min_value || n > spec.max_value))
            problems.push_back(k + " must be between " + std::to_string(spec.min_value) + " and " +
                               std::to_string(spec.max_value));
        return;
    }
    case SP_CONFIG_BOOLEAN:
        if (value != "true" && value != "false") problems.push_back(k + " must be true or false");
        return;
    case SP_CONFIG_ENUM: {
        for (const auto &e : spec.enum_values)
            if (e == value) return;
        std::string all;
        for (const auto &e : spec.enum_values) all += (all.empty() ? "" : ", ") + e;
        problems.push_back(k + " must be one of: " + all);
        return;
    }
    case SP_CONFIG_PATH: {
        struct stat st {};
        if (::stat(value.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            problems.push_back(k + " names a file that does not exist");
        else if (::access(value.c_str(), R_OK) != 0)
            problems.push_back(k + " names a file that cannot be read");
        return;
    }
    case SP_CONFIG_STRING:
    case SP_CONFIG_SECRET:
        if (!spec.pattern.empty() && !std::regex_search(value, compiled(spec.pattern))) {
            // A list of pairs names the pair that is wrong, rather than describing the whole key.
            std::map<std::string, int64_t, std::less<>> ignored;
            if (k == "account_calls_per_minute")
                if (std::string bad = account_budgets(value, ignored); !bad.empty())
                    return problems.push_back(k + ": " + bad);
            problems.push_back(k + " is not valid: " + spec.description);
        }
        return;
    }
}

}  // namespace

namespace {

// The states, DC and territories of the US (normalize_state also knows Canada's provinces).
constexpr std::string_view kUsStates[] = {
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia", "ks", "ky", "la", "me",
    "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj", "nm", "ny", "nc", "nd", "oh", "ok", "or", "pa",
    "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy", "dc", "pr", "gu", "vi", "as", "mp", "um"};

// Calls `each(item, position)` for each comma-separated item of `list` (positions from 1) and
// returns the first problem it reports, or "".
template <class F>
std::string for_each_item(const std::string &list, F each) {
    size_t start = 0, position = 0;
    while (start < list.size()) {
        size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        if (std::string bad = each(list.substr(start, comma - start), ++position); !bad.empty()) return bad;
        start = comma + 1;
    }
    return "";
}

// "CA, Colorado, US-CT" -> {"ca", "co", "ct"}. Returns what is wrong (naming the position, never a
// value), or "" when every item is a state.
std::string ldp_state_codes(const std::string &list, std::vector<std::string> &out) {
    std::string code;
    return for_each_item(list, [&](const std::string &item, size_t position) -> std::string {
        if (item.find_first_not_of(' ') == std::string::npos) return "";
        if (normalize_state(item, code) != nullptr ||
            std::find(std::begin(kUsStates), std::end(kUsStates), code) == std::end(kUsStates))
            return "item " + std::to_string(position) +
                   " is not a US state (two-letter codes such as CA or state names, comma-separated)";
        out.push_back(code);
        return "";
    });
}

// "111:120000,222:5000" -> per-account budgets. Returns what is wrong, naming the position (never
// a value), or "" when every pair is usable.
std::string account_budgets(const std::string &list, std::map<std::string, int64_t, std::less<>> &out) {
    if (!list.empty() && list.back() == ',') return "the list ends with a comma";
    return for_each_item(list, [&](const std::string &item, size_t position) -> std::string {
        const std::string pair = "pair " + std::to_string(position);
        const size_t colon = item.find(':');
        if (colon == std::string::npos) return pair + " has no ':' between the ad account and its budget";
        const std::string_view account = canonical_ad_account(std::string_view(item).substr(0, colon));
        if (account.empty()) return pair + ": the ad account is not an id (digits only, at most 18, no spaces)";
        int64_t calls = 0;
        if (!parse_int(item.substr(colon + 1), calls) || calls < 1 || calls > 1000000)
            return pair + " needs a budget from 1 to 1000000 calls per minute";
        if (!out.emplace(account, calls).second) return pair + " names an ad account an earlier pair already set";
        return "";
    });
}

}  // namespace

PluginConfig parse_config(const sp_config *config) {
    const spmanifest::Manifest &m = manifest();
    if (config != nullptr && config->entry_count > 0 && config->entries == nullptr)
        throw sp::failure(SP_ERR_CONFIG, "config has entries but no entry array");

    PluginConfig out;
    std::map<std::string, std::string> values;  // effective values, defaults applied
    std::vector<std::string> problems;
    const uint32_t n = config ? config->entry_count : 0;
    for (uint32_t i = 0; i < n; ++i) {
        const sp_config_entry *e = config->entries[i];
        if (e == nullptr || e->key == nullptr) {
            problems.push_back("config entry " + std::to_string(i) + " has no key");
            continue;
        }
        if (m.config_field(e->key) == nullptr) {
            // Host hints (syncplugin.h): known ones are read, the others ignored, none reported.
            if (std::strcmp(e->key, SP_CONFIG_ROUTED_CHECK) == 0)
                out.routed_check = e->value && std::strcmp(e->value, "true") == 0;
            else if (std::strncmp(e->key, "sp.", 3) != 0) out.unknown_keys.emplace_back(e->key);
            continue;
        }
        if (e->value == nullptr) {
            problems.push_back(std::string(e->key) + " has no value");
            continue;
        }
        if (!values.emplace(e->key, e->value).second) problems.push_back(std::string(e->key) + " is given twice");
    }
    for (const auto &spec : m.config) {
        auto it = values.find(spec.key);
        if (it == values.end() || it->second.empty()) {
            if (spec.required) problems.push_back(spec.key + " is required (" + spec.label + ")");
            else if (spec.has_default) values[spec.key] = spec.default_value;
            else values.erase(spec.key);
            continue;
        }
        validate(spec, it->second, problems);
    }
    if (!problems.empty()) {
        std::string msg = "invalid plugin config: ";
        for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
        throw sp::failure(SP_ERR_CONFIG, msg);
    }

    auto str = [&](const char *k) {
        auto it = values.find(k);
        return it == values.end() ? std::string() : it->second;
    };
    auto num = [&](const char *k, int64_t &dst) {
        int64_t v = 0;
        if (parse_int(str(k), v)) dst = v;
    };
    out.ad_account_id = canonical_ad_account(str("ad_account_id"));  // its pattern was checked above
    out.conversion_tag_id = str("conversion_tag_id");
    out.test_events = str("test_events") == "true";
    out.default_phone_country_code = str("default_phone_country_code");
    if (const std::string d = str("list_delimiter"); !d.empty()) out.list_delimiter = d[0];
    if (std::string bad = ldp_state_codes(str("ldp_states"), out.ldp_states); !bad.empty())
        throw sp::failure(SP_ERR_CONFIG, "invalid plugin config: ldp_states: " + bad);
    num("event_time_max_age_days", out.event_time_max_age_days);
    num("event_time_max_future_seconds", out.event_time_max_future_seconds);
    out.api_base_url = str("api_base_url");
    out.ca_file = str("ca_file");
    num("max_in_flight", out.max_in_flight);
    num("calls_per_minute", out.calls_per_minute);
    if (std::string bad = account_budgets(str("account_calls_per_minute"), out.account_calls_per_minute); !bad.empty())
        throw sp::failure(SP_ERR_CONFIG, "invalid plugin config: account_calls_per_minute: " + bad);
    num("retry_max_elapsed_seconds", out.retry_max_elapsed_seconds);
    num("retry_initial_backoff_ms", out.retry_initial_backoff_ms);
    num("retry_max_backoff_ms", out.retry_max_backoff_ms);
    num("request_timeout_seconds", out.request_timeout_seconds);
    num("max_request_bytes", out.max_request_bytes);
    if (out.retry_max_backoff_ms < out.retry_initial_backoff_ms)
        throw sp::failure(SP_ERR_CONFIG,
                          "invalid plugin config: retry_max_backoff_ms must be at least retry_initial_backoff_ms");
    return out;
}

}  // namespace pcapi
