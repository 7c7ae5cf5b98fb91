// "Did you mean ...?" for unknown names: the closest candidate by edit distance, shared by the
// host (sync-definition keys) and plugins (destination fields, columns). Header-only, no deps.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace support {

// Levenshtein distance, case-insensitive for ASCII.
inline size_t edit_distance(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
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
