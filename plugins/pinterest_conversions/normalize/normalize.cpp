#include "normalize/normalize.hpp"

#include "normalize/iso_tables.hpp"
#include "normalize/text.hpp"
#include "normalize/values.hpp"

#include <cstdint>

namespace pcapi {
namespace {

using text::is_alnum;
using text::is_alpha;
using text::is_ascii_space;
using text::is_digit;
using text::trim;

bool valid(std::string_view s) noexcept {
    return valid_utf8_text(s.data(), s.size());
}

constexpr bool is_hex(unsigned char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr bool is_leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(int y, int m) noexcept {
    constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads 1..max_len ASCII digits at s[i]; returns how many were read (0 if none).
size_t read_digits(std::string_view s, size_t i, size_t max_len, int &value) noexcept {
    size_t n = 0;
    value = 0;
    while (i + n < s.size() && n < max_len && is_digit(static_cast<unsigned char>(s[i + n]))) {
        value = value * 10 + (s[i + n] - '0');
        ++n;
    }
    return n;
}

void append_2(std::string &out, int v) {
    out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

Reason normalize_email(std::string_view in, std::string &out) {
    out.clear();
    std::string_view s = trim(in);
    if (text::istarts_with(s, "mailto:")) s = trim(s.substr(7));
    if (s.empty()) return "email is empty";
    // One pass finds the '@' and any whitespace or control character; the UTF-8 check runs only
    // when a byte is non-ASCII or something is wrong (it names the problem first, as before).
    size_t at = std::string_view::npos;
    unsigned char seen = 0;
    Reason bad = nullptr;
    for (size_t i = 0; i < s.size() && bad == nullptr; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        seen |= c;
        if (c <= 0x20 || c == 0x7F || (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0)) {
            bad = "email contains whitespace or control characters";
        } else if (c == '@') {
            if (at != std::string_view::npos) bad = "email has more than one '@'";
            at = i;
        }
    }
    if ((bad != nullptr || (seen & 0x80) != 0) && !valid(s)) return "email contains invalid UTF-8 or a NUL byte";
    if (bad != nullptr) return bad;
    if (at == std::string_view::npos) return "email has no '@'";
    if (at == 0) return "email has nothing before the '@'";
    const std::string_view domain = s.substr(at + 1);
    if (domain.empty()) return "email has no domain after the '@'";
    bool dot = false, empty_label = domain.front() == '.' || domain.back() == '.';
    for (size_t i = 0; i < domain.size(); ++i) {
        if (domain[i] != '.') continue;
        dot = true;
        if (i + 1 < domain.size() && domain[i + 1] == '.') empty_label = true;
    }
    if (!dot) return "email domain has no '.'";
    if (empty_label) return "email domain has an empty label (leading, trailing or double '.')";
    text::append_lower(s, out);
    return nullptr;
}

Reason normalize_phone(std::string_view in, std::string_view default_country_code, std::string &out) {
    out.clear();
    std::string_view s = trim(in);
    if (text::istarts_with(s, "tel:")) s = trim(s.substr(4));
    if (s.empty()) return "phone is empty";
    bool plus = false;   // written with a leading '+'
    bool trunk = false;  // a national trunk prefix "0" or "(0)" was seen
    bool any_digit = false;
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (is_digit(c)) {  // a run of digits, appended at once
            size_t end = i + 1;
            while (end < s.size() && is_digit(static_cast<unsigned char>(s[end]))) ++end;
            out.append(s.data() + i, end - i);
            i = end - 1;
            any_digit = true;
            continue;
        }
        if (c == '(' && i + 2 < s.size() && s[i + 1] == '0' && s[i + 2] == ')') {
            trunk = true;  // "+44 (0)20 ...": the bracketed 0 is dialled only nationally
            i += 2;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/') continue;
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
            ++i;
            continue;
        }
        if (c == '+') {
            if (any_digit || plus) return "phone has a '+' that is not at the start";
            plus = true;
            continue;
        }
        // An extension or dialling pause ends the number: "x12", "ext. 12", "#12", ";ext=12".
        if (c == 'x' || c == 'X' || c == '#' || c == ';' || c == ',' || text::istarts_with(s.substr(i), "ext")) {
            if (!any_digit) return "phone has no digits before the extension";
            break;
        }
        return "phone contains characters other than digits, separators, '+' and an extension";
    }
    if (out.empty()) return "phone has no digits";

    if (!plus && out.size() >= 2 && out[0] == '0' && out[1] == '0') {
        out.erase(0, 2);  // "00" international prefix
        plus = true;
    }
    if (plus) {
        if (out.empty() || out[0] == '0') return "phone country code cannot start with 0";
    } else {
        size_t zeros = 0;
        while (zeros < out.size() && out[zeros] == '0') ++zeros;
        if (zeros > 0) {
            trunk = true;
            out.erase(0, zeros);
        }
        if (!default_country_code.empty() && default_country_code.front() == '+') default_country_code.remove_prefix(1);
        if (!default_country_code.empty()) {
            for (char c : default_country_code)
                if (!is_digit(static_cast<unsigned char>(c))) return "default country code is not all digits";
            const bool has_cc =
                out.size() >= 11 && out.compare(0, default_country_code.size(), default_country_code) == 0;
            if (trunk || !has_cc) out.insert(0, default_country_code);
        }
    }
    if (out.size() < 7) return "phone has fewer than 7 digits after normalization";
    if (out.size() > 15) return "phone has more than 15 digits after normalization";
    return nullptr;
}

Reason normalize_name(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "name is empty";
    if (!valid(s)) return "name contains invalid UTF-8 or a NUL byte";
    // Lower-case, with each inner run of whitespace (incl. U+00A0) collapsed to one space.
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && !is_ascii_space(static_cast<unsigned char>(s[j])) &&
               !(static_cast<unsigned char>(s[j]) == 0xC2 && static_cast<unsigned char>(s[j + 1]) == 0xA0))
            ++j;
        text::append_lower(s.substr(i, j - i), out);
        if (j == s.size()) break;
        out.push_back(' ');
        i = j;
        while (i < s.size()) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (is_ascii_space(c)) {
                ++i;
            } else if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
                i += 2;
            } else {
                break;
            }
        }
    }
    return nullptr;
}

