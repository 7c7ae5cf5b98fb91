// Helpers shared by the fuzz targets: typed cells from a FuzzedDataProvider, a UTF-8 check, and
// a way to report a broken invariant that libFuzzer records as a crash.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>

namespace fuzz {

// FUZZ_SKIP_KNOWN=1: steer around inputs that trigger bugs already reported and kept as
// regression inputs (tests/fuzz/regressions/), so that fuzzing can look for new ones. scripts/fuzz.sh
// sets it for fuzzing only, never for the regression replay. Remove each skip with its fix.
inline bool skip_known() {
    static const bool skip = [] {
        const char *v = std::getenv("FUZZ_SKIP_KNOWN");
        return v != nullptr && *v != '\0' && *v != '0';
    }();
    return skip;
}

[[noreturn]] inline void finding(const char *target, const std::string &what) {
    std::fprintf(stderr, "%s: invariant broken: %s\n", target, what.c_str());
    std::fflush(stderr);
    std::abort();
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
inline bool valid_utf8(std::string_view s) {
    size_t i = 0;
    const auto *p = reinterpret_cast<const unsigned char *>(s.data());
    while (i < s.size()) {
        const unsigned c = p[i];
        size_t n = 0;
        unsigned cp = 0;
        if (c < 0x80) { ++i; continue; }
        if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
        else return false;
        if (s.size() - i <= n) return false;
        for (size_t k = 1; k <= n; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

// Storage for cells whose TEXT/BLOB bytes must outlive the batch being built.
class CellArena {
public:
    const char *keep(std::string s) {
        strings_.push_back(std::move(s));
        return strings_.back().c_str();
    }
    void clear() { strings_.clear(); }

private:
    std::deque<std::string> strings_;
};

// A typed cell of any kind, including type numbers the ABI does not define. One selector byte:
// low 3 bits 0 NULL, 1 INT, 2 REAL, 3 TEXT, 4 BLOB, 5 BOOL, 6 NULL, 7 an undefined type number.
// An exhausted provider gives NULL cells.
inline sp_value random_cell(FuzzedDataProvider &fdp, CellArena &arena, size_t max_text = 256) {
    sp_value v{};
    const uint8_t sel = fdp.ConsumeIntegral<uint8_t>();
    switch (sel & 7) {
    case 0:
    case 6: v.type = SP_VALUE_NULL; break;
    case 1: {
        v.type = SP_VALUE_INT;
        // Mostly around "now" (seconds or milliseconds) so time rules are reached, else anything.
        const uint8_t how = fdp.ConsumeIntegral<uint8_t>() % 4;
        const int64_t now = 1795000000;
        if (how == 0) v.as.i = now + fdp.ConsumeIntegralInRange<int64_t>(-20 * 86400, 20 * 86400);
        else if (how == 1) v.as.i = now * 1000 + fdp.ConsumeIntegralInRange<int64_t>(-86400000, 86400000);
        else v.as.i = fdp.ConsumeIntegral<int64_t>();
        break;
    }
    case 2: {
        v.type = SP_VALUE_REAL;
        uint64_t bits = fdp.ConsumeIntegral<uint64_t>();  // every bit pattern: NaN, inf, denormals
        if (sel & 8) {
            const double d = fdp.ConsumeFloatingPointInRange<double>(-1e12, 1e12);
            std::memcpy(&bits, &d, sizeof d);
        }
        std::memcpy(&v.as.r, &bits, sizeof bits);
        break;
    }
    case 3:
    case 4: {
        v.type = (sel & 7) == 3 ? SP_VALUE_TEXT : SP_VALUE_BLOB;
        std::string s = fdp.ConsumeRandomLengthString(max_text);
        v.len = static_cast<uint32_t>(s.size());
        v.as.text = arena.keep(std::move(s));
        break;
    }
    case 5:
        v.type = SP_VALUE_BOOL;
        v.as.i = (sel & 0x80) ? fdp.ConsumeIntegral<int64_t>() : ((sel >> 3) & 1);
        break;
    default:
        v.type = 6u + (sel >> 3);  // undefined type numbers 6..37
        v.len = fdp.ConsumeIntegral<uint8_t>();
        v.as.i = fdp.ConsumeIntegral<int64_t>();  // not a pointer: must never be dereferenced
        break;
    }
    return v;
}

}  // namespace fuzz
