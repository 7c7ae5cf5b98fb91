// `synchost state move SYNC.json --to source|local`: moves a sync's delivered keys (audience
// members) between the local state and the table beside the model, so that changing where they
// live sends nothing again (README "State beside the model").
//
// The two places hash rows differently (synchost hashes the cells it reads, PostgreSQL hashes the
// row's text), so for modes that look for changed rows the model is read once: a key whose row
// still has the content it had when delivered gets the other side's hash of it; a key whose row
// changed since keeps no hash and is sent by the next run as changed, as it would have been.
#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "exit_codes.hpp"
#include "runtime/logger.hpp"
#include "sources/source.hpp"
#include "state/source_state.hpp"
#include "state/state_store.hpp"
#include "sync/mode_rules.hpp"
#include "sync/row_key.hpp"

#include <algorithm>
#include <iostream>

namespace synchost {

namespace {

constexpr size_t kBatch = 10000;

struct Move {
    const SyncDefinition &def;
    StateStore &local;
    SourceState &beside;
    bool tracks_changes;

    // One row of the model as the move reads it: its key, the two hashes of its content, and
    // (joined with the table) the record the table holds for it.
    struct ModelRow {
        std::string pk;
        uint64_t ours = 0, theirs = 0;  // synchost's row hash; PostgreSQL's
        uint64_t recorded = 0;          // joined: the hash the table recorded
        int64_t generation = 0;
        bool active = false;
    };

    // Reads the model with PostgreSQL's hash and, `joined`, the table's record of each row
    // (SourceState::hashed_model_query), and calls `each(row)` per keyed row.
    template <class Each>
    void read_model(bool joined, Each each) {
        SourceConfig config = def.source;
        config.query = beside.hashed_model_query(hashed_columns(def), joined);
        std::unique_ptr<RowSource> model = open_source(config);
        const auto &cols = model->columns();
        auto index = [&](const std::string &name, const char *what) { return result_column(cols, name, what); };
        std::vector<size_t> hashed;
        for (const std::string &c : hashed_columns(def)) hashed.push_back(index(c, "the mapped"));
        const size_t pk_col = index(def.primary_key, "the primary_key"), pg_hash = index(kHashColumn, "the state's");
        const size_t recorded = joined ? index(kPrevHashColumn, "the state's") : 0,
                     generation = joined ? index(kGenerationColumn, "the state's") : 0,
                     active = joined ? index(kActiveColumn, "the state's") : 0;
        std::vector<sp_value> cells;
        ModelRow row;
        while (model->next(cells)) {
            if (!key_text(cells[pk_col], row.pk)) continue;
            row.ours = row_hash(cells, hashed);
            row.theirs = static_cast<uint64_t>(cells[pg_hash].as.i);
            if (joined) {
                row.recorded = static_cast<uint64_t>(cells[recorded].as.i);
                row.generation = cells[generation].as.i;
                row.active = cells[active].as.i != 0;
            }
            each(row);
        }
    }

    uint64_t to_source() {
        uint64_t keys = 0;
        beside.begin_replace();
        local.export_keys(def.audience, kBatch, [&](std::vector<KeyRecord> &batch) {
            // Hashes are set below where the row is unchanged; until then none matches.
            if (tracks_changes)
                for (KeyRecord &k : batch) k.hash = 0;
            beside.put_keys(batch);
            keys += batch.size();
        });
        if (tracks_changes) {
            std::vector<KeyRecord> same;
            read_model(false, [&](const ModelRow &row) {
                if (delivered_hash(row.pk) != row.ours || row.ours == 0) return;
                same.push_back({row.pk, row.theirs, 0, true});
                if (same.size() >= kBatch) beside.set_hashes(same), same.clear();
            });
            if (!same.empty()) beside.set_hashes(same);
        }
        beside.finish_replace();
        local.clear_keys();
        local.set_keys_location(beside.table(), def.state.schema);
        return keys;
    }

    uint64_t to_local() {
        uint64_t keys = 0;
        local.clear_keys();
        beside.export_keys(kBatch, [&](std::vector<KeyRecord> &batch) {
            if (tracks_changes)
                for (KeyRecord &k : batch) k.hash = 0;
            local.import_keys(def.audience, batch);
            keys += batch.size();
        });
        if (tracks_changes) {
            std::vector<KeyRecord> same;
            read_model(true, [&](const ModelRow &row) {
                if (row.recorded != row.theirs) return;  // changed since it was delivered
                same.push_back({row.pk, row.ours, row.generation, row.active});
                if (same.size() >= kBatch) local.import_keys(def.audience, same), same.clear();
            });
            if (!same.empty()) local.import_keys(def.audience, same);
        }
        local.set_keys_location("", "");
        beside.drop();
        return keys;
    }

