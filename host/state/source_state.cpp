#include "state/source_state.hpp"

#include "exit_codes.hpp"
#include "sources/postgres_conn.hpp"
#include "sources/source_util.hpp"

#include <random>
#include <regex>
#include <string_view>
#include <unordered_set>

namespace synchost {

namespace {

// A run that changed this many records vacuums the table after it (tidy()).
constexpr uint64_t kTidyAfter = 100000;

// A PostgreSQL text-format array of `items`, each element quoted.
std::string text_array(const std::vector<const std::string *> &items) {
    std::string out = "{";
    for (const std::string *s : items) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (char c : *s) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

std::string int_array(const std::vector<int64_t> &items) {
    std::string out = "{";
    for (int64_t v : items) out += (out.size() > 1 ? "," : "") + std::to_string(v);
    return out + "}";
}

// The keys and the hashes of `records`, as the two array parameters ($1, $2) of a statement.
std::vector<std::string> key_and_hash_arrays(const std::vector<KeyRecord> &records) {
    std::vector<const std::string *> pks;
    std::vector<int64_t> hashes;
    for (const KeyRecord &k : records) {
        pks.push_back(&k.pk);
        hashes.push_back(static_cast<int64_t>(k.hash));
    }
    return {text_array(pks), int_array(hashes)};
}

}  // namespace

struct SourceState::Impl {
    const SyncDefinition &def;
    pg::Connection conn;
    std::string lock_name;  // what the advisory lock is taken on
    std::string table;      // "schema"."name"
    std::string key_type;   // the key column's SQL type ("bigint", "text"...), once the table exists
    std::string model;      // the model query, ready to be a subquery
    uint64_t written = 0;   // records changed since the last tidy()

    explicit Impl(const SyncDefinition &d) : def(d) {}

    // Runs `sql` with text parameters; throws CliError on an error result. `what` says what was
    // being done, for the message.
    pg::Result exec(const std::string &sql, const std::vector<std::string> &params, const std::string &what) {
        std::vector<const char *> values;
        for (const auto &p : params) values.push_back(p.c_str());
        pg::Result r(PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                  nullptr, nullptr, 0));
        const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
        const std::string state = r ? pg::sqlstate(r.get()) : "";
        const std::string msg = r ? pg::describe_error(r.get()) : pg::connection_error(conn.get());
        if (PQtransactionStatus(conn.get()) == PQTRANS_INERROR) PQclear(PQexec(conn.get(), "ROLLBACK"));
        if (state == "42501" && what.starts_with("create"))
            throw CliError(kExitConfig, "the PostgreSQL role may not " + what + ": " + msg + ". Grant it, e.g. GRANT " +
                                            "USAGE, CREATE ON SCHEMA " + quote_sql_identifier(def.state.schema) +
                                            " TO the role (CREATE ON DATABASE to create the schema itself), or "
                                            "keep the state local (\"state\": {\"location\": \"local\"})");
        throw CliError(kExitConfig, "could not " + what + " (state table " + table + "): " + msg);
    }

    std::string scalar(const std::string &sql, const std::vector<std::string> &params, const std::string &what) {
        pg::Result r = exec(sql, params, what);
        return PQntuples(r.get()) > 0 && !PQgetisnull(r.get(), 0, 0) ? PQgetvalue(r.get(), 0, 0) : "";
    }

    void read_key_type() {
        key_type = scalar(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass($1) AND attname = 'key'",
            {table}, "read the state table's key type");
    }

    void create_table() {
        exec("BEGIN", {}, "begin a transaction");
        // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
        if (scalar("SELECT 1 FROM pg_namespace WHERE nspname = $1", {def.state.schema}, "look for the schema").empty())
            exec("CREATE SCHEMA " + quote_sql_identifier(def.state.schema), {},
                 "create schema " + quote_sql_identifier(def.state.schema));
        // The key takes the model's own column type, so the diff joins on it without a cast and
        // the index serves it.
        exec("CREATE TABLE " + table + " AS SELECT m." + quote_sql_identifier(def.primary_key) +
                 " AS key, 0::bigint AS hash, 0::bigint AS generation, true AS active, 0::bigint AS run FROM (" +
                 model + "\n) AS m WITH NO DATA",
             {}, "create the state table " + table);
        read_key_type();
        // The key travels as text (key_text()) and is cast back: only types whose text form is
        // the same both ways can key the table.
        static const std::regex keyable(
            R"(smallint|integer|bigint|text|character varying(\(\d+\))?|numeric(\(.*\))?|uuid)");
        if (!std::regex_match(key_type, keyable))
            throw CliError(kExitConfig, "the primary key \"" + def.primary_key + "\" is of type " + key_type +
                                            ", which cannot key the state beside the model (its text form is not "
                                            "the same both ways); cast it in the model query to text or an integer, "
                                            "or keep the state local");
        exec("ALTER TABLE " + table +
                 " ADD PRIMARY KEY (key), ALTER hash SET NOT NULL, ALTER generation SET NOT NULL, "
                 "ALTER active SET NOT NULL, ALTER run SET NOT NULL",
             {}, "create the state table " + table);
        exec("COMMIT", {}, "create the state table " + table);
    }

