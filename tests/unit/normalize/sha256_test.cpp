// SHA-256 hex digests: known vectors, context reuse, and hashing after normalization checked
// against an independent one-shot OpenSSL digest.
#include "normalize/sha256.hpp"
#include "normalize/sha256_multi.hpp"
#include "normalize/normalize.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <random>
#include <vector>
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

// hex_many against the reference: every length around the one-block limit (55/56 bytes), random
// bytes (NUL and high bytes included), group sizes 1..9 so that lanes fill, spill and mix with
// long messages that take the OpenSSL path.
TEST(Sha256, HexManyMatchesReferenceForEveryLengthAndGroupSize) {
    Sha256 h;
    std::mt19937 rng(20261201);
    for (int round = 0; round < 400; ++round) {
        const size_t n = 1 + round % 9;
        std::vector<std::string> msgs(n);
        for (std::string &m : msgs) {
            const size_t len = round % 5 == 0 ? rng() % 130 : rng() % 57;
            for (size_t i = 0; i < len; ++i) m.push_back(static_cast<char>(rng() & 0xFF));
        }
        std::vector<std::string_view> views(msgs.begin(), msgs.end());
        std::string out(64 * n, '?');
        h.hex_many(views.data(), n, out.data());
        for (size_t i = 0; i < n; ++i)
            ASSERT_EQ(out.substr(64 * i, 64), reference_sha256(msgs[i])) << "round " << round << " message " << i
                                                                           << " of " << n << ", " << msgs[i].size()
                                                                           << " bytes";
    }
}

// The side-by-side compression itself, lane by lane, for every message length it accepts.
TEST(Sha256, MultiLaneCompressionMatchesReference) {
    if (!sha256_multi::available()) GTEST_SKIP() << "this CPU has no SHA extensions; hex_many uses OpenSSL";
    std::mt19937 rng(7);
    for (size_t len = 0; len <= sha256_multi::kMaxShort; ++len) {
        for (size_t lanes = 1; lanes <= sha256_multi::kMaxLanes; ++lanes) {
            std::string msgs[sha256_multi::kMaxLanes];
            const unsigned char *data[sha256_multi::kMaxLanes];
            size_t lens[sha256_multi::kMaxLanes];
            for (size_t l = 0; l < lanes; ++l) {
                const size_t this_len = (len + 13 * l) % (sha256_multi::kMaxShort + 1);  // lanes differ in length
                for (size_t i = 0; i < this_len; ++i) msgs[l].push_back(static_cast<char>(rng() & 0xFF));
                data[l] = reinterpret_cast<const unsigned char *>(msgs[l].data());
                lens[l] = msgs[l].size();
            }
            unsigned char digests[sha256_multi::kMaxLanes][32];
            sha256_multi::hash_short(lanes, data, lens, digests);
            for (size_t l = 0; l < lanes; ++l) {
                std::string hex;
                char two[3];
                for (unsigned char b : digests[l]) {
                    snprintf(two, sizeof two, "%02x", b);
                    hex += two;
                }
                ASSERT_EQ(hex, reference_sha256(msgs[l])) << "length " << lens[l] << ", lane " << l << " of " << lanes;
            }
        }
    }
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
