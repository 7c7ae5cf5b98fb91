// Text helpers: UTF-8 validation, trimming, lower-casing and place-name keys.
#include "normalize/text.hpp"
#include "normalize/values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

using namespace std::literals;

namespace pcapi {
namespace {

bool valid(std::string_view s) {
    return valid_utf8_text(s.data(), s.size());
}

TEST(ValidUtf8Text, AcceptsWellFormedText) {
    for (std::string_view s :
         {""sv, "abc"sv, "\xC3\xA9"sv /* é */, "\xE2\x82\xAC"sv /* € */, "\xF0\x9D\x84\x9E"sv /* U+1D11E */,
          "\xF4\x8F\xBF\xBF"sv /* U+10FFFF */, "\xEF\xBB\xBF"sv /* BOM */, "\xED\x9F\xBF"sv /* U+D7FF */,
          "\xEE\x80\x80"sv /* U+E000 */, "\xC2\x80"sv, "\xDF\xBF"sv, "\xE0\xA0\x80"sv, "\xF0\x90\x80\x80"sv,
          "plain ascii text that is longer than eight bytes"sv, "0123456789abcdef\xC3\xA9tail 0123456789"sv}) {
        EXPECT_TRUE(valid(s)) << s;
    }
}

TEST(ValidUtf8Text, RejectsMalformedText) {
    const std::string bad[] = {
        "\x80"s,  // lone continuation
        "\xBF"s,
        "\xC0\x80"s,      // overlong NUL
        "\xC1\xBF"s,      // overlong 2-byte
        "\xE0\x80\xAF"s,  // overlong 3-byte
        "\xE0\x9F\xBF"s,
        "\xF0\x8F\xBF\xBF"s,  // overlong 4-byte
        "\xED\xA0\x80"s,      // surrogate U+D800
        "\xED\xBF\xBF"s,      // surrogate U+DFFF
        "\xF4\x90\x80\x80"s,  // > U+10FFFF
        "\xF5\x80\x80\x80"s,
        "\xFF"s,
        "\xFE"s,
        "\xC3"s,  // truncated
        "\xE2\x82"s,
        "\xF0\x9D\x84"s,
        "\xC3\x28"s,  // bad continuation
        "\xE2\x28\xA1"s,
        "abc\xC3"s,
        "\0"s,  // NUL
        "abc\0def"s,
        "0123456789\0abcdef"s,  // NUL inside the 8-byte fast path
        "0123456789abcdefghij\x80"s,
    };
    for (const std::string &s : bad) EXPECT_FALSE(valid(s)) << testing::PrintToString(s);
}

TEST(Trim, AsciiWhitespaceNoBreakSpaceAndBom) {
    using text::trim;
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim("   "), "");
    EXPECT_EQ(trim(" a b "), "a b");
    EXPECT_EQ(trim("\t\n\v\f\rx\r\n"), "x");
    EXPECT_EQ(trim("\xC2\xA0x\xC2\xA0"), "x");
    EXPECT_EQ(trim("\xEF\xBB\xBF x"), "x");
    EXPECT_EQ(trim(" \xEF\xBB\xBFx"), "x");
    EXPECT_EQ(trim("x\xEF\xBB\xBF"), "x\xEF\xBB\xBF");  // a BOM only counts at the start
    EXPECT_EQ(trim("\xC3\xA9"), "\xC3\xA9");            // é is not a space
    EXPECT_EQ(trim("a\xC2\xA0\xC2\xA0"), "a");
}

TEST(AppendLower, MatchesUnicodeDefaultsForCoveredScripts) {
    struct {
        std::string_view in, want;
    } cases[] = {
        {"ABCxyz09", "abcxyz09"},
        {"ÀÉÎÕÜÝÞ×", "àéîõüýþ×"},  // × has no case
        {"ĀĂĄĆČĎĐĒĚĞĠĦĨĪĮ", "āăąćčďđēěğġħĩīį"},
        {"ĹĻĽĿŁŃŅŇ", "ĺļľŀłńņň"},
        {"ŊŌŐŒŔŘŚŠŢŤŦŨŪŮŰŲŴŶ", "ŋōőœŕřśšţťŧũūůűųŵŷ"},
        {"ŸŹŻŽ", "ÿźżž"},
        {"ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ", "αβγδεζηθικλμνξοπρστυφχψω"},
        {"ΆΈΉΊΌΎΏΪΫ", "άέήίόύώϊϋ"},
        {"ЀЁЂЃЄЅІЇЈЉЊЋЌЍЎЏ", "ѐёђѓєѕіїјљњћќѝўџ"},
        {"АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ", "абвгдежзийклмнопрстуфхцчшщъыьэюя"},
        {"ҐӁӐ", "ґӂӑ"},
        {"ÿàé", "ÿàé"},
        {"日本語 😀", "日本語 😀"},
        {"İ", "i\xCC\x87"},
        {"ΣΑΣ.", "σας."},
        {"Σ", "σ"},
        {"ΑΣΑ", "ασα"},
    };
    for (const auto &c : cases) {
        std::string out = "prefix:";
        text::append_lower(c.in, out);
        EXPECT_EQ(out, "prefix:" + std::string(c.want)) << c.in;
    }
}

TEST(AppendLower, AsciiFastPathCoversEveryByteAndLength) {
    std::string all;
    for (int c = 1; c < 128; ++c) all.push_back(static_cast<char>(c));
    for (size_t off = 0; off < 9; ++off) {
        for (size_t len = 0; off + len <= all.size(); len += 7) {
            const std::string_view in = std::string_view(all).substr(off, len);
            std::string want;
            for (char c : in) want.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
            std::string out;
            text::append_lower(in, out);
            EXPECT_EQ(out, want) << off << "/" << len;
        }
    }
    std::string mixed;
    text::append_lower("ABCDEFGHIJ\u00C9KLMNOPQRSTUVWXYZ\u03A3", mixed);  // ends in a final sigma
    EXPECT_EQ(mixed, "abcdefghij\u00E9klmnopqrstuvwxyz\u03C2");
}

TEST(FoldKey, PlaceNames) {
    char buf[64];
    auto key = [&](std::string_view s) { return std::string(buf, text::fold_key(s, buf, sizeof buf)); };
    EXPECT_EQ(key("United States"), "unitedstates");
    EXPECT_EQ(key("The Bahamas"), "bahamas");
    EXPECT_EQ(key("Thailand"), "thailand");
    EXPECT_EQ(key("Trinidad & Tobago"), "trinidadandtobago");
    EXPECT_EQ(key("Côte d'Ivoire"), "cotedivoire");
    EXPECT_EQ(key("Straße"), "strasse");
    EXPECT_EQ(key("Łódź"), "lodz");
    EXPECT_EQ(key("Ærø"), "aero");
    EXPECT_EQ(key("N.Y."), "ny");
    EXPECT_EQ(key("Route 66"), "");  // digits are not part of a name
    EXPECT_EQ(key("Москва"), "");
    EXPECT_EQ(key(std::string(100, 'a')), "");
}

}  // namespace
}  // namespace pcapi
