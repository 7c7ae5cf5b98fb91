// Robustness: NULL arguments, garbage cells, hostile shapes, exceptions, parallel instances,
// host vtables with empty slots, repeated load/unload.
#include "harness.hpp"

#include <cstring>
#include <dirent.h>
#include <fstream>
#include <random>
#include <thread>
#include <unistd.h>

namespace harness {
namespace {

// Runs `body`, failing the check if anything escapes the plugin as a C++ exception.
template <class F>
void no_throw(const char *what, F &&body) {
    try {
        body();
    } catch (const CheckEnd &) {
        throw;
    } catch (...) {
        fail(std::string("an exception escaped the plugin from ") + what);
    }
}

Register nulls("robustness.null_arguments", "NULL arguments are refused with an error, never a crash",
               [](const Options &o) {
    Fixture f(o);
    const sp_entry &e = f.entry;
    no_throw("NULL arguments", [&] {
        sp_error *err = nullptr;
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        expect(e.write_batch(nullptr, nullptr, &wr, &err) != SP_OK, "write_batch(NULL instance) succeeded");
        take(e, err);
        err = nullptr;
        expect(e.flush(nullptr, &err) != SP_OK, "flush(NULL) succeeded");
        take(e, err);
        e.close(nullptr);
        e.destroy(nullptr);
        e.error_destroy(nullptr);
        err = nullptr;
        expect(e.open(nullptr, nullptr, nullptr, &err) != SP_OK, "open(NULL, NULL) succeeded");
        take(e, err);
        sp_instance *inst = nullptr;
        err = nullptr;
        expect(e.open(nullptr, nullptr, &inst, &err) != SP_OK && inst == nullptr, "open(NULL params) succeeded");
        take(e, err);
        sp_config broken{sizeof(sp_config), 3, nullptr};
        err = nullptr;
        expect(e.check(&broken, nullptr, &err) != SP_OK, "check(config with NULL entries) succeeded");
        take(e, err);
        Config c(o.config);
        Mapping m(o.mapping);
        sp_open_params p = f.params(c, m);
        sp_instance *good = nullptr;
        err = nullptr;
        // An instance that cannot be opened is lifecycle.open_close's failure; here only NULLs count.
        if (f.has_good_config() && e.open(&p, nullptr, &good, &err) != SP_OK) good = nullptr;
        take(e, err);
        if (good != nullptr) {
            err = nullptr;
            expect(e.write_batch(good, nullptr, &wr, &err) != SP_OK, "write_batch(NULL batch) succeeded");
            take(e, err);
            Batch b = f.sample_batch(1);
            err = nullptr;
            expect(e.write_batch(good, b.get(), nullptr, &err) != SP_OK, "write_batch(NULL out) succeeded");
            take(e, err);
            sp_batch hostile = *b.get();
            hostile.values = nullptr;
            err = nullptr;
            expect(e.write_batch(good, &hostile, &wr, &err) != SP_OK, "write_batch(records without values) succeeded");
            take(e, err);
            expect(wr.record_count == 1, "malformed batch did not get one result per record");
            e.destroy(good);
        }
    });
});

Register garbage("robustness.garbage_cells", "random cell types and bytes give one result per record, no crash",
                 [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    std::mt19937 rng(12345);
    const auto cols = f.columns();
    std::vector<const char *> names;
    for (const auto &col : cols) names.push_back(col.c_str());
    for (int round = 0; round < 50; ++round) {
        const uint32_t n = rng() % 40;
        std::vector<std::string> bytes(n * cols.size());
        std::vector<sp_value> cells(n * cols.size());
        std::vector<std::string> keys(n);
        std::vector<const char *> key_ptrs(n);
        for (size_t i = 0; i < cells.size(); ++i) {
            sp_value &v = cells[i];
            v.type = rng() % 7;  // includes two invalid types
            bytes[i].resize(rng() % 64);
            for (auto &ch : bytes[i]) ch = static_cast<char>(rng());
            if (v.type == SP_VALUE_TEXT || v.type == SP_VALUE_BLOB) {
                v.len = static_cast<uint32_t>(bytes[i].size());
                v.as.text = bytes[i].data();
            } else if (v.type == SP_VALUE_REAL) {
                uint64_t raw = (uint64_t(rng()) << 32) | rng();
                std::memcpy(&v.as.r, &raw, sizeof raw);  // includes NaN and infinities
            } else {
                v.as.i = static_cast<int64_t>((uint64_t(rng()) << 32) | rng());
            }
        }
        for (uint32_t r = 0; r < n; ++r) {
            keys[r] = std::to_string(rng());
            key_ptrs[r] = (rng() % 10) ? keys[r].c_str() : nullptr;
        }
        sp_batch b{sizeof(sp_batch), static_cast<uint32_t>(cols.size()), names.data(), n, cells.data(), key_ptrs.data(), nullptr, nullptr};
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        sp_error *err = nullptr;
        no_throw("write_batch with garbage cells", [&] { f.entry.write_batch(inst, &b, &wr, &err); });
        take(f.entry, err);
        expect(wr.record_count == n, "garbage batch of " + std::to_string(n) + " gave " + std::to_string(wr.record_count) + " results");
    }
    f.entry.destroy(inst);
});

Register missing_column("robustness.missing_column", "a batch without a mapped column is refused as CONFIG, all RETRY",
                        [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    Batch b({"harness_unrelated_column"});
    b.add_nulls("k1");
    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    sp_error *err = nullptr;
    sp_status s = f.entry.write_batch(inst, b.get(), &wr, &err);
    Error e = take(f.entry, err);
    if (o.mapping.empty()) skip("no mapping");
    expect(s != SP_OK && e.category == SP_ERR_CONFIG, "a batch missing mapped columns was not refused as CONFIG");
    expect(wr.record_count == 1 && sp_result_at(&wr, 0)->status == SP_RECORD_RETRY, "records of a refused batch are not RETRY");
    f.entry.destroy(inst);
});

Register empty_host("robustness.host_vtable", "works with a host vtable whose slots are NULL or that is older/smaller",
                    [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config()) skip("no known-good config given");
    if (o.mapping.empty() && (f.desc.features & SP_FEATURE_FIELD_MAPPING)) skip("no mapping given (--map FIELD=COLUMN)");
    Config c(o.config);
    Mapping m(o.mapping);
    for (uint32_t size : {uint32_t(sizeof(sp_host)), uint32_t(offsetof(sp_host, log) + sizeof(void *))}) {
        sp_host host{};
        host.struct_size = size;
        sp_open_params p = f.params(c, m);
        sp_instance *inst = nullptr;
        sp_error *err = nullptr;
        sp_status s = f.entry.open(&p, &host, &inst, &err);
        Error e = take(f.entry, err);
        if (s != SP_OK && e.category == SP_ERR_UNSUPPORTED) skip("no dry-run instance");
        expect(s == SP_OK, "open with an empty host vtable failed: " + e.message);
        Batch b = f.sample_batch(3);
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        err = nullptr;
        f.entry.write_batch(inst, b.get(), &wr, &err);
        take(f.entry, err);
        expect(wr.record_count == 3, "wrong result count with an empty host vtable");
        f.entry.destroy(inst);
    }
});

Register parallel("robustness.parallel_instances", "four instances used from four threads at once", [](const Options &o) {
    Fixture f(o);
    if (!f.has_good_config() || o.sample_rows.empty()) skip("needs --config and --sample");
    Config c(o.config);
    Mapping m(o.mapping);
    std::vector<std::string> problems(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            try {
                sp_instance *inst = f.open_good(c, m);
                for (int round = 0; round < 5; ++round) {
                    Batch b = f.sample_batch(500);
                    sp_write_result wr{};
                    wr.struct_size = sizeof wr;
                    sp_error *err = nullptr;
                    f.entry.write_batch(inst, b.get(), &wr, &err);
                    take(f.entry, err);
                    if (wr.record_count != 500 || wr.ok_count != 500) problems[t] = "wrong results under concurrency";
                }
                f.entry.destroy(inst);
            } catch (const CheckEnd &e) {
                problems[t] = e.message;
            } catch (...) {
                problems[t] = "exception escaped";
            }
        });
    }
    for (auto &th : threads) th.join();
    for (const auto &p : problems) expect(p.empty(), p);
});

