// synchost: the reference sync host. Loads destination plugins through the syncplugin C ABI and
// drives syncs from model queries. See README.md for every command.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "exit_codes.hpp"
#include "runtime/terminal_text.hpp"

#include <cstring>
#include <malloc.h>
#include <sqlite3.h>
#include <iostream>
#include <map>

namespace {

const char *kUsage =
    "usage: synchost COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  plugins                 list discovered plugins and their capabilities\n"
    "  describe PLUGIN         everything a plugin declares (--json for machines)\n"
    "  connect PLUGIN          store a named connection: OAuth in the browser, or --token-env VAR\n"
    "  check SYNC.json         definition, mapping, source, credentials, then the destination itself\n"
    "  sync SYNC.json          run a sync (--dry-run, --limit N, --test-events, --full-resync, --json)\n"
    "  status SYNC.json        recent runs, counts, and why rows were rejected\n"
    "  quality SYNC.json       match quality: local coverage per match key, the destination's score\n"
    "  state move SYNC.json    move delivered keys between the local state and the table beside the model\n"
    "\n"
    "Run `synchost COMMAND --help` for a command's options. Exit codes: 0 ok, 1 rows rejected,\n"
    "2 configuration, 3 auth/permission, 4 transient, 5 internal, 130 interrupted.\n";

}  // namespace

int main(int argc, char **argv) {
    using namespace synchost;
    // Batches allocate and free the same few megabytes over and over: keep freed memory instead
    // of returning it to the kernel after every batch and faulting it back in on the next.
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    // SQLite's allocation statistics take a global mutex on every malloc and free it makes (the
    // source reads and the state writes make millions); synchost never reads those statistics.
    // Must precede the first use of SQLite.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    const std::map<std::string, int (*)(const Argv &)> commands{
        {"plugins", cmd_plugins},
        {"describe", cmd_describe},
        {"connect", cmd_connect},
        {"check", cmd_check},
        {"sync", cmd_sync},
        {"status", cmd_status},
        {"quality", cmd_quality},
        {"state", cmd_state},
    };
    if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
        std::cout << kUsage;
        return argc < 2 ? kExitConfig : kExitOk;
    }
    auto it = commands.find(argv[1]);
    if (it == commands.end()) {
        std::cerr << "synchost: unknown command \"" << argv[1] << "\"\n" << kUsage;
        return kExitConfig;
    }
    try {
        return it->second(Argv(argv + 2, argv + argc));
    } catch (const HelpRequested &h) {
        std::cout << h.text;
        return kExitOk;
    } catch (const std::exception &e) {
        std::cerr << "synchost " << argv[1] << ": " << synchost::terminal_safe(e.what()) << "\n";
        return synchost::exit_code_of(e);
    }
}
