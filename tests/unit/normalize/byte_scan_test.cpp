// byte_scan: the wide byte tests under json_out and valid_utf8_text, against byte-at-a-time
// references for every length around their 4-, 8- and 16-byte steps and every byte value at every
// position; and proof that a text ending at an unmapped page is never read past its end.
#include "normalize/byte_scan.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace pcapi {
namespace {

template <class Test>
bool reference(const std::string &s) {
    for (unsigned char c : s)
        if (Test::hit1(c)) return false;
    return true;
}

template <class Test>
void every_byte_at_every_position() {
    for (size_t len = 0; len <= 48; ++len)
        for (size_t pos = 0; pos < (len == 0 ? 1 : len); ++pos)
            for (int c = 0; c < 256; ++c) {
                std::string s(len, 'a');
                if (len) s[pos] = static_cast<char>(c);
                ASSERT_EQ(byte_scan::all<Test>(s.data(), s.size()), reference<Test>(s))
                    << "length " << len << ", byte " << c << " at " << pos;
            }
}

TEST(ByteScan, JsonSpecialMatchesTheReference) {
    every_byte_at_every_position<byte_scan::JsonSpecial>();
}
TEST(ByteScan, NotAsciiOrNulMatchesTheReference) {
    every_byte_at_every_position<byte_scan::NotAsciiOrNul>();
}

TEST(ByteScan, NeverReadsPastTheEnd) {
    const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    void *mem = ::mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    auto *base = static_cast<char *>(mem);
    ASSERT_EQ(::mprotect(base + page, page, PROT_NONE), 0);  // a read past the text faults
    for (size_t len = 0; len <= 64; ++len) {
        char *text = base + page - len;
        for (size_t i = 0; i < len; ++i) text[i] = 'a';
        EXPECT_TRUE(byte_scan::all<byte_scan::JsonSpecial>(text, len));
        EXPECT_TRUE(byte_scan::all<byte_scan::NotAsciiOrNul>(text, len));
    }
    ::munmap(mem, 2 * page);
}

}  // namespace
}  // namespace pcapi
