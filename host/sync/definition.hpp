// Sync definitions: one JSON file per sync (comments and trailing commas allowed), validated
// against the plugin's declared capabilities. See README "Sync definitions" for the format.
// Errors name the key and, where it can be found, the line; secret values are never echoed.
#pragma once

#include "sources/source.hpp"

#include <manifest/manifest.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace synchost {

struct MappingEntry {
    std::string destination;  // destination field
    std::string column;       // source column, or empty for a constant
    bool constant = false;
    sp_value value{};         // the constant (TEXT points into `text`)
    std::string text;
};

// Where a sync's delivered keys (and audience members) live.
struct StateLocation {
    // false: the state directory (STATE_DIR/syncs/NAME). true: table SCHEMA.NAME of the source
    // database (PostgreSQL), so the model is diffed inside it (state/source_state.hpp).
    bool beside_source = false;
    std::string schema = "synchost";
};

struct SyncDefinition {
    std::filesystem::path file;  // the definition file (absolute)
    std::string name;
    SourceConfig source;
    std::string connection_env;  // postgres: variable holding the connection string, if used
    std::string primary_key;
    bool audience = false;       // audience sync (else a row sync)
    std::string mode;            // sync mode ("insert") or audience mode ("add")
    std::string audience_event;  // audience: the event_name sent for an added member
    std::string plugin;
    std::vector<std::pair<std::string, std::string>> config;  // destination config, as text
    std::string credentials;     // named connection, or empty
    std::string token_env;       // static token from an environment variable, or empty
    std::vector<MappingEntry> mapping;
    uint32_t batch_size = 0;     // 0: the plugin's recommendation
    StateLocation state;
    std::string newest_first;    // rows newest first by this column (the query is wrapped), or empty
    // Mirror and remove modes: a run that would delete more than this share (percent) of what was
    // delivered stops before sending anything, unless --allow-mass-delete.
    double max_delete_percent = 20;
};

// The modes this host carries out. Any other is refused, whatever a plugin declares.
constexpr uint32_t kHostSyncModes = SP_SYNC_INSERT | SP_SYNC_UPDATE | SP_SYNC_UPSERT | SP_SYNC_MIRROR;
constexpr uint32_t kHostAudienceModes = SP_AUDIENCE_ADD | SP_AUDIENCE_REMOVE | SP_AUDIENCE_MIRROR | SP_AUDIENCE_UPSERT;

// A model query made fit to be a subquery: a final ';' (and a comment after it) removed.
std::string as_subquery(std::string query);
// `name` quoted as an SQL identifier (SQLite and PostgreSQL): "a""b".
std::string quote_sql_identifier(const std::string &name);
// The model query with its rows newest first by `column` (the "newest_first" key).
std::string newest_first_query(const std::string &query, const std::string &column);

// The index of column `name` in a query result's `cols`; else throws CliError(kExitConfig) saying
// which column (`what`: "the primary_key", "the mapped", ...) is missing, the closest name and the
// result's columns. `check` and `sync` refuse a missing column with the same words.
size_t result_column(const std::vector<std::string> &cols, const std::string &name, const std::string &what);
// Every column the definition names (primary key, newest_first, mapped columns) is in `cols`, the
// model query's result as written; else throws as result_column does.
void require_model_columns(const SyncDefinition &d, const std::vector<std::string> &cols);
// The model columns that travel to the plugin (mapped, not constants), in mapping order, once each.
std::vector<std::string> mapped_columns(const SyncDefinition &d);
// The columns a row's content hash covers: the mapped ones, then the primary key if not mapped.
std::vector<std::string> hashed_columns(const SyncDefinition &d);

// Parses and checks the file itself (JSON, keys, types). Throws CliError(kExitConfig).
SyncDefinition load_definition(const std::filesystem::path &file);

// Checks the definition against a plugin's capabilities: modes (refused up front as the plugin
// declares), config keys (unknown keys suggest the closest; required keys present), mapping
// fields (declared destination fields; required-field rules). Also resolves PATH config values
// relative to the definition file. Throws CliError(kExitConfig).
// `abi_minor` is the plugin's (its entry's abi_minor): a minor-0 plugin runs inserts and adds only.
void check_against(SyncDefinition &def, const spmanifest::Manifest &caps, uint32_t abi_minor = SP_ABI_MINOR);

}  // namespace synchost
