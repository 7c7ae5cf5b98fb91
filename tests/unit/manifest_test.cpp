// The manifest is the single source of truth: the plugin's field table and config handling must
// agree with it, and the descriptor built from it must round-trip.
#include "normalize/values.hpp"
#include "pipeline/fields.hpp"
#include "plugin/config.hpp"
#include "plugin/manifest.hpp"

#include <syncplugin/syncplugin.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <set>

using namespace pcapi;

TEST(Manifest, FieldTableMatchesTheManifestExactly) {
    const auto &m = manifest();
    std::set<std::string> in_manifest, in_table;
    for (const auto &f : m.fields) in_manifest.insert(f.name);
    for (size_t i = 0; i < kFieldCount; ++i) in_table.insert(std::string(field_info(static_cast<Field>(i)).name));
    EXPECT_EQ(in_manifest, in_table);
    for (const auto &f : m.fields) {
        Field id{};
        ASSERT_TRUE(field_by_name(f.name, id)) << f.name;
        const FieldInfo &info = field_info(id);
        EXPECT_EQ((f.flags & SP_FIELD_HASHED) != 0, info.kind == FieldKind::hashed) << f.name;
        EXPECT_EQ((f.flags & SP_FIELD_PREHASHED) != 0, info.kind == FieldKind::prehashed) << f.name;
        EXPECT_EQ((f.flags & SP_FIELD_MULTI) != 0, info.multi) << f.name;
    }
}

TEST(Manifest, DescriptorRoundTripsToTheSameModel) {
    EXPECT_EQ(spmanifest::from_descriptor(*descriptor()), manifest());
    EXPECT_EQ(spmanifest::parse(spmanifest::to_json_text(manifest())), manifest());
    // The descriptor carries the manifest it was built from, and that text is the same model.
    ASSERT_NE(descriptor()->manifest_json, nullptr);
    EXPECT_EQ(spmanifest::parse(descriptor()->manifest_json), manifest());
    EXPECT_EQ(descriptor()->struct_size, sizeof(sp_descriptor));
}

// Routing is data too (ABI minor 3): the field that chooses a row's ad account names the config key
// it replaces, the pipeline routes by exactly the fields that do, a minor-2 reader of the same
// descriptor sees an ordinary field, and a manifest naming a key it lacks is refused.
TEST(Manifest, RoutingFieldsNameTheConfigKeyTheyReplace) {
    for (const auto &f : manifest().fields) {
        Field id{};
        ASSERT_TRUE(field_by_name(f.name, id)) << f.name;
        EXPECT_EQ(!f.config_key.empty(), field_info(id).kind == FieldKind::route) << f.name;
    }
    const spmanifest::DestinationField *routing = manifest().field("ad_account_id");
    ASSERT_NE(routing, nullptr);
    EXPECT_EQ(routing->config_key, "ad_account_id");

    const sp_descriptor &d = *descriptor();
    for (uint32_t i = 0; i < d.destination_field_count; ++i) {
        if (std::string(d.destination_fields[i]->name) != "ad_account_id") continue;
        sp_destination_field older = *d.destination_fields[i];
        older.struct_size = offsetof(sp_destination_field, config_key);
        const sp_destination_field *one[] = {&older};
        sp_descriptor minor2 = d;
        minor2.destination_field_count = 1;
        minor2.destination_fields = one;
        minor2.required_rule_count = 0;
        EXPECT_EQ(spmanifest::from_descriptor(minor2).fields.at(0).config_key, "");
    }

    std::string text = spmanifest::to_json_text(manifest());
    const std::string key = "\"config_key\":\"ad_account_id\"";
    ASSERT_NE(text.find(key), std::string::npos) << text.substr(0, 200);
    text.replace(text.find(key), key.size(), "\"config_key\":\"no_such_key\"");
    try {
        spmanifest::parse(text);
        ADD_FAILURE() << "a config_key naming no config key was accepted";
    } catch (const spmanifest::ManifestError &e) {
        EXPECT_NE(std::string(e.what()).find("fields.ad_account_id: config_key \"no_such_key\" is not a config key"),
                  std::string::npos)
            << e.what();
    }
}

