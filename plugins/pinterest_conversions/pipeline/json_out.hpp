// Minimal append-only JSON output for the hot path: no DOM, no allocation beyond the buffer.
// Callers guarantee text is valid UTF-8 (validated earlier), so only quoting is needed here.
#pragma once

#include <charconv>
#include <cstring>
#include <cstdint>
#include <string>
#include <string_view>

namespace pcapi::json_out {

namespace detail {
inline bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Length of the prefix of `s` that needs no escaping, eight bytes at a time.
inline size_t plain_prefix(std::string_view s) {
    constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        const uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
        // A byte below 0x20, or equal to '"' or '\\', sets its high bit here (ASCII-safe: bytes
        // >= 0x80 are not below 0x20 and never compare equal).
        const uint64_t hit = ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) | ((backslash - ones) & ~backslash);
        if (hit & highs) break;
    }
    while (i < s.size() && !needs_escape(static_cast<unsigned char>(s[i]))) ++i;
    return i;
}
}  // namespace detail

// Appends `s` as a JSON string literal (with quotes), escaping ", \ and control characters.
inline void string(std::string &out, std::string_view s) {
    size_t i = detail::plain_prefix(s);
    if (i == s.size()) {  // the common case: nothing to escape, one append
        const size_t at = out.size();
        out.resize(at + s.size() + 2);
        char *p = out.data() + at;
        p[0] = '"';
        std::memcpy(p + 1, s.data(), s.size());
        p[s.size() + 1] = '"';
        return;
    }
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0;  // start of the pending unescaped run
    for (; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (!detail::needs_escape(c)) continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            out.append(esc, 6);
        }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

// An object member's key as written after an earlier member, `,"name":`, so that writing a key
// is one append (assembling it in a stack buffer and copying that stalls on store forwarding;
// measured ~25 ns per event). Keys are trusted literals that need no escaping.
#define PCAPI_JSON_KEY(name) std::string_view(",\"" name "\":")

// Appends `member` (from PCAPI_JSON_KEY), without its comma when `first`; sets first = false.
inline void key(std::string &out, std::string_view member, bool &first) {
    out.append(member.data() + (first ? 1 : 0), member.size() - (first ? 1 : 0));
    first = false;
}

inline void integer(std::string &out, int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

}  // namespace pcapi::json_out
