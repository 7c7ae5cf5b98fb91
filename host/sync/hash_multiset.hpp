// A multiset of 64-bit hashes in one flat array (open addressing, linear probing): the runner
// adds and removes one per row, and std::unordered_multiset allocated a node for each.
//
// It holds the low 32 bits of each hash (which also pick its slot, so the table can grow without
// the full hashes), so that the ~40,000 keys of a pipelined sync fit in half a megabyte instead of
// two: every row probes it at a random place, and a table beyond the L2 cache cost a cache miss
// per row. The price is a rare false "contains" (about one lookup in 10^5 at that size), which
// callers already confirm by comparing the keys themselves; and erase_one may remove an entry of
// another hash with the same low bits, after which contains() answers "no" for that one (the
// runner's checkpoint still catches such a repeated key).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synchost {

using std::size_t;

class HashMultiset {
public:
    void insert(uint64_t h) {
        if ((used_ + 1) * 4 > slots_.size() * 3) rehash();
        place(h);
    }
    // Whether `h` may be in the set: false positives are possible (see above), false negatives not
    // (unless an entry was erased through a colliding hash).
    bool contains(uint64_t h) const { return find(h) != npos; }
    // Starts loading the slot where `h` would be found, for callers with other work to do first.
    void prefetch(uint64_t h) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[stored(h) & mask()]);
    }
    // Removes one occurrence, if any.
    void erase_one(uint64_t h) {
        const size_t i = find(h);
        if (i == npos) return;
        slots_[i] = kGone;
        --size_;
        if (size_ == 0) clear();  // cheap reset: the runner empties the set often
    }
    size_t size() const { return size_; }
    size_t bytes() const { return slots_.size() * sizeof(uint32_t); }
    void clear() {
        std::fill(slots_.begin(), slots_.end(), kEmpty);
        used_ = size_ = 0;
    }

private:
    static constexpr uint32_t kEmpty = 0, kGone = 1;
    static constexpr size_t npos = static_cast<size_t>(-1);
    static uint32_t stored(uint64_t h) {
        const auto f = static_cast<uint32_t>(h);
        return f < 2 ? f + 2 : f;  // 0 and 1 mark slots
    }
    size_t mask() const { return slots_.size() - 1; }
    void place(uint64_t h) { place_stored(stored(h)); }
    void place_stored(uint32_t f) {
        for (size_t i = f & mask();; i = (i + 1) & mask()) {
            if (slots_[i] == kEmpty || slots_[i] == kGone) {
                if (slots_[i] == kEmpty) ++used_;
                slots_[i] = f;
                ++size_;
                return;
            }
        }
    }
    size_t find(uint64_t h) const {
        if (slots_.empty()) return npos;
        const uint32_t f = stored(h);
        for (size_t i = f & mask();; i = (i + 1) & mask()) {
            if (slots_[i] == f) return i;
            if (slots_[i] == kEmpty) return npos;
        }
    }
    // Sized for the live entries (at most half full), not for the removed ones: the set never
    // empties while batches are in flight, so removals must not make it grow.
    void rehash() {
        size_t n = 1024;
        while (n < (size_ + 1) * 2) n *= 2;
        std::vector<uint32_t> old;
        old.swap(slots_);
        slots_.assign(n, kEmpty);
        used_ = size_ = 0;
        for (uint32_t f : old)
            if (f != kEmpty && f != kGone) place_stored(f);
    }

    std::vector<uint32_t> slots_;
    size_t used_ = 0;  // slots not empty (live or gone): bounds probe lengths
    size_t size_ = 0;  // live entries
};

}  // namespace synchost
