// A model query's result, streamed row by row with typed cells. Memory must not grow with the
// number of rows: one row is held at a time.
#pragma once
#include <syncplugin/syncplugin.h>   // sp_value, sp_value_type (see plugin_api/include/syncplugin/syncplugin.h)
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
namespace synchost {
// A source problem; the message names the file/query and the line/row/column where possible,
// never the value of a cell (cells may hold personal data) and never a password.
class SourceError : public std::runtime_error { public: using std::runtime_error::runtime_error; };
struct SourceConfig {
    std::string type;                 // "sqlite" | "csv" | "jsonl" | "postgres"
    std::filesystem::path path;       // sqlite database file, csv or jsonl file (already absolute)
    std::string query;                // sqlite and postgres: the model query
    // sqlite and postgres: the model query as the definition wrote it; `query` may wrap it (for
    // newest_first, or to leave out what was delivered). Messages quote it, not the wrapper, and
    // SQLite checks it alone first, so that what it refuses is refused in the words `check` uses.
    std::string written_query;
    std::string connection;           // postgres: libpq connection string (already resolved)
    // postgres: settings of the session (SET name = value), for the model query and the state
    // beside it: work_mem, statement_timeout, search_path, planner settings...
    std::vector<std::pair<std::string, std::string>> settings;
    char delimiter = ',';             // csv
    std::vector<std::string> columns; // jsonl: optional explicit column list
    // sqlite: a sync's state database, attached read-only as `synchost_state`, so the model query
    // can leave out what was delivered without the rows crossing into synchost. The function
    // synchost_key(x) is then registered too: the key as the state records it (key_text()).
    std::filesystem::path attach_state;
};
class RowSource {
public:
    virtual ~RowSource() = default;
    // Column names, in order; available right after open_source() returns.
    virtual const std::vector<std::string> &columns() const = 0;
    // Reads the next row; false at the end. The cells (one per column) and any text they point to
    // stay valid until the next call to next() or the source's destruction.
    virtual bool next(std::vector<sp_value> &cells) = 0;
    // A cheap estimate of the total number of rows when the source knows it (for an ETA), else nullopt.
    virtual std::optional<uint64_t> estimated_rows() { return std::nullopt; }
    // Rows read so far, and a human position for error messages ("shop.csv line 1234").
    virtual uint64_t rows_read() const = 0;
};
// Opens a source; throws SourceError (missing file, bad query, unknown type...).
std::unique_ptr<RowSource> open_source(const SourceConfig &config);
}
