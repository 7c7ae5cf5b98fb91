// The pipeline reached the way a host reaches it: through the C ABI of the built plugin, with the
// transport replaced by the dry-run sink.
#include "plugin/loader.hpp"

#include <support/batch_builder.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <chrono>

using namespace synchost;

namespace {

struct Opened {
    std::shared_ptr<Plugin> plugin;
    sp_instance *inst = nullptr;
    ~Opened() {
        if (inst) plugin->entry().destroy(inst);
    }
};

void open_dry_run(Opened &o, uint32_t flags = SP_OPEN_DRY_RUN) {
    o.plugin = Plugin::load(PINTEREST_PLUGIN);
    sp_config_entry account{sizeof(sp_config_entry), "ad_account_id", "549755885175"};
    const sp_config_entry *entries[] = {&account};
    sp_config config{sizeof(sp_config), 1, entries};
    sp_mapping_entry m1{sizeof(sp_mapping_entry), "event_name", "type", nullptr};
    sp_mapping_entry m2{sizeof(sp_mapping_entry), "email", "email", nullptr};
    sp_mapping_entry m3{sizeof(sp_mapping_entry), "value", "total", nullptr};
    const sp_mapping_entry *me[] = {&m1, &m2, &m3};
    sp_mapping mapping{sizeof(sp_mapping), 3, me};
    sp_open_params p{};
    p.struct_size = sizeof p;
    p.target_kind = SP_TARGET_SYNC;
    p.sync_mode = SP_SYNC_INSERT;
    p.config = &config;
    p.mapping = &mapping;
    p.sync_id = "abi-write-path";
    p.flags = flags;
    sp_error *err = nullptr;
    ASSERT_EQ(o.plugin->entry().open(&p, nullptr, &o.inst, &err), SP_OK) << take_error(*o.plugin, err, "").message;
}

}  // namespace

TEST(WritePath, RowsBecomeOneBodyAndOneResultEachThroughTheAbi) {
    Opened o;
    open_dry_run(o);
    support::BatchBuilder b({"type", "email", "total"});
    for (int i = 0; i < 2500; ++i) {
        b.begin_row("order-" + std::to_string(i));
        b.add_text(i == 7 ? "not a valid event!" : "checkout");
        b.add_text(" User" + std::to_string(i) + "@Example.COM ");
        b.add_real(10.25 + i);
    }
    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    sp_error *err = nullptr;
    ASSERT_EQ(o.plugin->entry().write_batch(o.inst, b.finish(), &wr, &err), SP_OK);
    ASSERT_EQ(wr.record_count, 2500u);
    EXPECT_EQ(wr.ok_count, 2499u);
    EXPECT_EQ(wr.rejected_count, 1u);
    const sp_record_result *bad = sp_result_at(&wr, 7);
    EXPECT_EQ(bad->status, SP_RECORD_REJECTED);
    EXPECT_EQ(bad->category, SP_ERR_DATA);
    EXPECT_STREQ(bad->field, "event_name");
    ASSERT_NE(bad->message, nullptr);
    EXPECT_NE(std::string(bad->message).find("event_name"), std::string::npos);
    for (uint32_t i = 0; i < wr.record_count; ++i) ASSERT_NE(sp_result_at(&wr, i)->event_id, nullptr);

    auto ext = static_cast<const sp_ext_dry_run *>(o.plugin->entry().get_extension(SP_EXT_DRY_RUN));
    ASSERT_NE(ext, nullptr);
    uint32_t count = 0;
    const char *const *bodies = ext->requests(o.inst, &count);
    ASSERT_EQ(count, 3u);  // 2499 events in batches of at most 1000
    size_t events = 0;
    for (uint32_t i = 0; i < count; ++i) {
        auto v = boost::json::parse(bodies[i]);
        const auto &data = v.at("data").as_array();
        events += data.size();
        EXPECT_LE(data.size(), 1000u);
        for (const auto &ev : data) {
            EXPECT_EQ(ev.at("action_source").as_string(), "web");
            EXPECT_EQ(ev.at("user_data").at("em").as_array()[0].as_string().size(), 64u);
            EXPECT_TRUE(ev.at("custom_data").at("value").is_string());
        }
    }
    EXPECT_EQ(events, 2499u);
    // The first event carries the id reported in result 0.
    auto first = boost::json::parse(bodies[0]);
    EXPECT_EQ(std::string(first.at("data").as_array()[0].at("event_id").as_string()), sp_result_at(&wr, 0)->event_id);
    EXPECT_EQ(std::string(bodies[0]).find("Example.COM"), std::string::npos) << "raw email in a body";
}

