#include "normalize/text.hpp"

#include <cstring>

namespace pcapi::text {

void append_utf8(uint32_t cp, std::string &out) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        const char b[2] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
        out.append(b, 2);
    } else if (cp < 0x10000) {
        const char b[3] = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                           static_cast<char>(0x80 | (cp & 0x3F))};
        out.append(b, 3);
    } else {
        const char b[4] = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                           static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        out.append(b, 4);
    }
}

uint32_t lower_cp(uint32_t cp) noexcept {
    if (cp < 0x80) return is_upper(static_cast<unsigned char>(cp)) ? cp + 32 : cp;
    if (cp < 0xC0) return cp;
    if (cp <= 0xDE) return cp == 0xD7 ? cp : cp + 0x20;  // Latin-1: À..Þ except ×
    if (cp < 0x100) return cp;
    if (cp < 0x180) {  // Latin Extended-A: upper/lower pairs
        if (cp <= 0x137) return (cp % 2 == 0 && cp != 0x130) ? cp + 1 : cp;
        if (cp >= 0x139 && cp <= 0x148) return cp % 2 == 1 ? cp + 1 : cp;
        if (cp >= 0x14A && cp <= 0x177) return cp % 2 == 0 ? cp + 1 : cp;
        if (cp == 0x178) return 0xFF;  // Ÿ -> ÿ
        if (cp >= 0x179 && cp <= 0x17E) return cp % 2 == 1 ? cp + 1 : cp;
        return cp;
    }
    if (cp < 0x386) return cp;
    if (cp < 0x400) {  // Greek
        if (cp >= 0x391 && cp <= 0x3AB) return cp == 0x3A2 ? cp : cp + 0x20;
        switch (cp) {
            case 0x386:
                return 0x3AC;
            case 0x388:
            case 0x389:
            case 0x38A:
                return cp + 0x25;
            case 0x38C:
                return 0x3CC;
            case 0x38E:
            case 0x38F:
                return cp + 0x3F;
            default:
                return cp;
        }
    }
    if (cp < 0x530) {  // Cyrillic
        if (cp <= 0x40F) return cp + 0x50;
        if (cp <= 0x42F) return cp + 0x20;
        if (cp >= 0x460 && cp <= 0x481) return cp % 2 == 0 ? cp + 1 : cp;
        if (cp >= 0x48A && cp <= 0x4BF) return cp % 2 == 0 ? cp + 1 : cp;
        if (cp == 0x4C0) return 0x4CF;
        if (cp >= 0x4C1 && cp <= 0x4CE) return cp % 2 == 1 ? cp + 1 : cp;
        if (cp >= 0x4D0 && cp <= 0x52F) return cp % 2 == 0 ? cp + 1 : cp;
        return cp;
    }
    return cp;
}

bool is_cased_letter(uint32_t cp) noexcept {
    if (cp < 0x80) return is_alpha(static_cast<unsigned char>(cp));
    if (cp >= 0xC0 && cp <= 0x24F) return cp != 0xD7 && cp != 0xF7;
    if (cp >= 0x386 && cp <= 0x3FF) return cp != 0x387;
    return cp >= 0x400 && cp <= 0x52F;
}

