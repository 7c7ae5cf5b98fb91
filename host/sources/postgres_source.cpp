// PostgreSQL source: the model query streamed in libpq's single-row mode, so memory stays flat for
// millions of rows (a plain PQexec would buffer the whole result). Cells are typed by column OID;
// numeric stays TEXT so exact decimals (prices) are never rounded through a double.
//
// Messages never carry a password (libpq can echo parts of the connection string) and never a
// cell value (a data error such as a failed cast quotes the offending value).
#include "sources/postgres_conn.hpp"
#include "sources/source.hpp"
#include "sources/source_util.hpp"

#include <charconv>

namespace synchost::sources {

namespace {

// Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in types.
enum : Oid { kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700, kFloat8 = 701 };

class PostgresSource final : public RowSource {
public:
    explicit PostgresSource(const SourceConfig &config)
        : query_(describe_query(as_written(config))),
          within_(pg::QueryWithin::find(config.written_query, config.query)) {
        conn_ = pg::connect(config, /*read_only=*/true);
        pg::refuse_unless_it_reads(conn_.get(), as_written(config), where());
        // PQsendQueryParams (with no parameters) rather than PQsendQuery: the extended protocol
        // makes the server refuse a text with several statements, as the SQLite source does.
        if (PQsendQueryParams(conn_.get(), config.query.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
            PQsetSingleRowMode(conn_.get()) != 1) {
            throw SourceError(where() + " could not be sent: " + pg::connection_error(conn_.get()));
        }
        // The first result carries the column descriptions (and the first row, if any).
        if (!fetch()) throw SourceError(where() + " returned no result");
        ExecStatusType status = PQresultStatus(result_.get());
        if (status == PGRES_EMPTY_QUERY) throw SourceError(where() + ": the query is empty");
        if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK) {
            throw SourceError(where() + " returns no rows (the model query must be a SELECT)");
        }
        pending_ = status == PGRES_SINGLE_TUPLE;
        done_ = !pending_;
        int n = PQnfields(result_.get());
        if (n == 0) throw SourceError(where() + kNoColumnsRefusal);
        for (int i = 0; i < n; ++i) {
            columns_.emplace_back(PQfname(result_.get(), i));
            types_.push_back(PQftype(result_.get(), i));
        }
        check_column_names(columns_, where(), "give each column a unique name with AS");
        blobs_.resize(columns_.size());
    }

    const std::vector<std::string> &columns() const override { return columns_; }

    bool next(std::vector<sp_value> &cells) override {
        if (pending_) {
            pending_ = false;  // the first row, fetched at open with the column descriptions
        } else {
            if (done_) return false;
            if (!fetch() || PQresultStatus(result_.get()) != PGRES_SINGLE_TUPLE) {
                done_ = true;  // PGRES_TUPLES_OK: the zero-row result that ends the stream
                return false;
            }
        }
        cells.resize(columns_.size());
        for (int i = 0; i < static_cast<int>(columns_.size()); ++i) cells[i] = cell(i);
        ++rows_;
        return true;
    }

    uint64_t rows_read() const override { return rows_; }

private:
    std::string where() const { return "PostgreSQL query " + query_; }

    // Takes the next result into result_; false when the query is over. Throws on an error
    // result, after draining the connection.
    bool fetch() {
        result_.reset(PQgetResult(conn_.get()));
        if (result_ == nullptr) return false;
        ExecStatusType status = PQresultStatus(result_.get());
        if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR) {
            std::string msg = pg::describe_error(result_.get(), within_);
            while (PGresult *rest = PQgetResult(conn_.get())) PQclear(rest);
            done_ = true;
            throw SourceError(where() + " failed" + (rows_ > 0 ? " after row " + std::to_string(rows_) : "") + ": " +
                              msg);
        }
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            while (PGresult *rest = PQgetResult(conn_.get())) PQclear(rest);
        }
        return true;
    }

    sp_value cell(int i) {
        const PGresult *r = result_.get();
        if (PQgetisnull(r, 0, i)) return null_cell();
        const char *text = PQgetvalue(r, 0, i);
        auto len = static_cast<std::size_t>(PQgetlength(r, 0, i));
        switch (types_[i]) {
            case kInt2:
            case kInt4:
            case kInt8:
            case kOid: {
                int64_t v = 0;
                auto [end, ec] = std::from_chars(text, text + len, v);
                if (ec != std::errc() || end != text + len) throw bad_value(i, "an integer");
                return int_cell(v);
            }
            case kFloat4:
            case kFloat8: {
                double v = 0;  // from_chars also reads PostgreSQL's NaN, Infinity and -Infinity
                auto [end, ec] = std::from_chars(text, text + len, v);
                if (ec != std::errc() || end != text + len) throw bad_value(i, "a float");
                return real_cell(v);
            }
            case kBool:
                return bool_cell(len > 0 && text[0] == 't');
            case kBytea:
                return bytea_cell(i, text, len);
            default:
                return text_cell(text, len);  // numeric, text, timestamps, json, uuid...
        }
    }

    // bytea in the hex output format (the default since PostgreSQL 9.0): "\x" then two hex digits
    // per byte, decoded into this column's scratch buffer.
    sp_value bytea_cell(int i, const char *text, std::size_t len) {
        if (len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2 != 0) {
            throw bad_value(i, "bytea in hex format (set bytea_output = 'hex' for this role or database)");
        }
        auto nibble = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        std::string &out = blobs_[i];
        out.clear();
        for (std::size_t k = 2; k < len; k += 2) {
            int hi = nibble(text[k]), lo = nibble(text[k + 1]);
            if (hi < 0 || lo < 0) throw bad_value(i, "bytea in hex format");
            out.push_back(static_cast<char>(hi << 4 | lo));
        }
        return blob_cell(out.data(), out.size());
    }

    SourceError bad_value(int i, const char *expected) const {
        return SourceError(where() + " row " + std::to_string(rows_ + 1) + " column '" + columns_[i] +
                           "': the value is not " + expected);
    }

    std::string query_;
    pg::QueryWithin within_;  // where query_ (as written) sits in the query sent, for error positions
    pg::Connection conn_;
    pg::Result result_;  // the current row (single-row mode)
    std::vector<std::string> columns_;
    std::vector<Oid> types_;
    std::vector<std::string> blobs_;  // per column: decoded bytea of the current row
    bool pending_ = false;            // result_ holds a row not yet returned
    bool done_ = false;
    uint64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<RowSource> open_postgres(const SourceConfig &config) {
    return std::make_unique<PostgresSource>(config);
}

}  // namespace synchost::sources
