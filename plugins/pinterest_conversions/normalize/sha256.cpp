#include "normalize/sha256.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <stdexcept>

namespace pcapi {
namespace {

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

constexpr std::array<bool, 256> make_hex_set() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'f'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'F'; ++c) t[c] = true;
    return t;
}
constexpr std::array<bool, 256> kHexSet = make_hex_set();

}  // namespace

struct Sha256::Impl {
    EVP_MD *md = nullptr;
    EVP_MD_CTX *ctx = nullptr;
    ~Impl() {
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
    }
};

Sha256::Sha256() : impl_(new Impl) {
    impl_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    impl_->ctx = EVP_MD_CTX_new();
    if (impl_->md == nullptr || impl_->ctx == nullptr) {
        delete impl_;
        impl_ = nullptr;
        throw std::runtime_error("OpenSSL SHA-256 is unavailable");
    }
}

Sha256::~Sha256() {
    delete impl_;
}

void Sha256::hex(std::string_view in, char out[64]) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) != 1 ||
        EVP_DigestUpdate(impl_->ctx, in.data(), in.size()) != 1 || EVP_DigestFinal_ex(impl_->ctx, digest, &len) != 1 ||
        len != 32) {
        // Not reachable with a fetched SHA-256 short of memory exhaustion inside OpenSSL.
        throw std::runtime_error("OpenSSL SHA-256 failed");
    }
    for (int i = 0; i < 32; ++i) std::memcpy(out + 2 * i, &kHexPairs[2 * digest[i]], 2);
}

bool is_sha256_hex(std::string_view s) noexcept {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!kHexSet[static_cast<unsigned char>(c)]) return false;
    return true;
}

}  // namespace pcapi
