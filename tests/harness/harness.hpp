// syncplugin-harness: conformance checks for any syncplugin destination plugin (see README
// "Plugin conformance harness"). Each check runs in its own child process with a timeout.
#pragma once

#include <syncplugin/syncplugin.h>

#include <functional>
#include <map>
#include <memory>
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
    int timeout_ms = 20000;
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
    const sp_batch *get();
    size_t size() const { return keys_.size(); }

private:
    std::vector<std::string> columns_;
    std::vector<const char *> column_ptrs_;
    std::vector<std::unique_ptr<std::string>> texts_;
    std::vector<sp_value> values_;
    std::vector<std::string> keys_;
    std::vector<const char *> key_ptrs_;
    sp_batch batch_{};
};

// A plugin error, copied out and released.
struct Error {
    bool present = false;
    sp_error_category category = SP_ERR_NONE;
    std::string message;
};
Error take(const sp_entry &e, sp_error *err);

// Helpers shared by checks.
struct Fixture {
    const Options &opt;
    Library lib;
    const sp_entry &entry;
    const sp_descriptor &desc;
    explicit Fixture(const Options &o);

    bool has_good_config() const { return !opt.config.empty(); }
    std::vector<std::string> columns() const;  // mapped source columns
    sp_open_params params(const Config &c, const Mapping &m, uint32_t flags = SP_OPEN_DRY_RUN) const;
    // Opens a dry-run instance with the good config and mapping; skips the check when the user gave
    // none, fails when open fails.
    sp_instance *open_good(const Config &c, const Mapping &m) const;
    Batch sample_batch(size_t rows) const;
};

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
