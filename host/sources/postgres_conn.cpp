#include "sources/postgres_conn.hpp"

#include "sources/source.hpp"
#include "sources/source_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <regex>
#include <string_view>
#include <vector>

namespace synchost::pg {

namespace {

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

Connection open_session(const std::string &conninfo, bool read_only) {
    std::vector<std::string> passwords = find_passwords(conninfo);
    std::string target = describe_target(conninfo, passwords);
    // Defaults first so the connection string can override them (the expanded dbname entry
    // wins over earlier ones); client_encoding last, because cells must be UTF-8.
    const char *keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding", nullptr};
    const char *values[] = {"10", "synchost", conninfo.c_str(), "UTF8", nullptr};
    Connection conn(PQconnectdbParams(keys, values, 1));
    if (conn == nullptr) throw SourceError("cannot connect to PostgreSQL (" + target + "): out of memory");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw SourceError("cannot connect to PostgreSQL (" + target +
                          "): " + redact(PQerrorMessage(conn.get()), passwords));
    }
    if (read_only) {
        // DELETE ... RETURNING looks like a SELECT to the protocol: in a read-only session it
        // fails instead of changing the warehouse.
        Result ro(PQexec(conn.get(), "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"));
        if (PQresultStatus(ro.get()) != PGRES_COMMAND_OK)
            throw SourceError("cannot make the PostgreSQL session read-only (" + target +
                              "): " + redact(PQerrorMessage(conn.get()), passwords));
    }
    return conn;
}

}  // namespace

Connection connect(const SourceConfig &config, bool read_only) {
    Connection conn = open_session(config.connection, read_only);
    for (const auto &[name, value] : config.settings) {
        const char *params[] = {name.c_str(), value.c_str()};
        Result r(PQexecParams(conn.get(), "SELECT set_config($1, $2, false)", 2, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
            throw SourceError("PostgreSQL refused the source setting \"" + name + "\": " + describe_error(r.get()));
    }
    return conn;
}

QueryWithin QueryWithin::find(const std::string &written, const std::string &sent) {
    QueryWithin w;
    if (written.empty() || written == sent) return w;
    // The wrapping keeps a query's beginning as written (it trims only the end).
    const std::string probe = written.substr(0, std::min(written.find_first_of(";\n"), std::size_t{40}));
    const std::size_t at = probe.empty() ? std::string::npos : sent.find(probe);
    if (at == std::string::npos) return w;
    auto characters = [](std::string_view s) {  // UTF-8: every byte but continuation bytes
        return static_cast<long>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
    };
    w.at = characters(std::string_view(sent).substr(0, at));
    w.length = characters(written);
    return w;
}

QueryKind classify_query(PGconn *c, const std::string &written) {
    const std::string explain = "EXPLAIN (FORMAT JSON) " + written;
    Result plan(PQexecParams(c, explain.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
    if (PQresultStatus(plan.get()) != PGRES_TUPLES_OK || PQntuples(plan.get()) != 1) return QueryKind::unknown;
    // String values in the plan are JSON-escaped, so no literal of the query can spell this.
    if (std::string_view(PQgetvalue(plan.get(), 0, 0)).find(R"("Node Type": "ModifyTable")") != std::string_view::npos)
        return QueryKind::writes;
    // The unnamed statement: the query sent next replaces it.
    Result prepared(PQprepare(c, "", written.c_str(), 0, nullptr));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) return QueryKind::unknown;
    Result described(PQdescribePrepared(c, ""));
    if (PQresultStatus(described.get()) != PGRES_COMMAND_OK) return QueryKind::unknown;
    return PQnfields(described.get()) == 0 ? QueryKind::no_columns : QueryKind::reads;
}

void refuse_unless_it_reads(PGconn *c, const std::string &written, const std::string &where) {
    switch (classify_query(c, written)) {
    case QueryKind::writes: throw SourceError(where + sources::kWritesRefusal);
    case QueryKind::no_columns: throw SourceError(where + sources::kNoColumnsRefusal);
    case QueryKind::reads:
    case QueryKind::unknown: return;
    }
}

std::string describe_error(const PGresult *r, const QueryWithin &within) {
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (primary == nullptr) return redact(PQresultErrorMessage(r), {});  // client-side error
    std::string msg = primary;
    const std::string state = sqlstate(r);
    if (state.starts_with("22")) {
        std::size_t open = msg.find('"'), close = msg.rfind('"');
        if (open != std::string::npos && close > open) msg.replace(open + 1, close - open - 1, "...");
    }
    std::string extra = state.empty() ? "" : "SQLSTATE " + state;
    const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    const std::string_view position_text = pos ? pos : "";
    long position = 0;  // 1-based, in characters of the statement sent; the server's, not parsed if malformed
    if (std::from_chars(position_text.data(), position_text.data() + position_text.size(), position).ec == std::errc{}) {
        extra += extra.empty() ? "" : ", ";
        const long in_written = position - within.at;
        if (within.length == 0) extra += "at character " + std::to_string(position);
        else if (in_written >= 1 && in_written <= within.length) extra += "at character " + std::to_string(in_written);
        else extra += "in synchost's wrapping of the query, not in the query as written";
    }
    if (!extra.empty()) msg += " (" + extra + ")";
    if (const char *hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT)) msg += "; hint: " + std::string(hint);
    return msg;
}

std::string sqlstate(const PGresult *r) {
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state ? state : "";
}

std::string connection_error(PGconn *c) {
    return redact(PQerrorMessage(c), {});
}

}  // namespace synchost::pg