void append_lower(std::string_view s, std::string &out) {
    const size_t start = out.size();
    out.append(s);
    // Every mapping below keeps the byte length (2-byte code points map to 2-byte code points),
    // except U+0130, so the text is rewritten in place.
    size_t n = s.size();
    bool prev_cased = false;
    for (size_t i = 0; i < n;) {
        char *p = out.data() + start;
        // ASCII fast path, 8 bytes at a time: set bit 5 of every byte in 'A'..'Z'.
        while (n - i >= 8) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ULL) != 0) break;
            const uint64_t ge_a = w + 0x3F3F3F3F3F3F3F3FULL;  // high bit: byte >= 'A'
            const uint64_t gt_z = w + 0x2525252525252525ULL;  // high bit: byte > 'Z'
            w |= ((ge_a & ~gt_z) & 0x8080808080808080ULL) >> 2;
            std::memcpy(p + i, &w, 8);
            i += 8;
            prev_cased = is_alpha(static_cast<unsigned char>(p[i - 1]));
        }
        if (i >= n) break;
        const auto c = static_cast<unsigned char>(p[i]);
        if (c < 0x80) {
            if (is_upper(c)) p[i] = static_cast<char>(c + 32);
            prev_cased = is_alpha(c);
            ++i;
            continue;
        }
        if (c >= 0xC3 && c <= 0xD4) {  // U+00C0..U+053F: the 2-byte range with mappings
            const uint32_t cp = (static_cast<uint32_t>(c & 0x1F) << 6) | (static_cast<unsigned char>(p[i + 1]) & 0x3F);
            if (cp == 0x130) {  // İ -> i + combining dot above
                out.replace(start + i, 2, "i\xCC\x87");
                n += 1;
                i += 3;
                prev_cased = true;
                continue;
            }
            uint32_t lc = lower_cp(cp);
            if (cp == 0x3A3 && prev_cased) {  // Σ at the end of a word -> ς
                uint32_t next = 0;
                if (i + 2 < n) decode(std::string_view(p, n), i + 2, next);
                if (!is_cased_letter(next)) lc = 0x3C2;
            }
            if (lc != cp) {
                p[i] = static_cast<char>(0xC0 | (lc >> 6));
                p[i + 1] = static_cast<char>(0x80 | (lc & 0x3F));
            }
            prev_cased = is_cased_letter(cp);
            i += 2;
            continue;
        }
        uint32_t cp = 0;
        i += decode(std::string_view(p, n), i, cp);
        prev_cased = is_cased_letter(cp);
    }
}

namespace {

// Base letters of U+0100..U+017F; '*' marks the two-letter ligatures handled separately.
constexpr std::string_view kLatinExtA =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllllnnnnnnnnnoooooo**rrrrrrs"
    "sssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

bool put(char *buf, size_t cap, size_t &n, std::string_view add) noexcept {
    if (n + add.size() > cap) return false;
    for (char ch : add) buf[n++] = ch;
    return true;
}

}  // namespace

size_t fold_key(std::string_view s, char *buf, size_t cap) noexcept {
    size_t i = 0, n = 0;
    if (istarts_with(s, "the") && s.size() > 3 && (s[3] == ' ' || s[3] == '\t')) i = 4;
    while (i < s.size()) {
        uint32_t cp = 0;
        i += decode(s, i, cp);
        std::string_view add;
        char one[1];
        if (cp < 0x80) {
            const auto c = static_cast<unsigned char>(cp);
            if (is_alpha(c)) {
                one[0] = to_lower(static_cast<char>(c));
                add = {one, 1};
            } else if (c == '&') {
                add = "and";
            } else if (is_ascii_space(c) || c == '.' || c == ',' || c == '-' || c == '\'' || c == '(' || c == ')' ||
                       c == '/' || c == '_') {
                continue;
            } else {
                return 0;
            }
        } else if (cp >= 0xC0 && cp <= 0xFF) {
            static constexpr std::string_view kLatin1 =
                "aaaaaa*ceeeeiiiidnooooo?ouuuuy**aaaaaa*ceeeeiiiidnooooo?ouuuuy*y";
            const char b = kLatin1[cp - 0xC0];
            if (b == '?') return 0;
            if (b == '*') {
                add = (cp == 0xC6 || cp == 0xE6) ? "ae" : (cp == 0xDF) ? "ss" : "th";
            } else {
                one[0] = b;
                add = {one, 1};
            }
        } else if (cp >= 0x100 && cp <= 0x17F) {
            const char b = kLatinExtA[cp - 0x100];
            if (b == '*') {
                add = cp < 0x140 ? "ij" : "oe";
            } else {
                one[0] = b;
                add = {one, 1};
            }
        } else if (cp == 0xA0 || cp == 0x2018 || cp == 0x2019 || (cp >= 0x2010 && cp <= 0x2015)) {
            continue;
        } else {
            return 0;
        }
        if (!put(buf, cap, n, add)) return 0;
    }
    return n;
}

}  // namespace pcapi::text
