// support::BatchBuilder: rows appended cell by cell become an sp_batch; a dropped last row leaves
// no trace (its key, cells and text), and rows after it land where it was.
#include <support/batch_builder.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

std::string text_at(const sp_batch &b, uint32_t row, uint32_t col) {
    const sp_value &v = b.values[row * b.column_count + col];
    return v.type == SP_VALUE_TEXT ? std::string(v.as.text, v.len) : "<not text>";
}

TEST(BatchBuilder, ADroppedRowLeavesNoTrace) {
    support::BatchBuilder bb({"email", "total"});
    bb.begin_row("k1");
    bb.add_text("a@example.com");
    bb.add_real(1.5);
    bb.begin_row("k2");
    bb.add_text("dropped@example.com");
    bb.add_int(7);
    bb.drop_last_row();
    bb.begin_row("k3");
    bb.add_text("c@example.com");
    bb.add_null();
    const sp_batch *b = bb.finish();
    ASSERT_EQ(b->record_count, 2u);
    EXPECT_STREQ(b->record_keys[0], "k1");
    EXPECT_STREQ(b->record_keys[1], "k3");
    EXPECT_EQ(text_at(*b, 0, 0), "a@example.com");
    EXPECT_EQ(text_at(*b, 1, 0), "c@example.com");
    EXPECT_EQ(b->values[1].as.r, 1.5);
    EXPECT_EQ(b->values[3].type, SP_VALUE_NULL);
    EXPECT_EQ(bb.arena_bytes(), std::string("k1a@example.comk3c@example.com").size() + 4);  // + NULs
    bb.drop_last_row();
    bb.drop_last_row();
    bb.drop_last_row();  // nothing left to drop
    EXPECT_EQ(bb.rows(), 0u);
    EXPECT_EQ(bb.arena_bytes(), 0u);
}

}  // namespace
