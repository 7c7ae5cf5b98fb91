// syncplugin-harness: conformance checks for any syncplugin destination plugin (see README
// "Plugin conformance harness"). Each check runs in its own child process with a timeout.
#pragma once

#include <syncplugin/syncplugin.h>

#include <manifest/manifest.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace harness {

// What the user told us about the plugin under test.
struct Options {
    std::string library;                                    // path to the .so
    std::string manifest;                                   // manifest JSON to compare with, or empty
    std::vector<std::pair<std::string, std::string>> config;  // a known-good config (--config k=v)
    std::vector<std::pair<std::string, std::string>> mapping; // --map dest=column
    std::vector<std::string> sample_rows;                   // --sample FILE.jsonl: good rows (JSON objects)
    // Real writes (every declared mode, not a dry run) go to a destination the user calls scratch.
    // None of these given: the real.* checks skip, naming the options.
    std::vector<std::pair<std::string, std::string>> scratch_config;  // --scratch-config k=v, over --config
    std::string scratch_file;  // --scratch-file PATH: where real writes land; must grow, never in a dry run
    std::string token;         // value of --token-env VAR (never empty when given): real writes use it
    int timeout_ms = 20000;

    bool real_writes() const { return !scratch_config.empty() || !scratch_file.empty(); }
};

enum class Outcome { pass, fail, skip };

// Thrown by a check to end it with an outcome other than pass.
struct CheckEnd {
    Outcome outcome;
    std::string message;
};
[[noreturn]] inline void fail(const std::string &m) { throw CheckEnd{Outcome::fail, m}; }
[[noreturn]] inline void skip(const std::string &m) { throw CheckEnd{Outcome::skip, m}; }
inline void expect(bool ok, const std::string &m) {
    if (!ok) fail(m);
}

// The plugin library, opened with dlopen(RTLD_NOW | RTLD_LOCAL).
class Library {
public:
    explicit Library(const std::string &path);
    ~Library();
    Library(const Library &) = delete;
    Library &operator=(const Library &) = delete;
    sp_get_entry_fn get_entry() const { return get_entry_; }
    const sp_entry &entry() const;  // fails the check when the plugin gives no entry

private:
    void *handle_ = nullptr;
    sp_get_entry_fn get_entry_ = nullptr;
};

using KV = std::vector<std::pair<std::string, std::string>>;
// `kv` with `key` set to `value` (replacing any earlier entry), or without `key`.
KV with(KV kv, const std::string &key, const std::string &value);
KV without(const KV &kv, const std::string &key);

// Owned sp_config built from key/value pairs (pointers stay valid while this lives).
class Config {
public:
    explicit Config(std::vector<std::pair<std::string, std::string>> kv);
    const sp_config *get() const { return &config_; }

private:
    std::vector<std::pair<std::string, std::string>> kv_;
    std::vector<sp_config_entry> entries_;
    std::vector<const sp_config_entry *> ptrs_;
    sp_config config_{};
};

// Owned sp_mapping built from dest=column pairs.
class Mapping {
public:
    explicit Mapping(std::vector<std::pair<std::string, std::string>> kv);
    const sp_mapping *get() const { return &mapping_; }

private:
    std::vector<std::pair<std::string, std::string>> kv_;
    std::vector<sp_mapping_entry> entries_;
    std::vector<const sp_mapping_entry *> ptrs_;
    sp_mapping mapping_{};
};

// Owned sp_batch of text cells; a NULL cell is std::nullopt-like (has_value false).
class Batch {
public:
    Batch(std::vector<std::string> columns, size_t reserve_rows = 0);
    // Appends a row of cells (nullptr = NULL cell) with a record key.
    void add(const std::vector<const std::string *> &cells, std::string key);
    // Appends a row from a JSON object sample (columns not in the object are NULL).
    void add_json(const std::string &json_object, std::string key);
    void add_nulls(std::string key);
    // Per-record operations (sp_batch.operations, ABI minor 1), one per record added; empty: none.
    void set_operations(std::vector<uint32_t> ops) { ops_ = std::move(ops); }
    const sp_batch *get();
    size_t size() const { return keys_.size(); }

private:
    std::vector<std::string> columns_;
    std::vector<const char *> column_ptrs_;
    std::vector<std::unique_ptr<std::string>> texts_;
    std::vector<sp_value> values_;
    std::vector<std::string> keys_;
    std::vector<const char *> key_ptrs_;
    std::vector<uint32_t> ops_;
    sp_batch batch_{};
};

// A plugin error, copied out and released.
struct Error {
    bool present = false;
    sp_error_category category = SP_ERR_NONE;
    std::string message;
};
Error take(const sp_entry &e, sp_error *err);

// A descriptor as a manifest; fails the check (naming the problem) when it cannot be read.
spmanifest::Manifest manifest_of(const sp_descriptor &d);

