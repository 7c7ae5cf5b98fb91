// pinterest-sandbox: events body validation. The key tables follow the v5 spec's ConversionEvents
// schema (5.23, plus the 5.28 additions) so the sandbox rejects exactly what Pinterest rejects
// with "Additional properties are not allowed".
#include "validate.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace sandbox {
namespace json = boost::json;
namespace {

enum class Kind {
    string,        // JSON string
    boolean,
    integer,       // JSON integer (not a float: 1.7e9 is rejected)
    decimal,       // string holding a decimal number, e.g. "19.99"
    currency,      // ISO-4217: three uppercase letters
    string_array,
    hash_array,    // array of 64-char lowercase hex SHA-256 strings
    user_data,
    custom_data,
    app_info,
    device_info,
    contents,      // array of content item objects
};

// The schema's maxLength (code points; for arrays: maxItems), minimum/maximum and enum, where it
// states them (the app_info and device_info members).
struct Limits {
    std::uint32_t max_length = 0;  // 0: none
    std::int64_t min = INT64_MIN, max = INT64_MAX;
    const std::string_view* choices = nullptr;
    std::size_t choice_count = 0;
};

struct Key {
    std::string_view name;
    Kind kind;
    Limits limits = {};
};

constexpr std::string_view kFormFactors[] = {"desktop", "laptop", "cellphone", "tablet", "smartwatch",
                                             "tv",      "vr",     "console",   "other"};
constexpr std::string_view kNetworkTypes[] = {"wifi",        "cellular_2g", "cellular_3g", "cellular_4g",
                                              "cellular_5g", "cellular_6g", "ethernet",    "unknown"};
constexpr std::string_view kOsFamilies[] = {"ios", "android", "macos", "windows", "linux", "bsd", "other"};

constexpr Limits chars(std::uint32_t n) { return {n}; }
constexpr Limits range(std::int64_t lo, std::int64_t hi) { return {0, lo, hi}; }
template <std::size_t N>
constexpr Limits one_of(const std::string_view (&c)[N]) { return {0, INT64_MIN, INT64_MAX, c, N}; }

// Event level. The five required keys are checked separately.
constexpr Key kEventKeys[] = {
    {"event_name", Kind::string}, {"action_source", Kind::string}, {"event_time", Kind::integer},
    {"event_id", Kind::string}, {"event_source_url", Kind::string}, {"opt_out", Kind::boolean},
    {"partner_name", Kind::string}, {"app_id", Kind::string}, {"app_name", Kind::string},
    {"app_version", Kind::string}, {"device_brand", Kind::string}, {"device_carrier", Kind::string},
    {"device_model", Kind::string}, {"device_type", Kind::string}, {"os_version", Kind::string},
    {"wifi", Kind::boolean}, {"language", Kind::string}, {"user_data", Kind::user_data}, {"custom_data", Kind::custom_data},
    {"app_info", Kind::app_info}, {"device_info", Kind::device_info},
    // Not in the 5.23/5.28 property lists but in the 5.28 example body, and sent by Segment and
    // RudderStack in production, so the live API evidently accepts it.
    {"advertiser_tracking_enabled", Kind::boolean},
};

constexpr Key kUserDataKeys[] = {
    {"em", Kind::hash_array}, {"hashed_maids", Kind::hash_array}, {"ph", Kind::hash_array},
    {"ge", Kind::hash_array}, {"db", Kind::hash_array}, {"ln", Kind::hash_array},
    {"fn", Kind::hash_array}, {"ct", Kind::hash_array}, {"st", Kind::hash_array},
    {"zp", Kind::hash_array}, {"country", Kind::hash_array}, {"external_id", Kind::hash_array},
    {"client_ip_address", Kind::string}, {"client_user_agent", Kind::string},
    {"click_id", Kind::string}, {"partner_id", Kind::string},
};

constexpr Key kCustomDataKeys[] = {
    {"currency", Kind::currency}, {"value", Kind::decimal}, {"content_ids", Kind::string_array},
    {"content_name", Kind::string}, {"content_category", Kind::string},
    {"content_brand", Kind::string}, {"contents", Kind::contents}, {"num_items", Kind::integer},
    {"order_id", Kind::string}, {"search_string", Kind::string}, {"opt_out_type", Kind::string},
    {"np", Kind::string}, {"predicted_ltv", Kind::decimal},
    {"external_measurement_id", Kind::string}, {"external_measurement_vendor_id", Kind::integer},
};

constexpr Key kContentKeys[] = {
    {"id", Kind::string}, {"item_price", Kind::decimal}, {"quantity", Kind::integer},
    {"item_name", Kind::string}, {"item_category", Kind::string}, {"item_brand", Kind::string},
    {"item_brand_id", Kind::string},
};

// ConversionEventAppInfo and ConversionEventDeviceInfo (release 5.23), with their limits.
constexpr Key kAppInfoKeys[] = {
    {"app_id", Kind::string, chars(200)},          {"app_name", Kind::string, chars(200)},
    {"app_package_name", Kind::string, chars(200)}, {"app_store", Kind::string, chars(100)},
    {"app_version", Kind::string, chars(100)},     {"install_time", Kind::integer, range(0, INT64_MAX)},
    {"user_agent", Kind::string, chars(16384)},    {"window_height", Kind::integer, range(0, 30720)},
    {"window_width", Kind::integer, range(0, 30720)},
};

constexpr Key kDeviceInfoKeys[] = {
    {"battery_level", Kind::integer, range(0, 100)},
    {"brand", Kind::string, chars(100)},
    {"carrier", Kind::string, chars(100)},
    {"cpu_cores", Kind::integer, range(0, 1152)},
    {"external_storage_free_space", Kind::integer, range(0, 1048576)},
    {"external_storage_size", Kind::integer, range(0, 1048576)},
    {"form_factor", Kind::string, one_of(kFormFactors)},
    {"kernel_version", Kind::string, chars(100)},
    {"languages", Kind::string_array, chars(100)},
    {"locale", Kind::string, chars(35)},
    {"model", Kind::string, chars(100)},
    {"network_type", Kind::string, one_of(kNetworkTypes)},
    {"os_family", Kind::string, one_of(kOsFamilies)},
    {"os_name", Kind::string, chars(100)},
    {"os_release_name", Kind::string, chars(100)},
    {"os_version", Kind::string, chars(100)},
    {"screen_density", Kind::integer, range(0, 100000)},
    {"screen_height", Kind::integer, range(0, 30720)},
    {"screen_width", Kind::integer, range(0, 30720)},
    {"storage_free_space", Kind::integer, range(0, 1048576)},
    {"storage_size", Kind::integer, range(0, 1048576)},
    {"timezone", Kind::string, chars(40)},
    {"timezone_abbr", Kind::string, chars(5)},
    {"type", Kind::string, chars(100)},
};

constexpr std::string_view kActionSources[] = {"app_android", "app_ios", "web", "offline"};

template <std::size_t N>
const Key* find_key(const Key (&table)[N], std::string_view name) {
    for (const auto& k : table)
        if (k.name == name) return &k;
    return nullptr;
}

// A key is echoed in a message only if it looks like an identifier; anything else could be a
// value that ended up as a key, i.e. PII.
std::string show_key(std::string_view k) {
    if (k.empty() || k.size() > 64) return "(not shown)";
    for (char c : k)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return "(not shown)";
    return "'" + std::string(k) + "'";
}

bool is_decimal(std::string_view s) {
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') ++i;
    std::size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
    if (digits == 0) return false;
    if (i < s.size() && s[i] == '.') {
        ++i;
        std::size_t frac = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac;
        if (frac == 0) return false;
    }
    return i == s.size();
}

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

bool is_event_name(std::string_view s) {
    // Every standard name (add_to_cart, ...) also fits the custom-name rule: letters, digits, _ and -,
    // at most 100 characters.
    if (s.empty() || s.size() > 100) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

class Validator {
public:
    std::string error;

    bool fail(const std::string& where, const std::string& why) {
        error = where + ": " + why;
        return false;
    }

    template <std::size_t N>
    bool object(const json::value& v, const std::string& where, const Key (&table)[N]) {
        if (!v.is_object()) return fail(where, "must be an object");
        for (const auto& kv : v.get_object()) {
            const Key* k = find_key(table, kv.key());
            if (!k) return fail(where, "unknown key " + show_key(kv.key()) + " (Additional properties are not allowed)");
            const std::string at = where + "." + std::string(kv.key());
            if (!field(kv.value(), at, k->kind) || !within(kv.value(), at, k->limits)) return false;
        }
        return true;
    }

    bool within(const json::value& v, const std::string& where, const Limits& l) {
        if (v.is_string()) {
            const auto s = std::string_view(v.get_string());
            if (l.max_length) {
                std::size_t points = 0;
                for (char c : s) points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                if (points > l.max_length)
                    return fail(where, "longer than maxLength " + std::to_string(l.max_length));
            }
            if (l.choices && std::find(l.choices, l.choices + l.choice_count, s) == l.choices + l.choice_count)
                return fail(where, "not one of the enum's values");
        } else if (v.is_array()) {
            if (l.max_length && v.get_array().size() > l.max_length)
                return fail(where, "more than maxItems " + std::to_string(l.max_length));
        } else if ((v.is_int64() || v.is_uint64()) && (l.min != INT64_MIN || l.max != INT64_MAX)) {
            const bool too_big = v.is_uint64() && v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX);
            const std::int64_t n = too_big ? INT64_MAX : v.to_number<std::int64_t>();
            if (too_big || n < l.min || n > l.max)
                return fail(where, "outside minimum " + std::to_string(l.min) + " / maximum " + std::to_string(l.max));
        }
        return true;
    }

    bool field(const json::value& v, const std::string& where, Kind kind) {
        // The spec marks the optional fields nullable; null means "not given".
        if (v.is_null()) return true;
        switch (kind) {
        case Kind::string:
            return v.is_string() || fail(where, "must be a string");
        case Kind::boolean:
            return v.is_bool() || fail(where, "must be a boolean");
        case Kind::integer:
            return v.is_int64() || v.is_uint64() || fail(where, "must be an integer");
        case Kind::decimal:
            if (!v.is_string()) return fail(where, "must be a string holding a decimal number (e.g. \"19.99\")");
            return is_decimal(v.get_string()) || fail(where, "must hold a decimal number (e.g. \"19.99\")");
        case Kind::currency: {
            if (!v.is_string()) return fail(where, "must be a string");
            auto s = std::string_view(v.get_string());
            bool ok = s.size() == 3;
            for (char c : s) ok = ok && c >= 'A' && c <= 'Z';
            return ok || fail(where, "must be a 3-letter uppercase ISO-4217 code");
        }
        case Kind::string_array: {
            if (!v.is_array()) return fail(where, "must be an array of strings");
            std::size_t i = 0;
            for (const auto& e : v.get_array()) {
                if (!e.is_string()) return fail(where + "[" + std::to_string(i) + "]", "must be a string");
                ++i;
            }
            return true;
        }
        case Kind::hash_array: {
            if (!v.is_array()) return fail(where, "must be an array of SHA-256 hex strings");
            if (v.get_array().empty()) return fail(where, "must not be empty (omit the key instead)");
            std::size_t i = 0;
            for (const auto& e : v.get_array()) {
                if (!e.is_string() || !is_sha256_hex(e.get_string()))
                    return fail(where + "[" + std::to_string(i) + "]",
                                "must be a SHA-256 hash: 64 lowercase hex characters");
                ++i;
            }
            return true;
        }
        case Kind::user_data:
            return user_data(v, where);
        case Kind::custom_data:
            return object(v, where, kCustomDataKeys);
        case Kind::app_info:
            return object(v, where, kAppInfoKeys);
        case Kind::device_info:
            return object(v, where, kDeviceInfoKeys);
        case Kind::contents: {
            if (!v.is_array()) return fail(where, "must be an array of objects");
            std::size_t i = 0;
            for (const auto& e : v.get_array())
                if (!object(e, where + "[" + std::to_string(i++) + "]", kContentKeys)) return false;
            return true;
        }
        }
        return fail(where, "internal: unknown kind");
    }

    bool user_data(const json::value& v, const std::string& where) {
        if (!object(v, where, kUserDataKeys)) return false;
        const auto& o = v.get_object();
        auto present = [&](std::string_view k) {
            auto* p = o.if_contains(k);
            return p && !p->is_null();
        };
        if (present("em") || present("hashed_maids") ||
            (present("client_ip_address") && present("client_user_agent")))
            return true;
        return fail(where, "needs em, hashed_maids, or both client_ip_address and client_user_agent");
    }

    bool event(const json::value& v, const std::string& where, ValidatedEvent& out) {
        if (!object(v, where, kEventKeys)) return false;
        const auto& o = v.get_object();
        for (std::string_view req : {"event_name", "action_source", "event_time", "event_id", "user_data"}) {
            auto* p = o.if_contains(req);
            if (!p || p->is_null()) return fail(where, "missing required key '" + std::string(req) + "'");
        }
        if (!is_event_name(o.at("event_name").get_string()))
            return fail(where + ".event_name",
                        "must be a standard event name or a custom name of at most 100 letters, digits, _ or -");
        bool source_ok = false;
        for (auto s : kActionSources) source_ok = source_ok || o.at("action_source").get_string() == s;
        if (!source_ok) return fail(where + ".action_source", "must be one of app_android, app_ios, web, offline");
        const auto& id = o.at("event_id").get_string();
        if (id.empty()) return fail(where + ".event_id", "must not be empty");
        out.event_id = std::string(id);
        out.event_name = std::string(o.at("event_name").get_string());
        out.components = components_of(o);
        return true;
    }

    // Which EQS components an (already validated) event carries: a key that is present, not null,
    // and not an empty string or list.
    static std::uint32_t components_of(const json::object& event) {
        auto has = [](const json::object& o, std::string_view k) {
            const json::value* v = o.if_contains(k);
            if (!v || v->is_null()) return false;
            if (v->is_string()) return !v->get_string().empty();
            if (v->is_array()) return !v->get_array().empty();
            return true;
        };
        static const json::object kNone;
        const json::object& user = event.at("user_data").get_object();
        const json::value* cd = event.if_contains("custom_data");
        const json::object& custom = cd && cd->is_object() ? cd->get_object() : kNone;
        const bool present[] = {has(user, "em"),          has(user, "hashed_maids"),
                                has(user, "client_ip_address"), has(user, "client_user_agent"),
                                has(user, "click_id"),    has(user, "external_id"),
                                has(event, "event_id"),   has(custom, "order_id"),
                                has(custom, "value"),     has(custom, "content_ids") || has(custom, "contents"),
                                has(event, "event_source_url")};
        static_assert(std::size(present) == std::size(kEqsComponents));
        std::uint32_t bits = 0;
        for (std::size_t i = 0; i < std::size(present); ++i) bits |= present[i] ? 1u << i : 0u;
        return bits;
    }
};

std::string time_error(const json::value& t, const EventTimeWindow& w) {
    // A uint64 above INT64_MAX is certainly in the future.
    if (t.is_uint64() && t.get_uint64() > static_cast<std::uint64_t>(INT64_MAX))
        return "Invalid event_timestamp parameter. Given timestamp is in the future.";
    const std::int64_t ts = t.is_int64() ? t.get_int64() : static_cast<std::int64_t>(t.get_uint64());
    if (ts < w.now - w.max_age_seconds)
        return "Invalid event_timestamp parameter. Given timestamp is in the past and is more than " +
               std::to_string(w.max_age_seconds / 86400) + " days old.";
    if (ts > w.now + w.max_future_seconds)
        return "Invalid event_timestamp parameter. Given timestamp is in the future.";
    return {};
}

}  // namespace