    // PostgreSQL's hash of a model row (alias m) over the `hashed` columns.
    static std::string row_hash(const std::vector<std::string> &hashed) {
        std::string row = "ROW(";
        for (size_t i = 0; i < hashed.size(); ++i) row += (i ? ", m." : "m.") + quote_sql_identifier(hashed[i]);
        return "hashtextextended(" + row + ")::text, 0)";
    }

    // COPYs new records into the table; false when one of the keys is there already (nothing is
    // then added; the caller rolls back to its savepoint). Throws on any other failure.
    bool copy_new(const std::vector<const std::string *> &keys, const std::vector<int64_t> &hashes, int generation,
                  int64_t run) {
        pg::Result start(
            PQexec(conn.get(), ("COPY " + table + " (key, hash, generation, active, run) FROM STDIN").c_str()));
        if (PQresultStatus(start.get()) != PGRES_COPY_IN) fail_copy(pg::describe_error(start.get()));
        std::string data;
        const std::string tail = "\t" + std::to_string(generation) + "\tt\t" + std::to_string(run) + "\n";
        for (size_t i = 0; i < keys.size(); ++i) {
            for (char c : *keys[i]) {  // COPY's text format: backslash escapes
                if (c == '\\')
                    data += "\\\\";
                else if (c == '\t')
                    data += "\\t";
                else if (c == '\n')
                    data += "\\n";
                else if (c == '\r')
                    data += "\\r";
                else
                    data += c;
            }
            data += '\t' + std::to_string(hashes[i]) + tail;
        }
        if (PQputCopyData(conn.get(), data.data(), static_cast<int>(data.size())) != 1 ||
            PQputCopyEnd(conn.get(), nullptr) != 1)
            fail_copy(pg::connection_error(conn.get()));
        bool ok = true;
        std::string failure;
        while (PGresult *raw = PQgetResult(conn.get())) {
            pg::Result r(raw);
            if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) continue;
            if (pg::sqlstate(r.get()) == "23505")
                ok = false;  // unique_violation: a key is there already
            else
                failure = pg::describe_error(r.get());
        }
        if (!failure.empty()) fail_copy(failure);
        return ok;
    }

    // The transaction is rolled back, so the session stays usable (tidy(), a later open).
    [[noreturn]] void fail_copy(const std::string &why) {
        while (PGresult *rest = PQgetResult(conn.get())) PQclear(rest);
        if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) PQclear(PQexec(conn.get(), "ROLLBACK"));
        throw CliError(kExitConfig, "could not record the acknowledged keys (state table " + table + "): " + why);
    }

    // A model row (alias m) and the table's record (alias s) of one key.
    std::string same_key() const { return "s.key = m." + quote_sql_identifier(def.primary_key); }

    // What the table knows of a row's key, as the columns the runner reads: the record's (s), or
    // NULLs where the query has no record to read.
    static std::string record_columns(bool from_table) {
        return std::string(from_table ? "s.hash" : "NULL::bigint") + " AS " + kPrevHashColumn + ", " +
               (from_table ? "s.generation" : "NULL::bigint") + " AS " + kGenerationColumn + ", " +
               (from_table ? "s.active" : "NULL::boolean") + " AS " + kActiveColumn;
    }

    // The model's rows whose key the table holds (`s`), as a condition on s.
    std::string model_has_key() const {
        return "EXISTS (SELECT 1 FROM (" + model + "\n) AS m WHERE " + same_key() + ")";
    }

    // Keys the table holds (active) that the model no longer does.
    std::string departed_from() const { return " FROM " + table + " AS s WHERE s.active AND NOT " + model_has_key(); }

    // Index-only scans of the key (the anti-join) need the visibility map VACUUM keeps; the
    // planner needs the table's new size. Autovacuum gets there too, later.
    void vacuum() {
        exec("VACUUM (ANALYZE) " + table, {}, "vacuum the state table");
        written = 0;
    }

    // A query that only reads, in a read-only transaction: the model query runs on this
    // writable session, and must not change anything there either.
    pg::Result read_only(const std::string &sql, const std::string &what) {
        exec("BEGIN READ ONLY", {}, "begin a read-only transaction");
        pg::Result r = exec(sql, {}, what);
        exec("COMMIT", {}, what);
        return r;
    }
};

