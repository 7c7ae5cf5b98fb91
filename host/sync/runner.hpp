// Runs one sync: reads the model query, decides per row what to send as the mode's rule says
// (mode_rules.hpp), sends the keys gone from the model where the mode deletes them, drives the
// plugin batch by batch through the C ABI, and checkpoints the state after each acknowledged batch.
#pragma once

#include "plugin/loader.hpp"
#include "runtime/host_services.hpp"
#include "runtime/logger.hpp"
#include "runtime/progress.hpp"
#include "state/source_state.hpp"
#include "state/state_store.hpp"
#include "sync/definition.hpp"

#include <atomic>
#include <cstdint>
#include <iosfwd>

namespace synchost {

struct RunOptions {
    bool dry_run = false;
    bool test_events = false;
    bool retry_rejected = false;
    bool allow_mass_delete = false;  // past the definition's max_delete_percent
    uint64_t limit = 0;  // 0: no limit on rows sent
    std::ostream *bodies = nullptr;  // --dry-run: where request bodies go
};

struct RunOutcome {
    RunSummary summary;
    int exit_code = 0;
    std::string error;  // why the run stopped early, when it did
};

// `beside`: the sync's keys live beside the model (definition "state"), or null.
// `stop` is the first Ctrl-C: finish the in-flight batch, checkpoint, stop. The host services'
// cancel flag (the second Ctrl-C) also aborts the batch in flight.
RunOutcome run_sync(const SyncDefinition &def, const std::shared_ptr<Plugin> &plugin, StateStore &state,
                    HostServices &services, Logger &log, Progress &progress, const RunOptions &opt,
                    const std::atomic<bool> &stop, SourceState *beside = nullptr);

// The exit code for a plugin error category (README "Exit codes").
int exit_code_for(sp_error_category c);

}  // namespace synchost
