// SHA-256 of up to four short messages at once with the x86 SHA extensions (internal to sha256.cpp).
//
// Why not only OpenSSL: its SHA-NI code hashes one message at a time, and for a one-block message
// the sha256rnds2 chain is latency-bound (~55 ns here). Our events carry several independent short
// identifiers (the derived event id, email, phone, ...); compressing them side by side keeps the
// SHA unit busy and costs ~30 ns per hash instead (measured: 3 hashes 92 ns vs 166 ns with
// SHA256_Init/Update/Final). OpenSSL stays the reference and the fallback for long messages and
// for CPUs without the extensions; tests compare the two on random inputs of every length.
#pragma once

#include <cstddef>

namespace pcapi::sha256_multi {

// Longest message that fits one SHA-256 block with its padding.
inline constexpr size_t kMaxShort = 55;
inline constexpr size_t kMaxLanes = 4;

// True when this CPU has the SHA extensions (and SSSE3/SSE4.1) and this build can use them.
bool available() noexcept;

// digests[i] = SHA-256(data[i][0..len[i])) for i < n; n in 1..kMaxLanes, every len[i] <= kMaxShort.
// Only call when available().
void hash_short(size_t n, const unsigned char *const *data, const size_t *len, unsigned char (*digests)[32]) noexcept;

}  // namespace pcapi::sha256_multi
