// The state one run reads and writes: the local store (runs, rejected and pending rows, row
// errors; and delivered keys and members unless they live beside the model), and, when the sync
// keeps them there, the table beside the model (state/source_state.hpp). The runner asks this one
// object and never which of the two holds what.
#pragma once

#include "state/source_state.hpp"
#include "state/state_store.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace synchost {

class SyncState {
public:
    // `beside` may be null (the sync's keys are local); both must outlive this object.
    SyncState(StateStore &local, SourceState *beside, bool audience);

    StateStore &local() { return local_; }
    // Whether delivered keys live beside the model: the model query is then diffed there.
    bool beside() const { return beside_ != nullptr; }
    SourceState *source() { return beside_; }

    // The departure pass (modes that look for keys gone from the model). Beside the model the
    // database compares, so marking seen keys is not needed.
    bool needs_seen_marks() const { return beside_ == nullptr; }
    void mark_seen(std::string_view pk) { local_.mark_seen(pk); }
    uint64_t count_known();
    uint64_t count_departed();
    std::vector<DepartedKey> departed();
    uint64_t mark_departures(int64_t run_id);

    // One acknowledged batch, as StateStore::commit. Beside the model, delivered and deleted
    // keys and member changes go to its table first (so a crash in between may resend a
    // rejected row, never a delivered one), then the rest, with the run's progress, locally.
    // Returns the indexes (into `rows`) of keys this run had already written.
    std::vector<size_t> commit(const RunSummary &run, const std::vector<RowUpdate> &rows,
                               const std::vector<MemberUpdate> &members, const std::vector<RowError> &errors);

private:
    StateStore &local_;
    SourceState *beside_;
    bool audience_;
    bool local_has_rows_;  // beside the model: whether a delivered key may have a local attempt to clear
    int64_t run_token_;
    // Beside the model, the departed keys as counted before anything was sent: the same list is
    // sent (one anti-join over the model, not two).
    std::optional<std::vector<DepartedKey>> departed_;
};

}  // namespace synchost
