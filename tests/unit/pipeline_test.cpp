// The event pipeline end to end (mapping -> normalization -> hashing -> JSON -> payloads): golden
// bodies, per-row rejections, splitting, deterministic event ids, and a randomized property test.
#include "pipeline/pipeline.hpp"
#include "plugin/manifest.hpp"
#include "test_support.hpp"

#include <support/batch_builder.hpp>
#include <syncplugin/syncplugin.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace pcapi;
using test_support::OwnedMapping;
using testing_support::sha256_hex;

namespace {

constexpr int64_t kNow = 1795000000;  // 2026-11-18T09:46:40Z

Pipeline make_pipeline(const OwnedMapping &m, PipelineOptions opt = pcapi::pipeline_options(), size_t max_events = 1000,
                       size_t max_bytes = 4 << 20) {
    if (opt.sync_id.empty()) opt.sync_id = "test-sync";
    return Pipeline(Mapping::compile(m.get(), testing_support::pinterest_rules()), opt, max_events, max_bytes);
}

std::string event_id_for(const std::string &sync, const std::string &key) {
    Sha256 sha;
    char id[kEventIdLength];
    std::string scratch;
    derive_event_id(sha, sync, key, id, scratch);
    return std::string(id, kEventIdLength);
}

}  // namespace

TEST(Pipeline, GoldenBodyForTypicalRows) {
    OwnedMapping m({{"event_name", "type"}, {"event_time", "at"}, {"email", "email"}, {"phone", "phone"},
                    {"value", "total"}, {"currency", "cur"}, {"order_id", "order"}, {"content_ids", "skus"},
                    {"action_source", "=offline"}});
    PipelineOptions opt = pcapi::pipeline_options();
    opt.default_phone_country_code = "1";
    Pipeline p = make_pipeline(m, opt);
    support::BatchBuilder b({"type", "at", "email", "phone", "total", "cur", "order", "skus"});
    b.begin_row("1001");
    b.add_text("checkout");
    b.add_int(kNow - 60);
    b.add_text("  Ada.Lovelace@Example.COM ");
    b.add_text("(415) 555-0100");
    b.add_real(129.9);
    b.add_text("usd");
    b.add_int(1001);
    b.add_text("[\"sku-1\", 42]");
    b.begin_row("1002");
    b.add_text("Add_To_Cart");
    b.add_text("2026-11-18T09:00:00Z");
    b.add_text("grace@example.org,GRACE@example.org");
    b.add_null();
    b.add_text("12");
    b.add_null();
    b.add_text("A-2");
    b.add_null();

    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    ASSERT_EQ(out.payloads.size(), 1u);
    ASSERT_FALSE(out.records[0].rejected) << out.messages[0];
    ASSERT_FALSE(out.records[1].rejected);
    const std::string expected =
        "{\"data\":["
        "{\"event_name\":\"checkout\",\"action_source\":\"offline\",\"event_time\":" + std::to_string(kNow - 60) +
        ",\"event_id\":\"" + event_id_for("test-sync", "1001") + "\","
        "\"user_data\":{\"em\":[\"" + sha256_hex("ada.lovelace@example.com") + "\"],\"ph\":[\"" +
        sha256_hex("14155550100") + "\"]},"
        "\"custom_data\":{\"value\":\"129.9\",\"currency\":\"USD\",\"order_id\":\"1001\",\"content_ids\":[\"sku-1\",\"42\"]}},"
        "{\"event_name\":\"add_to_cart\",\"action_source\":\"offline\",\"event_time\":1794992400,\"event_id\":\"" +
        event_id_for("test-sync", "1002") + "\","
        "\"user_data\":{\"em\":[\"" + sha256_hex("grace@example.org") + "\"]},"
        "\"custom_data\":{\"value\":\"12\",\"order_id\":\"A-2\"}}"
        "]}";
    EXPECT_EQ(out.payloads[0].body, expected);
}

