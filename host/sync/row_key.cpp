#include "sync/row_key.hpp"

#include <algorithm>
#include <cctype>
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

// A fast 64-bit hash, sixteen bytes per step: each step multiplies two 64-bit words into 128 bits
// and folds the halves together (the "mum" step of wyhash), so every input bit reaches every output
// bit within two steps. One multiply per 16 bytes instead of one per 8, and short values are read
// with two overlapping loads instead of a byte-wise copy. Not cryptographic: it tells whether a
// rejected row's content changed, and speeds up duplicate checks (which then compare the keys
// themselves). Stored hashes depend on it: changing it means a new kRowHashVersion.
constexpr uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull, kP2 = 0x8ebc6af09c88c6e3ull;

inline uint64_t mum(uint64_t a, uint64_t b) {
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
inline uint64_t load32(const unsigned char *p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

struct Hasher {
    uint64_t h = 0x243f6a8885a308d3ull;
    // One step over two words; `tag` tells apart what the words are (type and length).
    void step(uint64_t lo, uint64_t hi) { h = mum(lo ^ h ^ kP0, hi ^ kP1); }
    void value(uint64_t tag, uint64_t w) { step(w, tag); }
    void bytes(uint64_t tag, const void *data, size_t n) {
        const auto *p = static_cast<const unsigned char *>(data);
        if (n <= 16) {
            uint64_t lo = 0, hi = 0;
            if (n >= 8) {
                lo = load64(p);
                hi = load64(p + n - 8);
            } else if (n >= 4) {
                lo = load32(p);
                hi = load32(p + n - 4);
            } else if (n > 0) {
                lo = (uint64_t{p[0]} << 16) | (uint64_t{p[n / 2]} << 8) | p[n - 1];
            }
            step(lo, hi ^ tag);
            return;
        }
        for (; n > 16; n -= 16, p += 16) step(load64(p), load64(p + 8));
        step(load64(p + n - 16), load64(p + n - 8) ^ tag);  // the last 16 bytes, overlapping
    }
    uint64_t done() const { return mum(h ^ kP2, kP1); }
};

}  // namespace

uint64_t row_hash(const std::vector<sp_value> &cells, const std::vector<size_t> &columns) {
    Hasher hs;
    for (size_t c : columns) {
        const sp_value &v = cells[c];
        const uint64_t tag = (static_cast<uint64_t>(v.type) << 32) | v.len;
        if (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB) {
            hs.bytes(tag, v.as.text, v.len);
        } else if (v.type == SP_VALUE_NULL) {
            hs.value(tag, 0);
        } else {
            uint64_t w;
            std::memcpy(&w, &v.as, sizeof w);
            hs.value(tag, w);
        }
    }
    return hs.done();
}

uint64_t key_hash(std::string_view key) {
    Hasher hs;
    hs.bytes(key.size(), key.data(), key.size());
    return hs.done();
}

namespace {

// A phone number as people write one: digits with an optional leading "+" and the usual
// separators, 7 to 15 digits (E.164's maximum). Plain digit strings count only from 10 digits,
// so that ordinary numeric ids stay readable.
bool looks_like_phone(std::string_view k) {
    size_t digits = 0;
    bool separators = false;
    for (size_t i = 0; i < k.size(); ++i) {
        const char c = k[i];
        if (c >= '0' && c <= '9') ++digits;
        else if (c == '+' && i == 0) separators = true;
        else if (c == ' ' || c == '-' || c == '(' || c == ')' || c == '.') separators = true;
        else return false;
    }
    return digits >= 7 && digits <= 15 && (separators || digits >= 10);
}

// A mobile advertising id (IDFA, GAID): a UUID, 8-4-4-4-12 hex digits.
bool looks_like_device_id(std::string_view k) {
    if (k.size() != 36) return false;
    for (size_t i = 0; i < k.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash != (k[i] == '-')) return false;
        if (!dash && !std::isxdigit(static_cast<unsigned char>(k[i]))) return false;
    }
    return true;
}

}  // namespace

std::string display_key(const std::string &key) {
    // Each mask keeps a little, so that the owner of the data can still recognise the row.
    if (const size_t at = key.find('@'); at != std::string::npos)
        return key.substr(0, std::min<size_t>(1, at)) + "***@***";  // "j***@***"
    if (looks_like_phone(key)) return "***" + key.substr(key.size() - 2);  // "***03"
    if (looks_like_device_id(key)) return key.substr(0, 4) + "****-****-****-****-************";
    return key;
}

}  // namespace synchost
