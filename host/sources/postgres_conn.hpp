// A libpq connection as synchost opens it, shared by the PostgreSQL source (which reads the model)
// and the source-side state (which keeps delivered keys beside it). Messages never carry a
// password (libpq can echo parts of the connection string) nor a cell value.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace synchost {
struct SourceConfig;
}

namespace synchost::pg {

struct Finish {
    void operator()(PGconn *c) const { PQfinish(c); }
};
struct Clear {
    void operator()(PGresult *r) const { PQclear(r); }
};
using Connection = std::unique_ptr<PGconn, Finish>;
using Result = std::unique_ptr<PGresult, Clear>;

// Connects with the source's connection string (UTF-8 client encoding, application_name synchost,
// a 10 s connect timeout unless the string says otherwise), then applies its `settings` to the
// session (set_config, so no value is ever spliced into SQL). A read-only session refuses every
// write, so a model query cannot change the warehouse. Throws SourceError naming the target,
// never the password.
Connection connect(const SourceConfig &config, bool read_only);

// What a model query as written would do, asked of PostgreSQL without running it: planned with
// EXPLAIN (without ANALYZE it runs nothing, so a read-only session allows it), a plan that
// modifies a table writes, DELETE ... RETURNING and data-modifying WITH included; prepared and
// described, a statement with no result columns returns none (SELECT ... INTO plans as its SELECT
// but makes a table; SELECT FROM t). synchost wraps a model query (a subquery of the diff, CREATE
// TABLE AS), where either would read as the wrapping's error, and alone a write would read as
// "cannot execute DELETE in a read-only transaction"; asked first, every path refuses them in the
// same words. `unknown` when PostgreSQL cannot plan or prepare it: running it then says why.
enum class QueryKind { reads, writes, no_columns, unknown };
QueryKind classify_query(PGconn *c, const std::string &written);

// Throws SourceError, after `where` (the query's description), when the query writes or returns
// no columns.
void refuse_unless_it_reads(PGconn *c, const std::string &written, const std::string &where);

// Where the query as a user wrote it sits in the text sent (synchost wraps a model query), in
// characters as PostgreSQL counts an error's position: `at` characters before it, `length` long.
struct QueryWithin {
    long at = 0, length = 0;
    // The place of `written` (its first line, or 40 bytes) in `sent`; none (length 0) when the
    // two are the same text or it is not found.
    static QueryWithin find(const std::string &written, const std::string &sent);
};

// PostgreSQL's primary message, SQLSTATE, position and hint. The DETAIL is left out (it can quote
// row values, such as a key that already exists), and for data exceptions (class 22, such as a
// failed cast) the quoted part of the message is hidden, because it is a cell value. With
// `within`, a position counts in the query as written, or is said to lie in synchost's wrapping.
std::string describe_error(const PGresult *r, const QueryWithin &within = {});

// The SQLSTATE of an error result, or "" for a client-side error.
std::string sqlstate(const PGresult *r);

// The connection's last error message, with anything password-like removed.
std::string connection_error(PGconn *c);

}  // namespace synchost::pg
