// SQLite source: the model query runs over a database file opened read-only, so a model can never
// change the data it reads, and a missing file is an error instead of a new empty database. Cells
// keep SQLite's own storage class per value (SQLite columns are not typed).
#include "sources/source.hpp"
#include "sources/readahead_vfs.hpp"
#include "sources/source_util.hpp"
#include "sync/row_key.hpp"

#include <sqlite3.h>

#include <system_error>

namespace synchost::sources {

namespace {

// A value as a cell, in SQLite's own storage class.
sp_value value_cell(sqlite3_value *v) {
    switch (sqlite3_value_type(v)) {
        case SQLITE_INTEGER:
            return int_cell(sqlite3_value_int64(v));
        case SQLITE_FLOAT:
            return real_cell(sqlite3_value_double(v));
        case SQLITE_TEXT: {
            // text before bytes, as SQLite documents, so the length matches the converted form
            const auto *p = reinterpret_cast<const char *>(sqlite3_value_text(v));
            return text_cell(p, static_cast<std::size_t>(sqlite3_value_bytes(v)));
        }
        case SQLITE_BLOB: {
            const void *p = sqlite3_value_blob(v);
            return blob_cell(p, static_cast<std::size_t>(sqlite3_value_bytes(v)));
        }
        default:
            return null_cell();
    }
}

class SqliteSource final : public RowSource {
public:
    explicit SqliteSource(const SourceConfig &config)
        : file_(describe_file(config.path)),
          query_(describe_query(as_written(config))) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(config.path, ec)) {
            throw SourceError("sqlite database " + config.path.string() + " does not exist (or is not a file)");
        }
        sqlite3 *db = nullptr;
        int rc = sqlite3_open_v2(config.path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, readahead_vfs());
        db_.reset(db);  // owned even on failure: a failed open still returns a handle to close
        if (rc != SQLITE_OK) {
            std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
            throw SourceError("cannot open sqlite database " + config.path.string() + ": " + msg);
        }
        // A sync may read while another process writes: wait for its lock instead of failing.
        sqlite3_busy_timeout(db_.get(), 5000);
        if (!config.attach_state.empty()) attach_state(config.attach_state);
        if (!config.written_query.empty() && config.written_query != config.query) prepare(config.written_query);
        prepare(config.query);
        int n = sqlite3_column_count(stmt_.get());
        if (n == 0) throw SourceError(where() + " returns no columns (the model query must be a SELECT)");
        for (int i = 0; i < n; ++i) {
            const char *name = sqlite3_column_name(stmt_.get(), i);
            columns_.emplace_back(name != nullptr ? name : "");
        }
        check_column_names(columns_, where(), "give each column a unique name with AS");
    }

    const std::vector<std::string> &columns() const override { return columns_; }

    bool next(std::vector<sp_value> &cells) override {
        if (done_) return false;  // stepping again after SQLITE_DONE would rerun the query
        int rc = sqlite3_step(stmt_.get());
        if (rc == SQLITE_DONE) {
            done_ = true;
            return false;
        }
        if (rc != SQLITE_ROW) {
            done_ = true;
            throw SourceError(where() + " failed after row " + std::to_string(rows_) + ": " +
                              sqlite3_errmsg(db_.get()));
        }
        cells.resize(columns_.size());
        for (int i = 0; i < static_cast<int>(columns_.size()); ++i) cells[i] = cell(i);
        ++rows_;
        return true;
    }

    uint64_t rows_read() const override { return rows_; }

private:
    std::string where() const { return "sqlite query " + query_ + " on " + file_; }

    // Attached databases share the connection's flags: the state is opened read-only too.
    void attach_state(const std::filesystem::path &state) {
        sqlite3_stmt *raw = nullptr;
        if (sqlite3_prepare_v2(db_.get(), "ATTACH DATABASE ?1 AS synchost_state", -1, &raw, nullptr) == SQLITE_OK)
            sqlite3_bind_text(raw, 1, state.c_str(), -1, SQLITE_TRANSIENT);
        const int rc = raw ? sqlite3_step(raw) : SQLITE_ERROR;
        sqlite3_finalize(raw);
        if (rc != SQLITE_DONE)
            throw SourceError("cannot read the state " + state.string() + " beside " + file_ + ": " +
                              sqlite3_errmsg(db_.get()));
        // No exception may cross SQLite's C frames: an allocation failure is SQLite's "no memory".
        const int made = sqlite3_create_function_v2(
            db_.get(), "synchost_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
            [](sqlite3_context *ctx, int, sqlite3_value **argv) noexcept {
                try {
                    std::string key;
                    if (!key_text(value_cell(argv[0]), key)) return sqlite3_result_null(ctx);
                    sqlite3_result_text(ctx, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
                } catch (...) {
                    sqlite3_result_error_nomem(ctx);
                }
            },
            nullptr, nullptr, nullptr);
        if (made != SQLITE_OK)
            throw SourceError("cannot read the state beside " + file_ + ": " + sqlite3_errmsg(db_.get()));
    }

    // Prepares the first statement (into stmt_) and rejects any other one after it: running only
    // the first of several statements would silently ignore the rest of the model.
    void prepare(const std::string &sql) {
        const char *tail = nullptr;
        sqlite3_stmt *stmt = nullptr;
        int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), 0, &stmt, &tail);
        stmt_.reset(stmt);
        if (rc != SQLITE_OK) throw SourceError(where() + ": " + sqlite3_errmsg(db_.get()));
        if (stmt_ == nullptr) throw SourceError(where() + ": the query is empty");
        // The connection is read-only too, but only stepping would find out: `check` prepares
        // without stepping, and must refuse what `sync` refuses.
        if (!sqlite3_stmt_readonly(stmt_.get()))
            throw SourceError(where() + kWritesRefusal);
        // SQLite's own parser decides what follows: whitespace, semicolons and comments prepare to
        // no statement at all; anything else is a second statement (or a syntax error in one).
        sqlite3_stmt *extra = nullptr;
        const char *end = sql.data() + sql.size();
        rc = sqlite3_prepare_v3(db_.get(), tail, static_cast<int>(end - tail), 0, &extra, nullptr);
        bool more = rc != SQLITE_OK || extra != nullptr;
        sqlite3_finalize(extra);
        if (more) {
            throw SourceError(where() +
                              ": the query has more than one statement; the model query must be a single SELECT");
        }
    }

    // One sqlite3_column_value per cell, then the value's own accessors: each sqlite3_column_*
    // call re-validates the statement and the column, three times per cell with type, text and
    // bytes. The value is "unprotected" (SQLite's word for: no mutex held), which is safe here:
    // this connection is used by one thread only and was opened with SQLITE_OPEN_NOMUTEX.
    sp_value cell(int i) { return value_cell(sqlite3_column_value(stmt_.get(), i)); }

    std::string file_;
    std::string query_;
    struct CloseDb {
        void operator()(sqlite3 *db) const { sqlite3_close(db); }
    };
    struct Finalize {
        void operator()(sqlite3_stmt *stmt) const { sqlite3_finalize(stmt); }
    };
    std::unique_ptr<sqlite3, CloseDb> db_;
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;  // after db_: finalized before the close
    std::vector<std::string> columns_;
    bool done_ = false;
    uint64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<RowSource> open_sqlite(const SourceConfig &config) {
    return std::make_unique<SqliteSource>(config);
}

}  // namespace synchost::sources
