// `synchost status SYNC`: recent runs, delivered/rejected/pending counts, and the most common
// rejection reasons with example primary keys (keys that look like personal identifiers masked).
#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "exit_codes.hpp"
#include "quality/quality_report.hpp"
#include "runtime/terminal_text.hpp"
#include "state/source_state.hpp"
#include "state/state_store.hpp"
#include "sync/route_counts.hpp"
#include "sync/row_key.hpp"

#include <boost/json.hpp>

#include <ctime>
#include <iostream>

namespace synchost {

namespace {

std::string utc(int64_t t) {
    if (t == 0) return "-";
    std::time_t tt = t;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

int cmd_status(const Argv &argv) {
    std::vector<FlagSpec> spec = common_flags();
    spec.push_back({"json", false, "print JSON"});
    spec.push_back({"runs", true, "how many recent runs to show (default 5)", "N"});
    spec.push_back({"show-keys", false, "print primary keys in full (by default keys that look like an email, phone or device id are masked)"});
    Args args(argv, spec, "usage: synchost status SYNC.json [options]\n\nRecent runs, delivered/rejected/pending counts, and the most common rejection reasons.");
    if (args.positional().size() != 1) throw CliError(kExitConfig, "usage: synchost status SYNC.json [--json]");
    const SyncDefinition def = load_definition(args.positional()[0]);
    const auto dir = state_dir(args);
    const bool show_keys = args.has("show-keys");
    // Keys come from the model: masked unless asked for, and never able to drive the terminal.
    const auto json_key = [&](const std::string &k) { return show_keys ? k : display_key(k); };
    const auto shown = [&](const std::string &k) { return terminal_safe(json_key(k)); };
    auto state = StateStore::open(dir, def.name, StateStore::Access::read);
    StateCounts c = state->counts();
    // Delivered keys and members kept beside the model are counted there.
    std::string keys_table;
    if (def.state.beside_source) {
        const auto beside = SourceState::open(def, SourceState::Access::read);
        keys_table = beside->table();
        if (beside->exists()) {
            const auto [active, left] = beside->counts();
            (def.audience ? c.members_active : c.delivered) = active;
            c.members_departed = left;
        }
    }
    const auto runs = state->recent_runs(static_cast<int>(args.get_int("runs", 5, 1, 1000)));
    const auto reasons = state->top_reasons(10, 3);
    const auto errors = runs.empty() ? std::vector<RowError>{} : state->row_errors(runs.front().id, 10);
    // Test events are validated by the destination and recorded nowhere but here.
    const std::optional<RunSummary> test = state->last_test_run();
    const auto test_errors = test ? state->row_errors(test->id, 5) : std::vector<RowError>{};

    if (args.has("json")) {
        boost::json::array jr, jreasons, jerrors;
        for (const auto &r : runs) {
            jr.push_back({{"run", r.id}, {"started_at", utc(r.started_at)}, {"finished_at", utc(r.finished_at)},
                          {"mode", r.mode}, {"dry_run", r.dry_run}, {"status", r.status}, {"exit_code", r.exit_code},
                          {"rows_read", r.rows_read}, {"skipped", r.skipped}, {"sent", r.sent},
                          {"delivered", r.delivered}, {"rejected", r.rejected}, {"retry", r.retry},
                          {"row_errors", r.row_errors}, {"departed", r.departed}, {"test_events", r.test_events},
                          {"operations", {{"upsert", r.by_operation[SP_OP_UPSERT]}, {"delete", r.by_operation[SP_OP_DELETE]},
                                          {"add", r.by_operation[SP_OP_ADD]}, {"remove", r.by_operation[SP_OP_REMOVE]}}},
                          {"tracked", r.tracked},
                          {"message", r.message}, {"routes", routes_json(r)}});
            // Event ages when sent, as the plugin measured them (synchost quality shows the rest).
            jr.back().as_object()["freshness"] =
                r.quality.empty() ? boost::json::value(nullptr) : to_json(quality_from_json(r.quality))["age"];
        }
        for (const auto &r : reasons) {
            boost::json::array keys;
            for (const auto &k : r.example_keys) keys.emplace_back(json_key(k));
            jreasons.push_back({{"reason", r.reason}, {"count", r.count}, {"example_keys", keys}});
        }
        auto errors_json = [&](const std::vector<RowError> &list) {
            boost::json::array out;
            for (const auto &e : list) out.push_back({{"row", e.position}, {"key", json_key(e.pk)}, {"reason", e.reason}});
            return out;
        };
        jerrors = errors_json(errors);
        boost::json::value jtest = nullptr;
        if (test)
            jtest = {{"run", test->id},           {"started_at", utc(test->started_at)},
                     {"status", test->status},    {"validated", test->delivered},
                     {"rejected", test->rejected}, {"retry", test->retry},
                     {"message", test->message},  {"rejections", errors_json(test_errors)}};
        std::cout << boost::json::serialize(boost::json::object{
                         {"sync", def.name},
                         {"state", dir.string()},
                         {"keys_table", keys_table.empty() ? boost::json::value(nullptr) : boost::json::value(keys_table)},
                         {"delivered", c.delivered},
                         {"rejected", c.rejected},
                         {"pending", c.pending},
                         {"members_active", c.members_active},
                         {"members_departed", c.members_departed},
                         {"runs", jr},
                         {"top_rejection_reasons", jreasons},
                         {"last_run_row_errors", jerrors},
                         {"last_test_run", jtest}})
                  << "\n";
        return kExitOk;
    }
    std::cout << "sync " << def.name << " (state " << state->file().string()
              << (keys_table.empty() ? "" : "; delivered keys in " + keys_table + " beside the model") << ")\n";
    if (def.audience)
        std::cout << "  members: " << c.members_active << " active, " << c.members_departed << " departed\n";
    std::cout << "  delivered " << c.delivered << ", rejected " << c.rejected << ", pending " << c.pending << "\n\n";
    std::cout << "recent runs:\n";
    for (const auto &r : runs)
        std::cout << "  #" << r.id << "  " << utc(r.started_at) << "  " << r.status << (r.dry_run ? " (dry run)" : "")
                  << (r.test_events ? " (test events: nothing recorded)" : "")
                  << "  read " << r.rows_read << ", attempted " << r.sent << ", delivered " << r.delivered << ", rejected "
                  << r.rejected << ", retry " << r.retry << ", skipped " << r.skipped
                  << (r.row_errors ? ", row errors " + std::to_string(r.row_errors) : "")
                  << (r.departed ? ", departed " + std::to_string(r.departed) : "")
                  << (r.by_operation[SP_OP_UPSERT] && r.mode != "insert" ? ", upserts " + std::to_string(r.by_operation[SP_OP_UPSERT]) : "")
                  << (r.by_operation[SP_OP_DELETE] ? ", deletes " + std::to_string(r.by_operation[SP_OP_DELETE]) : "")
                  << (r.by_operation[SP_OP_REMOVE] ? ", removes " + std::to_string(r.by_operation[SP_OP_REMOVE]) : "")
                  << (r.tracked ? ", recorded without sending " + std::to_string(r.tracked) : "")
                  << (r.message.empty() ? "" : "\n      " + terminal_safe(r.message))
                  << (r.quality.empty() ? "" : "\n      " + terminal_safe(freshness_text(quality_from_json(r.quality))))
                  << "\n";
    if (const auto routed = std::find_if(runs.begin(), runs.end(), [](const RunSummary &r) { return !r.routes.empty(); });
        routed != runs.end())
        print_routes(std::cout, *routed);
    if (test) {
        std::cout << "\nlast test run: #" << test->id << "  " << utc(test->started_at) << "  validated " << test->delivered
                  << ", rejected " << test->rejected << ", retry " << test->retry << " (nothing recorded as delivered)\n";
        for (const auto &e : test_errors)
            std::cout << "  row " << e.position << " (key " << shown(e.pk) << "): " << terminal_safe(e.reason) << "\n";
    }
    if (!reasons.empty()) {
        std::cout << "\nmost common rejection reasons:\n";
        for (const auto &r : reasons) {
            std::cout << "  " << r.count << " x " << terminal_safe(r.reason) << "\n      e.g. keys:";
            for (const auto &k : r.example_keys) std::cout << " " << shown(k);
            std::cout << "\n";
        }
    }
    if (!errors.empty()) {
        std::cout << "\nrow errors in the last run:\n";
        for (const auto &e : errors)
            std::cout << "  row " << e.position << (e.pk.empty() ? "" : " (key " + shown(e.pk) + ")") << ": "
                      << terminal_safe(e.reason) << "\n";
    }
    return kExitOk;
}

}  // namespace synchost
