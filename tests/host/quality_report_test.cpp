// The host's side of sp.quality/1: the stored form of a report, the coverage-drop warnings that
// compare two runs, and the words the figures are shown in.
#include "quality/quality_report.hpp"
#include "quality/destination_score.hpp"

#include <gtest/gtest.h>

using synchost::QualityReport;

namespace {

// Two groups over components a and b.
QualityReport report(uint64_t checkout, uint64_t checkout_a, uint64_t lead, uint64_t lead_a) {
    QualityReport r;
    r.components = {"a", "b"};
    r.groups = {{"checkout", checkout, {checkout_a, checkout}}, {"lead", lead, {lead_a, 0}}};
    r.aged_events = checkout + lead;
    r.age_p50_ms = 125000;
    r.age_p95_ms = 7260000;
    r.age_max_ms = 90061000;
    r.late_after_ms = 3600000;
    r.late_events = 3;
    r.late_meaning = "treated differently";
    r.age_buckets = {{60000, 4}, {UINT64_MAX, 6}};
    return r;
}

}  // namespace

TEST(QualityReport, TheStoredFormReadsBackAsItWasWritten) {
    const QualityReport r = report(8, 6, 2, 1);
    const QualityReport back = synchost::quality_from_json(synchost::to_json_text(r));
    EXPECT_EQ(back.components, r.components);
    ASSERT_EQ(back.groups.size(), 2u);
    EXPECT_EQ(back.groups[1].name, "lead");
    EXPECT_EQ(back.groups[0].with, (std::vector<uint64_t>{6, 8}));
    EXPECT_EQ(back.age_p95_ms, 7260000u);
    EXPECT_EQ(back.late_meaning, "treated differently");
    ASSERT_EQ(back.age_buckets.size(), 2u);
    EXPECT_EQ(back.age_buckets[1].le_ms, UINT64_MAX);
    EXPECT_EQ(back.age_buckets[1].events, 6u);
    EXPECT_THROW(synchost::quality_from_json(R"({"components": []})"), std::runtime_error);
}

TEST(QualityReport, CoverageIsPerGroupAndOverAll) {
    const QualityReport r = report(8, 6, 2, 1);
    EXPECT_DOUBLE_EQ(r.coverage_percent(0, 0), 75.0);
    EXPECT_DOUBLE_EQ(r.coverage_percent(1, 0), 50.0);
    EXPECT_DOUBLE_EQ(r.coverage_percent(QualityReport::kAll, 0), 70.0);
    EXPECT_DOUBLE_EQ(r.coverage_percent(QualityReport::kAll, 1), 80.0);
}

TEST(QualityReport, ADropOfMoreThanTenPointsIsNamedOnceWithBothFigures) {
    const QualityReport before = report(8, 8, 2, 2);  // a: 100 %
    const auto drops = synchost::coverage_drops(before, report(8, 0, 2, 0), 4);
    ASSERT_EQ(drops.size(), 1u) << "the groups fell with the whole: one line";
    EXPECT_EQ(drops[0],
              "a coverage fell from 100.0% to 0.0% of all events since run 4: check the sync's mapping "
              "and the model's column");
    EXPECT_TRUE(synchost::coverage_drops(before, report(8, 8, 2, 2), 4).empty());
    // Exactly ten points is not more than ten.
    EXPECT_TRUE(synchost::coverage_drops(report(10, 10, 0, 0), report(10, 9, 0, 0), 4).empty());
    // One group losing a key while the whole stays within ten points is named with its group.
    const auto group = synchost::coverage_drops(report(18, 18, 2, 2), report(18, 18, 2, 0), 4);
    ASSERT_EQ(group.size(), 1u);
    EXPECT_EQ(group[0], "a coverage of lead events fell from 100.0% to 0.0% since run 4");
    // A group the earlier run did not have compares with nothing.
    QualityReport renamed = report(18, 18, 2, 0);
    renamed.groups[1].name = "signup";
    EXPECT_TRUE(synchost::coverage_drops(report(18, 18, 2, 2), renamed, 4).empty());
}

TEST(QualityReport, DurationsAndFreshnessInWords) {
    EXPECT_EQ(synchost::duration_text(0), "0s");
    EXPECT_EQ(synchost::duration_text(59999), "59s");
    EXPECT_EQ(synchost::duration_text(125000), "2m 5s");
    EXPECT_EQ(synchost::duration_text(7205000), "2h");
    EXPECT_EQ(synchost::duration_text(90061000), "1d 1h");
    EXPECT_EQ(synchost::freshness_text(report(8, 6, 2, 1)),
              "event age when sent: 2m 5s (median), 2h 1m (p95), 1d 1h (max); 3 older than 1h");
    EXPECT_EQ(synchost::late_warning(report(8, 6, 2, 1))
                  .rfind("3 of 10 events were older than 1h when sent: treated "
                         "differently",
                         0),
              0u);
    QualityReport fresh = report(8, 6, 2, 1);
    fresh.late_events = 0;
    EXPECT_EQ(synchost::late_warning(fresh), "");
}

TEST(DestinationScore, ReadsThePluginsReportAndRefusesAMalformedOne) {
    const auto s = synchost::destination_score_from_json(
        R"({"source": "S", "windows": [{"label": "1d", "status": "FAIR", "components": [{"name": "a", "groups":
            [{"name": "checkout", "coverage_percent": 62.5, "overlap_percent": null,
              "issues": [{"name": "Low", "reason": "why"}]}]}]}]})");
    ASSERT_EQ(s.windows.size(), 1u);
    EXPECT_EQ(s.windows[0].status, "FAIR");
    const auto *cell = s.windows[0].cell("a", "checkout");
    ASSERT_NE(cell, nullptr);
    EXPECT_DOUBLE_EQ(*cell->coverage_percent, 62.5);
    EXPECT_FALSE(cell->overlap_percent.has_value());
    ASSERT_EQ(cell->issues.size(), 1u);
    EXPECT_EQ(cell->issues[0].reason, "why");
    EXPECT_EQ(s.windows[0].cell("a", "lead"), nullptr);
    EXPECT_THROW(synchost::destination_score_from_json(R"({"windows": [{"components": 3}]})"), std::runtime_error);
}
