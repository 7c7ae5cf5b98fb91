// Match quality and freshness end to end: what the plugin counts while it builds events
// (sp.quality/1), kept with each run and shown by sync, status and quality; Pinterest's own
// Event Quality Score, which the sandbox scores independently from the bodies it received.
#include "workspace.hpp"

#include <regex>

namespace e2e {
namespace {

// Orders 1..20: 15 with an email, 5 without; every one with an IP address and a user agent, so
// all 20 are sendable. Ten are ten minutes old, ten three hours old.
void add_mixed_orders(Workspace &w, int first = 1, int last = 20) {
    w.add_valid_orders(first, last);
    w.sql("ALTER TABLE orders ADD COLUMN ip TEXT; ALTER TABLE orders ADD COLUMN ua TEXT;");
    w.sql(
        "UPDATE orders SET ip = '203.0.113.' || (rowid % 200), ua = 'Mozilla/5.0 (e2e)';"
        "UPDATE orders SET email = NULL WHERE rowid % 4 = 0;"
        "UPDATE orders SET created_at = created_at + 600 - 3 * 3600 WHERE rowid % 2 = 0;");
}

const std::string kMixedMapping =
    R"({"event_name": "event_type", "event_time": "created_at", "email": "email", "value": "total",
        "order_id": "order_id", "client_ip_address": "ip", "client_user_agent": "ua"})";

const json::object &coverage_of(const json::value &quality, const json::value &group) {
    for (const auto &g : quality.at("coverage").as_array())
        if (g.at("group") == group) return g.as_object();
    ADD_FAILURE() << "no coverage for group " << group;
    static const json::object none;
    return none;
}

const json::object &component(const json::object &group, std::string_view name) {
    for (const auto &c : group.at("components").as_array())
        if (c.at("name").as_string() == name) return c.as_object();
    ADD_FAILURE() << "no component " << name;
    static const json::object none;
    return none;
}

TEST(QualityE2E, ASyncMeasuresEventAgesAndWarnsAboutTheOnesPinterestCountsAsOffline) {
    Workspace w;
    add_mixed_orders(w);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kMixedMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json::value sum = summary(r);  // kept: `fresh` points into it
    const json::object &fresh = sum.at("freshness").as_object();
    EXPECT_EQ(fresh.at("events").as_int64(), 20);
    EXPECT_EQ(fresh.at("late_events").as_int64(), 10);
    EXPECT_EQ(fresh.at("late_after_ms").as_int64(), 3600 * 1000);
    // Half the events are ten minutes old, half about three hours: the median is the younger.
    EXPECT_LT(fresh.at("p50_ms").as_int64(), 3600 * 1000);
    EXPECT_GE(fresh.at("p95_ms").as_int64(), 2 * 3600 * 1000);
    EXPECT_GE(fresh.at("max_ms").as_int64(), fresh.at("p95_ms").as_int64());
    EXPECT_NE(r.err.find("10 of 20 events were older than 1h when sent: counted by Pinterest as offline"),
              std::string::npos)
        << r.err;
    uint64_t bucketed = 0;
    for (const auto &b : fresh.at("buckets").as_array()) bucketed += b.at("events").to_number<uint64_t>();
    EXPECT_EQ(bucketed, 20u);

    // status keeps the figures with the run.
    const json::value st = w.status("orders");
    EXPECT_EQ(st.at("runs").at(0).at("freshness").at("late_events").as_int64(), 10);
    CommandResult text = w.synchost({"status", "orders.json"});
    EXPECT_NE(text.out.find("event age when sent: "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("10 older than 1h"), std::string::npos) << text.out;
}

// What never reached Pinterest is not reported as sent: no figures, no late warning.
TEST(QualityE2E, EventsTheDestinationNeverTookAreNotCounted) {
    Workspace w({"--fault", "status:503"});
    add_mixed_orders(w);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kMixedMapping,
                 R"(, "retry_max_elapsed_seconds": 0)");
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_FALSE(summary(r).as_object().contains("freshness")) << r.out;
    EXPECT_EQ(r.err.find("older than 1h"), std::string::npos) << r.err;
}

TEST(QualityE2E, FreshEventsGiveNoWarning) {
    Workspace w;
    w.add_valid_orders(1, 5);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kOrderMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(summary(r).at("freshness").at("late_events").as_int64(), 0);
    EXPECT_EQ(r.err.find("older than"), std::string::npos) << r.err;
}

