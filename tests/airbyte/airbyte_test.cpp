// syncplugin-airbyte end to end: the adapter binary with the Pinterest plugin against
// pinterest-sandbox over TLS (and the C plugin jsonl_file for genericity). Every line the adapter
// prints is checked against the Airbyte protocol's official schema when it is beside the
// checkout, and always against the shapes these tests assert themselves.
#include "command.hpp"
#include "poll.hpp"
#include "sandbox_process.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using test_support::Command;
using test_support::CommandResult;

const std::string kToken = "airbyte-canary-token-77c1";

std::string read(const std::string &path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<json::object> messages(const std::string &out) {
    std::vector<json::object> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        json::value m = json::parse(line);
        EXPECT_TRUE(m.is_object()) << line;
        v.push_back(m.as_object());
    }
    return v;
}

std::vector<json::object> of_type(const std::vector<json::object> &all, std::string_view type) {
    std::vector<json::object> v;
    for (const auto &m : all)
        if (m.at("type").as_string() == type) v.push_back(m);
    return v;
}

class Adapter {
public:
    explicit Adapter(std::vector<std::string> sandbox_args = {})
        : sandbox_(SANDBOX_EXE, kToken, std::move(sandbox_args)) {
        char tmpl[] = "/tmp/airbyte-test.XXXXXX";
        dir_ = ::mkdtemp(tmpl);
    }
    ~Adapter() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    const sandbox_test::Sandbox &sandbox() const { return sandbox_; }
    std::string path(const std::string &name) const { return dir_ + "/" + name; }

    void write_file(const std::string &name, const std::string &text) const { std::ofstream(path(name)) << text; }

