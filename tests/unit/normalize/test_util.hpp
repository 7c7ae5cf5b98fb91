// Helpers shared by the normalize unit tests.
#pragma once

#include <syncplugin/syncplugin.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace pcapi::test {

inline sp_value null_v() {
    sp_value v{};
    v.type = SP_VALUE_NULL;
    return v;
}
inline sp_value int_v(int64_t i) {
    sp_value v{};
    v.type = SP_VALUE_INT;
    v.as.i = i;
    return v;
}
inline sp_value real_v(double r) {
    sp_value v{};
    v.type = SP_VALUE_REAL;
    v.as.r = r;
    return v;
}
inline sp_value bool_v(bool b) {
    sp_value v{};
    v.type = SP_VALUE_BOOL;
    v.as.i = b ? 1 : 0;
    return v;
}
// The view must outlive the value.
inline sp_value text_v(std::string_view s) {
    sp_value v{};
    v.type = SP_VALUE_TEXT;
    v.len = static_cast<uint32_t>(s.size());
    v.as.text = s.data();
    return v;
}
inline sp_value blob_v(std::string_view s) {
    sp_value v{};
    v.type = SP_VALUE_BLOB;
    v.len = static_cast<uint32_t>(s.size());
    v.as.blob = s.data();
    return v;
}

// A reason must be a short, static description that never echoes the input.
inline void expect_pii_free(const char *reason, std::string_view input) {
    ASSERT_NE(reason, nullptr);
    const std::string_view r(reason);
    EXPECT_FALSE(r.empty());
    EXPECT_LT(r.size(), 160u) << r;
    if (input.size() >= 4) {
        EXPECT_EQ(r.find(input), std::string_view::npos) << r;
    }
}

}  // namespace pcapi::test
