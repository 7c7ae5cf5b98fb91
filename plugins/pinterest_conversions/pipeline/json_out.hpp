// Minimal append-only JSON output for the hot path: no DOM, no allocation beyond the buffer.
// Callers guarantee text is valid UTF-8 (validated earlier), so only quoting is needed here.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace pcapi::json_out {

// Appends `s` as a JSON string literal (with quotes), escaping ", \ and control characters.
inline void string(std::string &out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0;  // start of the pending unescaped run
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
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
// unless `first` is true; sets first = false.
inline void key(std::string &out, std::string_view k, bool &first) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out.append(k);
    out.append("\":");
}

inline void integer(std::string &out, int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, static_cast<size_t>(r.ptr - buf));
}

}  // namespace pcapi::json_out
