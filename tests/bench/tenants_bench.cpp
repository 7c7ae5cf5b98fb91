// tenants_bench PLUGIN.so URL CA_FILE TOKEN N K ROWS: what many plugin instances cost in one
// process, the way an engine holds one per customer. Opens N instances (ad accounts 1000001 ..
// 1000000+N, one sp_host each) against pinterest-sandbox, then lets K of them deliver ROWS rows
// each at the same time from K threads while the others stay idle; then K others do the same (a
// second round, when N >= 2K), as an engine's next syncs do. Prints, as `key value` lines: the
// time to open the first instance and the median and worst of the others, RSS, threads and file
// descriptors before, with N idle instances, at the busy peak and after the first round, and the
// per-instance figures derived from them. The sandbox's per-account counts (`events_by_account`)
// and accepted connections are read by scripts/bench-tenants.sh: no event may reach another
// account, and the second round reuses the first round's kept-alive connections.
#include <syncplugin/syncplugin.h>
#include <support/batch_builder.hpp>

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// VmRSS (KiB) and Threads of this process, from /proc/self/status.
void proc_status(long &rss_kib, long &threads) {
    std::ifstream in("/proc/self/status");
    std::string key;
    rss_kib = threads = 0;
    while (in >> key) {
        if (key == "VmRSS:")
            in >> rss_kib;
        else if (key == "Threads:")
            in >> threads;
    }
}

// Threads the plugin started: its I/O pool names them "pcapi-io-N" (the threads they start, Asio's
// resolver, inherit the name) and the threads that call the hosts' token services "pcapi-host-N".
// The rest are this benchmark's: main, the sampler and the K writers that stand for the engine's
// threads.
long plugin_threads() {
    long n = 0;
    if (DIR *d = opendir("/proc/self/task")) {
        while (const dirent *t = readdir(d)) {
            std::ifstream comm(std::string("/proc/self/task/") + t->d_name + "/comm");
            std::string name;
            if (t->d_name[0] != '.' && std::getline(comm, name) && name.rfind("pcapi-", 0) == 0) ++n;
        }
        closedir(d);
    }
    return n;
}

long open_fds() {
    long n = 0;
    if (DIR *d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++n;
        closedir(d);
    }
    return n - 2;  // . and ..
}

// One tenant's host services: its own token, nothing logged.
struct Tenant {
    std::string token, account;
    sp_host host{};
    sp_instance *instance = nullptr;
};

sp_credential_status token_cb(void *ctx, uint32_t, const char *, char *out, uint32_t cap, uint32_t *len, char *,
                              uint32_t) {
    const std::string &t = static_cast<Tenant *>(ctx)->token;
    if (len) *len = static_cast<uint32_t>(t.size() + 1);
    if (!out || cap < t.size() + 1) return SP_CRED_BUFFER_TOO_SMALL;
    std::memcpy(out, t.c_str(), t.size() + 1);
    return SP_CRED_OK;
}

