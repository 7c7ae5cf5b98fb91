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
