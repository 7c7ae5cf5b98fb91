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

// Appends `"key":` (key is a trusted literal that needs no escaping), preceded by a comma
// unless `first` is true; sets first = false. One append: this runs a dozen times per event.
inline void key(std::string &out, std::string_view k, bool &first) {
    char buf[64];
    size_t n = 0;
    if (!first) buf[n++] = ',';
    first = false;
    buf[n++] = '"';
    const size_t len = k.size() < sizeof buf - 4 ? k.size() : sizeof buf - 4;
    std::memcpy(buf + n, k.data(), len);
    n += len;
    buf[n++] = '"';
    buf[n++] = ':';
    out.append(buf, n);
}

inline void integer(std::string &out, int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

}  // namespace pcapi::json_out
