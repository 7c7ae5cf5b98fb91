// "Did you mean ...?" for unknown names: the closest candidate by edit distance, shared by the
// host (sync-definition keys) and plugins (destination fields, columns). Header-only, no deps.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace support {

// Edit distance counting insertions, deletions, substitutions and adjacent transpositions
// ("emial" -> "email" is 1), case-insensitive for ASCII.
inline size_t edit_distance(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    const size_t n = a.size(), m = b.size();
    std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
    for (size_t j = 0; j <= m; ++j) prev[j] = j;
    for (size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= m; ++j) {
            const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
        }
        std::swap(prev2, prev);
        std::swap(prev, cur);
    }
    return prev[m];
}

// The closest candidate when it is plausibly a typo (distance at most a third of the longer
// name, at least 1; or one name contains the other), else empty.
template <class Range>
std::string closest(std::string_view name, const Range &candidates) {
    std::string best;
    size_t best_d = static_cast<size_t>(-1);
    for (const auto &c : candidates) {
        std::string_view cand(c);
        size_t d = edit_distance(name, cand);
        bool contains = name.size() >= 3 && (cand.find(name) != std::string_view::npos ||
                                             name.find(cand) != std::string_view::npos);
        size_t limit = std::max<size_t>(1, std::max(name.size(), cand.size()) / 3);
        if ((d <= limit || contains) && d < best_d) {
            best_d = d;
            best = std::string(cand);
        }
    }
    return best;
}

// " (did you mean \"x\"?)" or "".
template <class Range>
std::string did_you_mean(std::string_view name, const Range &candidates) {
    std::string c = closest(name, candidates);
    return c.empty() ? std::string() : " (did you mean \"" + c + "\"?)";
}

// "a, b, c".
template <class Range>
std::string join(const Range &items, std::string_view sep = ", ") {
    std::string out;
    for (const auto &i : items) {
        if (!out.empty()) out += sep;
        out += std::string_view(i);
    }
    return out;
}

}  // namespace support