// One target a plugin declares: a row sync or an audience sync, in one mode.
struct Target {
    uint32_t kind = SP_TARGET_SYNC;  // sp_target_kind
    uint32_t mode = 0;               // one SP_SYNC_* or SP_AUDIENCE_* bit
    std::string name() const;        // "sync mode insert", "audience mode remove"
    // The header's table (the comment above sp_operation): may an instance of this target get `op`?
    bool allows(uint32_t op) const;
    // The operation a host sends most in this mode (UPSERT, ADD, or REMOVE for audience remove).
    uint32_t usual_op() const;
    // An operation this mode never receives: what a confused host would send (DELETE outside mirror).
    uint32_t refused_op() const;
};

// A host vtable for real writes: the --token-env token, a log kept for inspection, the rest
// unset (every slot may be NULL, says the header).
class Host {
public:
    explicit Host(std::string token);
    Host(const Host &) = delete;
    Host &operator=(const Host &) = delete;
    const sp_host *get() const { return &host_; }
    std::vector<std::string> logged() const;  // every line logged so far

private:
    std::string token_;
    mutable std::mutex mutex_;  // plugins log from their own threads ([plugin-thread])
    std::vector<std::string> lines_;
    sp_host host_{};
};

// What a write_batch gave back.
struct Written {
    sp_status status;
    Error error;
    sp_write_result wr;
};

// What one record of a planned batch must get.
enum class Want {
    ok,          // SP_RECORD_OK
    rejected,    // SP_RECORD_REJECTED, with a reason
    unsupported  // SP_RECORD_REJECTED with SP_ERR_UNSUPPORTED: its operation is not part of the mode
};
struct Row {
    uint32_t op;  // sp_operation; UPSERT and ADD rows carry a sample row, DELETE and REMOVE NULL cells
    bool nulls;   // an UPSERT or ADD row of NULL cells (broken by the plugin's required rules)
    Want want;
};
// Every operation, several times, in an irregular order: each allowed one wants OK (a DELETE or
// REMOVE names a key never delivered, which is OK: deletes are idempotent), each other one
// UNSUPPORTED.
std::vector<Row> mixed_operations(const Target &t);

// Helpers shared by checks.
struct Fixture {
    const Options &opt;
    Library lib;
    const sp_entry &entry;
    const sp_descriptor &desc;
    explicit Fixture(const Options &o);

    // The user gave a config, or the plugin requires no key (so the empty config is good).
    bool has_good_config() const;
    bool has_required_config() const;
    std::vector<std::string> columns() const;  // mapped source columns
    // Every declared target a minor-1 host may open: each declared mode, but only insert and add
    // for a minor-0 plugin (the header: a host never sends it anything else).
    std::vector<Target> targets() const;
    Target default_target() const;  // the lowest declared sync mode, else audience mode
    sp_open_params params(const Config &c, const Mapping &m, uint32_t flags = SP_OPEN_DRY_RUN) const;
    sp_open_params params(const Config &c, const Mapping &m, const Target &t, uint32_t flags) const;
    // Opens a dry-run instance with the good config and mapping; skips the check when the user gave
    // none, fails when open fails.
    sp_instance *open_good(const Config &c, const Mapping &m) const;
    // Opens `t` with `flags`; skips when the user gave no config or mapping, fails when open fails.
    sp_instance *open_target(const Config &c, const Mapping &m, const Target &t, uint32_t flags,
                             const sp_host *host = nullptr) const;
    Batch sample_batch(size_t rows) const;
    // The descriptor as a manifest; fails the check (naming the problem) when it cannot be read.
    spmanifest::Manifest manifest() const;
    // The config real writes use: --config, then --scratch-config over it, then --scratch-file as
    // the value of the plugin's only path-typed key when --scratch-config does not set that key.
    KV scratch_config() const;

    // A batch of `rows`, keys `prefix`0, `prefix`1, ...; operations only for minor-1 plugins.
    Batch planned_batch(const std::vector<Row> &rows, const std::string &prefix) const;
    bool sends_operations() const { return entry.abi_minor >= 1; }
    // True when the harness refuses a record with a row of NULL cells in the usual operation: for a
    // minor-0 plugin (it has no operations to refuse) with required rules. The header's rules are
    // about the mapping, so rejecting NULL values is an assumption, made only where nothing else
    // gets a record refused. Not in update mode: a record the destination lacks may simply be OK.
    bool refuses_nulls(const Target &t) const;
};

Written write(const Fixture &f, sp_instance *inst, Batch &b);
// n results, a known status each, counts that agree, a reason for each rejection.
void expect_results(const Written &w, size_t n);
// Each result is what its row wants; `where` names the target in messages.
void expect_plan(const Written &w, const std::vector<Row> &rows, const std::string &where);

struct Check {
    std::string name;
    std::string what;
    std::function<void(const Options &)> run;
};

std::vector<Check> &registry();
struct Register {
    Register(std::string name, std::string what, std::function<void(const Options &)> run) {
        registry().push_back({std::move(name), std::move(what), std::move(run)});
    }
};

// Count of defined, exported (global/weak, default visibility) dynamic symbols, and their names.
std::vector<std::string> exported_symbols(const std::string &elf_path);

}  // namespace harness
