// Shaping of non-identifier values (values.hpp), table-driven.
#include "normalize/values.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <random>
#include <limits>
#include <string>
#include <vector>

using namespace std::literals;

namespace pcapi {
namespace {

using test::blob_v;
using test::bool_v;
using test::int_v;
using test::null_v;
using test::real_v;
using test::text_v;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool contains(Reason r, std::string_view part) {
    return r != nullptr && std::string_view(r).find(part) != std::string_view::npos;
}

// ---- event_time --------------------------------------------------------------------------------

TEST(ParseEventTime, Numbers) {
    struct {
        sp_value v;
        int64_t want;
    } ok[] = {
        {int_v(1795867200), 1795867200},          {int_v(0), 0},
        {int_v(99'999'999'999), 99'999'999'999},                                       // 1e11 - 1: still seconds
        {int_v(1795867200123), 1795867200},                                            // milliseconds
        {int_v(1795867200123456), 1795867200},                                         // microseconds
        {int_v(1795867200123456789), 1795867200},                                      // nanoseconds
        {real_v(1795867200.0), 1795867200},       {real_v(1795867200.9), 1795867200},  // fraction truncated
        {real_v(1795867200123.0), 1795867200},                                         // milliseconds as REAL
    };
    for (const auto &c : ok) {
        int64_t t = -1;
        EXPECT_EQ(parse_event_time(c.v, t), nullptr);
        EXPECT_EQ(t, c.want);
    }
    int64_t t = 0;
    EXPECT_TRUE(contains(parse_event_time(int_v(-1), t), "negative"));
    EXPECT_TRUE(contains(parse_event_time(real_v(-5.0), t), "negative"));
    EXPECT_TRUE(contains(parse_event_time(real_v(kNaN), t), "finite"));
    EXPECT_TRUE(contains(parse_event_time(real_v(kInf), t), "finite"));
    EXPECT_TRUE(contains(parse_event_time(real_v(1e300), t), "out of range"));
    EXPECT_TRUE(contains(parse_event_time(null_v(), t), "missing"));
    EXPECT_NE(parse_event_time(bool_v(true), t), nullptr);
    EXPECT_NE(parse_event_time(blob_v("\x01\x02"), t), nullptr);
}

TEST(ParseEventTime, Text) {
    struct {
        std::string_view in;
        int64_t want;
    } ok[] = {
        {"1795867200", 1795867200},
        {" 1795867200 ", 1795867200},
        {"1795867200123", 1795867200},
        {"1795867200.75", 1795867200},
        {"2026-11-28T12:00:00Z", 1795867200},
        {"2026-11-28t12:00:00z", 1795867200},
        {"2026-11-28T12:00:00.123Z", 1795867200},
        {"2026-11-28T12:00:00.123+02:00", 1795860000},
        {"2026-11-28T12:00:00+0200", 1795860000},
        {"2026-11-28T12:00:00+02", 1795860000},
        {"2026-11-28T12:00:00-0500", 1795885200},
        {"2026-11-28T12:00:00-05:00", 1795885200},
        {"2026-11-28T12:00Z", 1795867200},
        {"2026-11-28 12:00:00", 1795867200},  // SQL, UTC
        {"2026-11-28 12:00:00.123456", 1795867200},
        {"2026-11-28 12:00:00 UTC", 1795867200},  // BigQuery style
        {"2026-11-28 12:00:00.5 UTC", 1795867200},
        {"2026-11-28 12:00:00+00", 1795867200},  // PostgreSQL style
        {"2026-11-28", 1795824000},              // midnight UTC
        {"2024-02-29T00:00:00Z", 1709164800},
        {"2026-11-28T23:59:60Z", 1795910400},  // leap second
        {"1970-01-01T00:00:00Z", 0},
    };
    for (const auto &c : ok) {
        int64_t t = -1;
        EXPECT_EQ(parse_event_time(text_v(c.in), t), nullptr) << c.in;
        EXPECT_EQ(t, c.want) << c.in;
    }
    struct {
        std::string_view in;
        const char *why;
    } bad[] = {
        {"2026-02-29T00:00:00Z", "not a real calendar date"},
        {"2026-13-01", "not a real calendar date"},
        {"2026-04-31", "not a real calendar date"},
        {"2026-00-10", "not a real calendar date"},
        {"2026-11-28T24:00:00Z", "out-of-range"},
        {"2026-11-28T12:60:00Z", "out-of-range"},
        {"2026-11-28T12:00:61Z", "out-of-range"},
        {"2026-11-28T12:00:00+24:00", "UTC offset"},
        {"2026-11-28T12:00:00+02:60", "UTC offset"},
        {"1969-12-31T23:59:59Z", "before 1970"},
        {"2026-11-28T12:00:00 PST", "recognized format"},
        {"2026-11-28T12:00:00+2", "recognized format"},
        {"2026-11-28T12", "recognized format"},
        {"2026-11-28T", "recognized format"},
        {"2026-11-28T12:00:00.Z", "recognized format"},
        {"28/11/2026", "recognized format"},
        {"Nov 28 2026", "recognized format"},
        {"yesterday", "recognized format"},
        {"17958672OO", "recognized format"},
        {"99999999999999999999", "out of range"},
        {"", "empty"},
        {"   ", "empty"},
    };
    for (const auto &c : bad) {
        int64_t t = 0;
        const Reason r = parse_event_time(text_v(c.in), t);
        test::expect_pii_free(r, c.in);
        EXPECT_TRUE(contains(r, c.why)) << c.in << " -> " << (r ? r : "ok");
    }
}

TEST(CheckEventTimeWindow, EdgesAreInclusive) {
    const int64_t now = 1'800'000'000, max_age = 7 * 86400, max_future = 300;
    EXPECT_EQ(check_event_time_window(now, now, max_age, max_future), nullptr);
    EXPECT_EQ(check_event_time_window(now - max_age, now, max_age, max_future), nullptr);
    EXPECT_TRUE(contains(check_event_time_window(now - max_age - 1, now, max_age, max_future), "older"));
    EXPECT_EQ(check_event_time_window(now + max_future, now, max_age, max_future), nullptr);
    EXPECT_TRUE(contains(check_event_time_window(now + max_future + 1, now, max_age, max_future), "future"));
    EXPECT_TRUE(contains(check_event_time_window(now + 1, now, max_age, 0), "future"));
}

// ---- decimal / integer / bool / string -------------------------------------------------------

TEST(ShapeDecimal, Rules) {
    struct {
        sp_value v;
        std::string_view want;
    } ok[] = {
        {int_v(12), "12"},
        {int_v(-5), "-5"},
        {int_v(0), "0"},
        {real_v(12.5), "12.5"},
        {real_v(0.1), "0.1"},
        {real_v(19.99), "19.99"},
        {real_v(1e20), "100000000000000000000"},
        {real_v(1e-7), "0.0000001"},
        {real_v(-0.0), "0"},
        {real_v(3.0), "3"},
        {real_v(123456.789), "123456.789"},
        {text_v(" 12.50 "), "12.50"},
        {text_v("12"), "12"},
        {text_v("+3"), "3"},
        {text_v("-3.5"), "-3.5"},
        {text_v(".5"), "0.5"},
        {text_v("-.5"), "-0.5"},
        {text_v("5."), "5"},
        {text_v("0007.10"), "0007.10"},
    };
    std::string out = "stale";
    for (const auto &c : ok) {
        EXPECT_EQ(shape_decimal(c.v, out), nullptr) << c.want;
        EXPECT_EQ(out, c.want);
    }
    struct {
        sp_value v;
        const char *why;
    } bad[] = {
        {real_v(kNaN), "finite"},
        {real_v(kInf), "finite"},
        {real_v(-kInf), "finite"},
        {text_v("1,234.56"), "separator"},
        {text_v("12,5"), "decimal comma"},
        {text_v("1 234"), "separator"},
        {text_v("$12"), "currency"},
        {text_v("12 \xE2\x82\xAC"), "currency"},
        {text_v("\u00A35"), "currency"},
        {text_v("1e5"), "exponent"},
        {text_v("1.5E+3"), "exponent"},
        {text_v("."), "plain decimal"},
        {text_v("+"), "plain decimal"},
        {text_v("--1"), "plain decimal"},
        {text_v("12.3.4"), "plain decimal"},
        {text_v("abc"), "plain decimal"},
        {text_v(""), "empty"},
        {null_v(), "missing"},
        {bool_v(true), "boolean"},
        {blob_v("12"), "binary"},
    };
    for (const auto &c : bad) {
        const Reason r = shape_decimal(c.v, out);
        EXPECT_TRUE(contains(r, c.why)) << c.why << " -> " << (r ? r : "ok");
        EXPECT_TRUE(out.empty());
    }
}

TEST(ShapeInteger, Rules) {
    struct {
        sp_value v;
        int64_t want;
    } ok[] = {
        {int_v(3), 3},        {int_v(-2), -2},       {real_v(3.0), 3},
        {text_v("42"), 42},   {text_v(" +42 "), 42}, {text_v("-7"), -7},
        {text_v("42.0"), 42}, {text_v("42."), 42},   {text_v("9223372036854775807"), INT64_MAX},
    };
    for (const auto &c : ok) {
        int64_t out = 0;
        EXPECT_EQ(shape_integer(c.v, out), nullptr) << c.want;
        EXPECT_EQ(out, c.want);
    }
    struct {
        sp_value v;
        const char *why;
    } bad[] = {
        {real_v(3.5), "whole number"},
        {real_v(kNaN), "finite"},
        {real_v(1e30), "out of range"},
        {text_v("42.5"), "whole number"},
        {text_v("9223372036854775808"), "out of range"},
        {text_v("abc"), "whole number"},
        {text_v("-"), "whole number"},
        {text_v("1e3"), "whole number"},
        {text_v(""), "empty"},
        {null_v(), "missing"},
        {bool_v(true), "boolean"},
        {blob_v("1"), "binary"},
    };
    for (const auto &c : bad) {
        int64_t out = 0;
        const Reason r = shape_integer(c.v, out);
        EXPECT_TRUE(contains(r, c.why)) << c.why << " -> " << (r ? r : "ok");
    }
}

TEST(ShapeBool, Spellings) {
    for (sp_value v : {bool_v(true), int_v(1), real_v(1.0), text_v("true"), text_v(" TRUE "), text_v("Yes"),
                       text_v("y"), text_v("T"), text_v("1")}) {
        bool b = false;
        EXPECT_EQ(shape_bool(v, b), nullptr);
        EXPECT_TRUE(b);
    }
    for (sp_value v : {bool_v(false), int_v(0), real_v(0.0), text_v("false"), text_v("FALSE"), text_v("no"),
                       text_v("N"), text_v("f"), text_v("0")}) {
        bool b = true;
        EXPECT_EQ(shape_bool(v, b), nullptr);
        EXPECT_FALSE(b);
    }
    for (sp_value v :
         {int_v(2), int_v(-1), real_v(0.5), text_v("maybe"), text_v(""), text_v("on"), null_v(), blob_v("1")}) {
        bool b = false;
        EXPECT_NE(shape_bool(v, b), nullptr);
    }
}

TEST(ShapeString, Rules) {
    struct {
        sp_value v;
        std::string_view want;
        bool empty;
    } ok[] = {
        {text_v(" order-123 "), "order-123", false},
        {text_v("\xEF\xBB\xBF"
                "abc\xC2\xA0"),
         "abc", false},
        {text_v("caf\xC3\xA9"), "caf\xC3\xA9", false},
        {text_v("   "), "", true},
        {text_v(""), "", true},
        {null_v(), "", true},
        {int_v(123), "123", false},
        {int_v(-9223372036854775807 - 1), "-9223372036854775808", false},
        {real_v(12.5), "12.5", false},
        {real_v(123.0), "123", false},
        {real_v(0.1), "0.1", false},
        {bool_v(true), "true", false},
        {bool_v(false), "false", false},
    };
    std::string out = "stale";
    for (const auto &c : ok) {
        bool empty = !c.empty;
        EXPECT_EQ(shape_string(c.v, out, empty), nullptr) << c.want;
        EXPECT_EQ(out, c.want);
        EXPECT_EQ(empty, c.empty) << c.want;
    }
    bool empty = false;
    EXPECT_STREQ(shape_string(blob_v("abc"), out, empty), "binary value where text is expected");
    EXPECT_TRUE(contains(shape_string(text_v("ab\0c"sv), out, empty), "NUL"));
    EXPECT_TRUE(contains(shape_string(text_v("ab\xC3"), out, empty), "UTF-8"));
    EXPECT_TRUE(contains(shape_string(text_v("\xED\xA0\x80"), out, empty), "UTF-8"));
    EXPECT_TRUE(contains(shape_string(real_v(kNaN), out, empty), "finite"));
}

// ---- enumerations ------------------------------------------------------------------------------

TEST(ShapeCurrency, Iso4217) {
    std::string out;
    for (auto [in, want] : {std::pair{"usd"sv, "USD"sv},
                            {" EUR "sv, "EUR"sv},
                            {"Jpy"sv, "JPY"sv},
                            {"GBP"sv, "GBP"sv},
                            {"CHF"sv, "CHF"sv},
                            {"XOF"sv, "XOF"sv}}) {
        EXPECT_EQ(shape_currency(text_v(in), out), nullptr) << in;
        EXPECT_EQ(out, want);
    }
    EXPECT_TRUE(contains(shape_currency(text_v("US$"), out), "three-letter"));
    EXPECT_TRUE(contains(shape_currency(text_v("USDX"), out), "three-letter"));
    EXPECT_TRUE(contains(shape_currency(text_v("$"), out), "three-letter"));
    EXPECT_TRUE(contains(shape_currency(text_v("ABC"), out), "not an active"));
    EXPECT_TRUE(contains(shape_currency(text_v("HRK"), out), "not an active"));  // withdrawn 2023
    EXPECT_TRUE(contains(shape_currency(text_v("XXX"), out), "not an active"));
    EXPECT_TRUE(contains(shape_currency(text_v("XAU"), out), "not an active"));
    EXPECT_NE(shape_currency(int_v(840), out), nullptr);
    EXPECT_NE(shape_currency(null_v(), out), nullptr);
}

// A catalogue as the manifest gives one (the plugin's own list is tested in manifest_test).
const NameCatalogue &standard_names() {
    static const NameCatalogue c({"add_payment_info", "add_to_cart", "add_to_wishlist", "app_install", "app_open", "checkout", "contact", "custom", "customize_product", "find_location", "initiate_checkout", "lead", "page_visit", "schedule", "search", "signup", "start_trial", "submit_application", "subscribe", "view_category", "view_content", "watch_video"}, "event name");
    return c;
}

const NameCatalogue &action_sources() {
    static const NameCatalogue c({"web", "app_android", "app_ios", "offline"}, "action source");
    return c;
}

TEST(ShapeEventName, StandardNames) {
    const char *standard[] = {"add_payment_info",
                              "add_to_cart",
                              "add_to_wishlist",
                              "app_install",
                              "app_open",
                              "checkout",
                              "contact",
                              "custom",
                              "customize_product",
                              "find_location",
                              "initiate_checkout",
                              "lead",
                              "page_visit",
                              "schedule",
                              "search",
                              "signup",
                              "start_trial",
                              "submit_application",
                              "subscribe",
                              "view_category",
                              "view_content",
                              "watch_video"};
    std::string out;
    for (const char *name : standard) {
        EXPECT_EQ(shape_event_name(text_v(name), standard_names(), out), nullptr) << name;
        EXPECT_EQ(out, name);
        std::string upper = name;
        for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        EXPECT_EQ(shape_event_name(text_v(upper), standard_names(), out), nullptr) << upper;
        EXPECT_EQ(out, name);
    }
    for (auto [in, want] : {std::pair{" Checkout "sv, "checkout"sv},
                            {"Add To Cart"sv, "add_to_cart"sv},
                            {"add-to-cart"sv, "add_to_cart"sv},
                            {"AddToCart"sv, "add_to_cart"sv},
                            {"PAGE_VISIT"sv, "page_visit"sv},
                            {"Sign Up"sv, "signup"sv}}) {
        EXPECT_EQ(shape_event_name(text_v(in), standard_names(), out), nullptr) << in;
        EXPECT_EQ(out, want);
    }
    // Near misses are custom names, kept as given (a standard name would come back lowercased):
    // no prefix, suffix or extra word matches a standard name.
    for (std::string_view near : {"Purchase"sv, "Add_To_Carts"sv, "AddToCar"sv, "View"sv, "PageVisits"sv, "Check_Out_2"sv,
                                  "SignUpNow"sv, "Custom_Event"sv, "WatchVideo-X"sv}) {
        EXPECT_EQ(shape_event_name(text_v(near), standard_names(), out), nullptr) << near;
        EXPECT_EQ(out, near);
    }
}

TEST(ShapeEventName, CustomNames) {
    std::string out;
    EXPECT_EQ(shape_event_name(text_v("Purchase_Completed-2"), standard_names(), out), nullptr);
    EXPECT_EQ(out, "Purchase_Completed-2");  // kept as given
    const std::string max(100, 'a'), over(101, 'a');
    EXPECT_EQ(shape_event_name(text_v(max), standard_names(), out), nullptr);
    EXPECT_EQ(out, max);
    EXPECT_TRUE(contains(shape_event_name(text_v(over), standard_names(), out), "longer than 100"));
    EXPECT_TRUE(contains(shape_event_name(text_v("my event"), standard_names(), out), "only letters"));
    EXPECT_TRUE(contains(shape_event_name(text_v("purchase.done"), standard_names(), out), "only letters"));
    EXPECT_TRUE(contains(shape_event_name(text_v("caf\xC3\xA9"), standard_names(), out), "only letters"));
    EXPECT_TRUE(contains(shape_event_name(text_v("---"), standard_names(), out), "no letters or digits"));
    EXPECT_TRUE(contains(shape_event_name(text_v("  "), standard_names(), out), "empty"));
    EXPECT_TRUE(contains(shape_event_name(text_v("a\xFF"), standard_names(), out), "UTF-8"));
    EXPECT_NE(shape_event_name(int_v(1), standard_names(), out), nullptr);
    EXPECT_NE(shape_event_name(null_v(), standard_names(), out), nullptr);
}

TEST(ShapeActionSource, Values) {
    std::string out;
    for (auto [in, want] : {std::pair{"web"sv, "web"sv},
                            {"WEB"sv, "web"sv},
                            {" App_Android "sv, "app_android"sv},
                            {"app_ios"sv, "app_ios"sv},
                            {"Offline"sv, "offline"sv}}) {
        EXPECT_EQ(shape_action_source(text_v(in), action_sources(), out), nullptr) << in;
        EXPECT_EQ(out, want);
    }
    EXPECT_STREQ(shape_action_source(text_v("email"), action_sources(), out),
                 "action source must be web, app_android, app_ios or offline");
    EXPECT_NE(shape_action_source(text_v("app"), action_sources(), out), nullptr);
    EXPECT_NE(shape_action_source(int_v(1), action_sources(), out), nullptr);
}

TEST(ShapeLanguage, Iso639_1) {
    std::string out;
    for (auto [in, want] :
         {std::pair{"en"sv, "en"sv}, {"EN"sv, "en"sv}, {"en-US"sv, "en"sv}, {"pt_BR"sv, "pt"sv}, {" de "sv, "de"sv}}) {
        EXPECT_EQ(shape_language(text_v(in), out), nullptr) << in;
        EXPECT_EQ(out, want);
    }
    for (std::string_view bad : {"xx"sv, "eng"sv, "e"sv, ""sv, "english"sv, "12"sv})
        EXPECT_NE(shape_language(text_v(bad), out), nullptr) << bad;
}

// ---- lists -------------------------------------------------------------------------------------

std::vector<std::string> items_of(const sp_value &v, char delim, Reason *reason = nullptr) {
    std::vector<std::string> items;
    std::string scratch;
    const Reason r = for_each_list_item(v, delim, scratch, [&](std::string_view item) -> Reason {
        items.emplace_back(item);
        return nullptr;
    });
    if (reason != nullptr) {
        *reason = r;
    } else {
        EXPECT_EQ(r, nullptr) << r;
    }
    return items;
}

using Items = std::vector<std::string>;

TEST(ForEachListItem, ScalarsAndDelimitedText) {
    EXPECT_EQ(items_of(null_v(), ','), Items{});
    EXPECT_EQ(items_of(int_v(123), ','), Items{"123"});
    EXPECT_EQ(items_of(real_v(12.0), ','), Items{"12"});
    EXPECT_EQ(items_of(real_v(1.5), ','), Items{"1.5"});
    EXPECT_EQ(items_of(text_v("single"), ','), Items{"single"});
    EXPECT_EQ(items_of(text_v("a, b ,,c,"), ','), (Items{"a", "b", "c"}));
    EXPECT_EQ(items_of(text_v(" a|b c |d "), '|'), (Items{"a", "b c", "d"}));
    EXPECT_EQ(items_of(text_v("a,b"), '|'), Items{"a,b"});
    EXPECT_EQ(items_of(text_v("a,b"), '\0'), Items{"a,b"});
    EXPECT_EQ(items_of(text_v("  "), ','), Items{});
    EXPECT_EQ(items_of(text_v("a\xC2\xA0,\u00A0b"), ','), (Items{"a", "b"}));
    Reason r = nullptr;
    items_of(text_v("a,\xFF"), ',', &r);
    EXPECT_TRUE(contains(r, "UTF-8"));
    items_of(blob_v("a"), ',', &r);
    EXPECT_TRUE(contains(r, "binary"));
    items_of(bool_v(true), ',', &r);
    EXPECT_NE(r, nullptr);
    items_of(real_v(kNaN), ',', &r);
    EXPECT_TRUE(contains(r, "finite"));
}

TEST(ForEachListItem, JsonArrays) {
    EXPECT_EQ(items_of(text_v(R"( ["a", 12, 3.5, " b ", "", -7] )"), ','), (Items{"a", "12", "3.5", "b", "-7"}));
    EXPECT_EQ(items_of(text_v("[]"), ','), Items{});
    EXPECT_EQ(items_of(text_v("[1e2, 2.0]"), ','), (Items{"100", "2"}));  // no ".0"
    EXPECT_EQ(items_of(text_v("[12345678901234567890]"), ','), Items{"12345678901234567890"});
    EXPECT_EQ(items_of(text_v(R"(["a,b", "c"])"), ','), (Items{"a,b", "c"}));  // no splitting
    EXPECT_EQ(items_of(text_v(R"(["caf\u00e9"])"), ','), Items{"caf\xC3\xA9"});
    struct {
        std::string_view in;
        const char *why;
    } bad[] = {
        {R"([{"a":1}])", "not a string or a number"},
        {R"([["a"]])", "not a string or a number"},
        {"[null]", "not a string or a number"},
        {"[true]", "not a string or a number"},
        {R"(["a")", "not a valid JSON array"},
        {"[a, b]", "not a valid JSON array"},
        {"[1,]", "not a valid JSON array"},
        {"[123456789012345678901234]", "too large"},
        {"[1e300]", "too large"},
        {R"(["a\u0000b"])", "NUL"},
    };
    for (const auto &c : bad) {
        Reason r = nullptr;
        items_of(text_v(c.in), ',', &r);
        EXPECT_TRUE(contains(r, c.why)) << c.in << " -> " << (r ? r : "ok");
    }
}

TEST(ForEachListItem, LargeJsonArrayAndEarlyStop) {
    std::string json = "[";
    for (int i = 0; i < 5000; ++i) json += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
    json += "]";
    const Items items = items_of(text_v(json), ',');
    ASSERT_EQ(items.size(), 5000u);
    EXPECT_EQ(items[4999], "4999");

    int calls = 0;
    std::string scratch;
    const Reason r = for_each_list_item(text_v("a,b,c"), ',', scratch,
                                        [&](std::string_view) { return ++calls == 2 ? "stop here" : nullptr; });
    EXPECT_STREQ(r, "stop here");
    EXPECT_EQ(calls, 2);

    const auto counter = [&](std::string_view) -> Reason {  // a const callable works too
        return nullptr;
    };
    EXPECT_EQ(for_each_list_item(text_v("[1,2]"), ',', scratch, counter), nullptr);
}

// ---- contents ----------------------------------------------------------------------------------

TEST(ShapeContents, ShapesAllowedKeys) {
    std::string out;
    const auto in =
        R"([{"id":"sku-1","item_price":12.5,"quantity":2,"item_name":" Shoe ","item_category":"Shoes","item_brand":"Acme"},
            {"id":12345,"item_price":"9.99","quantity":"3"},
            {"id":"x","item_price":10,"quantity":2.0,"item_name":null},
            {"item_price":"+.5"}])"sv;
    ASSERT_EQ(shape_contents(text_v(in), out), nullptr);
    EXPECT_EQ(
        out,
        R"([{"id":"sku-1","item_price":"12.5","quantity":2,"item_name":"Shoe","item_category":"Shoes","item_brand":"Acme"},)"
        R"({"id":"12345","item_price":"9.99","quantity":3},)"
        R"({"id":"x","item_price":"10","quantity":2},)"
        R"({"item_price":"0.5"}])");

