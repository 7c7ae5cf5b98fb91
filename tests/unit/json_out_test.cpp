// json_out: the hot-path JSON writer, checked byte by byte against a plain reference escaper, for
// every length around its 4-, 8- and 16-byte steps and every byte value at every position.
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
    for (size_t len = 0; len <= 40; ++len) {  // 4-, 8- and 16-byte steps, and their tails
        for (size_t pos = 0; pos < (len == 0 ? 1 : len); ++pos) {
            for (int c = 0; c < 256; ++c) {
                std::string s(len, 'x');
                if (len) s[pos] = static_cast<char>(c);
                std::string out = "prefix";
                {
                    json_out::Writer w(out);
                    json_out::string(w, s);
                }
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
    {
        json_out::Writer w(out);
        json_out::string(w, s);
    }
    EXPECT_EQ(out, reference_string(s));
    EXPECT_EQ(out,
              "\"a\\\"b\\\\c\\nd\\u0001\xC3\xA9"
              "e\\u001f\\\"\"");
}

TEST(JsonOut, KeysAndIntegers) {
    std::string out = "{";
    {
        json_out::Writer w(out);
        bool first = true;
        json_out::key(w, PCAPI_JSON_KEY("a"), first);
        json_out::integer(w, -42);
        json_out::key(w, PCAPI_JSON_KEY("bc"), first);
        json_out::integer(w, 9223372036854775807);
        w.put('}');
    }
    EXPECT_EQ(out, "{\"a\":-42,\"bc\":9223372036854775807}");
}

// The writer runs ahead of the text in zero-filled steps and cuts the string back to the text:
// on commit, on destruction, after truncate(), and across growth far beyond one step.
TEST(JsonOut, WriterKeepsExactlyTheTextWritten) {
    std::string out = "ab";
    std::string expected = "ab";
    {
        json_out::Writer w(out);
        EXPECT_EQ(w.size(), 2u);
        for (int i = 0; i < 5000; ++i) {
            const std::string piece = std::to_string(i) + ",";
            w.append(piece);
            expected += piece;
        }
        const std::string big(20000, 'x');  // more than one step at once
        json_out::string(w, big);
        expected += "\"" + big + "\"";
        EXPECT_EQ(w.size(), expected.size());
        const size_t mark = w.size();
        w.append("rejected event");
        w.truncate(mark);
        w.commit();
        EXPECT_EQ(out, expected);
        w.put('!');
        expected += '!';
    }
    EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace pcapi
