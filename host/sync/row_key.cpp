#include "sync/row_key.hpp"

#include <charconv>
#include <cstring>

namespace synchost {

bool key_text(const sp_value &v, std::string &out) {
    out.clear();
    char buf[64];
    switch (v.type) {
    case SP_VALUE_INT:
    case SP_VALUE_BOOL: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.as.i);
        out.assign(buf, r.ptr);
        return true;
    }
    case SP_VALUE_REAL: {
        auto r = std::to_chars(buf, buf + sizeof buf, v.as.r);
        out.assign(buf, r.ptr);
        return true;
    }
    case SP_VALUE_TEXT:
        out.assign(v.as.text, v.len);
        return true;
    case SP_VALUE_BLOB: {
        static const char *hex = "0123456789abcdef";
        const auto *p = static_cast<const unsigned char *>(v.as.blob);
        for (uint32_t i = 0; i < v.len; ++i) {
            out.push_back(hex[p[i] >> 4]);
            out.push_back(hex[p[i] & 15]);
        }
        return true;
    }
    default:
        return false;
    }
}

uint64_t row_hash(const std::vector<sp_value> &cells, const std::vector<size_t> &columns) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const void *data, size_t n) {
        const auto *p = static_cast<const unsigned char *>(data);
        for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    };
    for (size_t c : columns) {
        const sp_value &v = cells[c];
        mix(&v.type, sizeof v.type);
        if (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB) {
            mix(&v.len, sizeof v.len);
            if (v.len) mix(v.as.text, v.len);
        } else if (v.type != SP_VALUE_NULL) {
            mix(&v.as.i, sizeof v.as.i);
        }
    }
    return h;
}

std::string display_key(const std::string &key) {
    const size_t at = key.find('@');
    if (at == std::string::npos) return key;
    // "j***@***" keeps it recognizable to its owner without printing the address.
    return key.substr(0, std::min<size_t>(1, at)) + "***@***";
}

}  // namespace synchost