    // The content hash the local state recorded for a delivered key (a member), 0 when none.
    uint64_t delivered_hash(const std::string &pk) {
        if (def.audience) {
            const std::optional<MemberState> m = local.member(pk);
            return m ? m->hash : 0;
        }
        const std::optional<KnownRow> k = local.lookup(pk);
        return k && k->delivered ? k->delivered->hash : 0;
    }
};

int state_move(const Argv &argv) {
    std::vector<FlagSpec> spec = common_flags();
    spec.push_back({"to", true, "where the keys go: source (the table beside the model) or local", "WHERE"});
    Args args(argv, spec,
              "usage: synchost state move SYNC.json --to source|local\n\nMoves the sync's delivered keys (audience "
              "members) between the local state and the table beside the model, so that changing \"state\" in the "
              "definition resends nothing that was delivered. Run it after editing the definition, with no run "
              "of the sync going on.");
    if (args.positional().size() != 1 || !args.has("to"))
        throw CliError(kExitConfig, "usage: synchost state move SYNC.json --to source|local");
    const std::string to = args.get("to");
    if (to != "source" && to != "local") throw CliError(kExitConfig, "--to is source or local, not \"" + to + "\"");
    SyncDefinition def = load_definition(args.positional()[0]);
    if (to == "source" && !def.state.beside_source)
        throw CliError(kExitConfig,
                       "the definition keeps this sync's keys local: set \"state\": {\"location\": "
                       "\"source\"} first, then move them there");
    if (to == "local" && def.source.type != "postgres")
        throw CliError(kExitConfig, "only a PostgreSQL model keeps keys beside it; this one is " + def.source.type);
    if (to == "local" && def.state.beside_source)
        throw CliError(kExitConfig,
                       "the definition keeps this sync's keys beside the model: remove \"state\" (or set "
                       "\"location\": \"local\") first, then move them back");
    Logger log;
    log.configure(args.get("log-level", "info"), args.has("log-json"), args.get("log-file"));
    auto local = StateStore::open(state_dir(args), def.name, StateStore::Access::run);
    if (to == "local") {  // the table they come from, as the local state recorded it
        if (local->keys_location().empty())
            throw CliError(kExitConfig, "the local state of sync \"" + def.name +
                                            "\" holds its keys already: nothing "
                                            "to move back");
        def.state.beside_source = true;
        def.state.schema = local->keys_schema();
    }
    auto beside = SourceState::open(def, to == "local" ? SourceState::Access::existing : SourceState::Access::run);
    const ModeRule &rule = *mode_rule(def.audience, def.mode);
    Move move{def, *local, *beside, rule.tracks_changes()};
    const std::string where = beside->table();
    if (to == "source") {
        if (local->keys_location() == where) throw CliError(kExitConfig, "the keys are already in " + where);
        if (!local->keys_location().empty())
            throw CliError(kExitConfig, "the keys are in " + local->keys_location() +
                                            ", not in the local state: move "
                                            "them back first (--to local, with the definition that names that table)");
        if (const auto [active, left] = beside->counts(); active + left > 0)
            throw CliError(kExitConfig, where + " already holds " + std::to_string(active + left) +
                                            " keys (another state directory's, or an interrupted move); nothing was "
                                            "changed. If they are this sync's from an interrupted move, empty the "
                                            "table (DELETE FROM " +
                                            where + ") and move again");
        log.info("moved " + std::to_string(move.to_source()) + (def.audience ? " members" : " delivered keys") +
                 " to " + where);
    } else {
        log.info("moved " + std::to_string(move.to_local()) + (def.audience ? " members" : " delivered keys") +
                 " from " + where + " to the local state");
    }
    return kExitOk;
}

}  // namespace

int cmd_state(const Argv &argv) {
    if (!argv.empty() && (argv[0] == "--help" || argv[0] == "help"))
        throw HelpRequested{"usage: synchost state move SYNC.json --to source|local\n\nWhat synchost keeps of a sync. "
                            "Subcommands:\n  move    moves delivered keys between the local state and the table beside "
                            "the model (`synchost state move --help`)\n"};
    if (argv.empty() || argv[0] != "move")
        throw CliError(kExitConfig, "usage: synchost state move SYNC.json --to source|local");
    return state_move(Argv(argv.begin() + 1, argv.end()));
}

}  // namespace synchost
