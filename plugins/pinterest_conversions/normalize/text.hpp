// Small text helpers shared by the value rules: trimming, UTF-8 decoding, a lower-case mapping
// for the scripts names and cities are commonly written in, and place-name keys for table lookup.
// No allocation beyond appending to caller buffers; no locale.
#pragma once

#include <support/trim.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pcapi::text {

constexpr bool is_ascii_space(unsigned char c) noexcept {
    return c == ' ' || (c >= '\t' && c <= '\r');
}
constexpr bool is_digit(unsigned char c) noexcept {
    return c >= '0' && c <= '9';
}
constexpr bool is_upper(unsigned char c) noexcept {
    return c >= 'A' && c <= 'Z';
}
constexpr bool is_lower(unsigned char c) noexcept {
    return c >= 'a' && c <= 'z';
}
constexpr bool is_alpha(unsigned char c) noexcept {
    return is_upper(c) || is_lower(c);
}
constexpr bool is_alnum(unsigned char c) noexcept {
    return is_alpha(c) || is_digit(c);
}
constexpr char to_lower(char c) noexcept {
    return is_upper(static_cast<unsigned char>(c)) ? static_cast<char>(c + 32) : c;
}
constexpr char to_upper(char c) noexcept {
    return is_lower(static_cast<unsigned char>(c)) ? static_cast<char>(c - 32) : c;
}

// Strips ASCII whitespace and U+00A0 (no-break space) at both ends and UTF-8 byte-order marks at
// the start: the host reads routing values with the same function (support/trim.hpp).
inline std::string_view trim(std::string_view s) noexcept { return support::trim_text(s); }

// ASCII case-insensitive equality; `lower` must be lower-case.
constexpr bool iequals(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
        if (to_lower(s[i]) != lower[i]) return false;
    return true;
}
constexpr bool istarts_with(std::string_view s, std::string_view lower) noexcept {
    return s.size() >= lower.size() && iequals(s.substr(0, lower.size()), lower);
}

// Decodes the code point starting at s[i] of VALID UTF-8 and returns its byte length (1..4).
inline size_t decode(std::string_view s, size_t i, uint32_t &cp) noexcept {
    const auto c = static_cast<unsigned char>(s[i]);
    auto cont = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    if (c < 0xE0) {
        cp = (static_cast<uint32_t>(c & 0x1F) << 6) | cont(1);
        return 2;
    }
    if (c < 0xF0) {
        cp = (static_cast<uint32_t>(c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
        return 3;
    }
    cp = (static_cast<uint32_t>(c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    return 4;
}

// Appends the UTF-8 encoding of `cp` (< 0x110000, not a surrogate).
void append_utf8(uint32_t cp, std::string &out);

// Lower-case mapping of one code point: ASCII, Latin-1 Supplement, Latin Extended-A, Greek and
// Cyrillic capitals (incl. the accented Greek and the U+0400 block). Others map to themselves.
// U+0130 (capital I with dot) is handled by append_lower, not here.
uint32_t lower_cp(uint32_t cp) noexcept;

// True for letters of the scripts lower_cp knows (used for the Greek final-sigma rule).
bool is_cased_letter(uint32_t cp) noexcept;

// Appends the lower-case of VALID UTF-8 `s` to `out`. Unicode default mappings for the ranges
// lower_cp covers, plus U+0130 -> "i" U+0307 and the Greek final sigma (as Python/JS lower()).
void append_lower(std::string_view s, std::string &out);

// Builds a place-name lookup key from VALID UTF-8: letters folded to lower-case ASCII (Latin-1
// accents dropped, "ß" -> "ss", "æ" -> "ae"), "&" -> "and"; spaces, dashes, dots, commas,
// apostrophes and brackets dropped; a leading "the" dropped. Returns the key length, or 0 when
// `s` holds anything else (digits, other scripts, other symbols) or the key would exceed `cap`.
size_t fold_key(std::string_view s, char *buf, size_t cap) noexcept;

}  // namespace pcapi::text
