// json_out: the hot-path JSON writer, checked byte by byte against a plain reference escaper, for
// every length around its eight-byte words and every byte value at every position.
#include "pipeline/json_out.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace pcapi {
namespace {

std::string reference_string(const std::string &s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char esc[8];
                    std::snprintf(esc, sizeof esc, "\\u%04x", c);
                    out += esc;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

TEST(JsonOut, StringEscapesEveryByteAtEveryPosition) {
    for (size_t len = 0; len <= 20; ++len) {
        for (size_t pos = 0; pos < (len == 0 ? 1 : len); ++pos) {
            for (int c = 0; c < 256; ++c) {
                std::string s(len, 'x');
                if (len) s[pos] = static_cast<char>(c);
                std::string out = "prefix";
                json_out::string(out, s);
                ASSERT_EQ(out, "prefix" + reference_string(s)) << "length " << len << ", byte " << c << " at " << pos;
            }
        }
    }
}

TEST(JsonOut, StringWithSeveralEscapesAndUtf8) {
    const std::string s =
        "a\"b\\c\nd\x01\xC3\xA9"
        "e\x1F\"";
    std::string out;
    json_out::string(out, s);
    EXPECT_EQ(out, reference_string(s));
    EXPECT_EQ(out,
              "\"a\\\"b\\\\c\\nd\\u0001\xC3\xA9"
              "e\\u001f\\\"\"");
}

TEST(JsonOut, KeysAndIntegers) {
    std::string out = "{";
    bool first = true;
    json_out::key(out, PCAPI_JSON_KEY("a"), first);
    json_out::integer(out, -42);
    json_out::key(out, PCAPI_JSON_KEY("bc"), first);
    json_out::integer(out, 9223372036854775807);
    out += "}";
    EXPECT_EQ(out, "{\"a\":-42,\"bc\":9223372036854775807}");
}

}  // namespace
}  // namespace pcapi