int64_t now_cb(void *) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 8) {
        std::fprintf(stderr, "usage: tenants_bench PLUGIN.so URL CA_FILE TOKEN N K ROWS\n");
        return 2;
    }
    const std::string url = argv[2], ca = argv[3], token = argv[4];
    const int n = std::atoi(argv[5]), k = std::min(std::atoi(argv[6]), std::atoi(argv[5]));
    const int rows = std::atoi(argv[7]);
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    const sp_entry *e = sp_entry_function(dlsym(lib, SP_ENTRY_SYMBOL))(SP_ABI_MAJOR);
    long rss0, threads0;
    proc_status(rss0, threads0);
    const long fds0 = open_fds();

    std::vector<Tenant> tenants(static_cast<size_t>(n));
    std::vector<double> open_ms;
    const char *map[][2] = {{"event_name", "event"}, {"email", "email"}, {"value", "total"}, {"order_id", "order_id"}};
    std::vector<sp_mapping_entry> me;
    for (auto &m : map) me.push_back({sizeof(sp_mapping_entry), m[0], m[1], nullptr});
    std::vector<const sp_mapping_entry *> mp;
    for (auto &m : me) mp.push_back(&m);
    sp_mapping mapping{sizeof(sp_mapping), static_cast<uint32_t>(mp.size()), mp.data()};
    for (int i = 0; i < n; ++i) {
        Tenant &t = tenants[static_cast<size_t>(i)];
        t.token = token;
        t.account = std::to_string(1000001 + i);
        t.host.struct_size = sizeof t.host;
        t.host.ctx = &t;
        t.host.get_access_token = token_cb;
        t.host.now_unix_ms = now_cb;
        sp_config_entry c[] = {{sizeof(sp_config_entry), "ad_account_id", t.account.c_str()},
                               {sizeof(sp_config_entry), "api_base_url", url.c_str()},
                               {sizeof(sp_config_entry), "ca_file", ca.c_str()},
                               {sizeof(sp_config_entry), "calls_per_minute", "1000000"}};
        const sp_config_entry *cp[] = {&c[0], &c[1], &c[2], &c[3]};
        sp_config config{sizeof(sp_config), 4, cp};
        sp_open_params p{};
        p.struct_size = sizeof p;
        p.target_kind = SP_TARGET_SYNC;
        p.sync_mode = SP_SYNC_INSERT;
        p.config = &config;
        p.mapping = &mapping;
        p.sync_id = t.account.c_str();
        sp_error *err = nullptr;
        const auto t0 = Clock::now();
        if (e->open(&p, &t.host, &t.instance, &err) != SP_OK) {
            std::fprintf(stderr, "open %d: %s\n", i, e->error_message(err));
            return 1;
        }
        open_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    long rss1, threads1;
    proc_status(rss1, threads1);
    const long fds1 = open_fds();
    const long plugin_threads1 = plugin_threads();

    // K tenants deliver at once, then K others; a sampler keeps the peaks.
    std::atomic<bool> busy{true};
    std::atomic<long> peak_rss{rss1}, peak_threads{threads1}, peak_fds{fds1}, peak_plugin_threads{plugin_threads1};
    std::thread sampler([&] {
        while (busy.load()) {
            long r, th;
            proc_status(r, th);
            peak_rss = std::max(peak_rss.load(), r);
            peak_threads = std::max(peak_threads.load(), th);
            peak_fds = std::max(peak_fds.load(), open_fds());
            peak_plugin_threads = std::max(peak_plugin_threads.load(), plugin_threads());
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    std::atomic<long> delivered{0}, failed{0};
    long fds_after_round = 0;
    const int rounds = n >= 2 * k ? 2 : 1;
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::thread> writers;
        for (int i = round * k; i < (round + 1) * k; ++i)
            writers.emplace_back([&, i] {
                Tenant &t = tenants[static_cast<size_t>(i)];
                support::BatchBuilder b({"event", "email", "total", "order_id"});
                for (int r = 0; r < rows; ++r) {
                    const std::string key = t.account + "-" + std::to_string(r);
                    b.begin_row(key);
                    b.add_text("checkout");
                    b.add_text("buyer" + std::to_string(r) + "@shop.example");
                    b.add_real(r + 0.5);
                    b.add_text(key);
                }
                sp_write_result wr{};
                wr.struct_size = sizeof wr;
                sp_error *err = nullptr;
                if (e->write_batch(t.instance, b.finish(), &wr, &err) != SP_OK) {
                    std::fprintf(stderr, "write %s: %s\n", t.account.c_str(), e->error_message(err));
                    e->error_destroy(err);
                }
                delivered += wr.ok_count;
                failed += wr.rejected_count + wr.retry_count;
            });
        for (auto &w : writers) w.join();
        if (round == 0) fds_after_round = open_fds();
    }
    busy = false;
    sampler.join();
    for (auto &t : tenants) e->destroy(t.instance);

    std::vector<double> rest(open_ms.begin() + (n > 1 ? 1 : 0), open_ms.end());
    std::sort(rest.begin(), rest.end());
    std::printf("instances %d\nactive %d\nrounds %d\nrows_per_active %d\n", n, k, rounds, rows);
    std::printf("open_first_ms %.3f\nopen_median_ms %.3f\nopen_max_ms %.3f\n", open_ms.front(),
                rest.empty() ? 0.0 : rest[rest.size() / 2], rest.empty() ? 0.0 : rest.back());
    std::printf("rss_before_kib %ld\nrss_idle_kib %ld\nrss_peak_kib %ld\n", rss0, rss1, peak_rss.load());
    std::printf("idle_kib_per_instance %.1f\n", static_cast<double>(rss1 - rss0) / n);
    std::printf("active_kib_per_instance %.1f\n", k ? static_cast<double>(peak_rss.load() - rss1) / k : 0.0);
    std::printf("threads_before %ld\nthreads_idle %ld\nthreads_peak %ld\n", threads0, threads1, peak_threads.load());
    std::printf("plugin_threads_idle %ld\nplugin_threads_peak %ld\n", plugin_threads1, peak_plugin_threads.load());
    std::printf("fds_before %ld\nfds_idle %ld\nfds_peak %ld\nfds_after_first_round %ld\n", fds0, fds1, peak_fds.load(),
                fds_after_round);
    std::printf("delivered %ld\nnot_delivered %ld\n", delivered.load(), failed.load());
    return failed.load() ? 1 : 0;
}