// The standard event names are data: the manifest's event_name values, which the plugin
// recognizes in any spelling, and nothing in code. The newer standard names are among them.
TEST(Manifest, StandardEventNamesAreTheManifestsValues) {
    const auto *f = manifest().field("event_name");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->values.size(), 22u);
    EXPECT_EQ(f->flags & SP_FIELD_CLOSED_VALUES, 0u) << "custom names are allowed";
    for (const char *newer :
         {"app_open", "contact", "customize_product", "find_location", "schedule", "start_trial", "submit_application"})
        EXPECT_NE(std::find(f->values.begin(), f->values.end(), newer), f->values.end()) << newer;
    const PipelineOptions opt = pipeline_options();
    auto shape = [&](const std::string &in) {
        sp_value v{};
        v.type = SP_VALUE_TEXT;
        v.len = static_cast<uint32_t>(in.size());
        v.as.text = in.c_str();
        std::string out;
        const Reason why = shape_event_name(v, opt.event_names, out);
        return why ? std::string("refused: ") + why : out;
    };
    for (const auto &name : f->values) {
        std::string upper = name;
        for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        EXPECT_EQ(shape(upper), name) << "not recognized as a standard name (a custom name keeps its case)";
    }
    EXPECT_EQ(shape("Start Trial"), "start_trial");
    EXPECT_EQ(shape("SubmitApplication"), "submit_application");
    EXPECT_EQ(shape("Loyalty-Signup_2"), "Loyalty-Signup_2");  // custom names pass as given
    // The description a mapping UI shows says what the values are.
    EXPECT_NE(f->description.find("values"), std::string::npos);
    // action_source takes its values and nothing else.
    const auto *source = manifest().field("action_source");
    ASSERT_NE(source, nullptr);
    EXPECT_NE(source->flags & SP_FIELD_CLOSED_VALUES, 0u);
    EXPECT_EQ(opt.action_sources.names(), source->values);
}

TEST(Manifest, DeclaresExactlyWhatTheProductOffers) {
    const auto &m = manifest();
    EXPECT_EQ(m.sync_modes, SP_SYNC_INSERT);
    EXPECT_EQ(m.audience_modes, SP_AUDIENCE_ADD);
    EXPECT_EQ(m.features, SP_FEATURE_FIELD_MAPPING | SP_FEATURE_TEST_EVENTS);
    EXPECT_EQ(m.auth.kinds, SP_AUTH_OAUTH2 | SP_AUTH_STATIC_TOKEN);
    EXPECT_EQ(m.auth.authorize_url, "https://www.pinterest.com/oauth/");
    EXPECT_EQ(m.auth.token_url, "https://api.pinterest.com/v5/oauth/token");
    for (const char *f : {"event_name", "event_time", "email", "hashed_email", "phone", "hashed_phone", "value",
                          "currency", "order_id", "content_ids"}) {
        ASSERT_NE(m.field(f), nullptr) << f;
        EXPECT_TRUE(m.field(f)->flags & SP_FIELD_DEFAULT) << f;
    }
    ASSERT_NE(m.config_field("api_base_url"), nullptr);
    EXPECT_EQ(m.config_field("api_base_url")->default_value, "https://api.pinterest.com");
}

namespace {

struct Cfg {
    std::vector<std::pair<std::string, std::string>> kv;
    std::vector<sp_config_entry> e;
    std::vector<const sp_config_entry *> p;
    sp_config c{};
    explicit Cfg(std::vector<std::pair<std::string, std::string>> in) : kv(std::move(in)) {
        for (auto &[k, v] : kv) e.push_back({sizeof(sp_config_entry), k.c_str(), v.c_str()});
        for (auto &x : e) p.push_back(&x);
        c = {sizeof c, static_cast<uint32_t>(p.size()), p.data()};
    }
};

std::string config_error(std::vector<std::pair<std::string, std::string>> kv) {
    Cfg c(std::move(kv));
    try {
        parse_config(&c.c);
    } catch (const sp::failure &f) {
        EXPECT_EQ(f.category(), SP_ERR_CONFIG);
        return f.what();
    }
    return "";
}

}  // namespace

TEST(Config, DefaultsAndTypedValues) {
    Cfg c({{"ad_account_id", "549755885175"}, {"max_in_flight", "3"}, {"test_events", "true"}, {"future_key", "x"}});
    PluginConfig p = parse_config(&c.c);
    EXPECT_EQ(p.ad_account_id, "549755885175");
    EXPECT_EQ(p.max_in_flight, 3);
    EXPECT_TRUE(p.test_events);
    EXPECT_EQ(p.api_base_url, "https://api.pinterest.com");
    EXPECT_EQ(p.calls_per_minute, 5000);
    EXPECT_EQ(p.list_delimiter, ',');
    EXPECT_EQ(p.unknown_keys, std::vector<std::string>{"future_key"});
}