ValidationResult validate_events(std::string_view body, const EventTimeWindow& window) {
    ValidationResult r;
    // A 400 KB batch parses into a few MB of nodes; one arena per request avoids a malloc per node.
    json::monotonic_resource arena(body.size() * 2 + 4096);
    boost::system::error_code ec;
    json::value doc = json::parse(body, ec, &arena);
    if (ec) {
        r.schema_error = "Request body is not valid JSON";
        return r;
    }
    Validator v;
    if (!doc.is_object()) {
        r.schema_error = "Request body must be a JSON object with a 'data' array";
        return r;
    }
    for (const auto& kv : doc.get_object())
        if (kv.key() != "data") {
            r.schema_error = "body: unknown key " + show_key(kv.key()) + " (Additional properties are not allowed)";
            return r;
        }
    const auto* data = doc.get_object().if_contains("data");
    if (!data || !data->is_array()) {
        r.schema_error = "body: 'data' must be an array of events";
        return r;
    }
    const auto& arr = data->get_array();
    if (arr.empty() || arr.size() > 1000) {
        r.schema_error = "body: 'data' must hold 1 to 1000 events, got " + std::to_string(arr.size());
        return r;
    }
    r.events.resize(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
        if (!v.event(arr[i], "data[" + std::to_string(i) + "]", r.events[i])) {
            r.schema_error = v.error;
            r.events.clear();
            return r;
        }
        r.events[i].error_message = time_error(arr[i].get_object().at("event_time"), window);
    }
    return r;
}

}  // namespace sandbox
