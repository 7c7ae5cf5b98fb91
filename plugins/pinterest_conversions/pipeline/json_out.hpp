// Minimal append-only JSON output for the hot path: no DOM, no allocation beyond the buffer.
// Callers guarantee text is valid UTF-8 (validated earlier), so only quoting is needed here.
#pragma once

#include "normalize/byte_scan.hpp"

#include <charconv>
#include <cstring>
#include <cstdint>
#include <string>
#include <string_view>

namespace pcapi::json_out {

// Appends to a std::string without a library call per piece. The string's size runs ahead of
// the text in steps of kStep zero-filled bytes; size() is the text's length, and the string is
// cut back to it by the destructor (or commit()). Writing through std::string directly cost a
// call (and for resize() a memset) for every key, value and comma: ~45 calls per event.
// One Writer per buffer at a time; the buffer must not be used directly while it is alive.
class Writer {
public:
    explicit Writer(std::string &buf) : buf_(&buf), size_(buf.size()) {}
    // Writes from byte `from` on (from <= buf.size()), over what the string holds after it: a
    // buffer reused from an earlier request keeps its length, so it is not zero-filled again
    // (that memset was 3% of a whole sync's CPU, `scripts/bench-profile.sh sync`).
    Writer(std::string &buf, size_t from) : buf_(&buf), size_(from) {}
    ~Writer() { commit(); }
    Writer(const Writer &) = delete;
    Writer &operator=(const Writer &) = delete;

    size_t size() const { return size_; }
    char *data() { return buf_->data(); }
    // Forgets everything after `n` (n <= size()).
    void truncate(size_t n) { size_ = n; }
    // Cuts the string to the text written so far (also done on destruction).
    void commit() { buf_->resize(size_); }

    // Room for n more bytes: returns where they go; advance() says how many were written.
    char *room(size_t n) {
        if (buf_->size() - size_ < n) grow(n);
        return buf_->data() + size_;
    }
    void advance(size_t n) { size_ += n; }

    void put(char c) {
        *room(1) = c;
        ++size_;
    }
    void append(const char *p, size_t n) {
        std::memcpy(room(n), p, n);
        size_ += n;
    }
    void append(std::string_view s) { append(s.data(), s.size()); }

private:
    static constexpr size_t kStep = 4096;
    // Out of line and cold, so that room() and everything built on it inline to a compare.
    [[gnu::noinline, gnu::cold]] void grow(size_t n) { buf_->resize(size_ + (n > kStep ? n : kStep)); }

    std::string *buf_;
    size_t size_;
};

namespace detail {
inline bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Length of the prefix of `s` that needs no escaping: all of it, almost always, which is checked
// in wide steps; the first byte to escape is then looked for one at a time.
inline size_t plain_prefix(std::string_view s) {
    if (byte_scan::all<byte_scan::JsonSpecial>(s.data(), s.size())) return s.size();
    size_t i = 0;
    while (i < s.size() && !needs_escape(static_cast<unsigned char>(s[i]))) ++i;
    return i;
}
}  // namespace detail

// Appends `s` as a JSON string literal (with quotes), escaping ", \ and control characters.
inline void string(Writer &out, std::string_view s) {
    size_t i = detail::plain_prefix(s);
    if (i == s.size()) {  // the common case: nothing to escape
        char *p = out.room(s.size() + 2);
        p[0] = '"';
        std::memcpy(p + 1, s.data(), s.size());
        p[s.size() + 1] = '"';
        out.advance(s.size() + 2);
        return;
    }
    static constexpr char hex[] = "0123456789abcdef";
    out.put('"');
    size_t run = 0;  // start of the pending unescaped run
    for (; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (!detail::needs_escape(c)) continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': out.append("\\\"", 2); break;
        case '\\': out.append("\\\\", 2); break;
        case '\n': out.append("\\n", 2); break;
        case '\r': out.append("\\r", 2); break;
        case '\t': out.append("\\t", 2); break;
        default: {
            const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            out.append(esc, 6);
        }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.put('"');
}

// An object member's key as written after an earlier member, `,"name":`, so that writing a key
// is one copy. Keys are trusted literals that need no escaping.
#define PCAPI_JSON_KEY(name) std::string_view(",\"" name "\":")

// Appends `member` (from PCAPI_JSON_KEY), without its comma when `first`; sets first = false.
inline void key(Writer &out, std::string_view member, bool &first) {
    const size_t skip = first ? 1 : 0;
    out.append(member.data() + skip, member.size() - skip);
    first = false;
}

inline void integer(Writer &out, int64_t v) {
    char *p = out.room(24);
    out.advance(static_cast<size_t>(std::to_chars(p, p + 24, v).ptr - p));
}

}  // namespace pcapi::json_out
