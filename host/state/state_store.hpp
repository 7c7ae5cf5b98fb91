// A sync's durable state: which primary keys were delivered, rejected (with why) or are pending,
// audience membership, and a record of runs. One SQLite database per sync under the state
// directory, updated in one transaction per acknowledged batch, so a killed run resumes exactly
// where it stopped.
#pragma once

#include "state/sqlite_db.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synchost {

// `gone`: the destination deleted the key (a DELETE was acknowledged); the state forgets it.
enum class RowState : int { delivered = 1, rejected = 2, pending = 3, gone = 4 };

// What the state knows of a key: whether (and with which content) the destination holds it, and
// the outcome of the last attempt that was not a delivery (a rejection, or a retry).
struct KnownRow {
    struct Delivery {
        int64_t run_id;  // the run that delivered it
        uint64_t hash;   // content hash then; 0 when not recorded (insert mode keeps none)
    };
    struct Attempt {
        RowState state;  // rejected or pending
        int64_t run_id;
        uint64_t hash;  // content hash of the attempt (rejected rows: resent when it changes)
    };
    std::optional<Delivery> delivered;
    std::optional<Attempt> attempt;
    bool written_by(int64_t run_id) const {
        return (delivered && delivered->run_id == run_id) || (attempt && attempt->run_id == run_id);
    }
};

struct RowUpdate {
    std::string pk;
    RowState state;
    std::string event_id;
    uint64_t hash = 0;
    std::string reason, field;  // for rejected and pending rows
    bool keep_hash = false;     // delivered: record the content hash (modes that send changes)
    bool replaces = false;      // delivered: the key was delivered by an earlier run (an update)
};

// Audience membership change.
struct MemberUpdate {
    enum Kind { seen, joined, changed, left };
    std::string pk;
    Kind kind = seen;   // joined: (re)joined (the next generation); changed: its row changed;
                        // left: a REMOVE was acknowledged; seen: still a member
    uint64_t hash = 0;  // joined and changed: the row's content hash
    // Kept for older callers: true means joined.
    MemberUpdate(std::string p, bool added) : pk(std::move(p)), kind(added ? joined : seen) {}
    MemberUpdate(std::string p, Kind k, uint64_t h = 0) : pk(std::move(p)), kind(k), hash(h) {}
};

struct MemberState {
    bool active;
    int64_t generation;  // bumps on each rejoin, so a returning member gets a new event id
    uint64_t hash;       // content hash when it joined or last changed (0: not recorded)
};

// A key the model no longer holds: a delivered row, or an active audience member.
struct DepartedKey {
    std::string pk;
    int64_t generation;  // audience members
    uint64_t hash;
};

struct RunSummary {
    int64_t id = 0;
    int64_t started_at = 0, finished_at = 0;  // unix s
    std::string mode, status = "running", message;
    bool dry_run = false;
    bool test_events = false;  // validated by the destination, not recorded: the state is untouched
    uint64_t rows_read = 0, skipped = 0, sent = 0, delivered = 0, rejected = 0, retry = 0, row_errors = 0, departed = 0;
    // Acknowledged records by operation (sp_operation), and rows recorded without being sent
    // (audience remove mode's members).
    uint64_t by_operation[4] = {0, 0, 0, 0};
    uint64_t tracked = 0;
    int exit_code = -1;
    std::string quality;  // what the plugin reported through sp.quality/1 (quality/quality_report.hpp), or empty
    // Counts per value of the run's routing field (sp_destination_field.config_key: one sync, many
    // ad accounts), as JSON {"field": NAME, "counts": {VALUE: {"delivered","rejected","retry"}}}, or empty.
    std::string routes;
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

// A delivered key (row syncs) or an audience member, as `synchost state move` carries it between
// the local state and the table beside the model.
struct KeyRecord {
    std::string pk;
    uint64_t hash = 0;       // content hash when delivered (0: not recorded)
    int64_t generation = 0;  // audiences
    bool active = true;      // audiences: false once the member left
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
    // What the state knows of `pk`; nullopt when nothing. The attempt is looked up only when
    // `with_attempt` or the key is not delivered (insert mode needs no more than "delivered").
    std::optional<KnownRow> lookup(std::string_view pk, bool with_attempt = false);
    std::optional<MemberState> member(std::string_view pk);

    // Keys seen by this run, for the keys gone from the model: a temporary table, in this process.
    void mark_seen(std::string_view pk);
    // Delivered keys (row syncs) or active members (audiences): all, and those not marked seen.
    uint64_t count_known(bool audience);
    uint64_t count_departed(bool audience);
    std::vector<DepartedKey> departed(bool audience);

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

    // Where the sync's delivered keys live when not here: the table beside the model they were
    // moved to ("" when they are here). Runs check it against the definition.
    std::string keys_location();
    // The schema of that table, as the definition named it.
    std::string keys_schema();
    void set_keys_location(const std::string &table, const std::string &schema);
    // Every delivered key (row syncs) or member (audiences), `batch` at a time.
    void export_keys(bool audience, size_t batch, const std::function<void(std::vector<KeyRecord> &)> &each);
    // Adds or replaces delivered keys (members), as recorded by no run; in one transaction.
    void import_keys(bool audience, const std::vector<KeyRecord> &keys);
    // Whether any key is delivered (any member recorded, audiences).
    bool has_keys(bool audience);
    // Forgets every delivered key and member; rejected and pending rows stay.
    void clear_keys();

    StateCounts counts();
    std::vector<RunSummary> recent_runs(int n);
    // The last n runs that recorded a quality report, newest first; test-event runs (validated,
    // recorded nowhere) are left out, so a real run is never compared with one.
    std::vector<RunSummary> runs_with_quality(int n);
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
