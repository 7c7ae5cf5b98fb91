// A sync's durable state: which primary keys were delivered, rejected (with why) or are pending,
// audience membership, and a record of runs. One SQLite database per sync under the state
// directory, updated in one transaction per acknowledged batch, so a killed run resumes exactly
// where it stopped.
#pragma once

#include "state/sqlite_db.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synchost {

enum class RowState : int { delivered = 1, rejected = 2, pending = 3 };

struct KnownRow {
    RowState state;
    int64_t run_id;  // the run that last wrote it
    uint64_t hash;   // content hash at that time (rejected rows: resent when it changes)
};

struct RowUpdate {
    std::string pk;
    RowState state;
    std::string event_id;
    uint64_t hash = 0;
    std::string reason, field;  // for rejected and pending rows
};

// Audience membership change: a delivered "added member" event makes a member active.
struct MemberUpdate {
    std::string pk;
    bool added = false;  // true: (re)joined and its event was delivered; false: seen, still active
};

struct MemberState {
    bool active;
    int64_t generation;  // bumps on each rejoin, so a returning member gets a new event id
};

struct RunSummary {
    int64_t id = 0;
    int64_t started_at = 0, finished_at = 0;  // unix s
    std::string mode, status = "running", message;
    bool dry_run = false;
    bool test_events = false;  // validated by the destination, not recorded: the state is untouched
    uint64_t rows_read = 0, skipped = 0, sent = 0, delivered = 0, rejected = 0, retry = 0, row_errors = 0, departed = 0;
    int exit_code = -1;
};

struct RowError {
    uint64_t position;  // 1-based row number in the query result
    std::string pk;     // may be empty (NULL key)
    std::string reason;
};

struct ReasonCount {
    std::string reason;
    uint64_t count;
    std::vector<std::string> example_keys;
};

struct StateCounts {
    uint64_t delivered = 0, rejected = 0, pending = 0, members_active = 0, members_departed = 0;
};

class StateStore {
public:
    enum class Access { run, read };
    // What to do with a state that exists but cannot be trusted (state_files.hpp).
    enum class Damaged { refuse, start_over };
    // The state of sync `sync_name` under `dir` (STATE_DIR/syncs/NAME, created 0700 when missing;
    // a state of the older layout STATE_DIR/NAME.sqlite is moved there). Access::run also takes
    // the sync's lock, so two runs of one sync cannot overlap; Access::read (status) does not, and
    // throws CliError when the sync never ran. A state that exists is checked before use (see
    // StateFiles): a damaged one throws StateDamaged, or with Damaged::start_over is set aside
    // and replaced by a new one. Throws CliError(kExitConfig) when the directory or database
    // cannot be created or written, or another run holds the lock.
    static std::unique_ptr<StateStore> open(const std::filesystem::path &dir, const std::string &sync_name,
                                            Access access = Access::run, Damaged damaged = Damaged::refuse);
    // Records the marker beside the state (runs only): its files as this process leaves them.
    ~StateStore();

    const std::filesystem::path &file() const;
    // What open() did that the user should know about (a state moved or set aside), for the log.
    const std::vector<std::string> &notes() const;

    // False when nothing was ever recorded: a first run can skip per-row lookups.
    bool has_rows();
    std::optional<KnownRow> lookup(std::string_view pk);
    std::optional<MemberState> member(std::string_view pk);

    // The stored content hashes of rows were made by hash function `version`; hashes made by
    // another one are forgotten (those rows then count as changed and are tried once more).
    void use_row_hash(int version);
    // A run that records nothing but itself: a dry run (not even itself) or a test run.
    RunSummary begin_run(const std::string &mode, bool dry_run, bool test_events = false);
    // One acknowledged batch: row and member updates, row errors and the run's progress, atomically.
    // Returns the indexes (into `rows`) of rows this run had already written: a primary key
    // repeated in the query result, seen too late to skip; its first outcome is kept.
    std::vector<size_t> commit(const RunSummary &run, const std::vector<RowUpdate> &rows,
                               const std::vector<MemberUpdate> &members, const std::vector<RowError> &errors);
    void finish_run(const RunSummary &run);

    // Audience: members not seen by run `run_id` depart (no event is sent). Returns how many.
    uint64_t mark_departures(int64_t run_id);
    // --full-resync: forget delivered keys (and audience members). Returns how many rows.
    uint64_t forget_delivered();

    StateCounts counts();
    std::vector<RunSummary> recent_runs(int n);
    std::vector<ReasonCount> top_reasons(int n, int examples);
    std::vector<RowError> row_errors(int64_t run_id, int n);
    // The most recent run made with test events, if any.
    std::optional<RunSummary> last_test_run();

private:
    StateStore() = default;
    static std::vector<RunSummary> read_runs(Stmt &q);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace synchost
