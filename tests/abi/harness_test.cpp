// The harness must be able to fail: run it on the deliberately broken fixture and check that each
// planted defect is reported by the check that looks for it, and that a correct (throwing but
// guarded) plugin does not trip the exception checks.
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

namespace {

struct Report {
    int exit_status = -1;
    std::map<std::string, std::string> status;  // check -> pass/fail/skip/crash/timeout
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
    for (const auto &c : v.at("checks").as_array())
        r.status[std::string(c.at("name").as_string())] = std::string(c.at("status").as_string());
    return r;
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
    // Checks that do not apply to a defect still pass: the harness is not failing blindly.
    EXPECT_EQ(r.status["load.rtld_now"], "pass");
    EXPECT_EQ(r.status["load.scan_time"], "pass");
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
}
