#include "transport/retry_policy.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

namespace pcapi::transport {

namespace json = boost::json;

bool retryable_status(unsigned s) noexcept {
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

milliseconds backoff_ceiling(const RetryPolicy &p, unsigned attempt) {
    const int64_t base = std::max<int64_t>(1, p.initial.count());
    const int64_t cap = p.max_backoff.count();
    const int64_t ceiling = attempt >= 40 ? cap : std::min<int64_t>(cap, base << attempt);
    return milliseconds(std::max<int64_t>(0, ceiling));
}

milliseconds backoff(const RetryPolicy &p, unsigned attempt, std::mt19937_64 &rng) {
    std::uniform_int_distribution<int64_t> d(0, backoff_ceiling(p, attempt).count());
    return milliseconds(d(rng));
}

milliseconds ramped_down_backoff(const RetryPolicy &p, unsigned attempt, std::mt19937_64 &rng) {
    const unsigned a = std::min(attempt, 40u);
    std::uniform_int_distribution<int64_t> d(backoff_ceiling(p, a + 1).count(), backoff_ceiling(p, a + 2).count());
    return milliseconds(d(rng));
}

bool ramped_down(unsigned status, std::string_view body) {
    if (status != 503) return false;
    json::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    const auto *code = v.get_object().if_contains("code");
    return code != nullptr && code->is_int64() && code->get_int64() == 4197;
}

namespace {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int month_of(std::string_view s) {
    static constexpr std::array<std::string_view, 12> names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (size_t i = 0; i < names.size(); ++i)
        if (s == names[i]) return static_cast<int>(i) + 1;
    return 0;
}

bool number(std::string_view s, int64_t &out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// Splits on spaces, commas, dashes and colons: the three HTTP-date forms all become tokens.
std::array<std::string_view, 10> tokens(std::string_view v, size_t &n) {
    std::array<std::string_view, 10> t{};
    n = 0;
    size_t i = 0;
    while (i < v.size() && n < t.size()) {
        while (i < v.size() && (v[i] == ' ' || v[i] == ',' || v[i] == '-' || v[i] == ':')) ++i;
        size_t j = i;
        while (j < v.size() && v[j] != ' ' && v[j] != ',' && v[j] != '-' && v[j] != ':') ++j;
        if (j > i) t[n++] = v.substr(i, j - i);
        i = j;
    }
    return t;
}

// Unix seconds of an HTTP-date, or nullopt.
std::optional<int64_t> http_date(std::string_view v) {
    size_t n = 0;
    auto t = tokens(v, n);
    int64_t day = 0, year = 0, h = 0, mi = 0, s = 0;
    int month = 0;
    if (n == 8 && month_of(t[2]) && number(t[1], day) && number(t[3], year)) {  // Sun, 06 Nov 1994 08:49:37 GMT
        month = month_of(t[2]);                                                 // Sunday, 06-Nov-94 08:49:37 GMT
        if (!number(t[4], h) || !number(t[5], mi) || !number(t[6], s) || t[7] != "GMT") return std::nullopt;
        if (year < 100) year += year < 70 ? 2000 : 1900;
    } else if (n == 7 && month_of(t[1]) && number(t[2], day) && number(t[6], year)) {  // Sun Nov  6 08:49:37 1994
        month = month_of(t[1]);
        if (!number(t[3], h) || !number(t[4], mi) || !number(t[5], s)) return std::nullopt;
    } else {
        return std::nullopt;
    }
    // Years past 9999 are not HTTP dates, and would overflow the seconds below.
    if (day < 1 || day > 31 || h > 23 || mi > 59 || s > 60 || year < 1970 || year > 9999) return std::nullopt;
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + h * 3600 +
           mi * 60 + s;
}

}  // namespace

std::optional<milliseconds> parse_retry_after(std::string_view v, int64_t now_unix_s, milliseconds max) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (v.empty()) return std::nullopt;
    int64_t seconds = 0;
    if (std::isdigit(static_cast<unsigned char>(v.front()))) {
        if (!number(v, seconds)) return std::nullopt;  // "7s", "1.5", overflow: ignored
    } else {
        auto when = http_date(v);
        if (!when) return std::nullopt;
        seconds = std::max<int64_t>(0, *when - now_unix_s);
    }
    const int64_t cap_s = max.count() / 1000;
    return milliseconds(std::min(seconds, cap_s) * 1000);
}

milliseconds next_wait(const RetryPolicy &p, unsigned attempt, std::optional<milliseconds> retry_after,
                       std::mt19937_64 &rng, bool ramped) {
    milliseconds w = ramped ? ramped_down_backoff(p, attempt, rng) : backoff(p, attempt, rng);
    if (retry_after) w = std::max(w, std::min(*retry_after, p.max_retry_after));
    return w;
}

}  // namespace pcapi::transport