std::string SourceState::table_of(const SyncDefinition &def) {
    return quote_sql_identifier(def.state.schema) + "." + quote_sql_identifier(def.name);
}

std::unique_ptr<SourceState> SourceState::open(const SyncDefinition &def, Access access) {
    std::unique_ptr<SourceState> s(new SourceState);
    s->impl_ = std::make_unique<Impl>(def);
    Impl &im = *s->impl_;
    im.conn = pg::connect(def.source, /*read_only=*/false);
    im.table = table_of(def);
    im.model = as_subquery(def.source.written_query);
    im.lock_name = "synchost:" + def.state.schema + "." + def.name;
    if (access != Access::read && im.scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", {im.lock_name},
                                            "take the sync's lock") != "t")
        throw CliError(kExitConfig, "another run of sync \"" + def.name +
                                        "\" is in progress: it holds the PostgreSQL "
                                        "advisory lock on " +
                                        im.table + " (see pg_locks); try again when it is over");
    const bool exists = !im.scalar("SELECT to_regclass($1)::text", {im.table}, "look for the state table").empty();
    if (!exists && access == Access::existing)
        throw CliError(kExitConfig, "the state table " + im.table + " does not exist (dropped, or another database?)");
    if (!exists && access == Access::run) {
        // The table is made from the model query wrapped: a write in it would read as the
        // wrapping's error.
        pg::refuse_unless_it_reads(im.conn.get(), def.source.written_query,
                                   "PostgreSQL query " + sources::describe_query(def.source.written_query));
        im.create_table();
        s->created_ = true;
    }
    if (exists) im.read_key_type();
    return s;
}

SourceState::~SourceState() = default;

bool SourceState::exists() const {
    return !impl_->key_type.empty();
}

const std::string &SourceState::table() const {
    return impl_->table;
}

std::string SourceState::missing_grant() {
    const std::string schema = impl_->def.state.schema, quoted = quote_sql_identifier(schema);
    const std::string has = impl_->scalar(
        "SELECT CASE WHEN n.oid IS NULL THEN 'database:' || has_database_privilege(current_database(), 'CREATE') "
        "ELSE 'schema:' || (has_schema_privilege(n.oid, 'USAGE') AND has_schema_privilege(n.oid, 'CREATE')) END "
        "FROM (SELECT 1) AS one LEFT JOIN pg_namespace AS n ON n.nspname = $1",
        {schema}, "look up the role's privileges");
    if (has == "database:true" || has == "schema:true") return "";
    return has.starts_with("database")
               ? "CREATE ON DATABASE (schema " + quoted + " does not exist, and the role may not create it)"
               : "USAGE, CREATE ON SCHEMA " + quoted;
}

std::string SourceState::diff_query(const ModeRule &rule, const std::vector<std::string> &hashed) const {
    const Impl &im = *impl_;
    const std::string hash = Impl::row_hash(hashed);
    // Modes that only look for new keys need nothing of the table's record: NOT EXISTS lets the
    // planner use a plain anti-join (a merge of the two primary-key indexes when it can).
    if (!rule.audience && !rule.tracks_changes())
        return "SELECT m.*, " + Impl::record_columns(false) + ", " + hash + " AS " + kHashColumn + " FROM (" +
               im.model + "\n) AS m WHERE " +
               (rule.on_new == Act::skip
                    ? "false"
                    : "NOT EXISTS (SELECT 1 FROM " + im.table + " AS s WHERE " + im.same_key() + ")");
    std::vector<std::string> cases;
    if (rule.on_new != Act::skip) cases.push_back(rule.audience ? "s.key IS NULL OR NOT s.active" : "s.key IS NULL");
    if (rule.tracks_changes())
        cases.push_back(rule.audience ? "(s.active AND s.hash <> " + hash + ")" : "s.hash <> " + hash);
    std::string where;
    for (const auto &c : cases) where += (where.empty() ? "" : " OR ") + c;
    return "SELECT m.*, " + Impl::record_columns(true) + ", " + hash + " AS " + kHashColumn + " FROM (" + im.model +
           "\n) AS m LEFT JOIN " + im.table + " AS s ON " + im.same_key() + " WHERE " +
           (where.empty() ? "false" : where);
}

