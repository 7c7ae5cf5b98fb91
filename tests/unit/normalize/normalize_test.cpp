// Identifier normalization rules (normalize.hpp), table-driven.
#include "normalize/normalize.hpp"
#include "normalize/text.hpp"
#include "normalize/values.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>
#include <vector>

using namespace std::string_literals;

namespace pcapi {
namespace {

struct Case {
    std::string in;
    std::string want;            // expected output when ok
    const char *fail = nullptr;  // when set: expect a reason containing this text
};

using Fn = Reason (*)(std::string_view, std::string &);

void run(Fn fn, const std::vector<Case> &cases) {
    std::string out = "stale";
    for (const Case &c : cases) {
        SCOPED_TRACE("input: [" + c.in + "]");
        const Reason r = fn(c.in, out);
        if (c.fail == nullptr) {
            EXPECT_EQ(r, nullptr) << r;
            EXPECT_EQ(out, c.want);
        } else {
            test::expect_pii_free(r, c.in);
            if (r != nullptr) {
                EXPECT_NE(std::string_view(r).find(c.fail), std::string_view::npos) << r;
            }
        }
    }
}

// The word-at-a-time scan against a byte-by-byte oracle (the rules as first written), on random
// addresses built from the bytes that matter, at every position and length around 8-byte words.
TEST(NormalizeEmail, FastScanAgreesWithByteByByteRules) {
    auto oracle = [](std::string_view in, std::string &out) -> std::string {
        std::string_view s = text::trim(in);
        if (text::istarts_with(s, "mailto:")) s = text::trim(s.substr(7));
        if (s.empty()) return "email is empty";
        if (!valid_utf8_text(s.data(), s.size())) return "email contains invalid UTF-8 or a NUL byte";
        size_t at = std::string_view::npos;
        for (size_t i = 0; i < s.size(); ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c <= 0x20 || c == 0x7F || (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0))
                return "email contains whitespace or control characters";
            if (c == '@') {
                if (at != std::string_view::npos) return "email has more than one '@'";
                at = i;
            }
        }
        if (at == std::string_view::npos) return "email has no '@'";
        if (at == 0) return "email has nothing before the '@'";
        const std::string_view domain = s.substr(at + 1);
        if (domain.empty()) return "email has no domain after the '@'";
        if (domain.find('.') == std::string_view::npos) return "email domain has no '.'";
        if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
            return "email domain has an empty label (leading, trailing or double '.')";
        out.clear();
        text::append_lower(s, out);
        return "";
    };
    const std::string pieces[] = {"a", "B", "z", "0", "@", ".", " ", "\t", std::string(1, '\0'), "\x7f", "\xc2\xa0",
                                  "\xc3\xa9", "\xff", "-", "_", "A", "@", "."};
    std::mt19937 rng(5);
    std::string got, want;
    for (int round = 0; round < 200000; ++round) {
        std::string in;
        const size_t parts = rng() % 30;
        for (size_t k = 0; k < parts; ++k) in += pieces[rng() % std::size(pieces)];
        if (round % 3 == 0) in = "user" + std::to_string(round) + "@" + in + ".com";
        const Reason r = normalize_email(in, got);
        const std::string expected = oracle(in, want);
        ASSERT_EQ(r ? std::string(r) : std::string(), expected) << "input of " << in.size() << " bytes, round " << round;
        if (!r) {
            ASSERT_EQ(got, want) << "round " << round;
        }
    }
}

TEST(NormalizeEmail, Rules) {
    run(normalize_email, {
                             {" User@Example.COM ", "user@example.com"},
                             {"\t\nuser@example.com\r\n", "user@example.com"},
                             {"\xEF\xBB\xBFuser@example.com\xC2\xA0", "user@example.com"},  // BOM, no-break space
                             {"mailto:Bob.Smith+tag@Mail.Example.org", "bob.smith+tag@mail.example.org"},
                             // Spaces after "mailto:" go like those around the address.
                             {"mailto: Bob@x.com", "bob@x.com"},
                             {" MAILTO:\t Bob@X.com ", "bob@x.com"},
                             {"mailto:", "", "empty"},
                             {"mailto:   ", "", "empty"},
                             {"JÖRG@Example.de", "jörg@example.de"},
                             {"a@b.co", "a@b.co"},
                             {"userexample.com", "", "has no '@'"},
                             {"a@b@example.com", "", "more than one '@'"},
                             {"@example.com", "", "nothing before"},
                             {"user@", "", "no domain"},
                             {"user@localhost", "", "no '.'"},
                             {"user@.example.com", "", "empty label"},
                             {"user@example..com", "", "empty label"},
                             {"user@example.com.", "", "empty label"},
                             {"us er@example.com", "", "whitespace"},
                             {"user\xC2\xA0name@example.com", "", "whitespace"},
                             {"user@exam\x01ple.com", "", "control"},
                             {"", "", "empty"},
                             {"   \xC2\xA0 ", "", "empty"},
                             {"user@exa\0mple.com"s, "", "NUL"},
                             {"us\xC3\x28r@example.com", "", "UTF-8"},
                         });
}

TEST(NormalizePhone, WithoutDefaultCountryCode) {
    auto fn = [](std::string_view in, std::string &out) { return normalize_phone(in, "", out); };
    run(fn, {
                {"+1 (650) 555-1234", "16505551234"},
                {"  +1 650 555 1234  ", "16505551234"},
                {"+1.650.555.1234", "16505551234"},
                {"+1\u00A0650\u00A0555\u00A01234", "16505551234"},
                {"tel:+1-650-555-1234", "16505551234"},
                {"001 650 555 1234", "16505551234"},  // "00" international prefix
                {"0044 20 7946 0958", "442079460958"},
                {"+44 (0)20 7946 0958", "442079460958"},  // bracketed trunk zero
                {"16505551234", "16505551234"},           // already has a country code
                {"07911 123456", "7911123456"},           // leading zero dropped
                {"+1 650 555 1234 x123", "16505551234"},  // extensions dropped
                {"+1 650 555 1234 ext. 123", "16505551234"},
                {"+1 650 555 1234 Ext 123", "16505551234"},
                {"+1 650 555 1234 #123", "16505551234"},
                {"+1-650-555-1234;ext=99", "16505551234"},
                {"5551234", "5551234"},                   // exactly 7 digits
                {"+123456789012345", "123456789012345"},  // exactly 15 digits
                {"555-12", "", "fewer than 7 digits"},
                {"+1 234", "", "fewer than 7 digits"},
                {"+1234567890123456", "", "more than 15 digits"},
                {"1-800-FLOWERS", "", "characters other than digits"},
                {"phone: 650 555 1234", "", "characters other than digits"},
                {"+0 650 555 1234", "", "cannot start with 0"},
                {"000 650 555 1234", "", "cannot start with 0"},
                {"650+555-1234", "", "'+'"},
                {"++1 650 555 1234", "", "'+'"},
                {"ext 123", "", "no digits before the extension"},
                {"()- .", "", "no digits"},
                {"", "", "empty"},
                {"  ", "", "empty"},
            });
}

TEST(NormalizePhone, WithDefaultCountryCode) {
    struct PhoneCase {
        const char *in;
        const char *cc;
        const char *want;
    };
    const PhoneCase cases[] = {
        {"(650) 555-1234", "1", "16505551234"},  // national: country code prepended
        {"650.555.1234", "1", "16505551234"},
        {"1-650-555-1234", "1", "16505551234"},    // already starts with it, 11 digits
        {"+1 650 555 1234", "44", "16505551234"},  // international: default ignored
        {"0044 20 7946 0958", "1", "442079460958"},
        {"07911 123456", "44", "447911123456"},  // trunk zero dropped, code prepended
        {"447911123456", "44", "447911123456"},  // already international without '+'
        {"7911 123456", "44", "447911123456"},
        {"01512 3456789", "49", "4915123456789"},
        // A trunk zero marks a national number even when the rest starts with the code.
        {"0491 12345678", "49", "4949112345678"},
        // Short numbers that start with the code are still national.
        {"4412 345678", "44", "444412345678"},
        {"(0)20 7946 0958", "44", "442079460958"},
        {"07911 123456", "+44", "447911123456"},  // a '+' on the configured code is fine
        {"650 555 1234 x 12", "1", "16505551234"},
    };
    std::string out;
    for (const auto &c : cases) {
        SCOPED_TRACE(std::string(c.in) + " / " + c.cc);
        EXPECT_EQ(normalize_phone(c.in, c.cc, out), nullptr);
        EXPECT_EQ(out, c.want);
    }
    const Reason r = normalize_phone("12345", "1", out);  // "112345": 6 digits
    ASSERT_NE(r, nullptr);
    EXPECT_STREQ(r, "phone has fewer than 7 digits after normalization");
    EXPECT_NE(normalize_phone("650 555 1234", "4a", out), nullptr);
    EXPECT_NE(normalize_phone("99999 99999 99999", "44", out), nullptr);  // 17 digits
}

TEST(NormalizeName, Rules) {
    run(normalize_name, {
                            {"  Mary ", "mary"},
                            {"Mary  Ann", "mary ann"},  // inner whitespace collapsed
                            {"Mary\t\u00A0Ann", "mary ann"},
                            {"O'Brien-Smith", "o'brien-smith"},
                            {"JOSÉ", "josé"},
                            {"ÆSA", "æsa"},
                            {"ŁUKASZ", "łukasz"},
                            {"ĲSSEL", "ĳssel"},
                            {"ŒUVRE", "œuvre"},
                            {"ŸVES", "ÿves"},
                            {"ЁЛКА ИВАН", "ёлка иван"},
                            {"ΆΓΓΕΛΟΣ", "άγγελος"},  // final sigma
                            {"ΟΔΥΣΣΕΑΣ", "οδυσσεας"},
                            {"ΣΑΣ ΣΑΣ", "σας σας"},
                            {"ΣΑ", "σα"},
                            {"İSTANBUL", "i\xCC\x87stanbul"},  // as Python/JS lower()
                            {"王小明", "王小明"},
                            {"Straße", "straße"},
                            {"", "", "empty"},
                            {" \t ", "", "empty"},
                            {"Jo\xC3", "", "UTF-8"},
                            {"Jo\0hn"s, "", "NUL"},
                        });
}

TEST(NormalizeGender, Spellings) {
    run(normalize_gender, {
                              {"f", "f"},
                              {"F", "f"},
                              {" Female ", "f"},
                              {"WOMAN", "f"},
                              {"w", "f"},
                              {"m", "m"},
                              {"Male", "m"},
                              {"man", "m"},
                              {"n", "n"},
                              {"NB", "n"},
                              {"non-binary", "n"},
                              {"Non Binary", "n"},
                              {"nonbinary", "n"},
                              {"non_binary", "n"},
                              {"x", "n"},
                              {"Other", "n"},
                              {"unknown", "", "not a recognized value"},
                              {"prefer not to say", "", "not a recognized value"},
                              {"männlich", "", "not a recognized value"},
                              {"1", "", "not a recognized value"},
                              {"", "", "empty"},
                          });
}

TEST(NormalizeDateOfBirth, Formats) {
    run(normalize_date_of_birth, {
                                     {"1990-01-05", "19900105"},
                                     {" 1990-1-5 ", "19900105"},
                                     {"1990/01/05", "19900105"},
                                     {"1990.01.05", "19900105"},
                                     {"19900105", "19900105"},
                                     {"01/05/1990", "19900105"},  // MM/DD/YYYY
                                     {"1/5/1990", "19900105"},
                                     {"13/05/1990", "19900513"},  // DD/MM/YYYY when the first part > 12
                                     {"31/12/1990", "19901231"},
                                     {"12-31-1990", "19901231"},
                                     {"05.01.1990", "19900105"},  // DD.MM.YYYY
                                     {"5.1.1990", "19900105"},
                                     {"1990-01-05T10:20:30Z", "19900105"},  // ISO date-time
                                     {"1990-01-05T23:59:59.999+05:30", "19900105"},
                                     {"1990-01-05 10:20:30", "19900105"},  // SQL date-time
                                     {"2000-02-29", "20000229"},           // divisible by 400: leap
                                     {"2024-02-29", "20240229"},
                                     {"1900-01-01", "19000101"},
                                     {"1900-02-29", "", "not a real calendar date"},  // divisible by 100: not leap
                                     {"2023-02-29", "", "not a real calendar date"},
                                     {"02/29/2023", "", "not a real calendar date"},
                                     {"1990-04-31", "", "not a real calendar date"},
                                     {"1990-13-01", "", "not a real calendar date"},
                                     {"1990-00-10", "", "not a real calendar date"},
                                     {"1990-01-00", "", "not a real calendar date"},
                                     {"19900132", "", "not a real calendar date"},
                                     {"13/13/1990", "", "not a real calendar date"},
                                     {"1899-12-31", "", "before 1900"},
                                     {"01/05/90", "", "four-digit year"},
                                     {"1990-01-05X", "", "recognized format"},
                                     {"1990-01-05T", "", "recognized format"},
                                     {"1990/01-05", "", "recognized format"},
                                     {"May 5, 1990", "", "recognized format"},
                                     {"199001051", "", "recognized format"},
                                     {"1990", "", "recognized format"},
                                     {"", "", "empty"},
                                 });
}

TEST(NormalizeCity, Rules) {
    run(normalize_city, {
                            {"Menlo Park", "menlopark"},
                            {"  SAN FRANCISCO  ", "sanfrancisco"},
                            {"St. John's", "stjohns"},
                            {"Winston-Salem", "winstonsalem"},
                            {"Saint-Étienne", "saintétienne"},
                            {"MÜNCHEN", "münchen"},
                            {"Москва", "москва"},
                            {"ΑΘΗΝΑ", "αθηνα"},
                            {"New\xE2\x80\x94York", "newyork"},                        // em dash
                            {"L\u2019Aquila", "laquila"},                              // right single quotation mark
                            {"Frankfurt\u00A0am\xE2\x80\x89Main", "frankfurtammain"},  // no-break, thin space
                            {"東京\xE3\x80\x80都", "東京都"},                          // ideographic space
                            {"İZMİR", "i\xCC\x87zmi\xCC\x87r"},
                            {"Zürich 8001", "zürich8001"},
                            {"---", "", "no letters or digits"},
                            {"", "", "empty"},
                            {"K\xC3\xB6ln\xFF", "", "UTF-8"},
                        });
}

TEST(NormalizeState, CodesAndNames) {
    run(normalize_state, {
                             {"CA", "ca"},
                             {" ny ", "ny"},
                             {"California", "ca"},
                             {"new york", "ny"},
                             {"NEW  YORK", "ny"},
                             {"N.Y.", "ny"},
                             {"District of Columbia", "dc"},
                             {"Washington, D.C.", "dc"},
                             {"Washington", "wa"},
                             {"West Virginia", "wv"},
                             {"Puerto Rico", "pr"},
                             {"U.S. Virgin Islands", "vi"},
                             {"Québec", "qc"},
                             {"Ontario", "on"},
                             {"British Columbia", "bc"},
                             {"US-CA", "ca"},  // ISO 3166-2
                             {"CA-ON", "on"},
                             {"13", "13"},  // numeric subdivision codes
                             {"Bavaria", "", "not a two-letter code"},
                             {"NSW", "", "not a two-letter code"},
                             {"Calif0rnia", "", "not a two-letter code"},
                             {"", "", "empty"},
                         });
}

TEST(NormalizeZip, UsAndInternational) {
    run(normalize_zip, {
                           {"94025", "94025"},
                           {" 94025 ", "94025"},
                           {"02134", "02134"},       // leading zero kept
                           {"94025-1234", "94025"},  // ZIP+4
                           {"94025 1234", "94025"},
                           {"940251234", "94025"},
                           {"SW1A 1AA", "sw1a1aa"},  // UK
                           {"sw1a1aa", "sw1a1aa"},
                           {"K1A 0B1", "k1a0b1"},      // Canada
                           {"1234 AB", "1234ab"},      // Netherlands
                           {"10115", "10115"},         // Germany
                           {"75008", "75008"},         // France
                           {"01310-100", "01310100"},  // Brazil
                           {"100-0001", "1000001"},    // Japan
                           {"D02 X285", "d02x285"},    // Ireland
                           {"1000", "1000"},           // 4-digit postcodes (AU, AT, BE, CH...)
                           {"101", "101"},             // Iceland
                           {"12", "", "fewer than 3"},
                           {"12345678901", "", "more than 10"},
                           {"SW1A#1AA", "", "characters other than"},
                           {"Z\xC3\xBCrich", "", "characters other than"},
                           {"", "", "empty"},
                       });
}

TEST(NormalizeCountry, CodesAndNames) {
    run(normalize_country, {
                               {"US", "us"},
                               {" us ", "us"},
                               {"USA", "us"},
                               {"U.S.A.", "us"},
                               {"United States", "us"},
                               {"united states of america", "us"},
                               {"GBR", "gb"},
                               {"UK", "gb"},
                               {"United Kingdom", "gb"},
                               {"Great Britain", "gb"},
                               {"Germany", "de"},
                               {"DEU", "de"},
                               {"Deutschland", "de"},
                               {"The Netherlands", "nl"},
                               {"Netherlands", "nl"},
                               {"Côte d'Ivoire", "ci"},
                               {"Cote d’Ivoire", "ci"},
                               {"Türkiye", "tr"},
                               {"Turkey", "tr"},
                               {"South Korea", "kr"},
                               {"Korea, Republic of", "kr"},
                               {"Congo", "cg"},
                               {"Democratic Republic of the Congo", "cd"},
                               {"St Lucia", "lc"},
                               {"Saint Lucia", "lc"},
                               {"Trinidad & Tobago", "tt"},
                               {"Bosnia and Herzegovina", "ba"},
                               {"Åland Islands", "ax"},
                               {"España", "es"},
                               {"Russia", "ru"},
                               {"Czech Republic", "cz"},
                               {"Viet Nam", "vn"},
                               {"Vietnam", "vn"},
                               {"ZZ", "", "not an ISO-3166"},
                               {"XYZ", "", "not an ISO-3166"},
                               {"Narnia", "", "not an ISO-3166"},
                               {"Virgin Islands", "", "not an ISO-3166"},  // British or U.S.: not guessed
                               {"Россия", "", "not an ISO-3166"},
                               {"", "", "empty"},
                           });
}

TEST(NormalizeExternalId, TrimmedCaseKept) {
    run(normalize_external_id, {
                                   {" AbC-123 ", "AbC-123"},
                                   {"user:42", "user:42"},
                                   {"", "", "empty"},
                                   {"ab\0c"s, "", "NUL"},
                                   {"ab\xC0\x80", "", "UTF-8"},
                               });
}

TEST(NormalizeMaid, Rules) {
    run(normalize_maid, {
                            {" 6D92078A-8246-4BA4-AE5B-76104861E7DC ", "6d92078a-8246-4ba4-ae5b-76104861e7dc"},
                            {"38400000-8cf0-11bd-b23e-10b96e40000d", "38400000-8cf0-11bd-b23e-10b96e40000d"},
                            {"00000000-0000-0000-0000-000000000000", "", "all zeros"},
                            {"6D92078A 8246", "", "whitespace"},
                            {"", "", "empty"},
                        });
}

TEST(NormalizePrehashed, Rules) {
    const std::string lower = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    std::string upper = lower;
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    run(normalize_prehashed, {
                                 {lower, lower},
                                 {upper, lower},  // upper-case hex is lower-cased
                                 {"  " + upper + "\n", lower},
                                 {lower.substr(0, 63), "", "64 hex characters"},
                                 {lower + "0", "", "64 hex characters"},
                                 {lower.substr(0, 63) + "g", "", "not hex digits"},
                                 {lower.substr(0, 62) + "0x", "", "not hex digits"},
                                 {"user@example.com", "", "64 hex characters"},
                                 {"", "", "64 hex characters"},
                             });
}

}  // namespace
}  // namespace pcapi