    ASSERT_EQ(shape_contents(text_v(R"( {"id":"a","quantity":1} )"), out), nullptr);
    EXPECT_EQ(out, R"([{"id":"a","quantity":1}])");  // a lone object becomes a 1-item array

    for (sp_value empty : {null_v(), text_v(""), text_v("  "), text_v("[]")}) {
        out = "stale";
        EXPECT_EQ(shape_contents(empty, out), nullptr);
        EXPECT_TRUE(out.empty());
    }
}

TEST(ShapeContents, Rejections) {
    std::string out;
    const Reason r = shape_contents(text_v(R"([{"id":"a","email":"x@example.com"}])"), out);
    EXPECT_TRUE(contains(r, "not allowed"));
    EXPECT_EQ(out, "email");  // the key, for the caller's message; never the value
    test::expect_pii_free(r, "x@example.com");

    struct {
        std::string_view in;
        const char *why;
    } bad[] = {
        {R"([{"quantity":-1}])", "negative"},
        {R"([{"quantity":1.5}])", "whole number"},
        {R"([{"quantity":"two"}])", "whole number"},
        {R"([{"quantity":true}])", "whole number"},
        {R"([{"item_price":"1,50"}])", "plain decimal"},
        {R"([{"item_price":true}])", "number or a decimal string"},
        {R"([{"item_name":5}])", "item_name must be a string"},
        {R"([{"item_brand":["a"]}])", "item_brand must be a string"},
        {R"([{"id":{"a":1}}])", "id must be a string or a number"},
        {R"([{"id":123456789012345678901234}])", "too large"},
        {R"([1, 2])", "array of objects"},
        {R"("sku-1")", "array of objects"},
        {R"(42)", "array of objects"},
        {R"([{"id":"a"})", "not valid JSON"},
        {R"(id=a)", "not valid JSON"},
    };
    for (const auto &c : bad) {
        const Reason rr = shape_contents(text_v(c.in), out);
        EXPECT_TRUE(contains(rr, c.why)) << c.in << " -> " << (rr ? rr : "ok");
    }
    EXPECT_NE(shape_contents(int_v(3), out), nullptr);
    EXPECT_NE(shape_contents(blob_v("[]"), out), nullptr);
    EXPECT_NE(shape_contents(text_v("[\"\xFF\"]"), out), nullptr);
}

// Doubles are sent as the shortest fixed text that reads back as the same double. The whole-cents
// fast path must give exactly what std::to_chars gives, for prices and for everything else.
TEST(ShapeDecimal, RealsMatchToCharsShortestFixed) {
    auto expected = [](double d) {
        if (d == 0) d = 0;
        char buf[400];
        const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
        return std::string(buf, r.ptr);
    };
    std::string out;
    auto check = [&](double d) {
        ASSERT_EQ(shape_decimal(real_v(d), out), nullptr);
        ASSERT_EQ(out, expected(d)) << "double " << std::hexfloat << d;
    };
    for (int64_t c = -200000; c <= 200000; ++c) check(static_cast<double>(c) / 100.0);
    for (double d : {0.1 + 0.2, 1.005, 19.99 * 3, -0.0, 1e-300, -1e-7, 0.015, 69999999999999.99, 70000000000000.01,
                     7e13, 123456789012.34, -123456789012.34, 1e20, 4503599627370495.5, 0.125, 2.675})
        check(d);
    std::mt19937_64 rng(99);
    for (int i = 0; i < 200000; ++i) {
        const double scale = std::pow(10.0, static_cast<int>(rng() % 30) - 10);
        const double d = (static_cast<double>(rng() % 2000001) - 1000000.0) / 1000.0 * scale;
        check(d);
        check(std::nearbyint(d * 100.0) / 100.0);  // whole cents at every magnitude
    }
}

}  // namespace
}  // namespace pcapi
