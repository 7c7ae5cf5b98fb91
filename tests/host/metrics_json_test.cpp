// metrics_json: integers as integers, histogram buckets as one object per histogram.
#include "runtime/metrics_json.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

using synchost::metrics_json;

TEST(MetricsJson, WholeValuesAreIntegersAndOthersStayReals) {
    const boost::json::object j = metrics_json({{"pinterest.requests", 2.0}, {"x.ratio", 0.25}, {"big", 1e300}});
    EXPECT_EQ(boost::json::serialize(j.at("pinterest.requests")), "2");
    ASSERT_TRUE(j.at("x.ratio").is_double());
    EXPECT_EQ(j.at("x.ratio").as_double(), 0.25);
    EXPECT_TRUE(j.at("big").is_double()) << "beyond 2^53 a double is not an exact integer";
}

TEST(MetricsJson, BucketsAreGatheredInNumericOrderWithInfLast) {
    const boost::json::object j = metrics_json({{"pinterest.request_ms.le_1000", 5},
                                                {"pinterest.request_ms.le_50", 1},
                                                {"pinterest.request_ms.le_inf", 6},
                                                {"pinterest.request_ms.le_250", 4},
                                                {"pinterest.requests", 6},
                                                {"odd.le_", 1},
                                                {"odd.le_x", 2}});
    EXPECT_EQ(boost::json::serialize(j.at("pinterest.request_ms")), R"({"le_50":1,"le_250":4,"le_1000":5,"le_inf":6})");
    EXPECT_EQ(j.at("pinterest.requests").as_int64(), 6);
    // Not buckets: kept under their own names.
    EXPECT_EQ(j.at("odd.le_").as_int64(), 1);
    EXPECT_EQ(j.at("odd.le_x").as_int64(), 2);
    EXPECT_FALSE(j.contains("pinterest.request_ms.le_50"));
}