TEST(WritePath, HostClockDrivesTheEventTimeWindow) {
    Opened o;
    open_dry_run(o);
    // No event_time mapping: events get the host's "now".
    sp_host host{};
    host.struct_size = sizeof host;
    host.now_unix_ms = [](void *) -> int64_t { return 1700000000123; };
    o.plugin->entry().destroy(o.inst);
    o.inst = nullptr;
    sp_config_entry account{sizeof(sp_config_entry), "ad_account_id", "1"};
    const sp_config_entry *entries[] = {&account};
    sp_config config{sizeof(sp_config), 1, entries};
    sp_mapping_entry m1{sizeof(sp_mapping_entry), "event_name", "type", nullptr};
    sp_mapping_entry m2{sizeof(sp_mapping_entry), "email", "email", nullptr};
    const sp_mapping_entry *me[] = {&m1, &m2};
    sp_mapping mapping{sizeof(sp_mapping), 2, me};
    sp_open_params p{};
    p.struct_size = sizeof p;
    p.target_kind = SP_TARGET_AUDIENCE;
    p.audience_mode = SP_AUDIENCE_ADD;
    p.config = &config;
    p.mapping = &mapping;
    p.sync_id = "clock";
    p.flags = SP_OPEN_DRY_RUN;
    sp_error *err = nullptr;
    ASSERT_EQ(o.plugin->entry().open(&p, &host, &o.inst, &err), SP_OK);
    support::BatchBuilder b({"type", "email"});
    b.begin_row("m1");
    b.add_text("signup");
    b.add_text("a@b.co");
    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    ASSERT_EQ(o.plugin->entry().write_batch(o.inst, b.finish(), &wr, &err), SP_OK);
    auto ext = static_cast<const sp_ext_dry_run *>(o.plugin->entry().get_extension(SP_EXT_DRY_RUN));
    uint32_t count = 0;
    const char *const *bodies = ext->requests(o.inst, &count);
    ASSERT_EQ(count, 1u);
    EXPECT_EQ(boost::json::parse(bodies[0]).at("data").as_array()[0].at("event_time").as_int64(), 1700000000);
}

// Pinterest events can only be added: a record asking for anything else (ABI minor 1 operations)
// is rejected as unsupported, and the records around it are still sent.
TEST(WritePath, OperationsOtherThanAddingAreRejectedOneByOne) {
    Opened o;
    open_dry_run(o);
    support::BatchBuilder b({"type", "email", "total"});
    const uint32_t ops[] = {SP_OP_UPSERT, SP_OP_DELETE, SP_OP_UPSERT, SP_OP_REMOVE};
    for (int i = 0; i < 4; ++i) {
        b.begin_row("k" + std::to_string(i), ops[i], 0);
        b.add_text("checkout");
        b.add_text("u" + std::to_string(i) + "@example.com");
        b.add_real(1.5);
    }
    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    sp_error *err = nullptr;
    ASSERT_EQ(o.plugin->entry().write_batch(o.inst, b.finish(), &wr, &err), SP_OK);
    ASSERT_EQ(wr.record_count, 4u);
    EXPECT_EQ(wr.ok_count, 2u);
    EXPECT_EQ(wr.rejected_count, 2u);
    for (uint32_t i : {1u, 3u}) {
        const sp_record_result *r = sp_result_at(&wr, i);
        EXPECT_EQ(r->status, SP_RECORD_REJECTED) << i;
        EXPECT_EQ(r->category, SP_ERR_UNSUPPORTED) << i;
        ASSERT_NE(r->message, nullptr);
        EXPECT_NE(std::string(r->message).find("can only be added"), std::string::npos) << r->message;
    }
    EXPECT_EQ(sp_result_at(&wr, 0)->status, SP_RECORD_OK);
    EXPECT_EQ(sp_result_at(&wr, 2)->status, SP_RECORD_OK);
    auto ext = static_cast<const sp_ext_dry_run *>(o.plugin->entry().get_extension(SP_EXT_DRY_RUN));
    uint32_t count = 0;
    const char *const *bodies = ext->requests(o.inst, &count);
    ASSERT_EQ(count, 1u);
    EXPECT_EQ(boost::json::parse(bodies[0]).at("data").as_array().size(), 2u);
}
