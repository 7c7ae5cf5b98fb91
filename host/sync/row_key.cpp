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

namespace {

// A fast 64-bit hash, eight bytes at a time: each word is multiplied in and folded down
// (xor-shift), so differences in high bits reach the low ones; murmur's fmix64 finishes it. Not
// cryptographic: it tells whether a rejected row's content changed, and speeds up duplicate checks
// (which then compare the keys themselves).
struct Hasher {
    uint64_t h = 0x243f6a8885a308d3ull;
    void word(uint64_t w) {
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 32;
    }
    void bytes(const void *data, size_t n) {
        const auto *p = static_cast<const unsigned char *>(data);
        for (; n >= 8; n -= 8, p += 8) {
            uint64_t w;
            std::memcpy(&w, p, 8);
            word(w);
        }
        uint64_t tail = 0;
        std::memcpy(&tail, p, n);
        word(tail ^ (static_cast<uint64_t>(n) << 56));
    }
    uint64_t done() const {
        uint64_t x = h;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ull;
        x ^= x >> 33;
        return x;
    }
};

}  // namespace

uint64_t row_hash(const std::vector<sp_value> &cells, const std::vector<size_t> &columns) {
    Hasher hs;
    for (size_t c : columns) {
        const sp_value &v = cells[c];
        hs.word((static_cast<uint64_t>(v.type) << 32) | v.len);
        if (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB) {
            if (v.len) hs.bytes(v.as.text, v.len);
        } else if (v.type != SP_VALUE_NULL) {
            uint64_t w;
            std::memcpy(&w, &v.as, sizeof w);
            hs.word(w);
        }
    }
    return hs.done();
}

uint64_t key_hash(std::string_view key) {
    Hasher hs;
    hs.bytes(key.data(), key.size());
    return hs.done();
}

std::string display_key(const std::string &key) {
    const size_t at = key.find('@');
    if (at == std::string::npos) return key;
    // "j***@***" keeps it recognizable to its owner without printing the address.
    return key.substr(0, std::min<size_t>(1, at)) + "***@***";
}

}  // namespace synchost
