// ShapeMemo: remembering shaped event names, action sources and currencies never changes a result:
// a stream of values (repeats, collisions in its eight slots, failures, non-text cells) gives what
// shaping each value afresh gives.
#include "pipeline/shape_memo.hpp"
#include "plugin/manifest.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace pcapi {
namespace {

sp_value text(const std::string &s) {
    sp_value v{};
    v.type = SP_VALUE_TEXT;
    v.as.text = s.data();
    v.len = static_cast<uint32_t>(s.size());
    return v;
}

TEST(ShapeMemo, GivesWhatShapingAfreshGives) {
    const std::vector<std::string> values = {"usd",
                                             "USD",
                                             "EUR",
                                             "gbp",
                                             "usd",
                                             "XXX",
                                             "us",
                                             "",
                                             " usd ",
                                             "eur",
                                             "usd",
                                             "Add To Cart",
                                             "add_to_cart",
                                             "checkout",
                                             "Checkout",
                                             "page visit",
                                             "not an event",
                                             "web",
                                             "WEB",
                                             "app_android",
                                             "offline",
                                             "nope",
                                             std::string(70, 'a'),
                                             std::string(70, 'a'),
                                             "u\xC3\xA9",
                                             "usd"};
    using ShapeFn = std::function<Reason(const sp_value &, std::string &)>;
    const PipelineOptions opt = pipeline_options();
    const ShapeFn event_name = [&](const sp_value &v, std::string &o) { return shape_event_name(v, opt.event_names, o); };
    const ShapeFn action_source = [&](const sp_value &v, std::string &o) {
        return shape_action_source(v, opt.action_sources, o);
    };
    for (const ShapeFn &fn : {ShapeFn(shape_currency), event_name, action_source}) {
        ShapeMemo memo;
        std::string scratch, fresh;
        for (int round = 0; round < 3; ++round)
            for (const std::string &s : values) {
                std::string_view got;
                const Reason why = memo.shape(text(s), scratch, got, fn);
                const Reason want = fn(text(s), fresh);
                ASSERT_EQ(why == nullptr, want == nullptr) << "\"" << s << "\"";
                if (want)
                    EXPECT_STREQ(why, want) << "\"" << s << "\"";
                else
                    EXPECT_EQ(got, fresh) << "\"" << s << "\"";
            }
        // Cells other than text are shaped every time.
        sp_value n{};
        n.type = SP_VALUE_INT;
        n.as.i = 840;
        std::string_view got;
        EXPECT_EQ(memo.shape(n, scratch, got, fn) == nullptr, fn(n, fresh) == nullptr);
    }
}

}  // namespace
}  // namespace pcapi
