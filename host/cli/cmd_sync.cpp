// `synchost sync SYNC`: run a sync (see README "Running a sync").
#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "exit_codes.hpp"
#include "quality/quality_report.hpp"
#include "runtime/host_services.hpp"
#include "runtime/metrics_json.hpp"
#include "runtime/terminal_text.hpp"
#include "runtime/progress.hpp"
#include "sources/source.hpp"
#include "sync/route_counts.hpp"
#include "sync/runner.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <csignal>
#include <iostream>
#include <unistd.h>

namespace synchost {

namespace {

std::atomic<bool> g_stop{false};    // first Ctrl-C: finish the batch in flight, checkpoint, stop
std::atomic<bool> g_cancel{false};  // second Ctrl-C: also abort the batch in flight

void on_signal(int) {
    if (g_stop.exchange(true)) g_cancel.store(true);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool confirm(const std::string &question) {
    if (!::isatty(STDIN_FILENO)) return false;
    std::cerr << question << " [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

// Acknowledged records per operation (a dry run: what would be sent).
boost::json::object operations_json(const RunSummary &s) {
    return {{"upsert", s.by_operation[SP_OP_UPSERT]},
            {"delete", s.by_operation[SP_OP_DELETE]},
            {"add", s.by_operation[SP_OP_ADD]},
            {"remove", s.by_operation[SP_OP_REMOVE]}};
}

std::string operations_text(const RunSummary &s) {
    static const char *const names[4] = {"upserts", "deletes", "adds", "removes"};
    std::string out;
    for (int i = 0; i < 4; ++i)
        if (s.by_operation[i]) out += (out.empty() ? "" : ", ") + std::to_string(s.by_operation[i]) + " " + names[i];
    if (s.tracked) out += (out.empty() ? "" : ", ") + std::to_string(s.tracked) + " recorded without sending";
    return out;
}

boost::json::object summary_json(const SyncDefinition &def, const RunOutcome &r) {
    const RunSummary &s = r.summary;
    return {{"sync", def.name},         {"run", s.id},
            {"mode", s.mode},           {"dry_run", s.dry_run},
            {"status", s.status},       {"exit_code", r.exit_code},
            {"rows_read", s.rows_read}, {"skipped", s.skipped},
            {"sent", s.sent},           {"delivered", s.delivered},
            {"rejected", s.rejected},   {"retry", s.retry},
            {"row_errors", s.row_errors}, {"departed", s.departed}, {"test_events", s.test_events},
            {"operations", operations_json(s)}, {"tracked", s.tracked},
            {"seconds", s.finished_at - s.started_at}, {"message", r.error},
            {"routes", routes_json(s)}};
}

// The run's quality report as the --json summary shows it: "freshness" (event ages when sent)
// and "coverage" (events per group carrying each match component); absent when the plugin
// reported none.
void add_quality_json(boost::json::object &j, const RunSummary &s) {
    if (s.quality.empty()) return;
    boost::json::object q = to_json(quality_from_json(s.quality));
    j["freshness"] = q["age"];
    j["coverage"] = boost::json::object{{"components", q["components"]}, {"groups", q["groups"]}};
}

// Where the definition keeps the keys must be where they are: a run that looked for them in the
// other place would send every row again.
void check_keys_location(const SyncDefinition &def, StateStore &state, const std::string &table) {
    const std::string at = state.keys_location(), file = def.file.filename().string();
    const std::string again = "; a run now would send every row again";
    if (!at.empty() && at != table && table.empty())
        throw CliError(kExitConfig, "the delivered keys of sync \"" + def.name + "\" are in " + at +
                                    " beside the model, and the definition keeps them local: move them back first "
                                    "(synchost state move " + file + " --to local), or keep the definition as it was" +
                                    again);
    if (!at.empty() && at != table)
        throw CliError(kExitConfig, "the delivered keys of sync \"" + def.name + "\" are in " + at +
                                    " beside the model, and the definition keeps them in " + table + ": to move them "
                                    "there, keep them local in the definition (\"location\": \"local\") and run "
                                    "synchost state move " + file + " --to local, then name " + table + " again and "
                                    "run synchost state move " + file + " --to source; or keep the definition as it "
                                    "was" + again);
    if (!table.empty() && state.has_keys(def.audience))
        throw CliError(kExitConfig, "the local state of sync \"" + def.name + "\" holds its delivered keys, and the "
                                    "definition keeps them beside the model in " + table + ": move them there first "
                                    "(synchost state move " + file + " --to source)" + again);
}

int sync_command(const Args &args);  // the command, once its flags are parsed

}  // namespace

int cmd_sync(const Argv &argv) {
    std::vector<FlagSpec> spec = common_flags();
    spec.insert(spec.end(), {
        {"dry-run", false, "print the exact request bodies that would be sent (hashed) and send nothing"},
        {"limit", true, "send at most N rows this run", "N"},
        {"test-events", false, "ask the destination to validate without recording; nothing is recorded as delivered"},
        {"full-resync", false, "forget delivered keys and send every row again (asks first)"},
        {"yes", false, "answer yes to --full-resync's question"},
        {"retry-rejected", false, "send previously rejected rows again even if unchanged"},
        {"allow-mass-delete", false, "let a mirror or remove run delete more than max_delete_percent of what was delivered"},
        {"json", false, "print a JSON summary on stdout"},
        {"quiet", false, "no progress output"},
    });
    Args args(argv, spec,
              "usage: synchost sync SYNC.json [options]\n\nRuns the sync: reads the model and sends what its mode "
              "acts on (insert: new rows; update and upsert: new or changed rows; mirror: those, and a delete for "
              "each row gone from the model; audience add: members who joined; remove: a removal for each who "
              "left; mirror: both; upsert: members who joined or changed), checkpointing after each acknowledged "
              "batch. A mode the plugin does not declare is refused before anything is read.");
    if (!args.has("json")) return sync_command(args);
    // An engine reading --json gets a summary from a run refused before it started too; the
    // message still goes to stderr, by main().
    auto refused = [&](int code, const char *what) {
        std::cout << boost::json::serialize(boost::json::object{
                         {"definition", args.positional().empty() ? "" : args.positional()[0]},
                         {"status", "not run"},
                         {"exit_code", code},
                         {"error", what}})
                  << "\n";
    };
    try {
        return sync_command(args);
    } catch (const std::exception &e) {
        refused(exit_code_of(e), e.what());
        throw;
    }
}

int exit_code_of(const std::exception &e) {
    if (const auto *cli = dynamic_cast<const CliError *>(&e)) return cli->code();
    if (dynamic_cast<const SourceError *>(&e)) return kExitConfig;  // a source or the state beside it
    return kExitInternal;
}

namespace {

int sync_command(const Args &args) {
    if (args.positional().size() != 1) throw CliError(kExitConfig, "usage: synchost sync SYNC.json [options]");
    auto session = Session::load(args, args.positional()[0]);
    Logger &log = session->log;
    const SyncDefinition &def = session->def;

    RunOptions opt;
    opt.dry_run = args.has("dry-run");
    opt.test_events = args.has("test-events");
    opt.retry_rejected = args.has("retry-rejected");
    opt.allow_mass_delete = args.has("allow-mass-delete");
    if (opt.test_events && !(session->caps.features & SP_FEATURE_TEST_EVENTS))
        throw CliError(kExitConfig, session->caps.id + " does not declare test events (a destination validating "
                                                       "without recording): --test-events is refused");
    opt.limit = static_cast<uint64_t>(args.get_int("limit", 0, 1, 1LL << 40));
    opt.bodies = &std::cout;

    const bool full_resync = args.has("full-resync");
    if (full_resync) {
        if (opt.dry_run) throw CliError(kExitConfig, "--full-resync and --dry-run cannot be combined");
        if (opt.test_events) throw CliError(kExitConfig, "--full-resync and --test-events cannot be combined");
        if (!args.has("yes") && !confirm("Forget every delivered row of sync \"" + def.name +
                                         "\" and send them all again? Destinations deduplicate by event id for a "
                                         "limited time only, if at all."))
            throw CliError(kExitConfig, "--full-resync needs confirmation: answer y, or pass --yes");
    }
    // A damaged state stops every run but one that starts over on purpose.
    auto state = StateStore::open(session->state_dir, def.name, StateStore::Access::run,
                                  full_resync ? StateStore::Damaged::start_over : StateStore::Damaged::refuse);
    for (const auto &note : state->notes()) log.warn(note);
    // Keys kept beside the model: a real run takes the sync's lock there and creates the table
    // when missing; a dry run changes nothing, and before the first run there is nothing to diff.
    std::unique_ptr<SourceState> beside;
    if (def.state.beside_source) {
        // Before the table is opened: a refused run must not leave an empty one created.
        check_keys_location(def, *state, SourceState::table_of(def));
        beside = SourceState::open(def, opt.dry_run ? SourceState::Access::read : SourceState::Access::run);
        // A table the local state says holds the keys, found missing (dropped, restored from an
        // older backup, another database): starting from an empty one would send every row again.
        if (beside->created() && state->keys_location() == beside->table() && !full_resync) {
            beside->drop();
            throw CliError(kExitConfig, "the delivered keys of sync \"" + def.name + "\" were in " + beside->table() +
                                            ", which no longer exists in this database (dropped, or the connection "
                                            "names another database); restore it, or send everything again with "
                                            "--full-resync");
        }
        // A table this state directory never used: keys another state directory delivered (or one
        // that was lost). They count as delivered here too, which is what moving a sync's runs to
        // another machine needs; say so, since an unrelated sync of the same name would otherwise
        // hold back rows without a word.
        if (beside->exists() && !beside->created() && state->keys_location().empty() && !full_resync) {
            const auto [keys, departed] = beside->counts();
            if (keys + departed > 0)
                log.warn("the delivered keys in " + beside->table() + " beside the model come from runs this state "
                         "directory did not make (" + std::to_string(keys) + " keys): they count as delivered, and "
                         "their rows are not sent again; --full-resync sends every row");
        }
        if (!beside->exists()) beside.reset();
        else if (!opt.dry_run) state->set_keys_location(beside->table(), def.state.schema);
    } else {
        check_keys_location(def, *state, "");
    }
    if (full_resync) {
        uint64_t forgot = state->forget_delivered();
        if (beside) forgot += beside->forget();
        log.info("full resync: forgot " + std::to_string(forgot) + " rows");
    }

    // A dry run needs no credentials: it sends nothing.
    std::unique_ptr<TokenService> tokens = opt.dry_run ? nullptr : session->tokens();
    if (tokens)
        if (const std::string warning = tokens->check_ready(); !warning.empty()) log.warn(warning);
    const CredentialSource credentials = credential_source(tokens.get());
    HostServices services(log, session->caps.id, g_cancel, credentials);
    install_signal_handlers();
    Progress progress(log, args.has("quiet") || args.has("json") || opt.dry_run);
    log.info("sync " + def.name + ": " + (def.audience ? "audience " : "") + def.mode + " into " + session->caps.id +
             (opt.dry_run ? " (dry run: nothing is sent)" : "") + (opt.test_events ? " (test events)" : ""));
    const RunOutcome r = run_sync(def, session->plugin, *state, services, log, progress, opt, g_stop, beside.get());
    if (beside && !opt.dry_run) {
        try {
            beside->tidy();
        } catch (const std::exception &e) {  // the run's outcome stands; autovacuum gets there later
            log.warn(std::string("the state table was not vacuumed: ") + e.what());
        }
    }

    if (args.has("json")) {
        boost::json::object j = summary_json(def, r);
        j["metrics"] = metrics_json(services.metrics());  // what the plugin reported through metric_add
        add_quality_json(j, r.summary);
        std::cout << boost::json::serialize(j) << "\n";
    } else {
        const RunSummary &s = r.summary;
        // A dry run sends nothing: it says what would have been sent. "attempted", not "sent":
        // rows handed to the plugin may never have left (a failed TLS handshake, a stop).
        const bool dry = s.dry_run;
        const std::string ops = operations_text(s);
        log.info("run " + std::to_string(s.id) + " " + s.status + (dry ? " (dry run)" : "") + ": read " +
                 std::to_string(s.rows_read) + ", skipped " + std::to_string(s.skipped) + (dry ? ", would send " : ", attempted ") +
                 std::to_string(s.sent) + (dry ? ", accepted by the plugin " : ", delivered ") + std::to_string(s.delivered) +
                 ", rejected " + std::to_string(s.rejected) + ", retry " + std::to_string(s.retry) + ", row errors " +
                 std::to_string(s.row_errors) + (def.audience || s.departed ? ", departed " + std::to_string(s.departed) : "") +
                 (ops.empty() ? "" : " (" + ops + ")"));
        if (!s.quality.empty())
            if (const std::string fresh = freshness_text(quality_from_json(s.quality)); !fresh.empty())
                log.info(terminal_safe(fresh));
        if (s.rejected || s.row_errors) log.info("see why: synchost status " + args.positional()[0]);
    }
    if (!r.error.empty() && r.exit_code != kExitOk && r.exit_code != kExitRejectedRows)
        std::cerr << "synchost sync: " << terminal_safe(r.error) << "\n";
    return r.exit_code;
}

}  // namespace

}  // namespace synchost
