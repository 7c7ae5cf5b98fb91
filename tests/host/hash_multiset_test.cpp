// The runner's flat hash multiset: counts, removals of one occurrence, and bounded size under
// the endless insert/remove churn of a long sync.
#include "sync/hash_multiset.hpp"

#include <gtest/gtest.h>

using synchost::HashMultiset;

TEST(HashMultiset, InsertContainsEraseOne) {
    HashMultiset s;
    EXPECT_FALSE(s.contains(42));
    s.insert(42);
    s.insert(42);
    s.insert(0);  // values that collide with the internal markers still work
    s.insert(1);
    EXPECT_TRUE(s.contains(42) && s.contains(0) && s.contains(1));
    s.erase_one(42);
    EXPECT_TRUE(s.contains(42));
    s.erase_one(42);
    EXPECT_FALSE(s.contains(42));
    EXPECT_EQ(s.size(), 2u);
}

TEST(HashMultiset, StaysSmallUnderChurn) {
    HashMultiset s;
    // A sliding window of 40,000 live hashes over 5,000,000 inserts, like a long pipelined sync.
    for (uint64_t i = 0; i < 5'000'000; ++i) {
        s.insert(i * 0x9e3779b97f4a7c15ull);
        if (i >= 40'000) s.erase_one((i - 40'000) * 0x9e3779b97f4a7c15ull);
    }
    EXPECT_EQ(s.size(), 40'000u);
    for (uint64_t i = 5'000'000 - 40'000; i < 5'000'000; ++i) ASSERT_TRUE(s.contains(i * 0x9e3779b97f4a7c15ull));
    EXPECT_FALSE(s.contains(3 * 0x9e3779b97f4a7c15ull));
}
