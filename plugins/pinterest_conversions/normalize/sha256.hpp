// SHA-256 to lowercase hex, tuned for millions of short identifiers: the digest is fetched from
// OpenSSL once and one EVP_MD_CTX is reused (a fresh context per hash is ~2.7x slower).
// Not thread-safe: one Sha256 per thread/instance.
#pragma once

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

private:
    struct Impl;
    Impl *impl_;
};

// True when `s` is exactly 64 hex characters (either case).
bool is_sha256_hex(std::string_view s) noexcept;

}  // namespace pcapi
