// Many deliveries in one process share the plugin's I/O threads: the thread count follows the
// cores, not the deliveries; each delivery keeps its own account, token and outcomes; closing one
// in the middle of its requests leaves the others delivering; the last one out stops the pool.
// The real HttpsDelivery against pinterest-sandbox over TLS. Under TSan (scripts/sanitize.sh
// thread, label transport) this is also the race check of the shared pool.
#include "abi_objects.hpp"
#include "sandbox_process.hpp"
#include "test_host.hpp"

#include "pipeline/pipeline.hpp"
#include "plugin/manifest.hpp"
#include "transport/https_delivery.hpp"
#include "transport/io_pool.hpp"

#include <support/batch_builder.hpp>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <dirent.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

using namespace test_support;
namespace json = boost::json;

namespace {

const std::string kToken = "io-pool-test-token-5";

// Threads of the plugin's I/O pool: named "pcapi-io-N", a name the threads they start (Asio's
// resolver) inherit. Counted by name, so that threads a sanitizer runtime or the test itself starts
// do not count.
size_t plugin_threads() {
    size_t n = 0;
    if (DIR *d = opendir("/proc/self/task")) {
        while (dirent *e = readdir(d)) {
            std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
            std::string name;
            n += e->d_name[0] != '.' && std::getline(comm, name) && name.rfind("pcapi-io", 0) == 0;
        }
        closedir(d);
    }
    return n;
}

// Counts down the deliveries still running; wait() returns when all have called done.
class Countdown {
public:
    explicit Countdown(size_t n) : left_(n) {}
    std::function<void()> done() {
        return [this] {
            std::lock_guard lock(mu_);
            if (--left_ == 0) cv_.notify_all();
        };
    }
    bool wait() {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, std::chrono::seconds(60), [this] { return left_ == 0; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    size_t left_;
};

// A host whose token service blocks until released, as a refresh over a slow network does: every
// call, or with `forced_only` the forced refreshes after a 401 alone.
class BlockingTokenHost {
public:
    explicit BlockingTokenHost(const sp_host &inner, bool forced_only = false)
        : inner_(inner), host_(inner), forced_only_(forced_only) {
        host_.ctx = this;
        host_.log = [](void *c, sp_log_level l, const char *m) { self(c)->inner_.log(self(c)->inner_.ctx, l, m); };
        host_.is_cancelled = [](void *c) { return self(c)->inner_.is_cancelled(self(c)->inner_.ctx); };
        host_.metric_add = [](void *c, const char *n, double v) {
            self(c)->inner_.metric_add(self(c)->inner_.ctx, n, v);
        };
        host_.get_access_token = [](void *c, uint32_t flags, const char *rejected, char *out, uint32_t cap,
                                    uint32_t *len, char *msg, uint32_t msg_cap) {
            BlockingTokenHost *s = self(c);
            if (!s->forced_only_ || (flags & SP_CRED_FORCE_REFRESH)) {
                std::unique_lock lock(s->mu_);
                s->asked_ = true;
                s->cv_.notify_all();
                s->cv_.wait(lock, [s] { return s->released_; });
            }
            return s->inner_.get_access_token(s->inner_.ctx, flags, rejected, out, cap, len, msg, msg_cap);
        };
    }
    const sp_host *get() const { return &host_; }
    // Until the plugin is inside get_access_token (false at `until`: it never asked).
    bool wait_asked(std::chrono::steady_clock::time_point until = std::chrono::steady_clock::now() +
                                                                  std::chrono::seconds(60)) {
        std::unique_lock lock(mu_);
        return cv_.wait_until(lock, until, [this] { return asked_; });
    }
    void release() {
        std::lock_guard lock(mu_);
        released_ = true;
        cv_.notify_all();
    }

private:
    static BlockingTokenHost *self(void *c) { return static_cast<BlockingTokenHost *>(c); }
    const sp_host &inner_;
    sp_host host_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool forced_only_, asked_ = false, released_ = false;
};

struct Tenants {
    sandbox_test::Sandbox sandbox;
    TestHost host{kToken};
    std::vector<pcapi::EncodedBatch> batches;
    std::vector<pcapi::DeliveryReport> reports;

    static constexpr size_t kAccounts = 64;
    static std::string account(size_t i) { return std::to_string(549755800000 + i); }
    static std::vector<std::string> with_accounts(std::vector<std::string> args) {
        for (size_t i = 0; i < kAccounts; ++i) args.insert(args.end(), {"--ad-account", account(i)});
        return args;
    }

    explicit Tenants(std::vector<std::string> args = {})
        : sandbox(SANDBOX_EXE, kToken, with_accounts(std::move(args))) {}

    std::unique_ptr<pcapi::Delivery> open(size_t i, const sp_host *with_host = nullptr) {
        pcapi::PluginConfig config;
        config.ad_account_id = account(i);
        config.api_base_url = sandbox.url();
        config.ca_file = sandbox.ca_file();
        config.max_in_flight = 2;
        config.calls_per_minute = 6'000'000;
        config.request_timeout_seconds = 10;
        return pcapi::make_https_delivery(config, false, with_host ? with_host : host.get());
    }

    // `n` batches of `rows` events, `per_request` per request, with event ids unique per batch.
    void encode(size_t n, int rows, size_t per_request) {
        OwnedMapping mapping({{"event_name", "=checkout"}, {"email", "email"}});
        pcapi::PipelineOptions opt = pcapi::pipeline_options();
        opt.sync_id = "io-pool-test";
        pcapi::Pipeline pipeline(pcapi::Mapping::compile(mapping.get(), {}), opt, per_request, 4 << 20);
        const int64_t now_s =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        batches.resize(n);
        reports.resize(n);
        for (size_t t = 0; t < n; ++t) {
            support::BatchBuilder b({"email"});
            for (int i = 0; i < rows; ++i) {
                b.begin_row("t" + std::to_string(t) + "-" + std::to_string(i));
                b.add_text("person" + std::to_string(i) + "@example.com");
            }
            pipeline.encode(*b.finish(), now_s, batches[t]);
        }
    }

    json::object stats() { return json::parse(sandbox.client()->request("GET", "/_sandbox/stats").body).as_object(); }
};

size_t count(const pcapi::DeliveryReport &r, sp_record_status s) {
    size_t n = 0;
    for (const auto &p : r.outcomes)
        for (const auto &o : p) n += o.status == s;
    return n;
}

}  // namespace

TEST(IoPool, ThreadsFollowTheCoresNotTheDeliveriesAndEachAccountGetsItsOwnEvents) {
    Tenants t;
    ASSERT_EQ(plugin_threads(), 0u) << "no delivery yet, so no pool";
    const size_t pool = pcapi::transport::IoPool::default_threads();
    constexpr size_t kOpen = 48, kActive = 12;
    constexpr int kRows = 30;
    std::vector<std::unique_ptr<pcapi::Delivery>> deliveries;
    for (size_t i = 0; i < kOpen; ++i) deliveries.push_back(t.open(i));
    EXPECT_EQ(plugin_threads(), pool) << "idle deliveries share the pool's " << pool << " threads";

    t.encode(kActive, kRows, 10);
    Countdown running(kActive);
    for (size_t i = 0; i < kActive; ++i) deliveries[i]->start(t.batches[i].payloads, t.reports[i], running.done());
    // Asio resolves names on one extra thread per io_context: still bounded by the pool's size.
    EXPECT_LE(plugin_threads(), 2 * pool);
    ASSERT_TRUE(running.wait()) << "the deliveries did not finish";
    for (size_t i = 0; i < kActive; ++i) EXPECT_EQ(count(t.reports[i], SP_RECORD_OK), size_t{kRows}) << "tenant " << i;

    // Each account received exactly its own 30 events: nothing crossed between tenants.
    const json::object by_account = t.stats().at("events_by_account").as_object();
    EXPECT_EQ(by_account.size(), kActive);
    for (size_t i = 0; i < kActive; ++i) {
        const auto *n = by_account.if_contains(Tenants::account(i));
        ASSERT_NE(n, nullptr) << Tenants::account(i);
        EXPECT_EQ(n->to_number<int64_t>(), kRows) << Tenants::account(i);
    }

    deliveries.clear();
    EXPECT_EQ(plugin_threads(), 0u) << "the last delivery to close stops the pool's threads";
}

// A delivery closed while its requests hang at the server ends them as RETRY and returns; the
// deliveries that share its thread finish untouched.
TEST(IoPool, ClosingOneDeliveryMidRequestLeavesTheOthersDelivering) {
    Tenants t({"--fault", "hang,contains=hang-me"});
    const size_t pool = pcapi::transport::IoPool::default_threads();
    const size_t n = 2 * pool + 1;  // so that the hanging one shares a thread with another
    std::vector<std::unique_ptr<pcapi::Delivery>> deliveries;
    for (size_t i = 0; i < n; ++i) deliveries.push_back(t.open(i));

    // Delivery 0's single event hangs at the sandbox; the others are answered.
    pcapi::EncodedBatch hung_batch;
    pcapi::DeliveryReport hung_report;
    {
        OwnedMapping mapping({{"event_name", "=checkout"}, {"email", "email"}, {"order_id", "order"}});
        pcapi::PipelineOptions opt = pcapi::pipeline_options();
        opt.sync_id = "io-pool-test";
        pcapi::Pipeline pipeline(pcapi::Mapping::compile(mapping.get(), {}), opt, 10, 4 << 20);
        support::BatchBuilder b({"email", "order"});
        b.begin_row("h");
        b.add_text("hung@example.com");
        b.add_text("hang-me");
        pipeline.encode(*b.finish(), std::time(nullptr), hung_batch);
    }
    Countdown hung(1);
    deliveries[0]->start(hung_batch.payloads, hung_report, hung.done());

    t.encode(n, 20, 5);
    Countdown running(n - 1);
    for (size_t i = 1; i < n; ++i) deliveries[i]->start(t.batches[i].payloads, t.reports[i], running.done());
    deliveries[0]->close();
    ASSERT_TRUE(hung.wait());
    EXPECT_EQ(count(hung_report, SP_RECORD_RETRY), size_t{1}) << "the hanging event is left for the next run";
    ASSERT_TRUE(running.wait());
    for (size_t i = 1; i < n; ++i) EXPECT_EQ(count(t.reports[i], SP_RECORD_OK), size_t{20}) << "tenant " << i;
    deliveries.clear();
}

// Tenants whose hosts take long to hand out a token (their refreshes wait on a slow token
// endpoint), more of them than the plugin has threads of any kind: the other tenants, those on
// the same I/O threads included, deliver meanwhile, and each slow tenant delivers once its token
// comes. The plugin asks for a batch's token on the thread of the host's own call, so a slow host
// holds up only itself.
TEST(IoPool, HostsSlowToGiveATokenStallNoOtherTenantHoweverMany) {
    Tenants t;
    const size_t slow_tenants = 2 * pcapi::transport::IoPool::default_threads() + 1;
    const size_t n = 2 * slow_tenants;  // as many prompt ones, on the same I/O threads
    std::vector<std::unique_ptr<BlockingTokenHost>> slow;
    std::vector<std::unique_ptr<pcapi::Delivery>> deliveries;
    for (size_t i = 0; i < n; ++i) {
        if (i < slow_tenants) slow.push_back(std::make_unique<BlockingTokenHost>(*t.host.get()));
        deliveries.push_back(t.open(i, i < slow_tenants ? slow[i]->get() : nullptr));
    }
    t.encode(n, 20, 5);

    Countdown slow_done(slow_tenants);
    std::vector<std::thread> engine_threads;  // start() waits for the host's token on its caller's thread
    for (size_t i = 0; i < slow_tenants; ++i)
        engine_threads.emplace_back(
            [&, i] { deliveries[i]->start(t.batches[i].payloads, t.reports[i], slow_done.done()); });
    bool all_asked = true;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (auto &s : slow) all_asked = s->wait_asked(until) && all_asked;
    Countdown others(n - slow_tenants);
    for (size_t i = slow_tenants; i < n; ++i) deliveries[i]->start(t.batches[i].payloads, t.reports[i], others.done());
    const bool others_done = all_asked && others.wait();
    for (auto &s : slow) s->release();  // before any assertion can return: the blocked host calls must end
    for (auto &th : engine_threads) th.join();
    EXPECT_TRUE(all_asked) << "a slow tenant's token was never asked for";
    EXPECT_TRUE(others_done) << "a tenant waited for another tenant's token";
    ASSERT_TRUE(slow_done.wait());
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(count(t.reports[i], SP_RECORD_OK), size_t{20}) << "tenant " << i;
    deliveries.clear();
}

// One tenant's token is refused and its host's refresh takes long (a slow token endpoint): the
// plugin asks for it on its host-call threads, so the tenants that share the slow one's I/O thread
// deliver meanwhile, and the slow one delivers once the fresh token comes.
TEST(IoPool, AHostSlowToRefreshATokenStallsNoOtherTenantOnItsThread) {
    Tenants t;
    const size_t n = pcapi::transport::IoPool::default_threads() + 1;  // the last shares the first's thread
    TestHost stale("io-pool-stale-token-1");
    stale.on_refresh(SP_CRED_OK, kToken);
    BlockingTokenHost slow(*stale.get(), true);
    std::vector<std::unique_ptr<pcapi::Delivery>> deliveries;
    deliveries.push_back(t.open(0, slow.get()));
    for (size_t i = 1; i < n; ++i) deliveries.push_back(t.open(i));
    t.encode(n, 20, 5);

    Countdown first(1);
    deliveries[0]->start(t.batches[0].payloads, t.reports[0], first.done());
    const bool asked = slow.wait_asked();
    Countdown others(n - 1);
    for (size_t i = 1; i < n; ++i) deliveries[i]->start(t.batches[i].payloads, t.reports[i], others.done());
    const bool others_done = asked && others.wait();
    slow.release();  // before any assertion can return: the blocked host call must end
    EXPECT_TRUE(asked) << "the 401 never led to a refresh";
    EXPECT_TRUE(others_done) << "a tenant waited for another tenant's refresh";
    ASSERT_TRUE(first.wait());
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(count(t.reports[i], SP_RECORD_OK), size_t{20}) << "tenant " << i;
    EXPECT_EQ(stale.refreshes(), 1);
    deliveries.clear();
}

// A host that closes an instance from inside one of its service callbacks (here the cancellation
// poll, which runs on the plugin's I/O thread) breaks the ABI's rule; the delivery would wait for
// itself forever. It stops the process with a message that says why instead.
// Opens a delivery with `host` (whose callbacks close it through `victim`) and delivers one event.
static void deliver_one(Tenants &t, const sp_host &host, pcapi::Delivery *&victim) {
    auto d = t.open(0, &host);
    victim = d.get();
    t.encode(1, 1, 1);
    Countdown running(1);
    d->start(t.batches[0].payloads, t.reports[0], running.done());
    running.wait();
}

TEST(IoPoolDeathTest, ClosingFromInsideAHostCallbackStopsWithTheReasonInsteadOfHanging) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            Tenants t({"--fault", "hang"});
            static pcapi::Delivery *victim = nullptr;
            sp_host host = *t.host.get();
            host.is_cancelled = [](void *) {
                victim->close();
                return 0;
            };
            deliver_one(t, host, victim);
        },
        "closed or destroyed from inside a host service callback");
    // The same from inside the token service, which the plugin calls from start() on the host's
    // own thread (and after a 401 on its host-call threads).
    EXPECT_DEATH(
        {
            Tenants t;
            static pcapi::Delivery *victim = nullptr;
            static const sp_host *inner = nullptr;
            sp_host host = *t.host.get();
            inner = t.host.get();
            host.get_access_token = [](void *, uint32_t flags, const char *rejected, char *out, uint32_t cap,
                                       uint32_t *len, char *msg, uint32_t msg_cap) {
                victim->close();
                return inner->get_access_token(inner->ctx, flags, rejected, out, cap, len, msg, msg_cap);
            };
            deliver_one(t, host, victim);
        },
        "closed or destroyed from inside a host service callback");
}
