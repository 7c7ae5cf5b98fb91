// A multiset of 64-bit hashes in one flat array (open addressing, linear probing): the runner
// adds and removes one per row, and std::unordered_multiset allocated a node for each.
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
        if ((used_ + 1) * 2 > slots_.size()) rehash();
        h = fix(h);
        for (size_t i = h & mask();; i = (i + 1) & mask()) {
            if (slots_[i] == kEmpty || slots_[i] == kGone) {
                if (slots_[i] == kEmpty) ++used_;
                slots_[i] = h;
                ++size_;
                return;
            }
        }
    }
    bool contains(uint64_t h) const { return find(fix(h)) != npos; }
    // Starts loading the slot where `h` would be found: the table is far larger than the L1 cache
    // and the lookups are random, so a caller with other work to do first can hide the miss.
    void prefetch(uint64_t h) const {
        if (!slots_.empty()) __builtin_prefetch(&slots_[fix(h) & mask()]);
    }
    // Removes one occurrence, if any.
    void erase_one(uint64_t h) {
        const size_t i = find(fix(h));
        if (i == npos) return;
        slots_[i] = kGone;
        --size_;
        if (size_ == 0) clear();  // cheap reset: the runner empties the set often
    }
    size_t size() const { return size_; }
    void clear() {
        std::fill(slots_.begin(), slots_.end(), kEmpty);
        used_ = size_ = 0;
    }

private:
    static constexpr uint64_t kEmpty = 0, kGone = 1;
    static constexpr size_t npos = static_cast<size_t>(-1);
    static uint64_t fix(uint64_t h) { return h < 2 ? h + 2 : h; }  // 0 and 1 mark slots
    size_t mask() const { return slots_.size() - 1; }
    size_t find(uint64_t h) const {
        if (slots_.empty()) return npos;
        for (size_t i = h & mask();; i = (i + 1) & mask()) {
            if (slots_[i] == h) return i;
            if (slots_[i] == kEmpty) return npos;
        }
    }
    // Sized for the live entries (at most a quarter full), not for the removed ones: the set
    // never empties while batches are in flight, so removals must not make it grow.
    void rehash() {
        size_t n = 1024;
        while (n < (size_ + 1) * 4) n *= 2;
        std::vector<uint64_t> old;
        old.swap(slots_);
        slots_.assign(n, kEmpty);
        used_ = size_ = 0;
        for (uint64_t h : old)
            if (h != kEmpty && h != kGone) insert(h);
    }

    std::vector<uint64_t> slots_;
    size_t used_ = 0;  // slots not empty (live or gone): bounds probe lengths
    size_t size_ = 0;  // live entries
};

}  // namespace synchost
