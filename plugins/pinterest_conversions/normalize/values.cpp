#include "normalize/values.hpp"

#include "normalize/byte_scan.hpp"
#include "normalize/iso_tables.hpp"
#include "normalize/text.hpp"

#include <array>
#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <cstring>
#include <new>

namespace pcapi {
namespace {

using text::is_digit;
using text::trim;

constexpr Reason kMissing = "value is missing";
constexpr Reason kBlobText = "binary value where text is expected";
constexpr Reason kBlobNumber = "binary value where a number is expected";
constexpr Reason kBadUtf8 = "text contains invalid UTF-8 or a NUL byte";

// 2^53: beyond it not every integer has an exact double.
constexpr double kExactIntLimit = 9007199254740992.0;

std::string_view text_of(const sp_value &v) noexcept {
    return {v.as.text, v.len};
}

void append_int(int64_t i, std::string &out) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, i);
    out.append(buf, r.ptr);
}

void append_uint(uint64_t u, std::string &out) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, u);
    out.append(buf, r.ptr);
}

// Appends the shortest fixed-notation text that reads back as `d` (finite). Never uses an
// exponent: 1e20 -> "100000000000000000000", 0.1 -> "0.1", -0.0 -> "0".
void append_fixed(double d, std::string &out) {
    if (d == 0) d = 0;  // -0.0 -> 0.0
    // Fast path for amounts in whole cents (most prices): when c/100 reads back as d, it is the
    // shortest text too, because below 2^46 two doubles' neighbours are closer than 0.01 apart,
    // so no other number with two or fewer decimals reads back as d. Same text as to_chars, a
    // tenth of the work (tested against it).
    if (std::fabs(d) < 7.0e13) {
        const auto cents = static_cast<int64_t>(std::nearbyint(d * 100.0));
        if (static_cast<double>(cents) / 100.0 == d) {
            const int64_t whole = cents / 100, frac = cents < 0 ? -(cents % 100) : cents % 100;
            char buf[32];
            char *p = buf;
            if (cents < 0 && whole == 0) *p++ = '-';  // -0.5: the integer part alone has no sign
            p = std::to_chars(p, buf + sizeof buf, whole).ptr;
            if (frac != 0) {
                *p++ = '.';
                *p++ = static_cast<char>('0' + frac / 10);
                if (frac % 10 != 0) *p++ = static_cast<char>('0' + frac % 10);
            }
            out.append(buf, p);
            return;
        }
    }
    // The longest shortest-fixed double (a subnormal) needs ~330 characters.
    char buf[400];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    out.append(buf, r.ptr);
}

// Appends the shortest text for `d` (finite): fixed or scientific, whichever is shorter.
void append_shortest(double d, std::string &out) {
    if (d == 0) d = 0;
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, r.ptr);
}

// [+-]?digits[.digits], also ".5" and "5."; a leading '+' is dropped, ".5" -> "0.5", "5." -> "5".
Reason decimal_from_text(std::string_view s, std::string &out) {
    if (s.empty()) return "number is empty";
    size_t i = 0;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    const size_t int_begin = i;
    while (i < s.size() && is_digit(static_cast<unsigned char>(s[i]))) ++i;
    const size_t int_end = i;
    size_t frac_begin = i, frac_end = i;
    if (i < s.size() && s[i] == '.') {
        frac_begin = ++i;
        while (i < s.size() && is_digit(static_cast<unsigned char>(s[i]))) ++i;
        frac_end = i;
    }
    if (i != s.size() || (int_end == int_begin && frac_end == frac_begin)) {
        for (char c : s)
            if (c == '$' || static_cast<unsigned char>(c) >= 0x80)
                return "number has a currency symbol or other non-digit characters";
        for (char c : s)
            if (c == ',' || c == '\'' || c == '_' || c == ' ')
                return "number has a digit group separator or a decimal comma; use digits with "
                       "an optional '.' only";
        for (char c : s)
            if (c == 'e' || c == 'E') return "number in exponent notation is not accepted";
        return "number is not a plain decimal ([+-]digits[.digits])";
    }
    if (neg) out.push_back('-');
    if (int_end == int_begin) {
        out.push_back('0');
    } else {
        out.append(s.data() + int_begin, int_end - int_begin);
    }
    if (frac_end > frac_begin) {
        out.push_back('.');
        out.append(s.data() + frac_begin, frac_end - frac_begin);
    }
    return nullptr;
}

