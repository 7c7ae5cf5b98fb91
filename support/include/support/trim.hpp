// The one trimming of text values that host and plugin share: syncplugin.h promises that both
// read a routing field's cell alike (sp_destination_field.config_key), and the plugin's value
// rules trim every text the same way. Header-only: it sits on the plugin's per-value hot path.
#pragma once

#include <cstddef>
#include <string_view>

namespace support {

// `s` without ASCII white space and U+00A0 (no-break space) at both ends and UTF-8 byte-order
// marks at the start.
inline std::string_view trim_text(std::string_view s) noexcept {
    auto space = [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    const auto *b = reinterpret_cast<const unsigned char *>(s.data());
    const auto *e = b + s.size();
    for (;;) {
        if (b < e && space(*b)) {
            ++b;
        } else if (e - b >= 2 && b[0] == 0xC2 && b[1] == 0xA0) {
            b += 2;
        } else if (e - b >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
            b += 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (e > b && space(e[-1])) {
            --e;
        } else if (e - b >= 2 && e[-2] == 0xC2 && e[-1] == 0xA0) {
            e -= 2;
        } else {
            break;
        }
    }
    return {reinterpret_cast<const char *>(b), static_cast<size_t>(e - b)};
}

}  // namespace support
