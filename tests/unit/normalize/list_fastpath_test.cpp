// for_each_list_item has a fast path for plain JSON arrays; it must give exactly what the full
// JSON parser gives, and hand nothing out for malformed input.
#include "normalize/values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace pcapi;

namespace {

struct Walk {
    Reason reason;
    std::vector<std::string> items;
};

Walk walk(const std::string &text) {
    sp_value v{};
    v.type = SP_VALUE_TEXT;
    v.as.text = text.data();
    v.len = static_cast<uint32_t>(text.size());
    std::string scratch;
    Walk w;
    w.reason = for_each_list_item(v, ',', scratch, [&](std::string_view item) -> Reason {
        w.items.emplace_back(item);
        return nullptr;
    });
    return w;
}

}  // namespace

TEST(ListFastPath, PlainArraysGiveTheSameItemsAsTheParser) {
    struct Case {
        std::string text;
        std::vector<std::string> items;
    } cases[] = {
        {R"(["sku-1","sku-2"])", {"sku-1", "sku-2"}},
        {R"( [ "a" , 42 , -7 ] )", {"a", "42", "-7"}},
        {R"([])", {}},
        {R"(["  padded  ", ""])", {"padded"}},
        {R"(["a\"b"])", {"a\"b"}},          // escape: full parser
        {R"([1.5, 0])", {"1.5", "0"}},      // decimal: full parser
        {R"(["caf\u00e9"])", {"caf\xC3\xA9"}},
    };
    for (const auto &c : cases) {
        Walk w = walk(c.text);
        EXPECT_EQ(w.reason, nullptr) << c.text;
        EXPECT_EQ(w.items, c.items) << c.text;
    }
}

TEST(ListFastPath, MalformedArraysYieldNothing) {
    for (const char *bad : {R"(["a",])", R"(["a" "b"])", R"(["a")", R"([01])", R"(["a"]x)", R"([["a"]])", R"([true])"}) {
        Walk w = walk(bad);
        EXPECT_NE(w.reason, nullptr) << bad;
        EXPECT_TRUE(w.items.empty()) << bad << " handed out " << w.items.size() << " items";
    }
}
