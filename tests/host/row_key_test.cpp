// Keys and row hashes: key text for every cell type, masking for display, and hashes that do not
// collide on the sequential keys real tables have (a weak hash made duplicate checks quadratic).
#include "sync/row_key.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

using namespace synchost;

TEST(RowKey, TextOfEveryCellType) {
    std::string out;
    sp_value v{};
    EXPECT_FALSE(key_text(v, out));  // NULL
    v.type = SP_VALUE_INT;
    v.as.i = -42;
    ASSERT_TRUE(key_text(v, out));
    EXPECT_EQ(out, "-42");
    v.type = SP_VALUE_TEXT;
    v.as.text = "ord-1";
    v.len = 5;
    ASSERT_TRUE(key_text(v, out));
    EXPECT_EQ(out, "ord-1");
    const unsigned char blob[] = {0x00, 0xff, 0x10};
    v.type = SP_VALUE_BLOB;
    v.as.blob = blob;
    v.len = 3;
    ASSERT_TRUE(key_text(v, out));
    EXPECT_EQ(out, "00ff10");
}

TEST(RowKey, EmailLikeKeysAreMaskedForDisplay) {
    EXPECT_EQ(display_key("ord-0001"), "ord-0001");
    EXPECT_EQ(display_key("ada@example.com"), "a***@***");
    EXPECT_EQ(display_key("ada@example.com").find("example"), std::string::npos);
}

TEST(RowKey, PhoneNumbersAndDeviceIdsAreMaskedForDisplay) {
    EXPECT_EQ(display_key("+1 415 777 9003"), "***03");
    EXPECT_EQ(display_key("(415) 777-9003"), "***03");
    EXPECT_EQ(display_key("4157779003"), "***03");  // ten plain digits: a phone number, not an id
    EXPECT_EQ(display_key("6F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"), "6F1E****-****-****-****-************");
    // Ordinary ids stay readable: short numbers, order ids, a UUID-length text that is not a UUID.
    EXPECT_EQ(display_key("123456"), "123456");
    EXPECT_EQ(display_key("ord-415-777-9003"), "ord-415-777-9003");
    EXPECT_EQ(display_key("+12"), "+12");
    EXPECT_EQ(display_key("6F1E2D3C-4B5A-6978-8796-A5B4C3D2E1FZ"), "6F1E2D3C-4B5A-6978-8796-A5B4C3D2E1FZ");
    EXPECT_EQ(display_key("1234567890123456"), "1234567890123456");  // 16 digits: longer than any phone number
}

TEST(RowKey, NoCollisionsOnSequentialKeys) {
    std::unordered_set<uint64_t> seen;
    for (int i = 0; i < 2000000; ++i) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "ord-%07d", i);
        ASSERT_TRUE(seen.insert(key_hash(buf)).second) << buf;
    }
}

TEST(RowKey, RowHashChangesWithAnyCell) {
    std::vector<sp_value> cells(2);
    cells[0].type = SP_VALUE_TEXT;
    cells[0].as.text = "a@b.co";
    cells[0].len = 6;
    cells[1].type = SP_VALUE_REAL;
    cells[1].as.r = 12.5;
    const uint64_t h = row_hash(cells, {0, 1});
    EXPECT_EQ(h, row_hash(cells, {0, 1}));
    cells[1].as.r = 12.75;
    EXPECT_NE(h, row_hash(cells, {0, 1}));
    cells[1].type = SP_VALUE_NULL;
    EXPECT_NE(h, row_hash(cells, {0, 1}));
}

namespace {

sp_value text_cell(const std::string &s) {
    sp_value v{};
    v.type = SP_VALUE_TEXT;
    v.as.text = s.data();
    v.len = static_cast<uint32_t>(s.size());
    return v;
}

uint64_t hash_of(const std::vector<sp_value> &cells) {
    std::vector<size_t> all(cells.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    return row_hash(cells, all);
}

}  // namespace

// Every length takes its own path through the hash (empty, 1-3, 4-7, 8-16, longer with an
// overlapping tail): flipping any bit of any byte must change it, and so must the length.
TEST(RowKey, RowHashSeesEveryBitOfEveryLength) {
    std::unordered_set<uint64_t> by_length;
    for (size_t n = 0; n <= 70; ++n) {
        std::string s(n, 'a');
        for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
        const uint64_t h = hash_of({text_cell(s)});
        EXPECT_TRUE(by_length.insert(h).second) << "length " << n;
        for (size_t i = 0; i < n; ++i)
            for (int bit = 0; bit < 8; ++bit) {
                std::string t = s;
                t[i] = static_cast<char>(t[i] ^ (1 << bit));
                ASSERT_NE(hash_of({text_cell(t)}), h) << "length " << n << ", byte " << i << ", bit " << bit;
            }
    }
}

TEST(RowKey, RowHashTellsCellsAndTypesApart) {
    const std::string ab = "ab", c = "c", a = "a", bc = "bc", one = "1";
    EXPECT_NE(hash_of({text_cell(ab), text_cell(c)}), hash_of({text_cell(a), text_cell(bc)}));
    sp_value i1{};
    i1.type = SP_VALUE_INT;
    i1.as.i = 1;
    EXPECT_NE(hash_of({text_cell(one)}), hash_of({i1}));
    sp_value zero_int{}, zero_real{}, null{};
    zero_int.type = SP_VALUE_INT;
    zero_real.type = SP_VALUE_REAL;  // all-zero bits, like the integer 0
    EXPECT_NE(hash_of({zero_int}), hash_of({zero_real}));
    EXPECT_NE(hash_of({zero_int}), hash_of({null}));
    EXPECT_NE(hash_of({null, i1}), hash_of({i1, null}));
}

// The state keeps these hashes across runs and versions: a change to the function must come with
// a new kRowHashVersion (so that stored hashes are forgotten instead of never matching), and this
// value with it.
TEST(RowKey, RowHashIsStableForItsVersion) {
    const std::string email = " Buyer7@Shop.example ", key = "o7";
    sp_value total{};
    total.type = SP_VALUE_REAL;
    total.as.r = 7.5;
    EXPECT_EQ(kRowHashVersion, 2);
    EXPECT_EQ(hash_of({text_cell(key), text_cell(email), total}), 835423761386783780ull);
}