size_t rss_kb() {
    std::ifstream in("/proc/self/statm");
    size_t pages = 0, resident = 0;
    in >> pages >> resident;
    return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

size_t thread_count() {
    size_t n = 0;
    if (DIR *d = ::opendir("/proc/self/task")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

Register leaks("leaks.load_unload_loop", "60 rounds of load/open/write/close/unload: no RSS growth, no leftover threads",
               [](const Options &o) {
    size_t base_rss = 0, base_threads = 0;
    for (int round = 0; round < 60; ++round) {
        {
            Fixture f(o);
            if (f.has_good_config() && !o.sample_rows.empty()) {
                Config c(o.config);
                Mapping m(o.mapping);
                sp_instance *inst = f.open_good(c, m);
                Batch b = f.sample_batch(200);
                sp_write_result wr{};
                wr.struct_size = sizeof wr;
                sp_error *err = nullptr;
                f.entry.write_batch(inst, b.get(), &wr, &err);
                take(f.entry, err);
                f.entry.close(inst);
                f.entry.destroy(inst);
            }
        }
        if (round == 9) {  // after warm-up: allocator arenas and caches settled
            base_rss = rss_kb();
            base_threads = thread_count();
        }
    }
    const size_t grown = rss_kb() > base_rss ? rss_kb() - base_rss : 0;
    expect(thread_count() <= base_threads, "threads left behind: " + std::to_string(thread_count()) + " vs " +
                                               std::to_string(base_threads));
    expect(grown < 8 * 1024, "RSS grew by " + std::to_string(grown / 1024) + " MiB over 50 load/unload rounds");
});

}  // namespace
}  // namespace harness