Reason normalize_gender(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "gender is empty";
    char key[16];
    size_t n = 0;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == ' ' || c == '-' || c == '_') continue;
        if (!is_alpha(c) || n == sizeof key) return "gender is not a recognized value (f, m or n)";
        key[n++] = text::to_lower(ch);
    }
    const std::string_view k(key, n);
    char g = 0;
    if (k == "f" || k == "female" || k == "woman" || k == "w") {
        g = 'f';
    } else if (k == "m" || k == "male" || k == "man") {
        g = 'm';
    } else if (k == "n" || k == "nb" || k == "nonbinary" || k == "x" || k == "other" || k == "enby" ||
               k == "genderqueer") {
        g = 'n';
    }
    if (g == 0) return "gender is not a recognized value (f, m or n)";
    out.push_back(g);
    return nullptr;
}

Reason normalize_date_of_birth(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "date of birth is empty";
    constexpr Reason kFormat =
        "date of birth is not in a recognized format (YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY, "
        "DD.MM.YYYY)";
    int y = 0, m = 0, d = 0;
    int a = 0;
    const size_t na = read_digits(s, 0, 8, a);
    if (na == 8) {
        if (s.size() != 8) return kFormat;
        y = a / 10000;
        m = a / 100 % 100;
        d = a % 100;
    } else if (na == 4) {  // Y-M-D, Y/M/D, Y.M.D, optionally followed by a time
        if (s.size() < 5) return kFormat;
        const char sep = s[4];
        if (sep != '-' && sep != '/' && sep != '.') return kFormat;
        y = a;
        const size_t nm = read_digits(s, 5, 2, m);
        if (nm == 0 || 5 + nm >= s.size() || s[5 + nm] != sep) return kFormat;
        const size_t nd = read_digits(s, 6 + nm, 2, d);
        const size_t end = 6 + nm + nd;
        if (nd == 0) return kFormat;
        if (end != s.size()) {
            // An ISO or SQL date-time: keep the date part.
            if (sep != '-' || (s[end] != 'T' && s[end] != 't' && s[end] != ' ') || end + 1 >= s.size() ||
                !is_digit(static_cast<unsigned char>(s[end + 1])))
                return kFormat;
        }
    } else if (na == 1 || na == 2) {  // M/D/Y, D/M/Y (first part > 12), D.M.Y, M-D-Y
        if (na >= s.size()) return kFormat;
        const char sep = s[na];
        if (sep != '-' && sep != '/' && sep != '.') return kFormat;
        int b = 0;
        const size_t nb = read_digits(s, na + 1, 2, b);
        if (nb == 0 || na + 1 + nb >= s.size() || s[na + 1 + nb] != sep) return kFormat;
        const size_t ny = read_digits(s, na + 2 + nb, 4, y);
        if (ny != 4) {
            return ny == 2 && na + 2 + nb + ny == s.size() ? "date of birth needs a four-digit year" : kFormat;
        }
        if (na + 2 + nb + ny != s.size()) return kFormat;
        if (sep == '.' || a > 12) {
            d = a;
            m = b;
        } else {
            m = a;
            d = b;
        }
    } else {
        return kFormat;
    }
    if (y < 1900) return "date of birth is before 1900";
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return "date of birth is not a real calendar date";
    char buf[8];
    for (int i = 3, v = y; i >= 0; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
    out.append(buf, 4);
    append_2(out, m);
    append_2(out, d);
    return nullptr;
}

Reason normalize_city(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "city is empty";
    if (!valid(s)) return "city contains invalid UTF-8 or a NUL byte";
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {  // keep letters and digits; drop spaces, punctuation and controls
            if (is_alnum(c)) out.push_back(text::to_lower(static_cast<char>(c)));
            ++i;
            continue;
        }
        uint32_t cp = 0;
        const size_t len = text::decode(s, i, cp);
        i += len;
        const bool separator = (cp >= 0x80 && cp <= 0xBF) ||      // Latin-1 spaces, symbols and punctuation
                               cp == 0xD7 || cp == 0xF7 ||        // × ÷
                               (cp >= 0x2000 && cp <= 0x206F) ||  // General Punctuation: spaces, dashes, quotes
                               cp == 0x2212 ||                    // minus sign
                               (cp >= 0x3000 && cp <= 0x3003) ||  // ideographic space, comma, full stop
                               cp == 0xFEFF ||                    // zero-width no-break space
                               (cp >= 0xFF01 && cp <= 0xFF0F);    // full-width punctuation
        if (separator) continue;
        if (cp == 0x130) {
            out.append("i\xCC\x87");
        } else if (cp < 0x800) {
            text::append_utf8(text::lower_cp(cp), out);
        } else {
            out.append(s.data() + i - len, len);
        }
    }
    if (out.empty()) return "city has no letters or digits";
    return nullptr;
}