    // A connection config; `extra` is more JSON members ("key": value, ...).
    void config(const std::string &extra = "", const std::string &token = kToken) const {
        write_file("config.json",
                   R"({"ad_account_id": "549755885175", "api_base_url": ")" + sandbox_.url() + R"(", "ca_file": ")" +
                       sandbox_.ca_file() +
                       R"(", "calls_per_minute": 100000, "retry_initial_backoff_ms": 20, "access_token": ")" + token +
                       "\"" + extra + "}");
    }

    void catalog(const std::string &mode = "append") const {
        write_file("catalog.json",
                   R"({"streams": [{"stream": {"name": "orders", "json_schema": {"type": "object", "properties": {
                         "event_name": {"type": "string"}, "email": {"type": "string"}, "value": {"type": "number"},
                         "order_id": {"type": "string"}, "note": {"type": "string"}}}, "supported_sync_modes": ["full_refresh"]},
                       "sync_mode": "full_refresh", "destination_sync_mode": ")" +
                       mode + R"(", "primary_key": [["order_id"]]}]})");
    }

    // RECORD lines for orders first..last (every 7th with an email Pinterest's rules refuse).
    static std::string records(int first, int last) {
        std::string s;
        for (int i = first; i <= last; ++i)
            s += json::serialize(json::object{
                     {"type", "RECORD"},
                     {"record",
                      {{"stream", "orders"},
                       {"emitted_at", 1767225600000},
                       {"data",
                        {{"event_name", "checkout"},
                         {"email", i % 7 == 0 ? "no-at-sign" : "buyer" + std::to_string(i) + "@shop.example"},
                         {"value", i + 0.5},
                         {"order_id", "o" + std::to_string(i)},
                         {"note", "not mapped"}}}}}}) +
                 "\n";
        return s;
    }
    static std::string state(int cursor) {
        return json::serialize(json::object{
                   {"type", "STATE"},
                   {"state",
                    {{"type", "STREAM"},
                     {"stream",
                      {{"stream_descriptor", {{"name", "orders"}}}, {"stream_state", {{"cursor", cursor}}}}}}}}) +
               "\n";
    }

    std::vector<std::string> args(const std::string &command) const {
        std::vector<std::string> a{ADAPTER_EXE,     "--plugin", "pinterest_conversions",
                                   "--plugin-path", PLUGIN_DIR, command};
        if (command != "spec") a.insert(a.end(), {"--config", path("config.json")});
        if (command == "write") a.insert(a.end(), {"--catalog", path("catalog.json")});
        return a;
    }

    CommandResult run(const std::string &command) {
        CommandResult r = Command::run(args(command), dir_);
        validate(r.out);
        return r;
    }

    // `write` with stdin from the file `input`, started in the background.
    std::unique_ptr<Command> start_write(const std::string &input) const {
        std::vector<std::string> a{"/bin/sh", "-c", "exec \"$0\" \"$@\" < " + path(input)};
        const auto rest = args("write");
        a.insert(a.end(), rest.begin(), rest.end());
        return std::make_unique<Command>(a, dir_);
    }
    CommandResult write(const std::string &input) {
        CommandResult r = start_write(input)->wait();
        validate(r.out);
        return r;
    }

    // Every line against the official schema when it is available (CI has it beside the checkout).
    void validate(const std::string &out) const {
        EXPECT_EQ(out.find(kToken), std::string::npos) << "the access token reached stdout";
        for (const auto &m : messages(out)) {  // the shapes, always
            const std::string type(m.at("type").as_string());
            static const std::set<std::string> kTypes = {"LOG",   "SPEC",  "CONNECTION_STATUS",
                                                         "STATE", "TRACE", "DESTINATION_CATALOG"};
            EXPECT_TRUE(kTypes.count(type)) << type;
            static const std::map<std::string, std::string> kBody = {
                {"LOG", "log"},     {"SPEC", "spec"},   {"CONNECTION_STATUS", "connectionStatus"},
                {"STATE", "state"}, {"TRACE", "trace"}, {"DESTINATION_CATALOG", "destination_catalog"}};
            ASSERT_TRUE(m.contains(kBody.at(type))) << json::serialize(m);
            if (type == "TRACE") {
                EXPECT_TRUE(m.at("trace").as_object().contains("emitted_at"));
            }
        }
        const std::string schema =
            std::getenv("SP_AIRBYTE_SCHEMA") ? std::getenv("SP_AIRBYTE_SCHEMA") : OFFICIAL_SCHEMA;
        if (!fs::exists(schema)) {
            std::cout << "[ NOTE     ] the official Airbyte schema (" << schema
                      << ") is not here: messages checked by these tests' own assertions only\n";
            return;
        }
        write_file("messages.jsonl", out);
        const CommandResult v = Command::run({"/usr/bin/python3", VALIDATOR, schema, path("messages.jsonl")}, dir_);
        if (v.exit_code == 2) {
            std::cout << "[ NOTE     ] " << v.out << ": messages checked by these tests' own assertions only\n";
            return;
        }
        EXPECT_EQ(v.exit_code, 0) << "not valid against #/definitions/AirbyteMessage:\n" << v.out << v.err;
    }

    json::value stats() const { return json::parse(sandbox_.client()->request("GET", "/_sandbox/stats").body); }
    void heal() const { ASSERT_EQ(sandbox_.client()->request("POST", "/_sandbox/heal").status, 200u); }

private:
    sandbox_test::Sandbox sandbox_;
    std::string dir_;
};

TEST(AirbyteAdapter, SpecAndDiscoverComeFromThePluginsDescriptor) {
    Adapter a;
    a.config();
    CommandResult spec = a.run("spec");
    ASSERT_EQ(spec.exit_code, 0) << spec.err;
    const auto specs = of_type(messages(spec.out), "SPEC");
    ASSERT_EQ(specs.size(), 1u);
    const json::object &s = specs[0].at("spec").as_object();
    EXPECT_EQ(s.at("supported_destination_sync_modes"), json::parse(R"(["append"])"));
    const json::object &cs = s.at("connectionSpecification").as_object();
    EXPECT_EQ(cs.at("required"), json::parse(R"(["ad_account_id", "access_token"])"));
    const json::object &props = cs.at("properties").as_object();
    EXPECT_EQ(props.at("access_token").at("airbyte_secret"), json::value(true));
    EXPECT_EQ(props.at("ad_account_id").at("pattern").as_string(), "^[0-9]{1,18}$");
    EXPECT_EQ(props.at("calls_per_minute").at("type").as_string(), "integer");
    EXPECT_EQ(props.at("calls_per_minute").at("default").as_int64(), 5000);
    EXPECT_EQ(props.at("test_events").at("default"), json::value(false));

    CommandResult discover = a.run("discover");
    ASSERT_EQ(discover.exit_code, 0) << discover.out;
    const auto catalogs = of_type(messages(discover.out), "DESTINATION_CATALOG");
    ASSERT_EQ(catalogs.size(), 1u);
    const json::array &ops = catalogs[0].at("destination_catalog").at("operations").as_array();
    ASSERT_EQ(ops.size(), 1u);
    EXPECT_EQ(ops[0].at("sync_mode").as_string(), "append");
    const json::object &fields = ops[0].at("json_schema").at("properties").as_object();
    EXPECT_EQ(fields.at("action_source").at("enum"), json::parse(R"(["web", "app_android", "app_ios", "offline"])"));
    EXPECT_EQ(fields.at("event_name").at("examples").as_array().size(), 22u);

    // Another plugin, written in C with other modes, gets its own spec.
    CommandResult other = Command::run({ADAPTER_EXE, "--plugin", JSONL_PLUGIN, "spec"}, ".");
    ASSERT_EQ(other.exit_code, 0) << other.out;
    a.validate(other.out);
    const json::object o = messages(other.out).at(0).at("spec").as_object();
    EXPECT_EQ(o.at("supported_destination_sync_modes"),
              json::parse(R"(["append", "append_dedup", "update", "soft_delete"])"));
    EXPECT_FALSE(o.at("connectionSpecification").at("properties").as_object().contains("access_token"));
}

