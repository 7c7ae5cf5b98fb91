#include "normalize/sha256.hpp"

#include "normalize/sha256_multi.hpp"

// The low-level SHA256_* calls are deprecated in OpenSSL 3 in favour of EVP, but for millions of
// short inputs they are much cheaper: EVP re-creates its context state on every digest
// (measured here: 83 ns vs 130 ns per identifier). They use the same SHA-NI code underneath.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <array>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <cstring>
#include <stdexcept>

namespace pcapi {
namespace {

constexpr std::array<bool, 256> make_hex_set() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'f'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'F'; ++c) t[c] = true;
    return t;
}
constexpr std::array<bool, 256> kHexSet = make_hex_set();

#ifdef __SSE2__
// Sixteen bytes at a time: split into nibbles, map 0-9/10-15 to '0'-'9'/'a'-'f', interleave.
void to_hex(const unsigned char digest[32], char out[64]) {
    const __m128i low_nibble = _mm_set1_epi8(0x0F), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0'),
                  letter_gap = _mm_set1_epi8('a' - '0' - 10);
    auto ascii = [&](__m128i n) {
        return _mm_add_epi8(_mm_add_epi8(n, zero), _mm_and_si128(_mm_cmpgt_epi8(n, nine), letter_gap));
    };
    for (int half = 0; half < 2; ++half) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i *>(digest + 16 * half));
        const __m128i hi = ascii(_mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibble));
        const __m128i lo = ascii(_mm_and_si128(bytes, low_nibble));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 32 * half), _mm_unpacklo_epi8(hi, lo));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 32 * half + 16), _mm_unpackhi_epi8(hi, lo));
    }
}
#else
// "000102...feff": the two lowercase hex digits of every byte value.
constexpr std::array<char, 512> make_hex_pairs() {
    std::array<char, 512> t{};
    constexpr char digits[] = "0123456789abcdef";
    for (int i = 0; i < 256; ++i) {
        t[2 * i] = digits[i >> 4];
        t[2 * i + 1] = digits[i & 15];
    }
    return t;
}
constexpr std::array<char, 512> kHexPairs = make_hex_pairs();

void to_hex(const unsigned char digest[32], char out[64]) {
    for (int i = 0; i < 32; ++i) std::memcpy(out + 2 * i, &kHexPairs[2 * digest[i]], 2);
}
#endif

}  // namespace

struct Sha256::Impl {
    SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(new Impl) {}

Sha256::~Sha256() {
    delete impl_;
}

void Sha256::hex(std::string_view in, char out[64]) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    if (SHA256_Init(&impl_->ctx) != 1 || SHA256_Update(&impl_->ctx, in.data(), in.size()) != 1 ||
        SHA256_Final(digest, &impl_->ctx) != 1) {
        throw std::runtime_error("OpenSSL SHA-256 failed");  // not reachable: pure computation
    }
    to_hex(digest, out);
}

void Sha256::hex_many(const std::string_view *in, size_t n, char *out) {
    if (!sha256_multi::available()) {
        for (size_t i = 0; i < n; ++i) hex(in[i], out + 64 * i);
        return;
    }
    // Short messages go in lanes of up to four; long ones one at a time through OpenSSL.
    const unsigned char *data[sha256_multi::kMaxLanes];
    size_t len[sha256_multi::kMaxLanes], slot[sha256_multi::kMaxLanes];
    unsigned char digests[sha256_multi::kMaxLanes][32];
    size_t lanes = 0;
    auto flush = [&] {
        if (lanes == 0) return;
        sha256_multi::hash_short(lanes, data, len, digests);
        for (size_t l = 0; l < lanes; ++l) to_hex(digests[l], out + 64 * slot[l]);
        lanes = 0;
    };
    for (size_t i = 0; i < n; ++i) {
        if (in[i].size() > sha256_multi::kMaxShort) {
            hex(in[i], out + 64 * i);
            continue;
        }
        data[lanes] = reinterpret_cast<const unsigned char *>(in[i].data());
        len[lanes] = in[i].size();
        slot[lanes++] = i;
        if (lanes == sha256_multi::kMaxLanes) flush();
    }
    flush();
}

bool is_sha256_hex(std::string_view s) noexcept {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!kHexSet[static_cast<unsigned char>(c)]) return false;
    return true;
}

}  // namespace pcapi