TEST(QualityE2E, QualityShowsLocalCoverageBesideTheSandboxsOwnScore) {
    Workspace w;
    ASSERT_EQ(w.connect("pinterest").exit_code, 0);  // OAuth grants ads:read
    add_mixed_orders(w);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kMixedMapping, "", R"("pinterest")");
    CommandResult run = w.synchost({"sync", "orders.json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;

    CommandResult q = w.synchost({"quality", "orders.json", "--json"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    const json::value report = json::parse(q.out);
    const json::object &checkout = coverage_of(report, "checkout");
    EXPECT_EQ(checkout.at("events").as_int64(), 20);
    const json::object &email = component(checkout, "hashed_email");
    EXPECT_DOUBLE_EQ(email.at("local_percent").as_double(), 75.0);
    // The sandbox counted the bodies it received on its own: the same 15 of 20.
    EXPECT_DOUBLE_EQ(email.at("destination").at("1d web").at("coverage_percent").as_double(), 75.0);
    EXPECT_DOUBLE_EQ(email.at("destination").at("14d web").at("coverage_percent").as_double(), 75.0);
    EXPECT_DOUBLE_EQ(component(checkout, "ip_address").at("local_percent").as_double(), 100.0);
    EXPECT_DOUBLE_EQ(component(checkout, "click_id_epik").at("local_percent").as_double(), 0.0);
    EXPECT_DOUBLE_EQ(
        component(checkout, "click_id_epik").at("destination").at("1d web").at("coverage_percent").as_double(), 0.0);
    const json::array &windows = report.at("destination").at("windows").as_array();
    ASSERT_EQ(windows.size(), 2u);
    EXPECT_EQ(windows[0].at("status").as_string(), "FAIR");  // email on 75 %: the sandbox's rule

    CommandResult text = w.synchost({"quality", "orders.json"});
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("Pinterest Event Quality Score (Conversions API), 1d web: FAIR"), std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find(
                  "issue with click_id_epik: Low coverage: fewer than half of these events carry click_id_epik (checkout)"),
              std::string::npos)
        << text.out;
    EXPECT_EQ(w.stats().at("requests").at("conversion_eqs").as_int64(), 4);  // two windows, twice
}

TEST(QualityE2E, AConversionTokenCannotReadTheScoreSoQualitySaysWhyAndShowsTheLocalPart) {
    Workspace w;
    add_mixed_orders(w);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kMixedMapping);
    ASSERT_EQ(w.synchost({"sync", "orders.json"}).exit_code, 0);
    CommandResult q = w.synchost({"quality", "orders.json", "--json"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    const json::value report = json::parse(q.out);
    EXPECT_EQ(report.at("destination").at("error").at("category").as_string(), "permission");
    EXPECT_NE(std::string(report.at("destination").at("error").at("message").as_string()).find("ads:read"),
              std::string::npos);
    EXPECT_DOUBLE_EQ(component(coverage_of(report, nullptr), "hashed_email").at("local_percent").as_double(), 75.0);
    CommandResult text = w.synchost({"quality", "orders.json"});
    EXPECT_NE(text.out.find("unavailable (permission): reading Pinterest's Event Quality Score needs the ads:read"),
              std::string::npos)
        << text.out;
    EXPECT_EQ(text.out.find(kToken), std::string::npos);
    CommandResult local = w.synchost({"quality", "orders.json", "--local", "--json"});
    EXPECT_TRUE(json::parse(local.out).at("destination").is_null());
}

TEST(QualityE2E, LosingTheEmailMappingBetweenTwoRunsIsAWarningOfTheSecondRun) {
    Workspace w;
    add_mixed_orders(w);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kMixedMapping);
    CommandResult first = w.synchost({"sync", "orders.json"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(first.err.find("coverage fell"), std::string::npos) << first.err;

    // The model gains a column the mapping now reads email from, and nobody fills it: every event
    // still goes out (IP address and user agent), none with an email.
    w.sql(
        "INSERT INTO orders SELECT 'n' || order_id, event_type, created_at, email, total, ip, ua FROM orders;"
        "ALTER TABLE orders ADD COLUMN contact_email TEXT;");
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders",
                 R"({"event_name": "event_type", "event_time": "created_at", "email": "contact_email",
                     "value": "total", "order_id": "order_id", "client_ip_address": "ip", "client_user_agent": "ua"})");
    CommandResult second = w.synchost({"sync", "orders.json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_NE(second.err.find("hashed_email coverage fell from 75.0% to 0.0% of all events since run 1"),
              std::string::npos)
        << second.err;
    EXPECT_EQ(second.err.find("ip_address coverage fell"), std::string::npos) << second.err;

    CommandResult q = w.synchost({"quality", "orders.json", "--json", "--local"});
    const json::value report = json::parse(q.out);
    EXPECT_EQ(report.at("previous_run").as_int64(), 1);
    EXPECT_DOUBLE_EQ(component(coverage_of(report, nullptr), "hashed_email").at("change_points").as_double(), -75.0);
}

// What a person sees in the HTML report, read back from its markup: one self-contained file
// (nothing fetched, no script) with the figures the JSON gives.
TEST(QualityE2E, TheHtmlReportIsSelfContainedAndCarriesTheFigures) {
    Workspace w;
    ASSERT_EQ(w.connect("pinterest").exit_code, 0);
    add_mixed_orders(w);
    w.write_sync("orders", R"("mode": "insert")", "SELECT * FROM orders", kMixedMapping, "", R"("pinterest")");
    ASSERT_EQ(w.synchost({"sync", "orders.json"}).exit_code, 0);
    CommandResult q = w.synchost({"quality", "orders.json", "--html", "report.html"});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    const std::string html = read_text(w.dir() + "/report.html");
    ASSERT_FALSE(html.empty());
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find(" src="), std::string::npos);
    EXPECT_EQ(html.find(" href="), std::string::npos);
    EXPECT_EQ(html.find("@import"), std::string::npos);
    EXPECT_EQ(html.find(kToken), std::string::npos);

    auto cell = [&](const std::string &attrs) {
        const std::regex re("<td class=\"num\" " + attrs + ">([^<]*)</td>");
        std::smatch m;
        return std::regex_search(html, m, re) ? m[1].str() : std::string("(missing)");
    };
    EXPECT_EQ(cell(R"(data-group="" data-component="hashed_email" data-kind="local")"), "75.0%");
    EXPECT_EQ(cell(R"(data-group="checkout" data-component="ip_address" data-kind="local")"), "100.0%");
    EXPECT_EQ(
        cell(R"(data-group="checkout" data-component="hashed_email" data-kind="destination" data-window="14d web")"),
        "75.0%");
    EXPECT_NE(html.find(R"(<span class="badge FAIR" data-window="1d web">FAIR</span>)"), std::string::npos);

    // The age histogram: one bar per bucket, the bars adding up to the events sent.
    const std::regex bar("data-events=\"([0-9]+)\"");
    uint64_t events = 0, bars = 0;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), bar); it != std::sregex_iterator(); ++it, ++bars)
        events += std::stoull((*it)[1].str());
    EXPECT_EQ(bars, 10u);
    EXPECT_EQ(events, 20u);
    EXPECT_NE(html.find("<span id=\"events\">20</span>"), std::string::npos);
}

}  // namespace
}  // namespace e2e

