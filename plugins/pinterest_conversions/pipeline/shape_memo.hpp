// The shaped form of recently seen text values, for fields that take a handful of distinct values
// row after row (event names, action sources, currencies): shaping them is a pure function of the
// text, and checking the cache costs less than shaping again. Eight entries, chosen by the text's
// length and first and last bytes; a hit is confirmed by comparing the whole text.
#pragma once

#include "normalize/values.hpp"

#include <syncplugin/syncplugin.h>

#include <array>
#include <string>
#include <string_view>

namespace pcapi {

class ShapeMemo {
public:
    // Shapes `v` with `shape(v, scratch) -> Reason` and points `out` at the result (valid until the
    // next call); returns the Reason. Only text cells are remembered, failures included.
    template <class Shape>
    Reason shape(const sp_value &v, std::string &scratch, std::string_view &out, Shape &&shape) {
        if (v.type != SP_VALUE_TEXT || v.len == 0 || v.len > kMaxText) {
            const Reason why = shape(v, scratch);
            out = scratch;
            return why;
        }
        const std::string_view raw(v.as.text, v.len);
        Entry &e = entries_[(raw.size() * 31 + static_cast<unsigned char>(raw.front()) * 7 +
                             static_cast<unsigned char>(raw.back())) %
                            entries_.size()];
        if (!e.used || e.raw != raw) {
            e.why = shape(v, scratch);
            e.raw.assign(raw);
            e.shaped.assign(scratch);
            e.used = true;
        }
        out = e.shaped;
        return e.why;
    }

private:
    static constexpr size_t kMaxText = 64;  // longer values are not worth remembering
    struct Entry {
        std::string raw, shaped;
        Reason why = nullptr;
        bool used = false;
    };
    std::array<Entry, 8> entries_;
};

}  // namespace pcapi
