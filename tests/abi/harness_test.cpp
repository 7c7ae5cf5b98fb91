// The harness must be able to fail: run it on the deliberately broken fixture and check that each
// planted defect is reported by the check that looks for it, and that a correct (throwing but
// guarded) plugin does not trip the exception checks.
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace {

struct Report {
    int exit_status = -1;
    std::map<std::string, std::string> status;  // check -> pass/fail/skip/crash/timeout
    std::map<std::string, std::string> message;  // check -> what it said
};

Report run_harness(const std::string &plugin, const std::string &extra = "") {
    const std::string cmd = std::string(HARNESS) + " " + plugin + " --json --timeout-ms 10000 " + extra;
    FILE *p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    Report r;
    int ws = pclose(p);
    r.exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    auto v = boost::json::parse(out);
    for (const auto &c : v.at("checks").as_array()) {
        r.status[std::string(c.at("name").as_string())] = std::string(c.at("status").as_string());
        r.message[std::string(c.at("name").as_string())] = std::string(c.at("message").as_string());
    }
    return r;
}

// A fixture library built beside broken_plugin (tests/fixtures/CMakeLists.txt).
std::string fixture(const std::string &name) {
    const std::string broken = BROKEN_PLUGIN;
    return broken.substr(0, broken.rfind('/') + 1) + "lib" + name + ".so";
}

// A fresh directory for the files a plugin under test writes.
std::string scratch_dir() {
    std::string dir = testing::TempDir() + "harness-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    return dir;
}

}  // namespace

TEST(Harness, FailsTheBrokenFixtureOnTheChecksItBreaks) {
    Report r = run_harness(BROKEN_PLUGIN, "--config account=1 --map name=name --sample " FIXTURES_DIR "/broken_sample.jsonl");
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.status["load.single_export"], "fail");
    EXPECT_EQ(r.status["load.version_refusal"], "fail");
    EXPECT_EQ(r.status["descriptor.valid"], "fail");
    EXPECT_EQ(r.status["descriptor.stable"], "fail");
    EXPECT_EQ(r.status["check.missing_required"], "fail");
    EXPECT_EQ(r.status["check.null_config"], "fail");
    EXPECT_EQ(r.status["lifecycle.double_close"], "crash");
    EXPECT_EQ(r.status["lifecycle.write_after_close"], "fail");
    EXPECT_EQ(r.status["descriptor.matches_manifest"], "fail");
    EXPECT_NE(r.message["descriptor.matches_manifest"].find("cannot parse the plugin's embedded manifest"),
              std::string::npos)
        << r.message["descriptor.matches_manifest"];
    EXPECT_EQ(r.status["write.results_in_order"], "fail");  // one result short
    EXPECT_EQ(r.status["operations.refused_per_record"], "fail");
    // Checks that do not apply to a defect still pass: the harness is not failing blindly.
    EXPECT_EQ(r.status["load.rtld_now"], "pass");
    EXPECT_EQ(r.status["load.scan_time"], "pass");
}

// The only defect of dry_run_ignorer is that it writes its file in a dry run: the harness fails it
// on that check, whether it watches the file of its path-typed key or the scratch file, and on no
// other (so the check, not a side effect, is what catches it).
TEST(Harness, FailsAPluginThatWritesInADryRun) {
    const std::string dir = scratch_dir();
    // The two checks that measure the process (time, RSS) are not what this test is about, and
    // cannot hold under the sanitizers this suite also runs in.
    const std::string args = "--config path=" + dir + "/dry.jsonl --map name=name --sample " FIXTURES_DIR
                             "/broken_sample.jsonl --scratch-file " + dir +
                             "/real.jsonl --exclude 'load\\.scan_time|leaks\\.load_unload_loop'";
    Report r = run_harness(fixture("dry_run_ignorer"), args);
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.status["write.dry_run_writes_nothing"], "fail");
    EXPECT_NE(r.message["write.dry_run_writes_nothing"].find("SP_OPEN_DRY_RUN must write nothing"), std::string::npos)
        << r.message["write.dry_run_writes_nothing"];
    for (const auto &[name, status] : r.status) {
        if (name == "write.dry_run_writes_nothing") continue;
        EXPECT_TRUE(status == "pass" || status == "skip") << name << ": " << status;
    }
    EXPECT_EQ(r.status["real.every_mode"], "pass");
    EXPECT_EQ(r.status["operations.refused_per_record"], "pass");
    EXPECT_EQ(r.status["write.results_in_order"], "pass");

    // Without a scratch destination the file of the path-typed key alone gives it away.
    const std::string dir2 = scratch_dir();
    r = run_harness(fixture("dry_run_ignorer"), "--include dry_run --config path=" + dir2 +
                                                    "/dry.jsonl --map name=name --sample " FIXTURES_DIR
                                                    "/broken_sample.jsonl");
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.status["write.dry_run_writes_nothing"], "fail");
}

TEST(Harness, GuardedThrowingPluginNeverLetsAnExceptionEscape) {
    Report r = run_harness(THROWING_PLUGIN);
    EXPECT_EQ(r.status["robustness.null_arguments"], "pass");
    EXPECT_EQ(r.status["load.single_export"], "pass");
    EXPECT_EQ(r.status["load.version_refusal"], "pass");
    for (const auto &[name, status] : r.status) {
        EXPECT_NE(status, "crash") << name;
        EXPECT_NE(status, "timeout") << name;
    }
}

TEST(Harness, PassesThePinterestPluginWithoutSamplesSkippingWhatNeedsThem) {
    Report r = run_harness(PINTEREST_PLUGIN, "--config ad_account_id=549755885175");
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(r.status["check.good_config"], "pass");
    EXPECT_EQ(r.status["write.one_result_per_record"], "skip");
    // Real writes need a scratch destination, and the skip says which options give one.
    EXPECT_EQ(r.status["real.every_mode"], "skip");
    EXPECT_NE(r.message["real.every_mode"].find("--scratch-config"), std::string::npos) << r.message["real.every_mode"];
}

// sp.quality/1 as the Pinterest plugin implements it, with rows to write: counts bounded by what
// was written, ordered ages, nothing written past a smaller host struct.
TEST(Harness, ThePinterestPluginsQualityReportPasses) {
    Report r = run_harness(PINTEREST_PLUGIN, "--include write.quality_report --config ad_account_id=549755885175 "
                                             "--map event_name=event_name --map email=email --sample " FIXTURES_DIR
                                             "/../harness/pinterest_sample.jsonl");
    EXPECT_EQ(r.status["write.quality_report"], "pass") << r.message["write.quality_report"];
    EXPECT_EQ(r.exit_status, 0);
}