namespace e2e {
namespace {

// "newest_first": a backlog sends its newest rows first, so what the budget cannot clear within
// the hour is the part already too old to count as online.
TEST(QualityE2E, NewestFirstSendsTheNewestRowsFirst) {
    Workspace w;
    w.add_valid_orders(1, 30);
    w.sql("UPDATE orders SET created_at = created_at - 7200 + rowid * 60;");  // o30 is the newest
    w.write_sync("orders", R"("mode": "insert", "newest_first": "created_at")", "SELECT * FROM orders; -- every order", kOrderMapping);
    CommandResult r = w.synchost({"sync", "orders.json", "--limit", "5", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(summary(r).at("delivered").as_int64(), 5);
    const json::value st = w.status("orders");
    EXPECT_EQ(st.at("delivered").as_int64(), 5);
    CommandResult dry = w.synchost({"sync", "orders.json", "--dry-run", "--limit", "1"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    const json::value body = json::parse(dry.out.substr(0, dry.out.find('\n')));
    // o26..o30 went out; the next newest is o25.
    EXPECT_EQ(body.at("data").at(0).at("custom_data").at("order_id").as_string(), "o25");

    w.write_sync("orders", R"("mode": "insert", "newest_first": "no_such_column")", "SELECT * FROM orders",
                 kOrderMapping);
    // SQLite sorts by an unknown name in ORDER BY as by a string constant: `check` and `sync` look
    // the column up in the result, and refuse it in the same words, with state (the model is then
    // diffed inside SQLite) and without (a first run, from a state directory of its own).
    const std::string fresh = w.dir() + "/fresh-state";
    for (const std::vector<std::string> &cmd : std::vector<std::vector<std::string>>{
             {"check", "orders.json"}, {"sync", "orders.json"}, {"sync", "orders.json", "--state-dir", fresh}}) {
        CommandResult bad = w.synchost(cmd);
        EXPECT_EQ(bad.exit_code, 2) << cmd.back() << "\n" << bad.out << bad.err;
        EXPECT_NE((bad.out + bad.err).find("the newest_first column \"no_such_column\" is not in the query result"),
                  std::string::npos)
            << cmd.back() << "\n" << bad.out << bad.err;
    }
}

}  // namespace
}  // namespace e2e