TEST(AirbyteAdapter, CheckAnswersWithThePluginsOwnCheck) {
    Adapter a;
    a.config();
    CommandResult ok = a.run("check");
    ASSERT_EQ(ok.exit_code, 0);
    EXPECT_EQ(messages(ok.out).back().at("connectionStatus").at("status").as_string(), "SUCCEEDED") << ok.out;

    a.config("", "wrong-token");
    CommandResult refused = a.run("check");
    ASSERT_EQ(refused.exit_code, 0);
    const json::object status = messages(refused.out).back().at("connectionStatus").as_object();
    EXPECT_EQ(status.at("status").as_string(), "FAILED");
    EXPECT_NE(std::string(status.at("message").as_string()).find("rejected the access token"), std::string::npos);
    EXPECT_EQ(refused.out.find("wrong-token"), std::string::npos);

    a.write_file("config.json", R"({"access_token": "x"})");
    CommandResult missing = a.run("check");
    const json::object m = messages(missing.out).back().at("connectionStatus").as_object();
    EXPECT_EQ(m.at("status").as_string(), "FAILED");
    EXPECT_NE(std::string(m.at("message").as_string()).find("ad_account_id"), std::string::npos) << missing.out;
}

// Records with STATE messages between them: each state is echoed once the records before it are
// delivered or rejected, with the counts for it, and the sandbox holds exactly those records.
TEST(AirbyteAdapter, WriteEchoesEachStateAfterItsRecordsWithTheirCounts) {
    Adapter a;
    a.config();
    a.catalog();
    a.write_file("in.jsonl", Adapter::records(1, 10) + Adapter::state(10) + Adapter::records(11, 25) +
                                 R"({"type": "LOG", "log": {"level": "INFO", "message": "from the source"}})"
                                 "\n" +
                                 Adapter::state(25) + Adapter::records(26, 30));
    CommandResult r = a.write("in.jsonl");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << read(a.path("config.json"));
    const auto all = messages(r.out);
    const auto states = of_type(all, "STATE");
    ASSERT_EQ(states.size(), 2u) << r.out;
    EXPECT_EQ(states[0].at("state").at("stream").at("stream_state").at("cursor").as_int64(), 10);
    EXPECT_EQ(states[0].at("state").at("destinationStats"),
              json::parse(R"({"recordCount": 10.0, "rejectedRecordCount": 1.0})"));
    EXPECT_EQ(states[1].at("state").at("destinationStats"),
              json::parse(R"({"recordCount": 15.0, "rejectedRecordCount": 2.0})"));
    EXPECT_NE(r.out.find(R"("recordCount":10.0)"), std::string::npos) << "counts carry a decimal point";
    // Rejected records are counted and explained, without their values.
    const auto logs = of_type(all, "LOG");
    size_t rejected = 0;
    for (const auto &l : logs)
        if (std::string(l.at("log").at("message").as_string()).find("rejected (email)") != std::string::npos)
            ++rejected;
    EXPECT_EQ(rejected, 4u);  // o7, o14, o21, o28
    EXPECT_EQ(r.out.find("no-at-sign"), std::string::npos);
    EXPECT_EQ(r.out.find("buyer3@shop.example"), std::string::npos);
    EXPECT_EQ(a.stats().at("events_processed").as_int64(), 26);  // the rest after the last state too
}