TEST(Pipeline, DefaultsActionSourceToWebAndEventTimeToNow) {
    OwnedMapping m({{"event_name", "=lead"}, {"hashed_email", "h"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder b({"h"});
    b.begin_row("k");
    b.add_text(std::string(64, 'A'));  // uppercase hex is lowercased, not re-hashed
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    ASSERT_EQ(out.payloads.size(), 1u);
    EXPECT_EQ(out.payloads[0].body, "{\"data\":[{\"event_name\":\"lead\",\"action_source\":\"web\",\"event_time\":" +
                                        std::to_string(kNow) + ",\"event_id\":\"" + event_id_for("test-sync", "k") +
                                        "\",\"user_data\":{\"em\":[\"" + std::string(64, 'a') + "\"]}}]}");
}

TEST(Pipeline, RejectsRowsWithPreciseReasonsAndKeepsTheRest) {
    OwnedMapping m({{"event_name", "type"}, {"event_time", "at"}, {"email", "email"}, {"hashed_phone", "hp"},
                    {"currency", "cur"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder b({"type", "at", "email", "hp", "cur"});
    auto row = [&](const char *key, const char *type, int64_t at, const char *email, const char *hp, const char *cur) {
        b.begin_row(key);
        type ? b.add_text(type) : b.add_null();
        b.add_int(at);
        email ? b.add_text(email) : b.add_null();
        hp ? b.add_text(hp) : b.add_null();
        cur ? b.add_text(cur) : b.add_null();
    };
    row("ok", "checkout", kNow, "a@b.co", nullptr, "EUR");
    row("no-name", nullptr, kNow, "a@b.co", nullptr, nullptr);
    row("old", "checkout", kNow - 8 * 86400, "a@b.co", nullptr, nullptr);
    row("future", "checkout", kNow + 3600, "a@b.co", nullptr, nullptr);
    row("bad-hash", "checkout", kNow, "a@b.co", "not-a-hash", nullptr);
    row("md5", "checkout", kNow, "a@b.co", "0123456789abcdef0123456789abcdef", nullptr);
    row("phone-only", "checkout", kNow, nullptr, std::string(64, 'b').c_str(), nullptr);
    row("bad-email", "checkout", kNow, "secret-person.example.com", nullptr, nullptr);
    row("bad-currency", "checkout", kNow, "a@b.co", nullptr, "EURO");
    row("bad-event", "check out!", kNow, "a@b.co", nullptr, nullptr);
    row("ok2", "custom_event-1", kNow, "a@b.co", nullptr, nullptr);

    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    ASSERT_EQ(out.records.size(), 11u);
    auto reason = [&](size_t r) {
        return out.records[r].rejected ? out.messages[out.records[r].message] : std::string("(accepted)");
    };
    EXPECT_EQ(reason(0), "(accepted)");
    EXPECT_EQ(reason(1), "event_name: is empty");
    EXPECT_NE(reason(2).find("event_time: "), std::string::npos);
    EXPECT_NE(reason(3).find("event_time: "), std::string::npos);
    EXPECT_EQ(reason(4).rfind("hashed_phone: ", 0), 0u) << reason(4);
    EXPECT_EQ(reason(5).rfind("hashed_phone: ", 0), 0u) << reason(5);
    EXPECT_NE(reason(6).find("no usable identifier"), std::string::npos);
    EXPECT_NE(reason(6).find("phone and the other fields alone are not enough"), std::string::npos);
    EXPECT_EQ(reason(7).rfind("email: ", 0), 0u) << reason(7);
    EXPECT_EQ(reason(8).rfind("currency: ", 0), 0u) << reason(8);
    EXPECT_EQ(reason(9).rfind("event_name: ", 0), 0u) << reason(9);
    EXPECT_EQ(reason(10), "(accepted)");
    for (const auto &msg : out.messages) EXPECT_EQ(msg.find("secret-person"), std::string::npos) << "PII in: " << msg;
    ASSERT_EQ(out.payloads.size(), 1u);
    ASSERT_EQ(out.payloads[0].items.size(), 2u);
    EXPECT_EQ(out.payloads[0].items[0].record, 0u);
    EXPECT_EQ(out.payloads[0].items[1].record, 10u);
    EXPECT_EQ(out.records[1].field, Field::event_name);
    EXPECT_EQ(out.records[6].field, Field::count_);
    // Every record carries its derived event id, whether it was rejected before the identifiers
    // were hashed (event_name, email), after (currency, no usable identifier), or accepted.
    const char *keys[] = {"ok", "no-name", "old", "future", "bad-hash", "md5", "phone-only",
                          "bad-email", "bad-currency", "bad-event", "ok2"};
    for (uint32_t r = 0; r < 11; ++r) EXPECT_EQ(out.event_id(r), event_id_for("test-sync", keys[r])) << keys[r];
}

// Many identifiers in one event: more than the four SHA lanes, values too long for one block,
// duplicates within a key and across a raw field and its pre-hashed twin; hashes keep their
// order and each key lists a hash once.
TEST(Pipeline, ManyIdentifiersHashInOrderWithoutDuplicates) {
    OwnedMapping m({{"event_name", "=lead"}, {"email", "emails"}, {"hashed_email", "hem"}, {"phone", "phone"},
                    {"external_id", "xid"}, {"first_name", "fn"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder b({"emails", "hem", "phone", "xid", "fn"});
    const std::string long_email = std::string(60, 'l') + "@example.com";
    b.begin_row("k1");
    b.add_text("a@x.co, B@x.co ,a@x.co," + long_email + ",c@x.co,d@x.co");
    b.add_text(sha256_hex("c@x.co"));  // the same person as a raw value above
    b.add_text("+44 20 7946 0000");
    b.add_text(std::string(70, 'z'));
    b.add_text("Ada");
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    ASSERT_EQ(out.payloads.size(), 1u);
    ASSERT_FALSE(out.records[0].rejected) << out.messages[0];
    auto list = [](std::initializer_list<std::string> values) {
        std::string s = "[";
        for (const std::string &v : values) s += (s.size() > 1 ? ",\"" : "\"") + sha256_hex(v) + "\"";
        return s + "]";
    };
    const std::string expected = "{\"data\":[{\"event_name\":\"lead\",\"action_source\":\"web\",\"event_time\":" +
                                 std::to_string(kNow) + ",\"event_id\":\"" + event_id_for("test-sync", "k1") +
                                 "\",\"user_data\":{\"em\":" +
                                 list({"a@x.co", "b@x.co", long_email, "c@x.co", "d@x.co"}) +
                                 ",\"ph\":" + list({"442079460000"}) + ",\"fn\":" + list({"ada"}) +
                                 ",\"external_id\":" + list({std::string(70, 'z')}) + "}}]}";
    EXPECT_EQ(out.payloads[0].body, expected);
}

TEST(Pipeline, SplitsAtTheEventAndByteLimits) {
    OwnedMapping m({{"event_name", "=checkout"}, {"email", "e"}});
    Pipeline p = make_pipeline(m, {}, 1000, 64 * 1024);
    support::BatchBuilder b({"e"});
    for (int i = 0; i < 2500; ++i) {
        b.begin_row(std::to_string(i));
        b.add_text("user" + std::to_string(i) + "@example.com");
    }
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    size_t events = 0;
    uint32_t next = 0;
    for (const auto &pl : out.payloads) {
        EXPECT_LE(pl.items.size(), 1000u);
        EXPECT_LE(pl.body.size(), 64u * 1024);
        for (const auto &it : pl.items) EXPECT_EQ(it.record, next++);  // order kept across payloads
        events += pl.items.size();
        auto v = boost::json::parse(pl.body);
        EXPECT_EQ(v.at("data").as_array().size(), pl.items.size());
    }
    EXPECT_EQ(events, 2500u);
    EXPECT_GT(out.payloads.size(), 3u);  // the byte cap, not the event cap, decided here

    Pipeline q = make_pipeline(m, {}, 1000, 8 << 20);
    q.encode(*b.finish(), kNow, out);
    ASSERT_EQ(out.payloads.size(), 3u);
    EXPECT_EQ(out.payloads[0].items.size(), 1000u);
    EXPECT_EQ(out.payloads[2].items.size(), 500u);
}

// Rows that choose their ad account (the ad_account_id field): each request holds one account's
// events, every account's events in batch order, the cap still applies per request, an empty or
// NULL account means the configured one (""), and a value that is not an account id rejects the
// row with the field named and the value withheld.
TEST(Pipeline, RoutedRowsTravelInRequestsOfTheirOwnAccount) {
    OwnedMapping m({{"event_name", "=lead"}, {"email", "e"}, {"ad_account_id", "acct"}});
    Pipeline p = make_pipeline(m, {}, 3);
    support::BatchBuilder b({"e", "acct"});
    // "0111" is 111 with a leading zero: one account, not two.
    const std::vector<std::string> accounts = {"111", "222", "111", "", "0111", "222", "x9", "00111", "null", "111"};
    for (size_t i = 0; i < accounts.size(); ++i) {
        b.begin_row(std::to_string(i));
        b.add_text("u" + std::to_string(i) + "@x.io");
        if (accounts[i] == "null") b.add_null();
        else if (accounts[i] == "222") b.add_int(222);  // a number is an id too
        else b.add_text(accounts[i]);
    }
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    std::vector<std::pair<std::string, std::vector<uint32_t>>> requests;
    for (const auto &pl : out.payloads) {
        auto &r = requests.emplace_back(pl.account, std::vector<uint32_t>{});
        for (const auto &it : pl.items) r.second.push_back(it.record);
        EXPECT_EQ(boost::json::parse(pl.body).at("data").as_array().size(), pl.items.size());
        EXPECT_EQ(pl.body.find("ad_account"), std::string::npos) << "the routing field is not sent";
    }
    const std::vector<std::pair<std::string, std::vector<uint32_t>>> expected = {
        {"111", {0, 2, 4}}, {"111", {7, 9}}, {"222", {1, 5}}, {"", {3, 8}}};
    std::multiset<std::pair<std::string, std::vector<uint32_t>>> got(requests.begin(), requests.end()),
        want(expected.begin(), expected.end());
    EXPECT_EQ(got, want);
    ASSERT_TRUE(out.records[6].rejected);
    EXPECT_EQ(out.records[6].field, Field::ad_account_id);
    EXPECT_EQ(out.messages[out.records[6].message], "ad_account_id: is not an ad account id (digits only, at most 18)");
    for (uint32_t r : {0u, 1u, 3u, 8u}) EXPECT_FALSE(out.records[r].rejected) << r;

    // Without the field mapped nothing changes: one account, batch order.
    OwnedMapping plain({{"event_name", "=lead"}, {"email", "e"}});
    Pipeline q = make_pipeline(plain, {}, 3);
    q.encode(*b.finish(), kNow, out);
    ASSERT_EQ(out.payloads.size(), 4u);
    for (const auto &pl : out.payloads) EXPECT_EQ(pl.account, "");
    EXPECT_EQ(out.payloads[1].items[0].record, 3u);
}

// A row that names the configured account (in any spelling) travels with the rows that name none;
// a floating-point cell names no account, whatever it holds: above 2^53 it has already been
// rounded to another account's id (123456789012345678.0 is 123456789012345680).
TEST(Pipeline, TheConfiguredAccountNamedInARowAndFloatingPointIdsAreReadAsThePluginSendsThem) {
    OwnedMapping m({{"event_name", "=lead"}, {"email", "e"}, {"ad_account_id", "acct"}});
    PipelineOptions opt = pipeline_options();
    opt.configured_account = "549755885175";
    Pipeline p(Mapping::compile(m.get(), {}), opt, 1000, 4 << 20);
    support::BatchBuilder b({"e", "acct"});
    const auto row = [&b](int i) {
        b.begin_row(std::to_string(i));
        b.add_text("u" + std::to_string(i) + "@x.io");
    };
    row(0), b.add_null();
    row(1), b.add_text("549755885175");
    row(2), b.add_text("\u00a0 0549755885175 ");  // a no-break space and a leading zero
    row(3), b.add_int(549755885175);
    row(4), b.add_real(123456789012345678.0);
    row(5), b.add_real(111.0);
    row(6), b.add_text("111");
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    std::map<std::string, std::vector<uint32_t>> requests;
    for (const auto &pl : out.payloads)
        for (const auto &it : pl.items) requests[pl.account].push_back(it.record);
    EXPECT_EQ(requests, (std::map<std::string, std::vector<uint32_t>>{{"", {0, 1, 2, 3}}, {"111", {6}}}));
    for (uint32_t r : {4u, 5u}) {
        ASSERT_TRUE(out.records[r].rejected) << r;
        EXPECT_EQ(out.records[r].field, Field::ad_account_id);
        EXPECT_NE(out.messages[out.records[r].message].find("is a floating-point number"), std::string::npos)
            << out.messages[out.records[r].message];
    }
}

TEST(Pipeline, SliceRebuildsAValidSubsetBody) {
    OwnedMapping m({{"event_name", "=lead"}, {"email", "e"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder b({"e"});
    for (int i = 0; i < 5; ++i) {
        b.begin_row(std::to_string(i));
        b.add_text("u" + std::to_string(i) + "@x.io");
    }
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    Payload s = out.payloads[0].slice(1, 3);
    ASSERT_EQ(s.items.size(), 2u);
    EXPECT_EQ(s.items[0].record, 1u);
    auto v = boost::json::parse(s.body);
    EXPECT_EQ(v.at("data").as_array().size(), 2u);
    EXPECT_EQ(std::string(s.body.substr(s.items[1].begin, s.items[1].end - s.items[1].begin)),
              out.payloads[0].body.substr(out.payloads[0].items[2].begin,
                                          out.payloads[0].items[2].end - out.payloads[0].items[2].begin));
}

TEST(Pipeline, OversizedRowIsRejectedAndTheOthersAreSent) {
    OwnedMapping m({{"event_name", "=lead"}, {"email", "e"}, {"content_name", "big"}});
    Pipeline p = make_pipeline(m, {}, 1000, 1 << 20);
    support::BatchBuilder b({"e", "big"});
    b.begin_row("small");
    b.add_text("a@b.co");
    b.add_text("fine");
    b.begin_row("huge");
    b.add_text("a@b.co");
    b.add_text(std::string(10 << 20, 'x'));  // a 10 MB value
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    EXPECT_FALSE(out.records[0].rejected);
    ASSERT_TRUE(out.records[1].rejected);
    EXPECT_NE(out.messages[out.records[1].message].find("max_request_bytes"), std::string::npos);
    ASSERT_EQ(out.payloads.size(), 1u);
    EXPECT_EQ(out.payloads[0].items.size(), 1u);
}

TEST(Pipeline, InvalidUtf8AndNulAreRowErrors) {
    OwnedMapping m({{"event_name", "=lead"}, {"email", "e"}, {"content_name", "n"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder b({"e", "n"});
    b.begin_row("utf8");
    b.add_text("a@b.co");
    b.add_text("caf\xC3");  // truncated sequence
    b.begin_row("nul");
    b.add_text("a@b.co");
    b.add_text(std::string("a\0b", 3));
    b.begin_row("email-utf8");
    b.add_text("\xFF@b.co");
    b.add_text("ok");
    EncodedBatch out;
    p.encode(*b.finish(), kNow, out);
    for (int r = 0; r < 3; ++r) EXPECT_TRUE(out.records[r].rejected) << r;
    EXPECT_TRUE(out.payloads.empty());
}

TEST(Pipeline, MissingColumnIsAConfigErrorNamingIt) {
    OwnedMapping m({{"event_name", "type"}, {"email", "emial_address"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder b({"type", "email_address"});
    b.begin_row("1");
    b.add_text("lead");
    b.add_text("a@b.co");
    EncodedBatch out;
    try {
        p.encode(*b.finish(), kNow, out);
        FAIL() << "missing column accepted";
    } catch (const sp::failure &f) {
        EXPECT_EQ(f.category(), SP_ERR_CONFIG);
        const std::string msg = f.what();
        EXPECT_NE(msg.find("column \"emial_address\" (for email) is not in the result"), std::string::npos) << msg;
        EXPECT_NE(msg.find("did you mean \"email_address\""), std::string::npos) << msg;
    }
}

TEST(Pipeline, AFailedBindingIsNotReusedByTheNextBatch) {
    OwnedMapping m({{"event_name", "type"}, {"email", "email"}});
    Pipeline p = make_pipeline(m);
    support::BatchBuilder wrong({"type", "mail"});
    wrong.begin_row("1");
    wrong.add_text("lead");
    wrong.add_text("a@b.co");
    EncodedBatch out;
    EXPECT_THROW(p.encode(*wrong.finish(), kNow, out), sp::failure);
    // A batch with no columns at all must not be read with the failed batch's indexes.
    support::BatchBuilder empty(std::vector<std::string>{});
    empty.begin_row("2");
    EXPECT_THROW(p.encode(*empty.finish(), kNow, out), sp::failure);
    support::BatchBuilder right({"type", "email"});
    right.begin_row("3");
    right.add_text("lead");
    right.add_text("a@b.co");
    p.encode(*right.finish(), kNow, out);
    EXPECT_EQ(out.payloads.size(), 1u);
}

TEST(EventId, DeterministicAcrossRunsAndProcesses) {
    const std::string a = event_id_for("shop-checkouts", "order-42");
    EXPECT_EQ(a, event_id_for("shop-checkouts", "order-42"));
    EXPECT_NE(a, event_id_for("shop-checkouts", "order-43"));
    EXPECT_NE(a, event_id_for("other-sync", "order-42"));
    EXPECT_EQ(a.size(), 36u);
    EXPECT_EQ(a[8], '-');
    // Pinned: the id must never change between releases, or re-sent rows would be double counted.
    EXPECT_EQ(a, sha256_hex("pcapi-event/1\nshop-checkouts\norder-42").substr(0, 8) + "-" +
                     sha256_hex("pcapi-event/1\nshop-checkouts\norder-42").substr(8, 4) + "-" +
                     sha256_hex("pcapi-event/1\nshop-checkouts\norder-42").substr(12, 4) + "-" +
                     sha256_hex("pcapi-event/1\nshop-checkouts\norder-42").substr(16, 4) + "-" +
                     sha256_hex("pcapi-event/1\nshop-checkouts\norder-42").substr(20, 12));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        std::string id = event_id_for("shop-checkouts", "order-42");
        (void)!write(fds[1], id.data(), id.size());
        _exit(0);
    }
    close(fds[1]);
    char buf[64] = {};
    ASSERT_EQ(read(fds[0], buf, sizeof buf), 36);
    waitpid(pid, nullptr, 0);
    EXPECT_EQ(std::string(buf, 36), a);
}

TEST(Pipeline, PropertyRandomRowsGiveValidBodiesWithOnlyDefinedKeys) {
    const std::set<std::string> event_keys{"event_name", "action_source", "event_time", "event_id", "event_source_url",
                                           "opt_out", "partner_name", "app_id", "app_name", "app_version",
                                           "device_brand", "device_carrier", "device_model", "device_type",
                                           "os_version", "wifi", "language", "user_data", "custom_data",
                                           "app_info", "device_info"};
    const std::set<std::string> user_keys{"em", "ph", "ge", "db", "ln", "fn", "ct", "st", "zp", "country",
                                          "external_id", "hashed_maids", "client_ip_address", "client_user_agent",
                                          "click_id", "partner_id"};
    const std::set<std::string> custom_keys{"currency", "value", "content_ids", "content_name", "content_category",
                                            "content_brand", "contents", "num_items", "order_id", "search_string",
                                            "opt_out_type", "predicted_ltv"};
    // Pinterest's ConversionEventAppInfo and ConversionEventDeviceInfo (release 5.23).
    const std::set<std::string> object_keys{
        "app_info.app_id", "app_info.app_name", "app_info.app_package_name", "app_info.app_store",
        "app_info.app_version", "app_info.install_time", "app_info.user_agent", "app_info.window_height",
        "app_info.window_width", "device_info.battery_level", "device_info.brand", "device_info.carrier",
        "device_info.cpu_cores", "device_info.external_storage_free_space", "device_info.external_storage_size",
        "device_info.form_factor", "device_info.kernel_version", "device_info.languages", "device_info.locale",
        "device_info.model", "device_info.network_type", "device_info.os_family", "device_info.os_name",
        "device_info.os_release_name", "device_info.os_version", "device_info.screen_density",
        "device_info.screen_height", "device_info.screen_width", "device_info.storage_free_space",
        "device_info.storage_size", "device_info.timezone", "device_info.timezone_abbr", "device_info.type"};
    std::vector<std::pair<std::string, std::string>> kv;
    std::vector<std::string> cols;
    for (size_t i = 0; i < kFieldCount; ++i) {
        std::string name(field_info(static_cast<Field>(i)).name);
        if (name == "event_id") continue;
        kv.emplace_back(name, "c_" + name);
        cols.push_back("c_" + name);
    }
    OwnedMapping m(kv);
    Pipeline p = make_pipeline(m, {}, 1000, 256 * 1024);
    std::mt19937 rng(7);
    const std::vector<std::string> pool{"", " ", "checkout", "a@b.co", "A@B.CO , c@d.io", "+1 415 555 0100", "web",
                                        "offline", "12.50", "-3", "USD", "f", "Female", "1990-02-28", "02/30/1990",
                                        "CA", "California", "SW1A 1AA", "United Kingdom", "[\"x\",1]", "[1,",
                                        std::string(64, 'c'), std::string(64, 'G'), "\xC3\x28", "caf\xC3\xA9",
                                        "2026-11-18T09:00:00+01:00", "1794999000", "true", "0", "en", "ss-test",
                                        "[{\"id\":\"a\",\"item_price\":\"1.5\",\"quantity\":2}]", "[{\"bogus\":1}]",
                                        "quote\" and \\ and \n"};
    support::BatchBuilder b(cols);
    for (int round = 0; round < 40; ++round) {
        b.clear();
        const int n = 1 + static_cast<int>(rng() % 300);
        for (int r = 0; r < n; ++r) {
            b.begin_row("k" + std::to_string(round) + "-" + std::to_string(r));
            for (size_t c = 0; c < cols.size(); ++c) {
                switch (rng() % 6) {
                case 0: b.add_null(); break;
                case 1: b.add_int(static_cast<int64_t>(rng() % 2000000000)); break;
                case 2: b.add_real(static_cast<double>(rng() % 100000) / 100.0); break;
                default: b.add_text(pool[rng() % pool.size()]);
                }
            }
        }
        EncodedBatch out;
        p.encode(*b.finish(), kNow, out);
        ASSERT_EQ(out.records.size(), static_cast<size_t>(n));
        std::vector<int> seen(n, 0);
        for (const auto &pl : out.payloads) {
            ASSERT_LE(pl.items.size(), 1000u);
            ASSERT_LE(pl.body.size(), 256u * 1024);
            boost::json::error_code ec;
            auto v = boost::json::parse(pl.body, ec);  // Boost.JSON validates UTF-8 too
            ASSERT_FALSE(ec) << ec.message();
            const auto &data = v.at("data").as_array();
            ASSERT_EQ(data.size(), pl.items.size());
            for (const auto &it : pl.items) ++seen[it.record];
            for (const auto &ev : data) {
                for (const auto &kvp : ev.as_object()) EXPECT_TRUE(event_keys.count(kvp.key())) << kvp.key();
                for (const auto &kvp : ev.at("user_data").as_object()) EXPECT_TRUE(user_keys.count(kvp.key())) << kvp.key();
                if (ev.as_object().contains("custom_data")) {
                    for (const auto &kvp : ev.at("custom_data").as_object()) {
                        EXPECT_TRUE(custom_keys.count(kvp.key())) << kvp.key();
                    }
                }
                for (const char *object : {"app_info", "device_info"}) {
                    if (!ev.as_object().contains(object)) continue;
                    for (const auto &kvp : ev.at(object).as_object())
                        EXPECT_TRUE(object_keys.count(object + std::string(".") + std::string(kvp.key()))) << kvp.key();
                }
                for (const char *k : {"em", "ph", "ge", "db", "ct", "country"}) {
                    if (!ev.at("user_data").as_object().contains(k)) continue;
                    for (const auto &h : ev.at("user_data").at(k).as_array()) EXPECT_EQ(h.as_string().size(), 64u);
                }
            }
        }
        for (int r = 0; r < n; ++r) EXPECT_EQ(seen[r] + (out.records[r].rejected ? 1 : 0), 1) << "record " << r;
    }
}

// The builder keeps, per mapping, the fields each event looks at (EventBuilder::Plan): one builder
// given another mapping must walk that mapping's fields, not the first one's.
TEST(Pipeline, OneEventBuilderFollowsEachMappingItIsGiven) {
    OwnedMapping narrow({{"event_name", "=checkout"}, {"email", "e"}});
    OwnedMapping wide({{"event_name", "=checkout"}, {"email", "e"}, {"phone", "p"}, {"order_id", "o"}});
    Mapping a = Mapping::compile(narrow.get(), testing_support::pinterest_rules());
    Mapping b = Mapping::compile(wide.get(), testing_support::pinterest_rules());
    support::BatchBuilder rows({"e", "p", "o"});
    rows.begin_row("k1");
    rows.add_text("ada@example.com");
    rows.add_text("+14155550100");
    rows.add_text("A-1");
    const sp_batch &batch = *rows.finish();
    a.bind(batch);
    b.bind(batch);
    PipelineOptions opt = pcapi::pipeline_options();
    opt.sync_id = "plans";
    EventBuilder builder(opt);
    auto event = [&](const Mapping &m) {
        std::string out, id;
        RowError err;
        EXPECT_TRUE(builder.build(m, batch, 0, kNow, out, id, err)) << err.message;
        return boost::json::parse(out).as_object();
    };
    for (int round = 0; round < 2; ++round) {
        const boost::json::object first = event(a), second = event(b);
        EXPECT_FALSE(first.at("user_data").as_object().contains("ph")) << first;
        EXPECT_FALSE(first.contains("custom_data")) << first;
        EXPECT_EQ(second.at("user_data").at("ph").at(0).as_string(), sha256_hex("14155550100")) << second;
        EXPECT_EQ(second.at("custom_data").at("order_id").as_string(), "A-1") << second;
    }
}
