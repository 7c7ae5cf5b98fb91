#include "sync/sync_state.hpp"

#include <limits>
#include <utility>

namespace synchost {

SyncState::SyncState(StateStore &local, SourceState *beside, bool audience)
    : local_(local),
      beside_(beside),
      audience_(audience),
      local_has_rows_(beside ? local.has_rows() : true),
      run_token_(SourceState::new_run_token()) {}

uint64_t SyncState::count_known() {
    return beside_ ? beside_->counts().first : local_.count_known(audience_);
}

uint64_t SyncState::count_departed() {
    if (!beside_) return local_.count_departed(audience_);
    if (!departed_) departed_ = beside_->departed();
    return departed_->size();
}

std::vector<DepartedKey> SyncState::departed() {
    if (!beside_) return local_.departed(audience_);
    if (!departed_) departed_ = beside_->departed();
    return std::exchange(*departed_, {});
}

uint64_t SyncState::mark_departures(int64_t run_id) {
    return beside_ ? beside_->mark_departures() : local_.mark_departures(run_id);
}

std::vector<size_t> SyncState::commit(const RunSummary &run, const std::vector<RowUpdate> &rows,
                                      const std::vector<MemberUpdate> &members, const std::vector<RowError> &errors) {
    if (!beside_) return local_.commit(run, rows, members, errors);
    constexpr size_t kNotARow = std::numeric_limits<size_t>::max();
    std::vector<KeyChange> changes;
    std::vector<size_t> change_row;  // per change: its index in `rows`, or kNotARow
    std::vector<RowUpdate> local;
    std::vector<size_t> local_row;
    for (size_t i = 0; i < rows.size(); ++i) {
        const RowUpdate &u = rows[i];
        if (u.state == RowState::delivered || u.state == RowState::gone) {
            changes.push_back(
                {u.state == RowState::gone ? KeyChange::drop : KeyChange::put, u.pk, static_cast<int64_t>(u.hash)});
            change_row.push_back(i);
            // A rejection or retry recorded locally by an earlier run is over.
            if (!local_has_rows_) continue;
            local.push_back({u.pk, RowState::gone, "", 0, "", ""});
            local_row.push_back(kNotARow);
        } else {
            local.push_back(u);
            local_row.push_back(i);
        }
    }
    for (const MemberUpdate &m : members) {
        if (m.kind == MemberUpdate::seen) continue;  // departures are found by the database
        const KeyChange::Kind kind = m.kind == MemberUpdate::joined    ? KeyChange::join
                                     : m.kind == MemberUpdate::changed ? KeyChange::change
                                                                       : KeyChange::leave;
        changes.push_back({kind, m.pk, static_cast<int64_t>(m.hash)});
        change_row.push_back(kNotARow);
    }
    std::vector<size_t> repeated;
    if (!changes.empty())
        for (size_t c : beside_->commit(run_token_, changes))
            if (change_row[c] != kNotARow) repeated.push_back(change_row[c]);
    for (size_t l : local_.commit(run, local, {}, errors))
        if (local_row[l] != kNotARow) repeated.push_back(local_row[l]);
    if (!local.empty()) local_has_rows_ = true;
    return repeated;
}

}  // namespace synchost