TEST(Config, EveryProblemIsReportedByKeyWithoutItsValue) {
    const std::string msg = config_error({{"ad_account_id", "act_12ab"}, {"max_in_flight", "999"},
                                          {"api_base_url", "http://insecure.example"}, {"ca_file", "/no/such/ca.pem"}});
    EXPECT_NE(msg.find("ad_account_id is not valid"), std::string::npos) << msg;
    EXPECT_NE(msg.find("numeric"), std::string::npos) << msg;
    EXPECT_NE(msg.find("max_in_flight must be between 1 and 64"), std::string::npos) << msg;
    EXPECT_NE(msg.find("api_base_url is not valid"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ca_file names a file that does not exist"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("act_12ab"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("insecure.example"), std::string::npos) << msg;
    EXPECT_NE(config_error({}).find("ad_account_id is required"), std::string::npos);
    EXPECT_NE(config_error({{"ad_account_id", "1234567890123456789"}}).find("ad_account_id"), std::string::npos);
}

TEST(Config, AccountBudgetsArePairsOfAccountAndCallsPerMinute) {
    Cfg c({{"ad_account_id", "549755885175"}, {"account_calls_per_minute", "111:120000,222:5000"}});
    const auto budgets = parse_config(&c.c).account_calls_per_minute;
    EXPECT_EQ(budgets.size(), 2u);
    EXPECT_EQ(budgets.at("111"), 120000);
    EXPECT_EQ(budgets.at("222"), 5000);
    auto error_for = [](const char *value) {
        return config_error({{"ad_account_id", "549755885175"}, {"account_calls_per_minute", value}});
    };
    EXPECT_NE(error_for("0111:5000,111:6000").find("account_calls_per_minute: pair 2 names an ad account an earlier pair already set"),
              std::string::npos);
    EXPECT_NE(error_for("111:0").find("account_calls_per_minute: pair 1 needs a budget from 1 to 1000000"),
              std::string::npos);
    const std::string shape = error_for("act_111:5000");
    EXPECT_NE(shape.find("account_calls_per_minute: pair 1: the ad account is not an id"), std::string::npos) << shape;
    // Whatever the manifest's pattern refuses, the message names the pair and what is wrong with it.
    EXPECT_NE(error_for("111:5000,222:100000000").find("account_calls_per_minute: pair 2 needs a budget from 1 to"),
              std::string::npos);
    EXPECT_NE(error_for("111:-5").find("account_calls_per_minute: pair 1 needs a budget from 1 to"), std::string::npos);
    EXPECT_NE(error_for("111:5,222").find("account_calls_per_minute: pair 2 has no ':'"), std::string::npos);
    EXPECT_NE(error_for("111:5,").find("account_calls_per_minute: the list ends with a comma"), std::string::npos);
    EXPECT_NE(error_for("111:5, 222:6").find("account_calls_per_minute: pair 2: the ad account is not an id"),
              std::string::npos);
    // Leading zeros name the same account as without them, in the budgets and in ad_account_id.
    Cfg zeros({{"ad_account_id", "0549755885175"}, {"account_calls_per_minute", "00111:7"}});
    EXPECT_EQ(parse_config(&zeros.c).ad_account_id, "549755885175");
    EXPECT_EQ(parse_config(&zeros.c).account_calls_per_minute.at("111"), 7);
    EXPECT_EQ(shape.find("act_111"), std::string::npos) << "values are never echoed: " << shape;
}

TEST(Config, LdpStatesAreCodesOrNamesOfUsStates) {
    Cfg c({{"ad_account_id", "549755885175"}, {"ldp_states", "CA, colorado,US-CT,,"}});
    EXPECT_EQ(parse_config(&c.c).ldp_states, (std::vector<std::string>{"ca", "co", "ct"}));
    for (const char *bad : {"CA,Atlantis", "CA,ON"}) {  // ON: Ontario, a province, not a US state
        const std::string msg = config_error({{"ad_account_id", "549755885175"}, {"ldp_states", bad}});
        EXPECT_NE(msg.find("ldp_states: item 2 is not a US state"), std::string::npos) << msg;
        EXPECT_EQ(msg.find(std::string(bad).substr(3)), std::string::npos) << msg;
    }
}
