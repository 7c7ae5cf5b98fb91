// Small helpers shared by the row sources: typed cell constructors, the size limit of one cell,
// column-name checks and the short query description used in error messages. Internal to
// host/sources; callers only see source.hpp.
#pragma once

#include "sources/source.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace synchost::sources {

// The largest cell a source accepts: PostgreSQL's and SQLite's own default limit (sp_value.len is
// 32-bit).
inline constexpr std::size_t kMaxCellBytes = std::size_t{1} << 30;

// The largest record of the text formats (a CSV record, a JSONL line). A row is held while it is
// parsed, and JSONL's parsed form costs about as much again as its text, so this bounds a row's
// memory to a few hundred MiB rather than GBs; a CSV with a stray quote also fails here instead of
// swallowing a many-GB file into one field.
inline constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 20;
inline constexpr const char *kMaxRecordText = "64 MiB";

// The model query as the definition wrote it: `query` may wrap it, and a source opened directly
// (not from a definition) has only `query`.
inline const std::string &as_written(const SourceConfig &config) {
    return config.written_query.empty() ? config.query : config.written_query;
}

// How the database sources refuse a model query that writes, or one without columns, after the
// query's description.
inline constexpr const char *kWritesRefusal = ": the model query writes to the database; it must only read (a SELECT)";
inline constexpr const char *kNoColumnsRefusal =
    " returns no columns (the model query must be a SELECT of the columns to sync; SELECT ... INTO makes a table "
    "instead)";

inline sp_value null_cell() {
    sp_value v{};
    v.type = SP_VALUE_NULL;
    return v;
}
inline sp_value int_cell(int64_t i) {
    sp_value v{};
    v.type = SP_VALUE_INT;
    v.as.i = i;
    return v;
}
inline sp_value real_cell(double r) {
    sp_value v{};
    v.type = SP_VALUE_REAL;
    v.as.r = r;
    return v;
}
inline sp_value bool_cell(bool b) {
    sp_value v{};
    v.type = SP_VALUE_BOOL;
    v.as.i = b ? 1 : 0;
    return v;
}
// TEXT and BLOB point at bytes owned by the source. `n` must be <= kMaxCellBytes (each source
// checks where it can name the position). A zero-length cell still gets a non-null pointer.
inline sp_value text_cell(const char *p, std::size_t n) {
    sp_value v{};
    v.type = SP_VALUE_TEXT;
    v.len = static_cast<uint32_t>(n);
    v.as.text = p != nullptr ? p : "";
    return v;
}
inline sp_value blob_cell(const void *p, std::size_t n) {
    sp_value v{};
    v.type = SP_VALUE_BLOB;
    v.len = static_cast<uint32_t>(n);
    v.as.blob = p != nullptr ? p : "";
    return v;
}

// Throws SourceError when a name is empty or repeated: rows reach the plugin keyed by column
// name, so a duplicate would be ambiguous. `where` prefixes the message ("shop.csv line 1"),
// `hint` ends it (how to fix it in this kind of source).
void check_column_names(const std::vector<std::string> &names, const std::string &where, std::string_view hint);

// The query as it appears in error messages: whitespace collapsed, cut to a readable length.
std::string describe_query(std::string_view query);

// A file's name for messages: the last component is enough and keeps messages short.
std::string describe_file(const std::filesystem::path &path);

std::unique_ptr<RowSource> open_sqlite(const SourceConfig &config);
std::unique_ptr<RowSource> open_csv(const SourceConfig &config);
std::unique_ptr<RowSource> open_jsonl(const SourceConfig &config);
std::unique_ptr<RowSource> open_postgres(const SourceConfig &config);

}  // namespace synchost::sources