std::pair<uint64_t, uint64_t> SourceState::counts() {
    pg::Result r =
        impl_->exec("SELECT count(*) FILTER (WHERE active), count(*) FILTER (WHERE NOT active) FROM " + impl_->table,
                    {}, "count the keys");
    return {std::stoull(PQgetvalue(r.get(), 0, 0)), std::stoull(PQgetvalue(r.get(), 0, 1))};
}

std::vector<DepartedKey> SourceState::departed() {
    pg::Result r = impl_->read_only("SELECT s.key::text, s.generation, s.hash" + impl_->departed_from() + " ORDER BY 1",
                                    "read the keys gone from the model");
    std::vector<DepartedKey> out;
    out.reserve(static_cast<size_t>(PQntuples(r.get())));
    for (int i = 0; i < PQntuples(r.get()); ++i)
        out.push_back({PQgetvalue(r.get(), i, 0), std::stoll(PQgetvalue(r.get(), i, 1)),
                       static_cast<uint64_t>(std::stoll(PQgetvalue(r.get(), i, 2)))});
    return out;
}

uint64_t SourceState::mark_departures() {
    std::vector<KeyChange> leaving;
    for (DepartedKey &k : departed()) leaving.push_back({KeyChange::leave, std::move(k.pk), 0});
    commit(new_run_token(), leaving);
    return leaving.size();
}

uint64_t SourceState::forget() {
    pg::Result r = impl_->exec("DELETE FROM " + impl_->table, {}, "forget the delivered keys");
    return std::stoull(PQcmdTuples(r.get()));
}

std::vector<size_t> SourceState::commit(int64_t run_token, const std::vector<KeyChange> &changes) {
    Impl &im = *impl_;
    std::vector<const std::string *> keys[5];
    std::vector<int64_t> hashes[5];
    std::vector<size_t> index[5];
    std::vector<size_t> repeated;
    // A key twice in one statement is refused by PostgreSQL (ON CONFLICT cannot affect a row
    // twice): the first stands, the others are repeats (a key the model repeats, tracked twice).
    std::unordered_set<std::string_view> seen[5];
    for (size_t i = 0; i < changes.size(); ++i) {
        const KeyChange &c = changes[i];
        if (!seen[c.kind].insert(c.pk).second) {
            repeated.push_back(i);
            continue;
        }
        keys[c.kind].push_back(&c.pk);
        hashes[c.kind].push_back(c.hash);
        index[c.kind].push_back(i);
    }
    const std::string kt = im.key_type, token = std::to_string(run_token);
    const std::string what = "record the acknowledged keys";
    im.exec("BEGIN", {}, what);
    if (!keys[KeyChange::drop].empty())
        im.exec("DELETE FROM " + im.table + " AS s USING unnest($1::text[]) AS u(k) WHERE s.key = u.k::" + kt,
                {text_array(keys[KeyChange::drop])}, what);
    if (!keys[KeyChange::leave].empty())
        im.exec("UPDATE " + im.table +
                    " AS s SET active = false, run = $2 FROM unnest($1::text[]) AS u(k) WHERE s.key = u.k::" + kt,
                {text_array(keys[KeyChange::leave]), token}, what);
    if (!keys[KeyChange::change].empty())
        im.exec("UPDATE " + im.table +
                    " AS s SET hash = u.h, run = $3 FROM unnest($1::text[], $2::int8[]) AS u(k, h) "
                    "WHERE s.key = u.k::" +
                    kt,
                {text_array(keys[KeyChange::change]), int_array(hashes[KeyChange::change]), token}, what);
    for (KeyChange::Kind kind : {KeyChange::put, KeyChange::join}) {
        if (keys[kind].empty()) continue;
        // Most keys are new: COPY them. One the table holds (a returning member, a key the model
        // repeats) makes COPY fail as a whole; then the batch is upserted instead.
        im.exec("SAVEPOINT synchost_copy", {}, what);
        if (im.copy_new(keys[kind], hashes[kind], kind == KeyChange::join ? 1 : 0, run_token)) {
            im.exec("RELEASE SAVEPOINT synchost_copy", {}, what);
            continue;
        }
        // Released too, so what follows is written by the transaction itself: the check for
        // repeated keys below tells this transaction's writes by their xmin.
        im.exec("ROLLBACK TO SAVEPOINT synchost_copy", {}, what);
        im.exec("RELEASE SAVEPOINT synchost_copy", {}, what);
        const std::string generation = kind == KeyChange::join ? "s.generation + 1" : "0";
        pg::Result r =
            im.exec("INSERT INTO " + im.table + " AS s (key, hash, generation, active, run) SELECT u.k::" + kt +
                        ", u.h, " + (kind == KeyChange::join ? "1" : "0") +
                        ", true, $3 FROM unnest($1::text[], "
                        "$2::int8[]) AS u(k, h) ON CONFLICT (key) DO UPDATE SET hash = excluded.hash, "
                        "generation = " +
                        generation +
                        ", active = true, run = excluded.run "
                        "WHERE s.run <> excluded.run",
                    {text_array(keys[kind]), int_array(hashes[kind]), token}, what);
        if (std::stoull(PQcmdTuples(r.get())) == keys[kind].size()) continue;
        // A key this run wrote in an earlier transaction was left as it was: the model repeats it.
        r = im.exec("SELECT u.i FROM unnest($1::text[]) WITH ORDINALITY AS u(k, i) JOIN " + im.table +
                        " AS s ON s.key = u.k::" + kt + " WHERE s.xmin <> pg_current_xact_id()::xid ORDER BY 1",
                    {text_array(keys[kind])}, what);
        for (int i = 0; i < PQntuples(r.get()); ++i)
            repeated.push_back(index[kind][std::stoull(PQgetvalue(r.get(), i, 0)) - 1]);
    }
    im.exec("COMMIT", {}, what);
    im.written += changes.size();
    return repeated;
}

