// write_batch: exactly one result per record, in order, for any batch size; dry-run bodies.
#include "harness.hpp"

#include <cstring>

namespace harness {
namespace {

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

// Which records are refused, in an order that reads differently backwards (a palindrome would
// let a plugin that reverses its results pass) and is not sorted (OKs first would pass too).
constexpr bool kRefused[] = {false, false, true, false, true, true, true, false};
constexpr bool reads_the_same_backwards() {
    const size_t n = sizeof kRefused / sizeof *kRefused;
    for (size_t i = 0; i < n / 2; ++i)
        if (kRefused[i] != kRefused[n - 1 - i]) return false;
    return true;
}
static_assert(!reads_the_same_backwards(), "the order pattern must not be a palindrome");

Register order("write.results_in_order", "results follow input order (accepted and refused rows, not a palindrome)",
               [](const Options &o) {
    Fixture f(o);
    Config c(o.config);
    Mapping m(o.mapping);
    const Target t = f.default_target();
    // A row any correct plugin refuses: an operation the mode does not allow (minor 1), refused as
    // UNSUPPORTED; for a minor-0 plugin, NULL cells against its required rules (refuses_nulls).
    const bool by_operation = f.sends_operations();
    if (!by_operation && !f.refuses_nulls(t))
        skip("no row is known to be refused: ABI minor 0 (no operations) and no required-field rule");
    std::vector<Row> rows;
    for (size_t i = 0; i < 64; ++i) {
        if (!kRefused[i % (sizeof kRefused / sizeof *kRefused)]) rows.push_back({t.usual_op(), false, Want::ok});
        else if (by_operation) rows.push_back({t.refused_op(), false, Want::unsupported});
        else rows.push_back({t.usual_op(), true, Want::rejected});
    }
    Batch b = f.planned_batch(rows, "k");
    sp_instance *inst = f.open_good(c, m);
    expect_plan(write(f, inst, b), rows, t.name() + ", dry run");
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

namespace harness {
namespace {

Register quality("write.quality_report",
                 "sp.quality/1: counts no larger than what was written, ordered ages, a report that honours struct_size",
                 [](const Options &o) {
    Fixture f(o);
    auto ext = static_cast<const sp_ext_quality *>(f.entry.get_extension ? f.entry.get_extension(SP_EXT_QUALITY) : nullptr);
    if (ext == nullptr) skip("plugin has no " SP_EXT_QUALITY " extension");
    expect(ext->struct_size >= offsetof(sp_ext_quality, destination_report) && ext->report, "extension table incomplete");
    Config c(o.config);
    Mapping m(o.mapping);
    sp_instance *inst = f.open_good(c, m);
    sp_quality_report before{};
    before.struct_size = sizeof before;
    sp_error *err = nullptr;
    expect(ext->report(inst, &before, &err) == SP_OK, "report before any write failed: " + take(f.entry, err).message);
    uint64_t counted = 0;
    for (uint32_t g = 0; g < before.group_count; ++g) counted += before.group_events[g];
    expect(counted == 0, "a fresh instance reports " + std::to_string(counted) + " events");

    Batch b = f.sample_batch(7);
    Written w = write(f, inst, b);
    expect_results(w, 7);
    sp_quality_report r{};
    r.struct_size = sizeof r;
    err = nullptr;
    expect(ext->report(inst, &r, &err) == SP_OK, "report failed: " + take(f.entry, err).message);
    expect(r.component_count == 0 || r.components != nullptr, "components missing");
    for (uint32_t i = 0; i < r.component_count; ++i) expect(r.components[i] && r.components[i][0], "a component has no name");
    uint64_t events = 0;
    for (uint32_t g = 0; g < r.group_count; ++g) {
        expect(r.groups && r.groups[g] && r.groups[g][0], "a group has no name");
        events += r.group_events[g];
        for (uint32_t i = 0; i < r.component_count; ++i)
            expect(r.coverage[static_cast<size_t>(g) * r.component_count + i] <= r.group_events[g],
                   std::string("more events of group ") + r.groups[g] + " carry " + r.components[i] + " than there are");
    }
    expect(events <= 7, std::to_string(events) + " events reported for 7 records written");
    expect(r.aged_events <= events || r.group_count == 0, "more aged events than events");
    expect(r.age_p50_ms <= r.age_p95_ms && r.age_p95_ms <= r.age_max_ms, "ages are not ordered p50 <= p95 <= max");
    expect(r.late_events <= r.aged_events, "more late events than aged ones");
    if (r.age_bucket_count) {
        uint64_t bucketed = 0;
        for (uint32_t i = 0; i < r.age_bucket_count; ++i) {
            bucketed += r.age_bucket_events[i];
            expect(i == 0 || r.age_bucket_le_ms[i] > r.age_bucket_le_ms[i - 1], "age bucket bounds do not grow");
        }
        expect(bucketed == r.aged_events, "age buckets hold " + std::to_string(bucketed) + " events, not " +
                                              std::to_string(r.aged_events));
    }
    // A host of the first version of the struct knows only its first fields: nothing beyond them
    // may be written.
    struct {
        sp_quality_report head;
        unsigned char guard[64];
    } small;
    std::memset(&small, 0xA5, sizeof small);
    small.head.struct_size = offsetof(sp_quality_report, aged_events);
    err = nullptr;
    expect(ext->report(inst, &small.head, &err) == SP_OK, "report into a small struct failed: " + take(f.entry, err).message);
    const auto *bytes = reinterpret_cast<const unsigned char *>(&small.head);
    for (size_t i = offsetof(sp_quality_report, aged_events); i < sizeof small; ++i)
        expect(bytes[i] == 0xA5, "report wrote byte " + std::to_string(i) + " beyond the host's struct_size");
    f.entry.destroy(inst);
});

}  // namespace
}  // namespace harness
