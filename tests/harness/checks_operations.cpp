// Per-record operations (ABI minor 1): each declared mode receives only the operations of the
// header's table (the comment above sp_operation); any other is refused per record as
// SP_ERR_UNSUPPORTED while the rest of the batch is written. All in dry runs; checks_real.cpp
// does the same with real writes.
#include "harness.hpp"

namespace harness {
namespace {

// The declared targets of a minor-1 plugin, with its config and mapping; skips what cannot run.
std::vector<Target> operation_targets(const Fixture &f) {
    if (!f.sends_operations())
        skip("entry abi_minor is 0: a host sends it inserts and audience adds only, without operations");
    return f.targets();
}

Register refused("operations.refused_per_record",
                 "in every declared mode, operations the mode does not allow are refused per record as "
                 "UNSUPPORTED while the others are written",
                 [](const Options &o) {
                     Fixture f(o);
                     Config c(o.config);
                     Mapping m(o.mapping);
                     for (const Target &t : operation_targets(f)) {
                         const std::vector<Row> rows = mixed_operations(t);
                         Batch b = f.planned_batch(rows, "harness-never-delivered-");
                         sp_instance *inst = f.open_target(c, m, t, SP_OPEN_DRY_RUN);
                         expect_plan(write(f, inst, b), rows, t.name() + ", dry run");
                         f.entry.destroy(inst);
                     }
                 });

// A plugin may take another path when a whole batch is one operation (nothing to send, all
// refused): it still owes one result per record.
Register uniform(
    "operations.one_result_each",
    "batches of a single operation, allowed or not, get exactly one right result per record", [](const Options &o) {
        Fixture f(o);
        Config c(o.config);
        Mapping m(o.mapping);
        for (const Target &t : operation_targets(f)) {
            sp_instance *inst = f.open_target(c, m, t, SP_OPEN_DRY_RUN);
            for (uint32_t op : {SP_OP_UPSERT, SP_OP_DELETE, SP_OP_ADD, SP_OP_REMOVE}) {
                const std::vector<Row> rows(5, Row{op, false, t.allows(op) ? Want::ok : Want::unsupported});
                Batch b = f.planned_batch(rows, "harness-uniform-" + std::to_string(op) + "-");
                expect_plan(write(f, inst, b), rows, t.name() + ", dry run");
            }
            f.entry.destroy(inst);
        }
    });

}  // namespace
}  // namespace harness
