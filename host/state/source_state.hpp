// Delivered keys kept beside the model, in the source database (PostgreSQL): one table per sync,
// SCHEMA.NAME, so a run asks the database for the rows its mode acts on (new, changed, departed)
// instead of reading every row of the model into synchost. The rest of the state (runs, rejected
// and pending rows, row errors) stays in the state directory (state_store.hpp).
//
// The table holds one record per key the destination holds (row syncs) or has held (audiences):
//   key         the model's primary key, in the model's own column type
//   hash        a hash PostgreSQL computes over the mapped columns and the key (changed rows)
//   generation  audiences: bumps on each (re)join, so a returning member is a new event
//   active      audiences: false once the member left; row syncs: always true
//   run         the run that wrote it (a random token, not the local run id: two state
//               directories may drive one table over time)
// A run holds a session advisory lock on the table's name, so two runs of one sync (from any
// machine) never overlap; PostgreSQL releases it when the session ends, even on SIGKILL.
#pragma once

#include "state/state_store.hpp"
#include "sync/definition.hpp"
#include "sync/mode_rules.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace synchost {

// The columns the diff query appends to the model's own.
inline constexpr const char *kPrevHashColumn = "_synchost_prev_hash";  // NULL: never delivered
inline constexpr const char *kGenerationColumn = "_synchost_generation";
inline constexpr const char *kActiveColumn = "_synchost_active";
inline constexpr const char *kHashColumn = "_synchost_hash";

// A change to the table, recorded once the destination acknowledged it (or, for tracked members,
// once seen).
struct KeyChange {
    enum Kind { put, join, change, leave, drop };
    // put: delivered (row syncs; the hash replaces the old one); join: a member (re)joined (the
    // generation bumps); change: a member's row changed; leave: a member left; drop: the
    // destination deleted the key (row syncs): the record goes.
    Kind kind;
    std::string pk;  // as key_text() writes it; cast to the key column's type in SQL
    int64_t hash = 0;
};

class SourceState {
public:
    enum class Access { run, read, existing };
    // Connects with the source's connection string. Access::run creates the schema and table
    // when missing (a role without the privilege gets CliError naming the GRANT it needs) and
    // takes the sync's advisory lock (CliError when another run holds it). Access::read
    // (status) changes nothing; `exists()` says whether the table is there. Access::existing
    // (state move --to local) takes the lock and throws CliError when the table is missing.
    static std::unique_ptr<SourceState> open(const SyncDefinition &def, Access access);
    // The table a definition keeps its keys in ("synchost"."orders"), without connecting.
    static std::string table_of(const SyncDefinition &def);
    ~SourceState();

    bool exists() const;
    // Whether open() created the table (it was missing).
    bool created() const { return created_; }
    // Access::read, before the first run: whether the connection's role may create the table (the
    // schema too, when missing). Returns "" when it may, else the grant it lacks.
    std::string missing_grant();
    // "synchost"."orders" as the user sees it in messages.
    const std::string &table() const;

    // The model query, wrapped: only the rows `rule` acts on (new keys; changed ones when it
    // tracks changes; departed members rejoining), each with the model's columns followed by
    // kPrevHashColumn, kGenerationColumn, kActiveColumn and kHashColumn. `hashed` are the model
    // columns the row hash covers (the mapped ones and the key).
    std::string diff_query(const ModeRule &rule, const std::vector<std::string> &hashed) const;

    // Keys in the table: active (delivered keys, active members) and left (departed members).
    std::pair<uint64_t, uint64_t> counts();
    // Those the model no longer holds.
    std::vector<DepartedKey> departed();
    // Audiences: active members the model no longer holds are marked as left (nothing is sent).
    uint64_t mark_departures();
    // --full-resync: forget every key. Returns how many.
    uint64_t forget();

    // Records acknowledged changes in one transaction, as run `run_token`. Returns the indexes of
    // put/join changes whose key this run had already written (a key repeated in the model).
    std::vector<size_t> commit(int64_t run_token, const std::vector<KeyChange> &changes);

    // After a run: vacuums and analyzes the table when the run changed many records, so the next
    // diff reads the key index alone and is planned for the table's size.
    void tidy();

    // `synchost state move`. The model query with PostgreSQL's row hash appended (kHashColumn);
    // `joined`: only rows whose key the table holds, with the record's hash, generation and
    // active flag appended too (kPrevHashColumn, kGenerationColumn, kActiveColumn).
    std::string hashed_model_query(const std::vector<std::string> &hashed, bool joined) const;
    // Every record, `batch` at a time (a cursor: memory stays flat).
    void export_keys(size_t batch, const std::function<void(std::vector<KeyRecord> &)> &each);
    // Replaces the table's records in one transaction: begin_replace() empties it, put_keys()
    // adds, set_hashes() sets the hash of records already added, finish_replace() commits.
    void begin_replace();
    void put_keys(const std::vector<KeyRecord> &keys);
    void set_hashes(const std::vector<KeyRecord> &keys);
    void finish_replace();
    // Drops the table (its keys were moved to the local state).
    void drop();

    // A random token naming one run in the table.
    static int64_t new_run_token();

private:
    SourceState() = default;
    bool created_ = false;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace synchost
