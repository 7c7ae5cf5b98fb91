// Real writes and dry runs against a scratch destination the user names (--scratch-config,
// --scratch-file, --token-env). Every declared mode is opened without SP_OPEN_DRY_RUN and written
// for real; and a dry-run instance must leave every file the harness can watch untouched.
#include "harness.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <ctime>

namespace harness {
namespace {

const char *const kNoScratch =
    "no scratch destination for real writes: give --scratch-config KEY=VALUE (config over --config) and/or "
    "--scratch-file PATH (a file the plugin writes; also the value of its only path-typed config key)";

// What can be seen of a file without reading it: appends change the size, rewrites the mtime.
struct FileState {
    bool exists = false;
    long long size = 0;
    long long mtime_ns = 0;
    bool operator==(const FileState &) const = default;
    std::string text() const {
        return exists ? std::to_string(size) + " bytes, mtime " + std::to_string(mtime_ns) + " ns" : "absent";
    }
};

FileState state_of(const std::string &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {true, static_cast<long long>(st.st_size), st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
}

// Real writes need a token when the plugin declares auth; without one they cannot run.
void require_token(const Fixture &f) {
    if (f.desc.auth != nullptr && f.desc.auth->kinds != SP_AUTH_NONE && f.opt.token.empty())
        skip("the plugin declares auth: give --token-env VAR, VAR holding an access token for the scratch destination");
}

// Modes in which new keys must reach the destination: not update (it changes only what the
// destination holds) and not audience remove.
bool adds_new_keys(const Target &t) {
    if (t.kind == SP_TARGET_SYNC) return t.mode != SP_SYNC_UPDATE;
    return t.allows(SP_OP_ADD);
}

// What real writes send to target t: every operation (minor 1), or the usual one (minor 0) with
// rows of NULL cells among them when the plugin has required rules (refuses_nulls).
std::vector<Row> real_rows(const Fixture &f, const Target &t) {
    std::vector<Row> rows;
    if (f.sends_operations())
        rows = mixed_operations(t);
    else
        rows.assign(6, Row{t.usual_op(), false, Want::ok});
    if (f.refuses_nulls(t)) {
        rows.insert(rows.begin() + 1, Row{t.usual_op(), true, Want::rejected});
        rows.insert(rows.begin() + 4, Row{t.usual_op(), true, Want::rejected});
    }
    return rows;
}

Register every_mode("real.every_mode",
                    "every declared mode written for real to the scratch destination: rows accepted, refusals "
                    "per record, deletes of never-delivered keys OK, flush OK, the scratch file grows",
                    [](const Options &o) {
                        Fixture f(o);
                        if (!o.real_writes()) skip(kNoScratch);
                        require_token(f);
                        Config c(f.scratch_config());
                        Mapping m(o.mapping);
                        Host host(o.token);
                        // Keys no earlier run used, so that deletes name keys the destination never saw.
                        const std::string run = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
                        for (const Target &t : f.targets()) {
                            const std::vector<Row> rows = real_rows(f, t);
                            std::string mode = t.name();
                            for (auto &ch : mode)
                                if (ch == ' ') ch = '-';
                            Batch b = f.planned_batch(rows, "harness-" + run + "-" + mode + "-");
                            const FileState before = state_of(o.scratch_file);
                            sp_instance *inst = f.open_target(c, m, t, 0, host.get());
                            expect_plan(write(f, inst, b), rows, t.name() + ", real write");
                            sp_error *err = nullptr;
                            const sp_status flushed = f.entry.flush(inst, &err);
                            const Error e = take(f.entry, err);
                            f.entry.close(inst);
                            f.entry.destroy(inst);
                            expect(flushed == SP_OK, t.name() + ": flush after a real write failed: " + e.message);
                            if (o.scratch_file.empty() || !adds_new_keys(t)) continue;
                            const FileState after = state_of(o.scratch_file);
                            expect(after.exists && after.size > before.size,
                                   t.name() + ": accepted rows were flushed but " + o.scratch_file + " did not grow (" +
                                       before.text() + " before, " + after.text() + " after)");
                        }
                    });

// A file to watch and why it is watched.
struct Watched {
    std::string path, why;
};

Register dry_nothing(
    "write.dry_run_writes_nothing",
    "a dry-run instance, in every declared mode, leaves the scratch file and the file of every "
    "path-typed config key untouched",
    [](const Options &o) {
        Fixture f(o);
        const auto man = f.manifest();
        // The configs to open dry runs with: the user's, and the scratch config that really writes.
        std::vector<std::pair<KV, std::string>> configs = {{o.config, "--config"}};
        if (o.real_writes()) configs.emplace_back(f.scratch_config(), "the scratch config");
        std::vector<Watched> watched;
        if (!o.scratch_file.empty()) watched.push_back({o.scratch_file, "--scratch-file"});
        for (const auto &[kv, name] : configs)
            for (const auto &[k, v] : kv)
                if (const auto *field = man.config_field(k); field && field->type == SP_CONFIG_PATH && !v.empty())
                    watched.push_back({v, "path-typed config key \"" + k + "\" of " + name});
        if (watched.empty())
            skip(
                "nothing a dry run could write is observable: give --scratch-file PATH, or a path-typed config key in "
                "--config (the harness watches files only: a dry run that sends over a network goes unnoticed)");
        std::vector<FileState> before;
        for (const auto &w : watched) before.push_back(state_of(w.path));
        Mapping m(o.mapping);
        Host host(o.token);
        for (const auto &[kv, name] : configs) {
            Config c(kv);
            for (const Target &t : f.targets()) {
                // Rows the mode takes, so that a plugin ignoring the flag has something to write.
                const std::vector<Row> rows(6, Row{t.usual_op(), false, Want::ok});
                Batch b = f.planned_batch(rows, "harness-dry-");
                sp_instance *inst = f.open_target(c, m, t, SP_OPEN_DRY_RUN, host.get());
                expect_results(write(f, inst, b), rows.size());
                sp_error *err = nullptr;
                f.entry.flush(inst, &err);
                take(f.entry, err);
                f.entry.close(inst);
                f.entry.destroy(inst);
                for (size_t i = 0; i < watched.size(); ++i) {
                    const FileState now = state_of(watched[i].path);
                    expect(now == before[i], "a dry run (" + t.name() + ", " + name + ") changed " + watched[i].path +
                                                 " (" + watched[i].why + "): " + before[i].text() + " before, " +
                                                 now.text() + " after; SP_OPEN_DRY_RUN must write nothing anywhere");
                }
            }
        }
    });

}  // namespace
}  // namespace harness