Reason normalize_state(std::string_view in, std::string &out) {
    out.clear();
    std::string_view s = trim(in);
    if (s.empty()) return "state is empty";
    if (!valid(s)) return "state contains invalid UTF-8 or a NUL byte";
    // ISO 3166-2 form "US-CA": keep the subdivision part.
    if (s.size() == 5 && is_alpha(static_cast<unsigned char>(s[0])) && is_alpha(static_cast<unsigned char>(s[1])) &&
        s[2] == '-')
        s.remove_prefix(3);
    if (s.size() == 2 && is_alnum(static_cast<unsigned char>(s[0])) && is_alnum(static_cast<unsigned char>(s[1]))) {
        out.push_back(text::to_lower(s[0]));
        out.push_back(text::to_lower(s[1]));
        return nullptr;
    }
    char key[48];
    const size_t n = text::fold_key(s, key, sizeof key);
    if (n == 2) {  // "N.Y.", "n y"
        out.assign(key, 2);
        return nullptr;
    }
    const std::string_view code = tables::state_code(std::string_view(key, n));
    if (n == 0 || code.empty()) return "state is not a two-letter code or a known US state or Canadian province name";
    out.assign(code);
    return nullptr;
}

Reason normalize_zip(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "postcode is empty";
    // US ZIP+4 ("12345-6789", "12345 6789", "123456789") -> the 5-digit ZIP.
    size_t digits = 0;
    for (char c : s) digits += is_digit(static_cast<unsigned char>(c));
    if ((s.size() == 10 && digits == 9 && (s[5] == '-' || s[5] == ' ')) || (s.size() == 9 && digits == 9)) {
        bool ok = true;
        for (size_t i = 0; i < 5; ++i) ok &= is_digit(static_cast<unsigned char>(s[i]));
        if (ok) {
            out.assign(s.data(), 5);
            return nullptr;
        }
    }
    // Everything else keeps its letters and digits: "SW1A 1AA" -> "sw1a1aa", "1234 AB" ->
    // "1234ab", "01310-100" -> "01310100".
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (is_alnum(c)) {
            out.push_back(text::to_lower(static_cast<char>(c)));
        } else if (c == ' ' || c == '-' || c == '\t') {
            continue;
        } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
            ++i;
        } else {
            out.clear();
            return "postcode contains characters other than letters, digits, spaces and dashes";
        }
    }
    if (out.size() < 3) return "postcode has fewer than 3 letters or digits";
    if (out.size() > 10) return "postcode has more than 10 letters or digits";
    return nullptr;
}

Reason normalize_country(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "country is empty";
    if (!valid(s)) return "country contains invalid UTF-8 or a NUL byte";
    char key[64];
    const size_t n = text::fold_key(s, key, sizeof key);
    const std::string_view code = n == 0 ? std::string_view{} : tables::country_alpha2({key, n});
    if (code.empty()) return "country is not an ISO-3166 alpha-2 or alpha-3 code or a known country name";
    out.assign(code);
    return nullptr;
}

Reason normalize_external_id(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "external id is empty";
    if (!valid(s)) return "external id contains invalid UTF-8 or a NUL byte";
    out.assign(s);
    return nullptr;
}

Reason normalize_maid(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.empty()) return "advertising id is empty";
    if (!valid(s)) return "advertising id contains invalid UTF-8 or a NUL byte";
    bool all_zero = true;
    for (char c : s) {
        if (is_ascii_space(static_cast<unsigned char>(c))) return "advertising id contains whitespace";
        all_zero &= (c == '0' || c == '-');
    }
    if (all_zero) return "advertising id is all zeros (the device limits ad tracking)";
    for (char c : s) out.push_back(text::to_lower(c));
    return nullptr;
}

Reason normalize_prehashed(std::string_view in, std::string &out) {
    out.clear();
    const std::string_view s = trim(in);
    if (s.size() != 64) return "hashed value must be 64 hex characters (SHA-256)";
    for (char c : s)
        if (!is_hex(static_cast<unsigned char>(c))) return "hashed value contains characters that are not hex digits";
    for (char c : s) out.push_back(text::to_lower(c));
    return nullptr;
}

}  // namespace pcapi
