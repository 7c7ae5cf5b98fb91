// write_batch: exactly one result per record, in order, for any batch size; dry-run bodies.
#include "harness.hpp"

namespace harness {
namespace {

struct Written {
    sp_status status;
    Error error;
    sp_write_result wr;
};

Written write(const Fixture &f, sp_instance *inst, Batch &b) {
    Written w{};
    w.wr.struct_size = sizeof w.wr;
    sp_error *err = nullptr;
    w.status = f.entry.write_batch(inst, b.get(), &w.wr, &err);
    w.error = take(f.entry, err);
    return w;
}

void expect_results(const Written &w, size_t n) {
    expect(w.wr.record_count == n, "batch of " + std::to_string(n) + " records gave " +
                                       std::to_string(w.wr.record_count) + " results");
    if (n == 0) return;
    expect(w.wr.results != nullptr, "results pointer is NULL");
    expect(w.wr.result_stride >= offsetof(sp_record_result, event_id) + sizeof(void *),
           "result_stride smaller than ABI 1.0's result");
    uint32_t counts[3] = {0, 0, 0};
    for (uint32_t i = 0; i < w.wr.record_count; ++i) {
        const sp_record_result *r = sp_result_at(&w.wr, i);
        expect(r->status <= SP_RECORD_RETRY, "result " + std::to_string(i) + " has status " + std::to_string(r->status));
        ++counts[r->status];
        if (r->status == SP_RECORD_REJECTED)
            expect(r->message && r->message[0], "rejected result " + std::to_string(i) + " has no reason");
    }
    expect(w.wr.ok_count == counts[0] && w.wr.rejected_count == counts[1] && w.wr.retry_count == counts[2],
           "ok/rejected/retry counts disagree with the results");
}

Register sizes("write.one_result_per_record", "exactly n results for batches of 0, 1, 7, max+1 and 2.5x max records",
               [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    const size_t max = f.desc.max_batch_records ? f.desc.max_batch_records : 1000;
    for (size_t n : {size_t(0), size_t(1), size_t(7), max + 1, max * 5 / 2}) {
        Batch b = f.sample_batch(n);
        Written w = write(f, inst, b);
        expect(w.status == SP_OK, "write of " + std::to_string(n) + " sample rows failed: " + w.error.message);
        expect_results(w, n);
        for (uint32_t i = 0; i < w.wr.record_count; ++i)
            expect(sp_result_at(&w.wr, i)->status == SP_RECORD_OK,
                   "sample row " + std::to_string(i % o.sample_rows.size()) + " was not accepted in a dry run: " +
                       std::string(sp_result_at(&w.wr, i)->message ? sp_result_at(&w.wr, i)->message : ""));
    }
    f.entry.destroy(inst);
});

Register order("write.results_in_order", "results follow input order (good and empty rows interleaved)",
               [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    if (f.desc.required_rule_count == 0) skip("no required fields, so no row is known to be rejected");
    Batch b(f.columns(), 64);
    std::vector<bool> good;
    for (int i = 0; i < 64; ++i) {
        const bool g = (i * 7 + 3) % 5 < 3;  // an irregular pattern
        good.push_back(g);
        if (g) b.add_json(o.sample_rows.empty() ? "{}" : o.sample_rows[i % o.sample_rows.size()], "k" + std::to_string(i));
        else b.add_nulls("k" + std::to_string(i));
    }
    if (o.sample_rows.empty()) skip("no sample rows given (--sample FILE.jsonl)");
    Written w = write(f, inst, b);
    expect_results(w, 64);
    for (uint32_t i = 0; i < 64; ++i) {
        const auto s = sp_result_at(&w.wr, i)->status;
        expect(good[i] ? s == SP_RECORD_OK : s == SP_RECORD_REJECTED,
               "result " + std::to_string(i) + " does not belong to record " + std::to_string(i) +
                   " (a row of NULLs must be rejected and a sample row accepted)");
    }
    f.entry.destroy(inst);
});

Register dry_run("write.dry_run_bodies", "a dry run prepares request bodies and sends nothing", [](const Options &o) {
    Fixture f(o);
    auto ext = static_cast<const sp_ext_dry_run *>(f.entry.get_extension ? f.entry.get_extension(SP_EXT_DRY_RUN) : nullptr);
    if (ext == nullptr) skip("plugin has no " SP_EXT_DRY_RUN " extension");
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    Batch b = f.sample_batch(5);
    Written w = write(f, inst, b);
    expect_results(w, 5);
    uint32_t count = 0;
    const char *const *bodies = ext->requests(inst, &count);
    expect(count >= 1 && bodies && bodies[0] && bodies[0][0], "no request body prepared for 5 accepted rows");
    f.entry.destroy(inst);
});

}  // namespace
}  // namespace harness

namespace harness {
namespace {

Register pipelined("write.pipelined", "sp.pipelined_write/1: batches collected in submission order, max_pending enforced",
                   [](const Options &o) {
    Fixture f(o);
    auto ext = static_cast<const sp_ext_pipelined_write *>(
        f.entry.get_extension ? f.entry.get_extension(SP_EXT_PIPELINED_WRITE) : nullptr);
    if (ext == nullptr) skip("plugin has no " SP_EXT_PIPELINED_WRITE " extension");
    expect(ext->struct_size >= sizeof(sp_ext_pipelined_write) && ext->submit && ext->collect && ext->max_pending >= 1,
           "extension table incomplete");
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    std::vector<size_t> sizes;
    for (uint32_t i = 0; i < ext->max_pending; ++i) {
        Batch b = f.sample_batch(3 + i * 5);  // distinct sizes identify the batches
        sp_error *err = nullptr;
        expect(ext->submit(inst, b.get(), &err) == SP_OK, "submit failed: " + take(f.entry, err).message);
        sizes.push_back(3 + i * 5);
    }
    Batch extra = f.sample_batch(1);
    sp_error *err = nullptr;
    expect(ext->submit(inst, extra.get(), &err) != SP_OK, "submit beyond max_pending was accepted");
    take(f.entry, err);
    for (size_t want : sizes) {
        sp_write_result wr{};
        wr.struct_size = sizeof wr;
        err = nullptr;
        expect(ext->collect(inst, &wr, &err) == SP_OK, "collect failed: " + take(f.entry, err).message);
        expect(wr.record_count == want, "collected a batch of " + std::to_string(wr.record_count) + " records, expected " +
                                            std::to_string(want) + " (submission order)");
    }
    sp_write_result wr{};
    wr.struct_size = sizeof wr;
    err = nullptr;
    expect(ext->collect(inst, &wr, &err) != SP_OK, "collect with nothing submitted succeeded");
    take(f.entry, err);
    err = nullptr;
    expect(f.entry.flush(inst, &err) == SP_OK, "flush after collecting everything failed");
    f.entry.destroy(inst);
});

}  // namespace
}  // namespace harness
