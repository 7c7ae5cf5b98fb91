// What the pipeline counts for the match-quality report (sp.quality/1): which of Pinterest's
// EQS components each event carries, per event name, and how old the events were.
#include "one_row.hpp"

#include "pipeline/match_quality.hpp"

#include <algorithm>
#include <cmath>
#include <random>

using pcapi::AgeHistogram;
using pcapi::Component;
using pcapi::MatchQuality;
using test_support::OneRow;

namespace {

// The components of the one event `row` becomes, by name.
std::vector<std::string> components_of(const OneRow &row) {
    MatchQuality q;
    std::string rejected;
    row.encode(rejected, nullptr, &q);
    EXPECT_EQ(rejected, "");
    std::vector<std::string> out;
    if (q.groups().size() != 1) {
        ADD_FAILURE() << "expected one group, got " << q.groups().size();
        return out;
    }
    const MatchQuality::Group &g = q.groups()[0];
    EXPECT_EQ(g.name, "checkout");
    EXPECT_EQ(g.events, 1u);
    for (size_t c = 0; c < pcapi::kComponentCount; ++c)
        if (g.with(c)) out.push_back(pcapi::component_names()[c]);
    return out;
}

}  // namespace

TEST(MatchQuality, AnEventCountsEachComponentItCarries) {
    OneRow all;
    all.text("client_ip_address", "203.0.113.9")
        .text("client_user_agent", "Mozilla/5.0")
        .text("click_id", "dj0yJnU9a")
        .text("external_id", "user-1")
        .text("maids", "AEBE52E7-03EE-455A-B3C4-E57283966239")
        .text("order_id", "o-1")
        .text("value", "12.50")
        .text("content_ids", "sku-1,sku-2")
        .text("event_source_url", "https://shop.example/checkout");
    EXPECT_EQ(components_of(all),
              (std::vector<std::string>{"hashed_email", "hashed_maid", "ip_address", "user_agent", "click_id_epik",
                                        "advertiser_external_id", "external_event_id", "order_id", "order_value",
                                        "product_id", "source_url"}));
}

TEST(MatchQuality, MappedButEmptyValuesDoNotCount) {
    OneRow sparse;
    sparse.text("click_id", "").text("content_ids", "").text("order_id", "   ").text("event_source_url", "");
    EXPECT_EQ(components_of(sparse), (std::vector<std::string>{"hashed_email", "external_event_id"}));
    OneRow contents;
    contents.text("contents", R"([{"id": "sku-1", "item_price": "5.00", "quantity": 1}])");
    EXPECT_EQ(components_of(contents), (std::vector<std::string>{"hashed_email", "external_event_id", "product_id"}));
}

TEST(MatchQuality, ARejectedRowIsNotCounted) {
    OneRow bad;
    bad.text("value", "twelve");
    MatchQuality q;
    std::string rejected;
    bad.encode(rejected, nullptr, &q);
    EXPECT_NE(rejected, "");
    EXPECT_TRUE(q.groups().empty());
    EXPECT_EQ(q.ages().count(), 0u);
}

TEST(MatchQuality, AgesAreCountedFromTheEventTime) {
    OneRow old;
    old.integer("event_time", test_support::kOneRowNow - 7200);
    MatchQuality q;
    std::string rejected;
    old.encode(rejected, nullptr, &q);
    ASSERT_EQ(rejected, "");
    EXPECT_EQ(q.ages().max(), 7200);
    EXPECT_EQ(q.late_events(), 1u);
}

TEST(MatchQuality, EventNamesAreGroupsAndTooManyCustomNamesShareOne) {
    MatchQuality q;
    q.count("checkout", pcapi::bit(Component::hashed_email), 10);
    q.count("lead", 0, 10);
    q.count("checkout", 0, 10);
    ASSERT_EQ(q.groups().size(), 2u);
    EXPECT_EQ(q.groups()[0].events, 2u);
    EXPECT_EQ(q.groups()[0].with(0), 1u);
    for (int i = 0; i < 200; ++i) q.count("custom_" + std::to_string(i), 0, 10);
    ASSERT_EQ(q.groups().size(), MatchQuality::kMaxGroups);
    EXPECT_EQ(q.groups().back().name, MatchQuality::kOtherGroup);
    uint64_t events = 0;
    for (const auto &g : q.groups()) events += g.events;
    EXPECT_EQ(events, 203u);                                                     // every event counted somewhere
    EXPECT_EQ(q.groups().back().events, 200u - (MatchQuality::kMaxGroups - 3));  // customs without a group
}

TEST(MatchQuality, LateMeansMoreThanAnHourAndTheCoarseBucketsAreExact) {
    MatchQuality q;
    for (int64_t age : {0, 60, 61, 3600, 3601, 86400 * 30, -5}) q.count("lead", 0, age);
    EXPECT_EQ(q.late_events(), 2u);  // 3601 s and 30 days
    const auto &b = q.age_buckets();
    EXPECT_EQ(b[0], 3u);  // 0, 60 and the future event (age 0)
    EXPECT_EQ(b[1], 1u);  // 61
    EXPECT_EQ(b[3], 1u);  // 3600: "at most an hour"
    EXPECT_EQ(b[4], 1u);  // 3601
    EXPECT_EQ(b.back(), 1u);
}

TEST(AgeHistogram, SmallAgesAreExactAndPercentilesOfLargeOnesWithinTwoPercent) {
    AgeHistogram h;
    for (int64_t v = 1; v <= 50; ++v) h.add(v);
    EXPECT_EQ(h.percentile(0.5), 25);
    EXPECT_EQ(h.percentile(0.95), 48);
    EXPECT_EQ(h.max(), 50);

    AgeHistogram big;
    std::mt19937_64 rng(7);
    std::vector<int64_t> ages;
    for (int i = 0; i < 20000; ++i) {
        ages.push_back(static_cast<int64_t>(rng() % (7 * 86400)));
        big.add(ages.back());
    }
    std::sort(ages.begin(), ages.end());
    for (double p : {0.5, 0.9, 0.95, 0.99}) {
        const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(ages.size())));  // nearest rank
        const auto exact = static_cast<double>(ages[rank - 1]);
        EXPECT_NEAR(static_cast<double>(big.percentile(p)), exact, exact * 0.02) << "p" << p;
        EXPECT_LE(static_cast<double>(big.percentile(p)), exact) << "a bucket's lower bound";
    }
    EXPECT_EQ(big.max(), ages.back());
    EXPECT_EQ(AgeHistogram().percentile(0.5), 0);
}

TEST(MatchQuality, RunsOfOneComponentSetAddUpWhenTheSetChanges) {
    MatchQuality q;
    const auto email = pcapi::bit(Component::hashed_email), ip = pcapi::bit(Component::ip_address);
    for (int i = 0; i < 3; ++i) q.count("lead", email | ip, 5);
    for (int i = 0; i < 2; ++i) q.count("lead", ip, 5);
    q.count("lead", email, 5);
    const MatchQuality::Group &g = q.groups().at(0);
    EXPECT_EQ(g.events, 6u);
    EXPECT_EQ(g.with(static_cast<size_t>(Component::hashed_email)), 4u);
    EXPECT_EQ(g.with(static_cast<size_t>(Component::ip_address)), 5u);
    EXPECT_EQ(g.with(static_cast<size_t>(Component::user_agent)), 0u);
}
