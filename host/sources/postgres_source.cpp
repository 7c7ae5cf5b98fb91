// PostgreSQL source: the model query streamed in libpq's single-row mode, so memory stays flat for
// millions of rows (a plain PQexec would buffer the whole result). Cells are typed by column OID;
// numeric stays TEXT so exact decimals (prices) are never rounded through a double.
//
// Messages never carry a password (libpq can echo parts of the connection string) and never a
// cell value (a data error such as a failed cast quotes the offending value).
#include "sources/source.hpp"
#include "sources/source_util.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <regex>

namespace synchost::sources {

namespace {

// Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in types.
enum : Oid { kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700, kFloat8 = 701 };

// Passwords found in a connection string, in key=value or URI form, even when it does not parse.
std::vector<std::string> find_passwords(const std::string &conninfo) {
    std::vector<std::string> found;
    static const std::regex kv(R"(password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+))", std::regex::icase);
    static const std::regex uri(R"(://[^:/@\s]*:([^@\s]*)@)");
    for (const std::regex *re : {&kv, &uri}) {
        for (std::sregex_iterator it(conninfo.begin(), conninfo.end(), *re), end; it != end; ++it) {
            std::string value = (*it)[1].str();
            if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
            if (!value.empty()) found.push_back(value);
        }
    }
    return found;
}

// A libpq message with anything password-like removed.
std::string redact(std::string msg, const std::vector<std::string> &passwords) {
    // Whole words only, so a short password does not mangle the rest of the message.
    auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    for (const std::string &p : passwords) {
        for (std::size_t at = msg.find(p); at != std::string::npos; at = msg.find(p, at + 1)) {
            std::size_t end = at + p.size();
            if ((at > 0 && word_char(msg[at - 1])) || (end < msg.size() && word_char(msg[end]))) continue;
            msg.replace(at, p.size(), "***");
        }
    }
    static const std::regex kv(R"(password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s]+))", std::regex::icase);
    static const std::regex uri(R"((://[^:/@\s]*:)[^@\s]*@)");
    msg = std::regex_replace(msg, kv, "password=***");
    msg = std::regex_replace(msg, uri, "$1***@");
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return msg;
}

// A connection string libpq cannot parse. Its message quotes the offending word, which may be a
// piece of an unquoted password ("password=my secret" -> missing "=" after "secret"), so quoted
// words are hidden, except an option name in 'invalid connection option "x"'.
std::string describe_parse_error(const char *err, const std::vector<std::string> &passwords) {
    if (err == nullptr) return "out of memory";
    std::string msg = redact(err, passwords);
    bool option_error = msg.starts_with("invalid connection option");
    static const std::regex quoted(R"re("([^"]*)")re");
    std::string out;
    auto last = msg.cbegin();
    for (std::sregex_iterator it(msg.begin(), msg.end(), quoted), end; it != end; ++it) {
        std::string word = (*it)[1].str();
        bool keep = word == "=" || (option_error && std::regex_match(word, std::regex("[A-Za-z_]+")));
        out.append(last, (*it)[0].first).append(keep ? (*it)[0].str() : "\"...\"");
        last = (*it)[0].second;
    }
    return out.append(last, msg.cend());
}

// "host 127.0.0.1, port 5432, database shop, user sync": what the connection string asks for,
// without the password. `passwords` receives the parsed password too.
std::string describe_target(const std::string &conninfo, std::vector<std::string> &passwords) {
    char *err = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &err);
    if (options == nullptr) {
        std::string msg = describe_parse_error(err, passwords);
        PQfreemem(err);
        throw SourceError("invalid PostgreSQL connection string: " + msg);
    }
    auto value = [&](std::string_view key) -> std::string {
        for (PQconninfoOption *o = options; o->keyword != nullptr; ++o) {
            if (key == o->keyword && o->val != nullptr) return o->val;
        }
        return "";
    };
    if (std::string p = value("password"); !p.empty()) passwords.push_back(p);
    std::string out;
    for (auto [key, label] : {std::pair{"host", "host"},
                              {"hostaddr", "hostaddr"},
                              {"port", "port"},
                              {"dbname", "database"},
                              {"user", "user"}}) {
        if (std::string v = value(key); !v.empty()) out += (out.empty() ? "" : ", ") + std::string(label) + " " + v;
    }
    PQconninfoFree(options);
    return out.empty() ? "libpq defaults" : out;
}

class PostgresSource final : public RowSource {
public:
    explicit PostgresSource(const SourceConfig &config) : query_(describe_query(config.query)) {
        connect(config.connection);
        // PQsendQueryParams (with no parameters) rather than PQsendQuery: the extended protocol
        // makes the server refuse a text with several statements, as the SQLite source does.
        if (PQsendQueryParams(conn_.get(), config.query.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
            PQsetSingleRowMode(conn_.get()) != 1) {
            throw SourceError(where() + " could not be sent: " + redact(PQerrorMessage(conn_.get()), {}));
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
        if (n == 0) throw SourceError(where() + " returns no columns");
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
    struct Finish {
        void operator()(PGconn *c) const { PQfinish(c); }
    };
    struct Clear {
        void operator()(PGresult *r) const { PQclear(r); }
    };

    std::string where() const { return "PostgreSQL query " + query_; }

    void connect(const std::string &conninfo) {
        std::vector<std::string> passwords = find_passwords(conninfo);
        std::string target = describe_target(conninfo, passwords);
        // Defaults first so the connection string can override them (the expanded dbname entry
        // wins over earlier ones); client_encoding last, because cells must be UTF-8.
        const char *keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding", nullptr};
        const char *values[] = {"10", "synchost", conninfo.c_str(), "UTF8", nullptr};
        conn_.reset(PQconnectdbParams(keys, values, 1));
        if (conn_ == nullptr) throw SourceError("cannot connect to PostgreSQL (" + target + "): out of memory");
        if (PQstatus(conn_.get()) != CONNECTION_OK) {
            throw SourceError("cannot connect to PostgreSQL (" + target +
                              "): " + redact(PQerrorMessage(conn_.get()), passwords));
        }
        // A model query only reads: a write (DELETE ... RETURNING looks like a SELECT to the
        // protocol) fails in a read-only transaction instead of changing the warehouse.
        std::unique_ptr<PGresult, Clear> ro(PQexec(conn_.get(), "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"));
        if (PQresultStatus(ro.get()) != PGRES_COMMAND_OK)
            throw SourceError("cannot make the PostgreSQL session read-only (" + target +
                              "): " + redact(PQerrorMessage(conn_.get()), passwords));
    }

    // Takes the next result into result_; false when the query is over. Throws on an error
    // result, after draining the connection.
    bool fetch() {
        result_.reset(PQgetResult(conn_.get()));
        if (result_ == nullptr) return false;
        ExecStatusType status = PQresultStatus(result_.get());
        if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR) {
            std::string msg = describe_error(result_.get());
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

    // PostgreSQL's primary message, SQLSTATE, position and hint. The DETAIL is left out (it can
    // quote row values, e.g. a key that already exists), and for data exceptions (class 22, such
    // as a failed cast) the quoted part of the message is hidden, because it is a cell value.
    std::string describe_error(const PGresult *r) const {
        const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        if (primary == nullptr) return redact(PQresultErrorMessage(r), {});  // client-side error
        std::string msg = primary;
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state != nullptr && std::string_view(state).starts_with("22")) {
            std::size_t open = msg.find('"'), close = msg.rfind('"');
            if (open != std::string::npos && close > open) msg.replace(open + 1, close - open - 1, "...");
        }
        std::string extra = state != nullptr ? std::string("SQLSTATE ") + state : "";
        if (const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION)) {
            extra += (extra.empty() ? "" : ", ") + std::string("at character ") + pos;
        }
        if (!extra.empty()) msg += " (" + extra + ")";
        if (const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT)) msg += "; hint: " + std::string(hint);
        return msg;
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
    std::unique_ptr<PGconn, Finish> conn_;
    std::unique_ptr<PGresult, Clear> result_;  // the current row (single-row mode)
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