// The README's example files (airbyte/examples/) run as the README says: two states echoed with
// their counts, the third record rejected by name of its field, two events at the sandbox.
TEST(AirbyteAdapter, TheExampleCatalogAndMessagesWriteAsTheReadmeSays) {
    Adapter a;
    a.config();
    a.write_file("catalog.json", read(EXAMPLES_DIR "/catalog.json"));
    a.write_file("in.jsonl", read(EXAMPLES_DIR "/messages.jsonl"));
    CommandResult r = a.write("in.jsonl");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto all = messages(r.out);
    const auto states = of_type(all, "STATE");
    ASSERT_EQ(states.size(), 2u) << r.out;
    EXPECT_EQ(states[0].at("state").at("stream").at("stream_state").at("cursor").as_string(), "o2");
    EXPECT_EQ(states[0].at("state").at("destinationStats"),
              json::parse(R"({"recordCount": 2.0, "rejectedRecordCount": 0.0})"));
    EXPECT_EQ(states[1].at("state").at("destinationStats"),
              json::parse(R"({"recordCount": 1.0, "rejectedRecordCount": 1.0})"));
    EXPECT_NE(r.out.find("stream orders record 3 rejected (email)"), std::string::npos) << r.out;
    EXPECT_EQ(a.stats().at("events_processed").as_int64(), 2);
}

// A destination that keeps failing holds the records back: the state after them is not echoed,
// and the run ends with a transient error for Airbyte to retry from the last state it has.
TEST(AirbyteAdapter, RecordsTheDestinationDidNotTakeHoldBackTheStateAfterThem) {
    Adapter a({"--fault", "status:503,on=2-1000"});
    a.config(R"(, "retry_max_elapsed_seconds": 0)");
    a.catalog();
    // o6..o9 after the first state: o7 is rejected by the plugin itself, the other three meet 503s.
    a.write_file("in.jsonl", Adapter::records(1, 5) + Adapter::state(5) + Adapter::records(6, 9) + Adapter::state(9));
    CommandResult r = a.write("in.jsonl");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    const auto all = messages(r.out);
    const auto states = of_type(all, "STATE");
    ASSERT_EQ(states.size(), 1u) << r.out;  // only the first: its records went through
    EXPECT_EQ(states[0].at("state").at("stream").at("stream_state").at("cursor").as_int64(), 5);
    const auto traces = of_type(all, "TRACE");
    ASSERT_FALSE(traces.empty()) << r.out;
    const json::object &error = traces.back().at("trace").at("error").as_object();
    EXPECT_EQ(error.at("failure_type").as_string(), "transient_error");
    EXPECT_NE(std::string(error.at("message").as_string()).find("3 records were not delivered"), std::string::npos)
        << error;
    // Nothing after the state: the last message is the error, not a state.
    EXPECT_EQ(all.back().at("type").as_string(), "TRACE");
}

// A destination that throttles past the plugin's retry budget: a RATE_LIMITED stream status with
// the time the destination said to come back, then the transient error.
TEST(AirbyteAdapter, ThrottlingShowsAsARateLimitedStreamStatus) {
    Adapter a({"--fault", "status:429,retry_after=30"});
    a.config(R"(, "retry_max_elapsed_seconds": 0)");
    a.catalog();
    a.write_file("in.jsonl", Adapter::records(1, 3) + Adapter::state(3));
    const int64_t before =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    CommandResult r = a.write("in.jsonl");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    const auto all = messages(r.out);
    EXPECT_TRUE(of_type(all, "STATE").empty()) << r.out;
    const auto traces = of_type(all, "TRACE");
    ASSERT_EQ(traces.size(), 2u) << r.out;
    const json::object &status = traces[0].at("trace").at("stream_status").as_object();
    EXPECT_EQ(status.at("stream_descriptor").at("name").as_string(), "orders");
    EXPECT_EQ(status.at("reasons").at(0).at("type").as_string(), "RATE_LIMITED");
    // Retry-After: 30 s from the answer, so at least 29 s after the run started.
    EXPECT_GE(status.at("reasons").at(0).at("rate_limited").at("quota_reset").as_int64(), before + 29000);
    EXPECT_EQ(traces[1].at("trace").at("error").at("failure_type").as_string(), "transient_error");
}

