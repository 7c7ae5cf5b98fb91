// The runner's flat hash multiset: counts, removals of one occurrence, and bounded size under
// the endless insert/remove churn of a long sync.
#include "sync/hash_multiset.hpp"

#include <gtest/gtest.h>

#include <vector>

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
    // Half a megabyte for 40,000 live hashes: small enough to stay in the L2 cache.
    EXPECT_LE(s.bytes(), 512u * 1024);
}

// Hashes that differ only in their high half share a slot and an entry's stored bits: the set
// may then say yes for one never inserted (callers confirm), and never says no for one that is in.
TEST(HashMultiset, HashesAliasingInTheLowBitsAreNeverMissed) {
    HashMultiset s;
    for (uint64_t i = 0; i < 3'000; ++i) s.insert((i << 32) | 7);
    EXPECT_EQ(s.size(), 3'000u);
    EXPECT_TRUE(s.contains(7));
    EXPECT_TRUE(s.contains((uint64_t{2'999} << 32) | 7));
    for (uint64_t i = 0; i < 3'000; ++i) s.erase_one((i << 32) | 7);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_FALSE(s.contains(7));
}

// Growing keeps every entry findable (entries are re-placed from their stored bits alone).
TEST(HashMultiset, GrowingKeepsEveryEntry) {
    HashMultiset s;
    std::vector<uint64_t> in;
    for (uint64_t i = 1; i <= 300'000; ++i) {
        in.push_back(i * 0xc2b2ae3d27d4eb4full);
        s.insert(in.back());
    }
    for (uint64_t h : in) ASSERT_TRUE(s.contains(h));
    EXPECT_EQ(s.size(), in.size());
}
