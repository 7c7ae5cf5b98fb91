#include "normalize/sha256_multi.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define PCAPI_SHA_NI 1
#endif

namespace pcapi::sha256_multi {

#ifdef PCAPI_SHA_NI
namespace {

alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define PCAPI_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

// The initial hash value H0..H7 in the register layout sha256rnds2 works on: ABEF and CDGH.
PCAPI_SHA_TARGET inline __m128i initial_abef() {
    return _mm_set_epi32(0x6a09e667, 0xbb67ae85, 0x510e527f, 0x9b05688c);
}
PCAPI_SHA_TARGET inline __m128i initial_cdgh() {
    return _mm_set_epi32(0x3c6ef372, 0xa54ff53a, 0x1f83d9ab, 0x5be0cd19);
}

// N one-block messages, their 64 rounds interleaved so that the N dependency chains overlap.
template <size_t N>
PCAPI_SHA_TARGET inline void compress(const unsigned char *const *data, const size_t *len,
                                      unsigned char (*digests)[32]) {
    const __m128i big_endian_words = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i w[N][4], abef[N], cdgh[N];
    for (size_t n = 0; n < N; ++n) {
        // The padded block: message, 0x80, zeros, bit length (big-endian) in the last 8 bytes.
        alignas(16) unsigned char block[64] = {};
        std::memcpy(block, data[n], len[n]);
        block[len[n]] = 0x80;
        const uint64_t bits = static_cast<uint64_t>(len[n]) * 8;
        for (int i = 0; i < 8; ++i) block[63 - i] = static_cast<unsigned char>(bits >> (8 * i));
        for (int i = 0; i < 4; ++i)
            w[n][i] =
                _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i *>(block + 16 * i)), big_endian_words);
        abef[n] = initial_abef();
        cdgh[n] = initial_cdgh();
    }
    // 16 groups of four rounds. w[n][g % 4] holds message words 4g..4g+3; from group 4 on they
    // come from the schedule W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
#pragma GCC unroll 16
    for (size_t g = 0; g < 16; ++g) {
        const __m128i k = _mm_load_si128(reinterpret_cast<const __m128i *>(kRoundConstants + 4 * g));
#pragma GCC unroll 4
        for (size_t n = 0; n < N; ++n) {
            __m128i &cur = w[n][g & 3];
            if (g >= 4) {
                const __m128i &prev1 = w[n][(g + 3) & 3], &prev2 = w[n][(g + 2) & 3], &prev3 = w[n][(g + 1) & 3];
                const __m128i partial =
                    _mm_add_epi32(_mm_sha256msg1_epu32(cur, prev3), _mm_alignr_epi8(prev1, prev2, 4));
                cur = _mm_sha256msg2_epu32(partial, prev1);
            }
            __m128i wk = _mm_add_epi32(cur, k);
            cdgh[n] = _mm_sha256rnds2_epu32(cdgh[n], abef[n], wk);
            wk = _mm_shuffle_epi32(wk, 0x0E);
            abef[n] = _mm_sha256rnds2_epu32(abef[n], cdgh[n], wk);
        }
    }
    const __m128i byte_swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    for (size_t n = 0; n < N; ++n) {
        const __m128i a = _mm_add_epi32(abef[n], initial_abef()), c = _mm_add_epi32(cdgh[n], initial_cdgh());
        // ABEF/CDGH back to ABCD/EFGH, each word big-endian.
        const __m128i feba = _mm_shuffle_epi32(a, 0x1B), dchg = _mm_shuffle_epi32(c, 0xB1);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(digests[n]),
                         _mm_shuffle_epi8(_mm_blend_epi16(feba, dchg, 0xF0), byte_swap));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(digests[n] + 16),
                         _mm_shuffle_epi8(_mm_alignr_epi8(dchg, feba, 8), byte_swap));
    }
}

bool detect() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    const bool ssse3 = (c & bit_SSSE3) != 0, sse41 = (c & bit_SSE4_1) != 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
    const bool sha = (b & bit_SHA) != 0;
    return ssse3 && sse41 && sha;
}

}  // namespace

bool available() noexcept {
    static const bool yes = detect();
    return yes;
}

PCAPI_SHA_TARGET void hash_short(size_t n, const unsigned char *const *data, const size_t *len,
                                 unsigned char (*digests)[32]) noexcept {
    switch (n) {
        case 1:
            compress<1>(data, len, digests);
            break;
        case 2:
            compress<2>(data, len, digests);
            break;
        case 3:
            compress<3>(data, len, digests);
            break;
        case 4:
            compress<4>(data, len, digests);
            break;
        default:
            break;
    }
}

#else  // no SHA extensions in this build: callers use OpenSSL

bool available() noexcept {
    return false;
}
void hash_short(size_t, const unsigned char *const *, const size_t *, unsigned char (*)[32]) noexcept {}

#endif

}  // namespace pcapi::sha256_multi