// A token the destination refuses needs the connection fixed, not a retry: config_error, and no
// state echoed for the records it could not write.
TEST(AirbyteAdapter, ARefusedTokenIsAConfigErrorOfTheWrite) {
    Adapter a;
    a.config("", "revoked-token");
    a.catalog();
    a.write_file("in.jsonl", Adapter::records(1, 3) + Adapter::state(3));
    CommandResult r = a.write("in.jsonl");
    EXPECT_EQ(r.exit_code, 1) << r.out;
    const auto all = messages(r.out);
    EXPECT_TRUE(of_type(all, "STATE").empty()) << r.out;
    const json::object &error = all.back().at("trace").at("error").as_object();
    EXPECT_EQ(error.at("failure_type").as_string(), "config_error") << error;
    EXPECT_NE(std::string(error.at("message").as_string()).find("access_token"), std::string::npos) << error;
    EXPECT_EQ(r.out.find("revoked-token"), std::string::npos);
}

TEST(AirbyteAdapter, AModeThePluginCannotCarryIsRefusedBeforeAnyRecordIsRead) {
    Adapter a;
    a.config();
    a.catalog("append_dedup");
    a.write_file("in.jsonl", Adapter::records(1, 3) + Adapter::state(3));
    CommandResult r = a.write("in.jsonl");
    EXPECT_EQ(r.exit_code, 1);
    const auto all = messages(r.out);
    ASSERT_EQ(all.size(), 1u) << r.out;
    const json::object &error = all[0].at("trace").at("error").as_object();
    EXPECT_EQ(error.at("failure_type").as_string(), "config_error");
    EXPECT_NE(std::string(error.at("message").as_string()).find("append_dedup needs sync mode upsert"),
              std::string::npos)
        << error;
    EXPECT_EQ(a.stats().at("events_received").as_int64(), 0);

    a.catalog("overwrite");
    CommandResult o = a.write("in.jsonl");
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_NE(o.out.find("overwrite would have the destination drop everything"), std::string::npos) << o.out;
}

// SIGKILL while a batch is in flight, after the first state was echoed; Airbyte runs the attempt
// again from that state. Nothing is lost, and what is sent twice keeps its event ids.
TEST(AirbyteAdapter, AKilledWriteRerunFromTheLastEchoedStateLosesNothing) {
    Adapter a({"--fault", "hang,on=2"});
    a.config();
    a.catalog();
    a.write_file("in.jsonl",
                 Adapter::records(1, 10) + Adapter::state(10) + Adapter::records(11, 20) + Adapter::state(20));
    auto first = a.start_write("in.jsonl");
    ASSERT_TRUE(first->wait_for_stdout(R"("cursor":10)", std::chrono::seconds(30))) << "the first state never came";
    ASSERT_TRUE(test_support::eventually([&] { return a.stats().at("requests").at("events").as_int64() >= 2; },
                                         std::chrono::seconds(30)));
    first->signal(SIGKILL);
    const CommandResult killed = first->wait();
    EXPECT_EQ(killed.exit_code, -1);
    EXPECT_EQ(killed.out.find(R"("cursor":20)"), std::string::npos) << "state 20 was echoed before its records";
    a.validate(killed.out);

    a.heal();
    a.write_file("again.jsonl", Adapter::records(11, 20) + Adapter::state(20));
    CommandResult second = a.write("again.jsonl");
    ASSERT_EQ(second.exit_code, 0) << second.out;
    EXPECT_EQ(of_type(messages(second.out), "STATE").size(), 1u);
    // Every record's event, once per id; then a full resend of everything adds no new id.
    const json::value st = a.stats();
    EXPECT_EQ(st.at("distinct_event_ids").as_int64(), 18);  // o1..o20 but o7 and o14, rejected
    CommandResult all = a.write("in.jsonl");
    ASSERT_EQ(all.exit_code, 0) << all.out;
    const json::value after = a.stats();
    EXPECT_EQ(after.at("distinct_event_ids").as_int64(), 18);
    EXPECT_GE(after.at("duplicate_events").as_int64(), 18);  // the resend arrived, under the same ids
}

}  // namespace