// [+-]?digits, optionally followed by ".0..." (a whole number written as a decimal).
Reason integer_from_text(std::string_view s, int64_t &out) {
    if (s.empty()) return "integer is empty";
    const char *b = s.data();
    const char *e = b + s.size();
    if (*b == '+') ++b;
    int64_t v = 0;
    const auto r = std::from_chars(b, e, v);
    if (r.ec == std::errc::result_out_of_range) return "integer is out of range";
    if (r.ec != std::errc() || (*b == '-' && r.ptr == b + 1)) return "not a whole number";
    const char *p = r.ptr;
    if (p < e && *p == '.') {
        ++p;
        while (p < e && *p == '0') ++p;
    }
    if (p != e) return "not a whole number";
    out = v;
    return nullptr;
}

Reason integer_from_double(double d, int64_t &out) {
    if (!std::isfinite(d)) return "number is not finite";
    if (std::trunc(d) != d) return "not a whole number";
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return "integer is out of range";
    out = static_cast<int64_t>(d);
    return nullptr;
}

// ---- event time --------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);

constexpr bool is_leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int y, int m) noexcept {
    constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Seconds from a count that may be in seconds, milliseconds, microseconds or nanoseconds.
constexpr int64_t scale_epoch(int64_t v) noexcept {
    if (v > 100'000'000'000'000'000) return v / 1'000'000'000;
    if (v > 100'000'000'000'000) return v / 1'000'000;
    if (v > 100'000'000'000) return v / 1'000;
    return v;
}

constexpr Reason kTimeFormat =
    "event time is not in a recognized format (Unix seconds or milliseconds, ISO-8601, "
    "YYYY-MM-DD HH:MM:SS or YYYY-MM-DD)";

// Exactly `n` digits at s[i].
bool fixed_digits(std::string_view s, size_t i, size_t n, int &v) noexcept {
    if (i + n > s.size()) return false;
    v = 0;
    for (size_t k = 0; k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    return true;
}

Reason parse_iso_time(std::string_view s, int64_t &t) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!fixed_digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !fixed_digits(s, 5, 2, mo) || s[7] != '-' ||
        !fixed_digits(s, 8, 2, d))
        return kTimeFormat;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) return "event time is not a real calendar date";
    if (y < 1970) return "event time is before 1970";
    size_t i = 10;
    int64_t offset = 0;
    if (i < s.size()) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return kTimeFormat;
        ++i;
        if (!fixed_digits(s, i, 2, h) || i + 2 >= s.size() || s[i + 2] != ':' || !fixed_digits(s, i + 3, 2, mi))
            return kTimeFormat;
        i += 5;
        if (i < s.size() && s[i] == ':') {
            if (!fixed_digits(s, i + 1, 2, sec)) return kTimeFormat;
            i += 3;
            if (i < s.size() && (s[i] == '.' || s[i] == ',')) {  // fraction: truncated
                const size_t f = ++i;
                while (i < s.size() && is_digit(static_cast<unsigned char>(s[i]))) ++i;
                if (i == f) return kTimeFormat;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return "event time has an out-of-range hour, minute or second";
        // Zone: none (UTC), Z, [ ]UTC, or +HH[:MM] / +HHMM / -...
        if (i < s.size() && s[i] == ' ') ++i;
        if (i < s.size()) {
            const std::string_view z = s.substr(i);
            if (z == "Z" || z == "z" || z == "UTC" || z == "GMT") {
                // UTC
            } else if (z[0] == '+' || z[0] == '-') {
                int oh = 0, om = 0;
                if (!fixed_digits(s, i + 1, 2, oh)) return kTimeFormat;
                size_t j = i + 3;
                if (j < s.size()) {
                    if (s[j] == ':') ++j;
                    if (!fixed_digits(s, j, 2, om) || j + 2 != s.size()) return kTimeFormat;
                }
                if (oh > 23 || om > 59) return "event time has an invalid UTC offset";
                offset = (z[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
            } else {
                return kTimeFormat;
            }
        }
    }
    t = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + sec -
        offset;
    return nullptr;
}

Reason event_time_from_double(double d, int64_t &t) {
    if (!std::isfinite(d)) return "event time is not a finite number";
    if (d < 0) return "event time is negative";
    if (d > 1e17) {
        d /= 1e9;
    } else if (d > 1e14) {
        d /= 1e6;
    } else if (d > 1e11) {
        d /= 1e3;
    }
    if (d >= 9e15) return "event time is out of range";
    t = static_cast<int64_t>(std::floor(d));
    return nullptr;
}

// ---- JSON helpers ------------------------------------------------------------------------------

// Renders a JSON number as text: integers without ".0"; an integral double beyond 2^53 is
// refused because the parser may already have rounded it.
Reason append_json_number(const boost::json::value &jv, std::string &out) {
    switch (jv.kind()) {
        case boost::json::kind::int64:
            append_int(jv.get_int64(), out);
            return nullptr;
        case boost::json::kind::uint64:
            append_uint(jv.get_uint64(), out);
            return nullptr;
        case boost::json::kind::double_: {
            const double d = jv.get_double();
            if (std::trunc(d) == d) {
                if (std::fabs(d) >= kExactIntLimit)
                    return "number is too large to keep exactly; send it as a JSON string";
                append_int(static_cast<int64_t>(d), out);
            } else {
                append_fixed(d, out);
            }
            return nullptr;
        }
        default:
            return "not a number";
    }
}

}  // namespace

// ---- public ------------------------------------------------------------------------------------

bool valid_utf8_text(const char *p, size_t n) noexcept {
    if (byte_scan::all<byte_scan::NotAsciiOrNul>(p, n)) return true;  // the common case
    const auto *s = reinterpret_cast<const unsigned char *>(p);
    const auto *e = s + n;
    while (s < e) {
        // ASCII fast path, 8 bytes at a time: no high bit and no zero byte.
        while (e - s >= 8) {
            uint64_t w;
            std::memcpy(&w, s, 8);
            const uint64_t has_zero = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
            if ((w & 0x8080808080808080ULL) != 0 || has_zero != 0) break;
            s += 8;
        }
        if (s >= e) break;
        const unsigned c = *s;
        if (c < 0x80) {
            if (c == 0) return false;
            ++s;
            continue;
        }
        if (c < 0xC2) return false;  // continuation byte or overlong 2-byte lead
        if (c < 0xE0) {
            if (e - s < 2 || (s[1] & 0xC0) != 0x80) return false;
            s += 2;
            continue;
        }
        if (c < 0xF0) {
            if (e - s < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return false;
            if (c == 0xE0 && s[1] < 0xA0) return false;   // overlong
            if (c == 0xED && s[1] >= 0xA0) return false;  // UTF-16 surrogate
            s += 3;
            continue;
        }
        if (c < 0xF5) {
            if (e - s < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return false;
            if (c == 0xF0 && s[1] < 0x90) return false;   // overlong
            if (c == 0xF4 && s[1] >= 0x90) return false;  // > U+10FFFF
            s += 4;
            continue;
        }
        return false;
    }
    return true;
}

Reason parse_event_time(const sp_value &v, int64_t &unix_seconds) {
    switch (v.type) {
        case SP_VALUE_INT:
            if (v.as.i < 0) return "event time is negative";
            unix_seconds = scale_epoch(v.as.i);
            return nullptr;
        case SP_VALUE_REAL:
            return event_time_from_double(v.as.r, unix_seconds);
        case SP_VALUE_TEXT: {
            const std::string_view s = trim(text_of(v));
            if (s.empty()) return "event time is empty";
            if (is_digit(static_cast<unsigned char>(s[0])) &&
                (s.size() < 5 || s[4] != '-')) {  // epoch digits, optionally with a fraction
                int64_t i = 0;
                const auto r = std::from_chars(s.data(), s.data() + s.size(), i);
                if (r.ec == std::errc::result_out_of_range) return "event time is out of range";
                const char *p = r.ptr;
                const char *e = s.data() + s.size();
                if (p < e && *p == '.') {
                    ++p;
                    while (p < e && is_digit(static_cast<unsigned char>(*p))) ++p;
                }
                if (p != e) return kTimeFormat;
                unix_seconds = scale_epoch(i);
                return nullptr;
            }
            return parse_iso_time(s, unix_seconds);
        }
        case SP_VALUE_NULL:
            return "event time is missing";
        case SP_VALUE_BOOL:
            return "event time must be a number or text, not a boolean";
        case SP_VALUE_BLOB:
            return kBlobNumber;
        default:
            return "event time has an unsupported value type";
    }
}

Reason check_event_time_window(int64_t t, int64_t now_s, int64_t max_age_s, int64_t max_future_s) {
    if (t > now_s + max_future_s) return "event time is too far in the future";
    if (t < now_s - max_age_s) return "event time is older than the accepted maximum age";
    return nullptr;
}

Reason shape_decimal(const sp_value &v, std::string &out) {
    out.clear();
    switch (v.type) {
        case SP_VALUE_INT:
            append_int(v.as.i, out);
            return nullptr;
        case SP_VALUE_REAL:
            if (!std::isfinite(v.as.r)) return "number is not finite (NaN or infinity)";
            append_fixed(v.as.r, out);
            return nullptr;
        case SP_VALUE_TEXT: {
            const std::string_view s = trim(text_of(v));
            if (Reason r = decimal_from_text(s, out)) {
                out.clear();
                return r;
            }
            return nullptr;
        }
        case SP_VALUE_NULL:
            return kMissing;
        case SP_VALUE_BOOL:
            return "boolean where a number is expected";
        case SP_VALUE_BLOB:
            return kBlobNumber;
        default:
            return "unsupported value type";
    }
}

Reason shape_integer(const sp_value &v, int64_t &out) {
    switch (v.type) {
        case SP_VALUE_INT:
            out = v.as.i;
            return nullptr;
        case SP_VALUE_REAL:
            return integer_from_double(v.as.r, out);
        case SP_VALUE_TEXT:
            return integer_from_text(trim(text_of(v)), out);
        case SP_VALUE_NULL:
            return kMissing;
        case SP_VALUE_BOOL:
            return "boolean where an integer is expected";
        case SP_VALUE_BLOB:
            return kBlobNumber;
        default:
            return "unsupported value type";
    }
}

Reason shape_bool(const sp_value &v, bool &out) {
    constexpr Reason kBool = "boolean must be true/false, yes/no, 1/0, t/f or y/n";
    switch (v.type) {
        case SP_VALUE_BOOL:
            out = v.as.i != 0;
            return nullptr;
        case SP_VALUE_INT:
            if (v.as.i != 0 && v.as.i != 1) return kBool;
            out = v.as.i == 1;
            return nullptr;
        case SP_VALUE_REAL:
            if (v.as.r != 0 && v.as.r != 1) return kBool;
            out = v.as.r == 1;
            return nullptr;
        case SP_VALUE_TEXT: {
            const std::string_view s = trim(text_of(v));
            using text::iequals;
            if (iequals(s, "true") || iequals(s, "yes") || s == "1" || iequals(s, "t") || iequals(s, "y")) {
                out = true;
                return nullptr;
            }
            if (iequals(s, "false") || iequals(s, "no") || s == "0" || iequals(s, "f") || iequals(s, "n")) {
                out = false;
                return nullptr;
            }
            return kBool;
        }
        case SP_VALUE_NULL:
            return kMissing;
        case SP_VALUE_BLOB:
            return "binary value where a boolean is expected";
        default:
            return "unsupported value type";
    }
}

Reason shape_string_view(const sp_value &v, std::string &scratch, std::string_view &out) {
    scratch.clear();
    out = {};
    switch (v.type) {
        case SP_VALUE_TEXT: {
            const std::string_view raw = text_of(v);
            if (!valid_utf8_text(raw.data(), raw.size())) return kBadUtf8;
            out = trim(raw);
            return nullptr;
        }
        case SP_VALUE_INT:
            append_int(v.as.i, scratch);
            break;
        case SP_VALUE_REAL:
            if (!std::isfinite(v.as.r)) return "number is not finite (NaN or infinity)";
            append_shortest(v.as.r, scratch);
            break;
        case SP_VALUE_BOOL:
            scratch.assign(v.as.i != 0 ? "true" : "false");
            break;
        case SP_VALUE_NULL:
            return nullptr;
        case SP_VALUE_BLOB:
            return kBlobText;
        default:
            return "unsupported value type";
    }
    out = scratch;
    return nullptr;
}

Reason shape_string(const sp_value &v, std::string &out, bool &empty) {
    std::string_view view;
    const Reason why = shape_string_view(v, out, view);
    if (view.data() != out.data()) out.assign(view);  // text in the cell: copy it
    empty = why == nullptr && view.empty();
    return why;
}

Reason shape_currency(const sp_value &v, std::string &out) {
    out.clear();
    if (v.type == SP_VALUE_NULL) return kMissing;
    if (v.type == SP_VALUE_BLOB) return kBlobText;
    if (v.type != SP_VALUE_TEXT) return "currency must be text (a three-letter ISO-4217 code)";
    const std::string_view s = trim(text_of(v));
    if (s.size() != 3 || !text::is_alpha(static_cast<unsigned char>(s[0])) ||
        !text::is_alpha(static_cast<unsigned char>(s[1])) || !text::is_alpha(static_cast<unsigned char>(s[2])))
        return "currency must be a three-letter ISO-4217 code";
    char code[3] = {text::to_upper(s[0]), text::to_upper(s[1]), text::to_upper(s[2])};
    if (!tables::is_active_currency({code, 3})) return "currency is not an active ISO-4217 code";
    out.assign(code, 3);
    return nullptr;
}

namespace {

// `s` lowercased without ' ', '-' and '_', or false when it is longer than `cap`.
bool catalogue_key(std::string_view s, std::string &key, size_t cap) {
    key.clear();
    for (char c : s) {
        if (c == ' ' || c == '-' || c == '_') continue;
        if (key.size() == cap) return false;
        key.push_back(text::to_lower(c));
    }
    return true;
}

}  // namespace

NameCatalogue::NameCatalogue(std::vector<std::string> names, const std::string &what) : names_(std::move(names)) {
    std::string key;
    for (const std::string &n : names_) {
        catalogue_key(n, key, n.size());
        keys_.push_back(key);
    }
    refusal_ = what + " must be ";
    for (size_t i = 0; i < names_.size(); ++i)
        refusal_ += (i == 0 ? "" : i + 1 == names_.size() ? " or " : ", ") + names_[i];
}

const std::string *NameCatalogue::find(std::string_view s) const {
    size_t longest = 0;
    for (const std::string &k : keys_) longest = std::max(longest, k.size());
    thread_local std::string key;
    if (!catalogue_key(s, key, longest)) return nullptr;
    for (size_t i = 0; i < keys_.size(); ++i)
        if (keys_[i] == key) return &names_[i];
    return nullptr;
}

Reason shape_event_name(const sp_value &v, const NameCatalogue &standard, std::string &out) {
    out.clear();
    if (v.type == SP_VALUE_NULL) return kMissing;
    if (v.type == SP_VALUE_BLOB) return kBlobText;
    if (v.type != SP_VALUE_TEXT) return "event name must be text";
    const std::string_view raw = text_of(v);
    if (!valid_utf8_text(raw.data(), raw.size())) return kBadUtf8;
    const std::string_view s = trim(raw);
    if (s.empty()) return "event name is empty";
    if (const std::string *name = standard.find(s)) {
        out.assign(*name);
        return nullptr;
    }
    if (s.size() > 100) return "custom event name is longer than 100 characters";
    bool alnum = false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (!text::is_alnum(u) && c != '_' && c != '-')
            return "custom event name may contain only letters, digits, '_' and '-'";
        alnum |= text::is_alnum(u);
    }
    if (!alnum) return "custom event name has no letters or digits";
    out.assign(s);
    return nullptr;
}

Reason shape_action_source(const sp_value &v, const NameCatalogue &sources, std::string &out) {
    out.clear();
    if (v.type == SP_VALUE_NULL) return kMissing;
    if (v.type != SP_VALUE_TEXT) return sources.refusal();
    const std::string *name = sources.find(trim(text_of(v)));
    if (name == nullptr) return sources.refusal();
    out.assign(*name);
    return nullptr;
}

Reason shape_language(const sp_value &v, std::string &out) {
    out.clear();
    constexpr Reason kBad = "language is not an ISO-639-1 two-letter code";
    if (v.type == SP_VALUE_NULL) return kMissing;
    if (v.type != SP_VALUE_TEXT) return kBad;
    std::string_view s = trim(text_of(v));
    // A locale such as "en-US" or "pt_BR" gives its language.
    if (s.size() > 2 && (s[2] == '-' || s[2] == '_')) s = s.substr(0, 2);
    if (s.size() != 2) return kBad;
    const char code[2] = {text::to_lower(s[0]), text::to_lower(s[1])};
    if (!tables::is_language({code, 2})) return kBad;
    out.assign(code, 2);
    return nullptr;
}

namespace detail {

namespace {

// The common shape of a list cell, ["sku-1", "sku-2", 42]: strings without escapes and plain
// integers. Recognized without a JSON parser; anything else (escapes, decimals, nesting, more
// than 64 items, malformed text) returns false and takes the full Boost.JSON path. The whole
// text is checked before any item is handed out, so a malformed tail never yields items twice.
bool simple_json_list(std::string_view s, ListItemFn fn, void *ctx, Reason &result) {
    // Item bounds, left uninitialized (an array of string_view would be zeroed, 1 KB per call).
    struct Item {
        size_t begin, size;
    };
    Item items[64];
    constexpr size_t kMaxItems = sizeof items / sizeof items[0];
    size_t n = 0, i = 1;  // s[0] == '['
    auto ws = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    };
    ws();
    if (i < s.size() && s[i] == ']') {
        ++i;
    } else {
        for (;;) {
            ws();
            if (i >= s.size() || n == kMaxItems) return false;
            const size_t start = i;
            if (s[i] == '"') {
                const size_t end = s.find('"', i + 1);
                if (end == std::string_view::npos) return false;
                const std::string_view str = s.substr(i + 1, end - i - 1);
                for (char c : str)
                    if (c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
                items[n++] = {i + 1, end - i - 1};
                i = end + 1;
            } else {
                if (s[i] == '-') ++i;
                const size_t digits = i;
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
                const size_t len = i - digits;
                if (len == 0 || len > 15 || (s[digits] == '0' && len > 1) || (s[start] == '-' && s[digits] == '0'))
                    return false;
                items[n++] = {start, i - start};
            }
            ws();
            if (i < s.size() && s[i] == ',') {
                ++i;
                continue;
            }
            if (i < s.size() && s[i] == ']') {
                ++i;
                break;
            }
            return false;
        }
    }
    ws();
    if (i != s.size()) return false;
    result = nullptr;
    for (size_t k = 0; k < n; ++k) {
        const std::string_view item = trim(s.substr(items[k].begin, items[k].size));
        if (item.empty()) continue;
        if ((result = fn(ctx, item))) return true;
    }
    return true;
}

}  // namespace

Reason for_each_list_item_impl(const sp_value &v, char delimiter, std::string &scratch, ListItemFn fn, void *ctx) {
    switch (v.type) {
        case SP_VALUE_NULL:
            return nullptr;
        case SP_VALUE_INT:
            scratch.clear();
            append_int(v.as.i, scratch);
            return fn(ctx, scratch);
        case SP_VALUE_REAL: {
            const double d = v.as.r;
            if (!std::isfinite(d)) return "number is not finite (NaN or infinity)";
            scratch.clear();
            if (std::trunc(d) == d && std::fabs(d) < kExactIntLimit) {
                append_int(static_cast<int64_t>(d), scratch);
            } else {
                append_fixed(d, scratch);
            }
            return fn(ctx, scratch);
        }
        case SP_VALUE_TEXT:
            break;
        case SP_VALUE_BOOL:
            return "boolean where a list of values is expected";
        case SP_VALUE_BLOB:
            return kBlobText;
        default:
            return "unsupported value type";
    }

    const std::string_view raw = text_of(v);
    if (!valid_utf8_text(raw.data(), raw.size())) return kBadUtf8;
    const std::string_view s = trim(raw);
    if (s.empty()) return nullptr;

    if (s[0] != '[') {  // a delimited list
        size_t pos = 0;
        for (;;) {
            const size_t end = delimiter == '\0' ? std::string_view::npos : s.find(delimiter, pos);
            const std::string_view item = trim(s.substr(pos, end == std::string_view::npos ? end : end - pos));
            if (!item.empty())
                if (Reason r = fn(ctx, item)) return r;
            if (end == std::string_view::npos) return nullptr;
            pos = end + 1;
        }
    }

    Reason simple = nullptr;
    if (simple_json_list(s, fn, ctx, simple)) return simple;

    // Any other JSON array. Small arrays parse into this stack buffer without touching the heap.
    unsigned char buf[4096];
    boost::json::monotonic_resource mr(buf);
    const boost::json::storage_ptr sp(&mr);
    boost::json::value jv(sp);
    boost::json::error_code ec;
    try {
        jv = boost::json::parse(boost::json::string_view(s.data(), s.size()), ec, sp);
    } catch (const std::bad_alloc &) {
        return "list is too large to parse";
    }
    if (ec || !jv.is_array()) return "list starts with '[' but is not a valid JSON array";
    for (const boost::json::value &el : jv.get_array()) {
        Reason r = nullptr;
        if (el.is_string()) {
            const boost::json::string &str = el.get_string();
            const std::string_view item = trim(std::string_view(str.data(), str.size()));
            if (!valid_utf8_text(item.data(), item.size())) return kBadUtf8;
            if (item.empty()) continue;
            r = fn(ctx, item);
        } else if (el.is_number()) {
            scratch.clear();
            if (Reason bad = append_json_number(el, scratch)) return bad;
            r = fn(ctx, scratch);
        } else {
            return "list element is not a string or a number";
        }
        if (r) return r;
    }
    return nullptr;
}

}  // namespace detail

namespace {

enum class ContentKey { id, item_price, quantity, item_name, item_category, item_brand, unknown };

ContentKey content_key(std::string_view k) noexcept {
    if (k == "id") return ContentKey::id;
    if (k == "item_price") return ContentKey::item_price;
    if (k == "quantity") return ContentKey::quantity;
    if (k == "item_name") return ContentKey::item_name;
    if (k == "item_category") return ContentKey::item_category;
    if (k == "item_brand") return ContentKey::item_brand;
    return ContentKey::unknown;
}

// A key name for the caller to show: printable ASCII kept, anything else as '?', at most 40.
void describe_key(std::string_view k, std::string &out) {
    out.clear();
    for (size_t i = 0; i < k.size() && i < 40; ++i) {
        const auto c = static_cast<unsigned char>(k[i]);
        out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
    }
    if (k.size() > 40) out.append("...");
}

Reason shape_contents_json(std::string_view s, std::string &out) {
    constexpr Reason kShape = "contents must be a JSON array of objects";
    unsigned char buf[4096];
    boost::json::monotonic_resource mr(buf);
    const boost::json::storage_ptr sp(&mr);
    boost::json::error_code ec;
    boost::json::value jv = boost::json::parse(boost::json::string_view(s.data(), s.size()), ec, sp);
    if (ec) return "contents is not valid JSON";
    boost::json::array single(sp);
    const boost::json::array *items = jv.if_array();
    if (items == nullptr) {
        if (!jv.is_object()) return kShape;
        single.push_back(jv);  // one object alone: taken as a one-item array
        items = &single;
    }
    if (items->empty()) return nullptr;

    boost::json::array result(sp);
    result.reserve(items->size());
    std::string tmp;
    for (const boost::json::value &el : *items) {
        const boost::json::object *in = el.if_object();
        if (in == nullptr) return kShape;
        boost::json::object o(sp);
        for (const auto &kv : *in) {
            const std::string_view key(kv.key().data(), kv.key().size());
            const boost::json::string_view jkey(key.data(), key.size());
            const boost::json::value &val = kv.value();
            const ContentKey ck = content_key(key);
            if (ck == ContentKey::unknown) {
                describe_key(key, out);
                return "contents item has a key that is not allowed (allowed: id, item_price, "
                       "quantity, item_name, item_category, item_brand)";
            }
            if (val.is_null()) continue;
            tmp.clear();
            switch (ck) {
                case ContentKey::id:
                    if (val.is_string()) {
                        const auto &str = val.get_string();
                        tmp.assign(trim(std::string_view(str.data(), str.size())));
                        if (!valid_utf8_text(tmp.data(), tmp.size())) return kBadUtf8;
                    } else if (val.is_number()) {
                        if (append_json_number(val, tmp))
                            return "contents id is a number too large to keep exactly; send it "
                                   "as a JSON string";
                    } else {
                        return "contents id must be a string or a number";
                    }
                    if (tmp.empty()) continue;
                    o.emplace(jkey, boost::json::string_view(tmp.data(), tmp.size()));
                    break;
                case ContentKey::item_price:
                    if (val.is_string()) {
                        const auto &str = val.get_string();
                        if (decimal_from_text(trim(std::string_view(str.data(), str.size())), tmp) != nullptr)
                            return "contents item_price is not a plain decimal number";
                    } else if (val.is_int64()) {
                        append_int(val.get_int64(), tmp);
                    } else if (val.is_uint64()) {
                        append_uint(val.get_uint64(), tmp);
                    } else if (val.is_double()) {
                        append_fixed(val.get_double(), tmp);
                    } else {
                        return "contents item_price must be a number or a decimal string";
                    }
                    o.emplace(jkey, boost::json::string_view(tmp.data(), tmp.size()));
                    break;
                case ContentKey::quantity: {
                    int64_t q = 0;
                    Reason r = nullptr;
                    if (val.is_int64()) {
                        q = val.get_int64();
                    } else if (val.is_uint64()) {
                        r = "contents quantity is out of range";
                    } else if (val.is_double()) {
                        r = integer_from_double(val.get_double(), q);
                    } else if (val.is_string()) {
                        const auto &str = val.get_string();
                        r = integer_from_text(trim(std::string_view(str.data(), str.size())), q);
                    } else {
                        r = "contents quantity must be a whole number";
                    }
                    if (r) return "contents quantity must be a whole number";
                    if (q < 0) return "contents quantity is negative";
                    o.emplace(jkey, q);
                    break;
                }
                case ContentKey::item_name:
                case ContentKey::item_category:
                case ContentKey::item_brand: {
                    if (!val.is_string()) {
                        return ck == ContentKey::item_name       ? "contents item_name must be a string"
                               : ck == ContentKey::item_category ? "contents item_category must be a string"
                                                                 : "contents item_brand must be a string";
                    }
                    const auto &str = val.get_string();
                    const std::string_view t = trim(std::string_view(str.data(), str.size()));
                    if (!valid_utf8_text(t.data(), t.size())) return kBadUtf8;
                    if (t.empty()) continue;
                    o.emplace(jkey, boost::json::string_view(t.data(), t.size()));
                    break;
                }
                case ContentKey::unknown:
                    break;
            }
        }
        result.emplace_back(std::move(o));
    }
    out = boost::json::serialize(result);
    return nullptr;
}

}  // namespace

Reason shape_contents(const sp_value &v, std::string &out) {
    out.clear();
    switch (v.type) {
        case SP_VALUE_TEXT:
            break;
        case SP_VALUE_NULL:
            return nullptr;
        case SP_VALUE_BLOB:
            return kBlobText;
        default:
            return "contents must be a JSON array of objects";
    }
    const std::string_view raw = text_of(v);
    if (!valid_utf8_text(raw.data(), raw.size())) return kBadUtf8;
    const std::string_view s = trim(raw);
    if (s.empty()) return nullptr;
    try {
        return shape_contents_json(s, out);
    } catch (const std::exception &) {
        out.clear();
        return "contents is too large to process";
    }
}

}  // namespace pcapi
