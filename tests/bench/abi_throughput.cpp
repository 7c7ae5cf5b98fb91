// abi_throughput PLUGIN.so [ROWS] [BATCH]: pushes ROWS typical rows (two identifiers to normalize
// and hash, six custom-data fields) through a plugin's write_batch the way a host does, with the
// transport replaced by the dry-run sink, and prints events/s on the calling core. Batches are
// built once and reused, so the figure is the plugin's cost alone.
#include <syncplugin/syncplugin.h>
#include <support/batch_builder.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: abi_throughput PLUGIN.so [ROWS=1000000] [BATCH=8000]\n");
        return 2;
    }
    const long rows = argc > 2 ? std::atol(argv[2]) : 1000000;
    const uint32_t batch_rows = argc > 3 ? static_cast<uint32_t>(std::atol(argv[3])) : 8000;
    const auto load_start = std::chrono::steady_clock::now();
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    auto get_entry = reinterpret_cast<sp_get_entry_fn>(dlsym(lib, SP_ENTRY_SYMBOL));
    const sp_entry *e = get_entry ? get_entry(SP_ABI_MAJOR) : nullptr;
    if (!e || !e->describe()) return 1;
    // What a host pays to load the plugin and read its capabilities (target < 50 ms); on stderr,
    // so that the throughput line stays the only line on stdout.
    std::fprintf(stderr, "abi_throughput: load + describe %.2f ms\n",
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count());

    sp_config_entry account{sizeof(sp_config_entry), "ad_account_id", "549755885175"};
    sp_config_entry cc{sizeof(sp_config_entry), "default_phone_country_code", "1"};
    const sp_config_entry *ce[] = {&account, &cc};
    sp_config config{sizeof(sp_config), 2, ce};
    const char *map[][2] = {{"event_name", "event"}, {"event_time", "ts"},     {"email", "email"},
                            {"phone", "phone"},      {"value", "total"},       {"currency", "currency"},
                            {"order_id", "order_id"}, {"content_ids", "skus"}, {"num_items", "items"},
                            {"content_name", "name"}};
    std::vector<sp_mapping_entry> me;
    for (auto &m : map) me.push_back({sizeof(sp_mapping_entry), m[0], m[1], nullptr});
    std::vector<const sp_mapping_entry *> mp;
    for (auto &m : me) mp.push_back(&m);
    sp_mapping mapping{sizeof(sp_mapping), static_cast<uint32_t>(mp.size()), mp.data()};
    sp_open_params p{};
    p.struct_size = sizeof p;
    p.target_kind = SP_TARGET_SYNC;
    p.sync_mode = SP_SYNC_INSERT;
    p.config = &config;
    p.mapping = &mapping;
    p.sync_id = "bench";
    p.flags = SP_OPEN_DRY_RUN;
    sp_instance *inst = nullptr;
    sp_error *err = nullptr;
    if (e->open(&p, nullptr, &inst, &err) != SP_OK) {
        std::fprintf(stderr, "open: %s\n", e->error_message(err));
        return 1;
    }

    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    support::BatchBuilder b({"event", "ts", "email", "phone", "total", "currency", "order_id", "skus", "items", "name"});
    for (uint32_t i = 0; i < batch_rows; ++i) {
        b.begin_row("order-" + std::to_string(i));
        b.add_text(i % 3 ? "checkout" : "add_to_cart");
        b.add_int(now - 3600 - i);
        b.add_text(" Customer." + std::to_string(i) + "@Example.COM ");
        b.add_text("+1 (415) 555-" + std::to_string(1000 + i % 9000));
        b.add_real(19.99 + i % 100);
        b.add_text("usd");
        b.add_text("order-" + std::to_string(i));
        b.add_text("[\"sku-" + std::to_string(i % 500) + "\",\"sku-" + std::to_string(i % 77) + "\"]");
        b.add_int(1 + i % 5);
        b.add_text("Blue running shoes");
    }
    const sp_batch *batch = b.finish();

    long done = 0, ok = 0;
    size_t bytes = 0, batch_events = 0;
    auto ext = static_cast<const sp_ext_dry_run *>(e->get_extension(SP_EXT_DRY_RUN));
    const auto t0 = std::chrono::steady_clock::now();
    while (done < rows) {
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        if (e->write_batch(inst, batch, &wr, &err) != SP_OK) {
            std::fprintf(stderr, "write_batch: %s\n", e->error_message(err));
            return 1;
        }
        ok += wr.ok_count;
        done += wr.record_count;
        if (done == wr.record_count) {  // the bodies are the same every time: measure them once
            uint32_t n = 0;
            const char *const *bodies = ext->requests(inst, &n);
            for (uint32_t i = 0; i < n; ++i) bytes += std::char_traits<char>::length(bodies[i]);
            batch_events = wr.record_count;
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("abi_throughput: %ld events in %.3f s = %.0f events/s (%.0f ns/event), %ld accepted, %.0f bytes/event\n",
                done, secs, done / secs, secs * 1e9 / done, ok, static_cast<double>(bytes) / static_cast<double>(batch_events));
    e->destroy(inst);
    dlclose(lib);
    return ok == done ? 0 : 1;
}
