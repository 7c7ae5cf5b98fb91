// SHA-256 to lowercase hex, tuned for millions of short identifiers: OpenSSL's low-level SHA256_*
// calls on one reused context, and several short messages hashed side by side with the x86 SHA
// extensions where the CPU has them (sha256_multi.hpp says why).
// Not thread-safe: one Sha256 per thread/instance.
#pragma once

#include <cstddef>
#include <string_view>

namespace pcapi {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;

    // Writes the 64 lowercase hex characters of SHA-256(in) to out[0..64).
    void hex(std::string_view in, char out[64]);

    // Writes the hex of SHA-256(in[i]) to out[64*i .. 64*i+64) for i < n. Same results as n calls
    // to hex(), about twice as fast per message when several are short (<= 55 bytes).
    void hex_many(const std::string_view *in, size_t n, char *out);

private:
    struct Impl;
    Impl *impl_;
};

// True when `s` is exactly 64 hex characters (either case).
bool is_sha256_hex(std::string_view s) noexcept;

}  // namespace pcapi
