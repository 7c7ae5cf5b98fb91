// Whether every byte of a short text passes a test, 16 bytes at a time (SSE2), or 8 or 4 for
// shorter texts: the values a sync reads are mostly 3 to 60 bytes, so the tail matters as much as
// the loop. A tail is covered by one more step that ends at the last byte and overlaps the one
// before it, so nothing is ever read outside the text and no byte-wise loop remains.
//
// A Test supplies hit16 (SSE2 register), hit (a 64- or 32-bit word) and hit1 (a byte): true when
// some byte fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace pcapi::byte_scan {

template <class W>
inline W load(const char *p) {
    W w;
    std::memcpy(&w, p, sizeof w);
    return w;
}

template <class Test>
inline bool all(const char *p, std::size_t n) {
#if defined(__SSE2__)
    if (n >= 16) {
        std::size_t i = 0;
        for (; i + 16 <= n; i += 16)
            if (Test::hit16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i)))) return false;
        return i == n || !Test::hit16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + n - 16)));
    }
#else
    if (n >= 16) {
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8)
            if (Test::hit(load<uint64_t>(p + i))) return false;
        return i == n || !Test::hit(load<uint64_t>(p + n - 8));
    }
#endif
    if (n >= 8) return !Test::hit(load<uint64_t>(p)) && !Test::hit(load<uint64_t>(p + n - 8));
    if (n >= 4) return !Test::hit(load<uint32_t>(p)) && !Test::hit(load<uint32_t>(p + n - 4));
    for (std::size_t i = 0; i < n; ++i)
        if (Test::hit1(static_cast<unsigned char>(p[i]))) return false;
    return true;
}

// Word tricks: a byte of w that is below `b`, or equal to `c`, leaves its high bit set in these
// (exact for bytes below 0x80; the callers' tests also reject or accept bytes >= 0x80 as they need).
template <class W>
constexpr W ones() {
    return static_cast<W>(~W(0)) / 0xFF;
}
template <class W>
inline W below(W w, unsigned char b) {
    return (w - ones<W>() * b) & ~w;
}
template <class W>
inline W equal(W w, unsigned char c) {
    const W x = w ^ (ones<W>() * c);
    return (x - ones<W>()) & ~x;
}

// Bytes a JSON string must escape: control characters, '"' and '\'.
struct JsonSpecial {
#if defined(__SSE2__)
    static bool hit16(__m128i v) {
        const __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1F)), _mm_set1_epi8(0x1F));  // v <= 0x1F
        const __m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"')), b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
        return _mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(q, b))) != 0;
    }
#endif
    template <class W>
    static bool hit(W w) {
        return ((below(w, 0x20) | equal(w, '"') | equal(w, '\\')) & (ones<W>() * 0x80)) != 0;
    }
    static bool hit1(unsigned char c) {
        return c < 0x20 || c == '"' || c == '\\';
    }
};

// Bytes that are not ASCII, or are NUL.
struct NotAsciiOrNul {
#if defined(__SSE2__)
    static bool hit16(__m128i v) {
        return (_mm_movemask_epi8(v) | _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()))) != 0;
    }
#endif
    template <class W>
    static bool hit(W w) {
        return ((w | below(w, 0x01)) & (ones<W>() * 0x80)) != 0;
    }
    static bool hit1(unsigned char c) {
        return c == 0 || c >= 0x80;
    }
};

}  // namespace pcapi::byte_scan
