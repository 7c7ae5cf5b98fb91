// SHA-256 hex digests: known vectors, context reuse, and hashing after normalization checked
// against an independent one-shot OpenSSL digest.
#include "normalize/sha256.hpp"
#include "normalize/normalize.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace pcapi {
namespace {

std::string hex_of(Sha256 &h, std::string_view in) {
    char buf[64];
    h.hex(in, buf);
    return std::string(buf, 64);
}

// Independent reference: one-shot EVP_Digest with the implicit digest, own hex formatting.
std::string reference_sha256(std::string_view in) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EXPECT_EQ(EVP_Digest(in.data(), in.size(), md, &len, EVP_sha256(), nullptr), 1);
    std::string out;
    char two[3];
    for (unsigned i = 0; i < len; ++i) {
        snprintf(two, sizeof two, "%02x", md[i]);
        out += two;
    }
    return out;
}

TEST(Sha256, KnownVectors) {
    Sha256 h;
    EXPECT_EQ(hex_of(h, ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex_of(h, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_of(h, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, ContextIsReusedWithoutCarryOver) {
    Sha256 h;
    const std::string a = hex_of(h, "abc");
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(hex_of(h, "abc"), a);
        EXPECT_EQ(hex_of(h, ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
    Sha256 other;
    EXPECT_EQ(hex_of(other, "abc"), a);
}

TEST(Sha256, MatchesReferenceForVariousLengths) {
    Sha256 h;
    std::string s;
    for (int n = 0; n < 300; ++n) {
        EXPECT_EQ(hex_of(h, s), reference_sha256(s)) << n;
        s.push_back(static_cast<char>('a' + n % 26));
    }
    const std::string big(1 << 20, '\xAB');
    EXPECT_EQ(hex_of(h, big), reference_sha256(big));
}

TEST(Sha256, HashOfNormalizedEmailEqualsHashOfCanonicalForm) {
    Sha256 h;
    std::string norm;
    ASSERT_EQ(normalize_email(" User@Example.COM ", norm), nullptr);
    EXPECT_EQ(hex_of(h, norm), reference_sha256("user@example.com"));
    EXPECT_EQ(reference_sha256("user@example.com"), "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514");
}

TEST(Sha256, IsSha256Hex) {
    const std::string h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    EXPECT_TRUE(is_sha256_hex(h));
    EXPECT_TRUE(is_sha256_hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
    EXPECT_FALSE(is_sha256_hex(h.substr(1)));
    EXPECT_FALSE(is_sha256_hex(h + "0"));
    EXPECT_FALSE(is_sha256_hex(h.substr(0, 63) + "g"));
    EXPECT_FALSE(is_sha256_hex(h.substr(0, 63) + " "));
    EXPECT_FALSE(is_sha256_hex(""));
}

}  // namespace
}  // namespace pcapi