std::string SourceState::hashed_model_query(const std::vector<std::string> &hashed, bool joined) const {
    const Impl &im = *impl_;
    std::string q = "SELECT m.*, " + Impl::row_hash(hashed) + " AS " + kHashColumn;
    if (joined) q += ", " + Impl::record_columns(true);
    q += " FROM (" + im.model + "\n) AS m";
    if (joined) q += " JOIN " + im.table + " AS s ON " + im.same_key();
    return q;
}

void SourceState::export_keys(size_t batch, const std::function<void(std::vector<KeyRecord> &)> &each) {
    Impl &im = *impl_;
    const std::string what = "read the state table";
    im.exec("BEGIN READ ONLY", {}, what);
    im.exec("DECLARE synchost_keys NO SCROLL CURSOR FOR SELECT key::text, hash, generation, active FROM " + im.table,
            {}, what);
    for (;;) {
        pg::Result r = im.exec("FETCH " + std::to_string(batch) + " FROM synchost_keys", {}, what);
        const int n = PQntuples(r.get());
        if (n == 0) break;
        std::vector<KeyRecord> out;
        out.reserve(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i)
            out.push_back({PQgetvalue(r.get(), i, 0), static_cast<uint64_t>(std::stoll(PQgetvalue(r.get(), i, 1))),
                           std::stoll(PQgetvalue(r.get(), i, 2)), PQgetvalue(r.get(), i, 3)[0] == 't'});
        each(out);
    }
    im.exec("COMMIT", {}, what);
}

void SourceState::begin_replace() {
    impl_->exec("BEGIN", {}, "begin a transaction");
    impl_->exec("DELETE FROM " + impl_->table, {}, "empty the state table");
}

void SourceState::put_keys(const std::vector<KeyRecord> &keys) {
    Impl &im = *impl_;
    std::vector<std::string> params = key_and_hash_arrays(keys);
    std::vector<int64_t> generations, active;
    for (const KeyRecord &k : keys) {
        generations.push_back(k.generation);
        active.push_back(k.active ? 1 : 0);
    }
    params.push_back(int_array(generations));
    params.push_back(int_array(active));
    im.exec("INSERT INTO " + im.table + " (key, hash, generation, active, run) SELECT u.k::" + im.key_type +
                ", u.h, u.g, u.a <> 0, 0 FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) AS u(k, h, g, a)",
            params, "add the moved keys");
}

void SourceState::set_hashes(const std::vector<KeyRecord> &keys) {
    Impl &im = *impl_;
    im.exec("UPDATE " + im.table +
                " AS s SET hash = u.h FROM unnest($1::text[], $2::int8[]) AS u(k, h) WHERE s.key = u.k::" + im.key_type,
            key_and_hash_arrays(keys), "set the moved keys' hashes");
}

void SourceState::finish_replace() {
    impl_->exec("COMMIT", {}, "record the moved keys");
    impl_->vacuum();  // a whole table rewritten
}

void SourceState::drop() {
    impl_->exec("DROP TABLE " + impl_->table, {}, "drop the state table");
}

void SourceState::tidy() {
    if (impl_->written >= kTidyAfter) impl_->vacuum();
}

int64_t SourceState::new_run_token() {
    std::random_device rd;
    const uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    return static_cast<int64_t>(v >> 1);
}

}  // namespace synchost
