#include "sync/definition.hpp"

#include "exit_codes.hpp"
#include "sync/json_file.hpp"
#include "sync/mode_rules.hpp"
#include "sync/route_counts.hpp"

#include <support/suggest.hpp>

#include <boost/json.hpp>

#include <algorithm>

#include <cctype>
#include <cstdlib>
#include <regex>

namespace synchost {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Reads one JSON object, refusing unknown keys with a suggestion and the line they are on.
class Reader {
public:
    Reader(const JsonFile &file, const json::object &obj, std::vector<std::string> path, std::vector<std::string> keys)
        : file_(file), obj_(obj), path_(std::move(path)), keys_(std::move(keys)) {
        for (const auto &kv : obj_) {
            const std::string key(kv.key());
            bool known = false;
            for (const auto &k : keys_) known = known || k == key;
            if (!known) fail(key, "unknown key \"" + key + "\"" + support::did_you_mean(key, keys_) +
                                      "; valid keys here: " + support::join(keys_));
        }
    }

    bool has(const std::string &key) const { return obj_.contains(key); }

    std::string text(const std::string &key, bool required) const {
        const json::value *v = obj_.if_contains(key);
        if (v == nullptr) {
            if (required) fail("", "missing required key \"" + key + "\"");
            return {};
        }
        if (!v->is_string() || v->get_string().empty()) fail(key, "\"" + key + "\" must be a non-empty string");
        // JSON allows \u0000, C strings end there: a query would run cut short without a word.
        if (const size_t nul = v->get_string().find('\0'); nul != json::string::npos)
            fail(key, "\"" + key + "\" contains a NUL character (\\u0000) at character " + std::to_string(nul + 1));
        return std::string(v->get_string());
    }

    const json::object &object(const std::string &key) const {
        const json::value *v = obj_.if_contains(key);
        if (v == nullptr) fail("", "missing required key \"" + key + "\"");
        if (!v->is_object()) fail(key, "\"" + key + "\" must be an object");
        return v->get_object();
    }

    const json::value *value(const std::string &key) const { return obj_.if_contains(key); }

    Reader child(const std::string &key, std::vector<std::string> keys) const {
        auto p = path_;
        p.push_back(key);
        return Reader(file_, object(key), p, std::move(keys));
    }

    [[noreturn]] void fail(const std::string &key, const std::string &message) const {
        auto p = path_;
        if (!key.empty()) p.push_back(key);
        std::string dotted;
        for (const auto &k : path_) dotted += k + ".";
        throw CliError(kExitConfig, file_.where(p) + ": " + (dotted.empty() ? "" : "in " + dotted.substr(0, dotted.size() - 1) + ": ") + message);
    }

    const JsonFile &file() const { return file_; }
    const std::vector<std::string> &path() const { return path_; }

private:
    const JsonFile &file_;
    const json::object &obj_;
    std::vector<std::string> path_;
    std::vector<std::string> keys_;
};

const std::vector<std::string> kTopKeys = {"name", "source", "primary_key", "mode", "audience", "destination",
                                           "credentials", "mapping", "batch_size", "max_delete_percent",
                                           "newest_first", "state"};

}  // namespace

std::string as_subquery(std::string query) {
    // A final ';' followed only by a comment ("...; -- nightly") would end the subquery early:
    // the comment goes with it.
    if (const size_t semi = query.rfind(';'); semi != std::string::npos) {
        size_t rest = query.find_first_not_of(" \t\r\n", semi + 1);
        if (rest != std::string::npos && (query.compare(rest, 2, "--") == 0 || query.compare(rest, 2, "/*") == 0))
            query.erase(semi);
    }
    while (!query.empty() && (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';'))
        query.pop_back();
    return query;
}

std::string quote_sql_identifier(const std::string &name) {
    std::string quoted = "\"";
    for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + '"';
}

size_t result_column(const std::vector<std::string> &cols, const std::string &name, const std::string &what) {
    for (size_t i = 0; i < cols.size(); ++i)
        if (cols[i] == name) return i;
    throw CliError(kExitConfig, what + " column \"" + name + "\" is not in the query result" +
                                    support::did_you_mean(name, cols) + "; its columns are: " + support::join(cols));
}

void require_model_columns(const SyncDefinition &d, const std::vector<std::string> &cols) {
    result_column(cols, d.primary_key, "the primary_key");
    if (!d.newest_first.empty()) result_column(cols, d.newest_first, "the newest_first");
    for (const auto &e : d.mapping)
        if (!e.constant) result_column(cols, e.column, "the mapped");
}

std::vector<std::string> mapped_columns(const SyncDefinition &d) {
    std::vector<std::string> names;
    for (const auto &e : d.mapping)
        if (!e.constant && std::find(names.begin(), names.end(), e.column) == names.end()) names.push_back(e.column);
    return names;
}

std::vector<std::string> hashed_columns(const SyncDefinition &d) {
    std::vector<std::string> names = mapped_columns(d);
    if (std::find(names.begin(), names.end(), d.primary_key) == names.end()) names.push_back(d.primary_key);
    return names;
}

// A backlog larger than the destination takes in before events go stale then spends its budget
// on the events that can still count.
std::string newest_first_query(const std::string &query, const std::string &column) {
    return "SELECT * FROM (" + as_subquery(query) + "\n) AS synchost_model ORDER BY " + quote_sql_identifier(column) +
           " DESC NULLS LAST";
}

namespace {

// Where the sync's delivered keys live: in the state directory (the default), or beside the
// model in the source database, so that a run asks the source for what changed.
void read_state(const Reader &top, SyncDefinition &d) {
    if (!top.has("state")) return;
    Reader st = top.child("state", {"location", "schema"});
    const std::string location = st.text("location", true);
    if (location != "local" && location != "source")
        st.fail("location", "\"location\" is \"local\" (the state directory, the default) or \"source\" (a table in "
                            "the source database, beside the model)");
    if (location == "local") {
        if (st.has("schema")) st.fail("schema", "\"schema\" applies to \"location\": \"source\" only");
        return;
    }
    if (d.source.type != "postgres")
        st.fail("location", "state beside the model needs a PostgreSQL source (this one is " + d.source.type +
                                "); a SQLite model is already diffed against the local state without the rows "
                                "crossing into synchost");
    d.state.beside_source = true;
    if (st.has("schema")) d.state.schema = st.text("schema", true);
    // PostgreSQL truncates longer identifiers, which could make two syncs share one table.
    if (d.state.schema.empty() || d.state.schema.size() > 63)
        st.fail("schema", "\"schema\" must be 1 to 63 bytes (a PostgreSQL identifier)");
    if (d.name.size() > 63)
        top.fail("name", "a sync whose state is beside the model names its table: \"name\" must be at most 63 bytes");
}

void read_source(const Reader &top, SyncDefinition &d) {
    const json::object &raw = top.object("source");
    std::string type = "sqlite";
    if (const json::value *t = raw.if_contains("type"); t && t->is_string()) type = std::string(t->get_string());
    std::vector<std::string> keys{"type"};
    if (type == "sqlite") keys.insert(keys.end(), {"database", "query"});
    else if (type == "csv") keys.insert(keys.end(), {"path", "delimiter"});
    else if (type == "jsonl") keys.insert(keys.end(), {"path", "columns"});
    else if (type == "postgres") keys.insert(keys.end(), {"connection", "connection_env", "query", "settings"});
    else {
        const std::vector<std::string> types{"sqlite", "csv", "jsonl", "postgres"};
        top.fail("source", "unknown source type \"" + type + "\"" + support::did_you_mean(type, types) +
                               "; supported: sqlite (default), csv, jsonl, postgres");
    }
    Reader s = top.child("source", keys);
    const fs::path base = d.file.parent_path();
    d.source.type = type;
    if (type == "sqlite") {
        d.source.path = base / s.text("database", true);
        d.source.query = s.text("query", true);
    } else if (type == "csv" || type == "jsonl") {
        d.source.path = base / s.text("path", true);
        if (type == "csv" && s.has("delimiter")) {
            const std::string delim = s.text("delimiter", true);
            if (delim.size() != 1) s.fail("delimiter", "\"delimiter\" must be one character");
            d.source.delimiter = delim[0];
        }
        if (const json::value *cols = s.value("columns")) {
            if (!cols->is_array()) s.fail("columns", "\"columns\" must be an array of column names");
            for (const auto &c : cols->get_array()) {
                if (!c.is_string()) s.fail("columns", "\"columns\" must be an array of column names");
                d.source.columns.emplace_back(c.get_string());
            }
        }
    } else {  // postgres
        d.source.query = s.text("query", true);
        const bool literal = s.has("connection"), from_env = s.has("connection_env");
        if (literal == from_env) s.fail("", "give exactly one of \"connection\" or \"connection_env\"");
        if (literal) {
            d.source.connection = s.text("connection", true);
        } else {
            d.connection_env = s.text("connection_env", true);
            const char *v = std::getenv(d.connection_env.c_str());
            if (v == nullptr || *v == '\0')
                s.fail("connection_env", "environment variable " + d.connection_env + " is not set");
            d.source.connection = v;
        }
        if (const json::value *set = s.value("settings")) {
            if (!set->is_object()) s.fail("settings", "\"settings\" is an object of PostgreSQL settings, e.g. {\"work_mem\": \"64MB\"}");
            for (const auto &kv : set->get_object()) {
                const std::string name(kv.key());
                if (!std::regex_match(name, std::regex("[A-Za-z_][A-Za-z0-9_.]*")))
                    s.fail("settings", "\"" + name + "\" is not a PostgreSQL setting name");
                // The model query runs read-only and as the connection's role; no setting changes that.
                if (std::regex_search(name, std::regex("read_only|role|session_authorization", std::regex::icase)))
                    s.fail("settings", "setting \"" + name + "\" is not allowed: the model query runs read-only, as "
                                       "the connection's role");
                if (!kv.value().is_string() && !kv.value().is_number() && !kv.value().is_bool())
                    s.fail("settings", "setting \"" + name + "\" must be a string, number or boolean");
                d.source.settings.emplace_back(name, kv.value().is_string() ? std::string(kv.value().get_string())
                                                                              : json::serialize(kv.value()));
            }
        }
    }
}

void read_mapping(const Reader &top, SyncDefinition &d) {
    const json::object &m = top.object("mapping");
    std::vector<std::string> path = {"mapping"};
    for (const auto &kv : m) {
        MappingEntry e;
        e.destination = std::string(kv.key());
        const json::value &v = kv.value();
        auto where = [&] { return top.file().where({"mapping", e.destination}) + ": mapping." + e.destination + ": "; };
        if (v.is_string()) {
            if (v.get_string().empty()) throw CliError(kExitConfig, where() + "the column name is empty");
            e.column = std::string(v.get_string());
        } else if (v.is_object()) {
            const json::object &o = v.get_object();
            const json::value *c = o.if_contains("value");
            if (c == nullptr || o.size() != 1)
                throw CliError(kExitConfig, where() + "a constant is written {\"value\": ...} and nothing else");
            e.constant = true;
            if (c->is_string()) {
                e.text = std::string(c->get_string());
                e.value.type = SP_VALUE_TEXT;
            } else if (c->is_int64()) {
                e.value.type = SP_VALUE_INT;
                e.value.as.i = c->get_int64();
            } else if (c->is_uint64()) {  // above INT64_MAX: keep the exact digits as text
                e.text = json::serialize(*c);
                e.value.type = SP_VALUE_TEXT;
            } else if (c->is_double()) {
                e.value.type = SP_VALUE_REAL;
                e.value.as.r = c->get_double();
            } else if (c->is_bool()) {
                e.value.type = SP_VALUE_BOOL;
                e.value.as.i = c->get_bool();
            } else if (c->is_array() || c->is_object()) {
                e.text = json::serialize(*c);  // e.g. a constant content_ids list
                e.value.type = SP_VALUE_TEXT;
            } else {
                throw CliError(kExitConfig, where() + "a constant cannot be null; leave the field unmapped instead");
            }
        } else {
            throw CliError(kExitConfig, where() + "map a field to a column name (\"column\") or a constant ({\"value\": ...})");
        }
        d.mapping.push_back(std::move(e));
    }
    for (auto &e : d.mapping)
        if (e.value.type == SP_VALUE_TEXT) {
            e.value.as.text = e.text.c_str();
            e.value.len = static_cast<uint32_t>(e.text.size());
        }
}

std::string config_text(const Reader &dest, const std::string &key, const json::value &v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_bool()) return v.get_bool() ? "true" : "false";
    if (v.is_int64() || v.is_uint64()) return json::serialize(v);
    if (v.is_double()) return json::serialize(v);
    dest.fail(key, "config values are strings, numbers or booleans");
}

}  // namespace

SyncDefinition load_definition(const fs::path &file) {
    std::error_code ec;
    fs::path abs = fs::absolute(file, ec);
    JsonFile jf(ec ? file : abs);
    if (!jf.root().is_object()) throw CliError(kExitConfig, file.string() + ": a sync definition is a JSON object");
    Reader top(jf, jf.root().get_object(), {}, kTopKeys);
    SyncDefinition d;
    d.file = ec ? file : abs;
    d.name = top.text("name", true);
    if (!std::regex_match(d.name, std::regex("[A-Za-z0-9][A-Za-z0-9._-]{0,99}")))
        top.fail("name", "\"name\" must be 1-100 letters, digits, '.', '_' or '-' (it names the sync's state file)");
    read_source(top, d);
    d.primary_key = top.text("primary_key", true);

    if (top.has("mode") == top.has("audience"))
        top.fail("", "give exactly one of \"mode\" (a row sync, e.g. \"insert\") or \"audience\" (an audience sync)");
    if (top.has("mode")) {
        d.mode = top.text("mode", true);
    } else {
        Reader a = top.child("audience", {"mode", "event_name"});
        d.audience = true;
        d.mode = a.text("mode", true);
        d.audience_event = a.text("event_name", false);
    }

    Reader dest = top.child("destination", {"plugin", "config"});
    d.plugin = dest.text("plugin", true);
    if (dest.has("config")) {
        for (const auto &kv : dest.object("config")) {
            const std::string key(kv.key());
            d.config.emplace_back(key, config_text(dest, key, kv.value()));
        }
    }

    if (const json::value *c = top.value("credentials")) {
        if (c->is_string() && !c->get_string().empty()) {
            d.credentials = std::string(c->get_string());
        } else if (c->is_object()) {
            Reader cr = top.child("credentials", {"token_env"});
            d.token_env = cr.text("token_env", true);
        } else {
            top.fail("credentials", "\"credentials\" is a connection name (see synchost connect) or {\"token_env\": \"VAR\"}");
        }
    }
    read_mapping(top, d);
    if (const json::value *b = top.value("batch_size")) {
        if (!b->is_int64() || b->get_int64() < 1 || b->get_int64() > 1000000)
            top.fail("batch_size", "\"batch_size\" must be an integer between 1 and 1000000");
        d.batch_size = static_cast<uint32_t>(b->get_int64());
    }
    if (const json::value *m = top.value("max_delete_percent")) {
        if (!m->is_number() || m->to_number<double>() < 0 || m->to_number<double>() > 100)
            top.fail("max_delete_percent", "\"max_delete_percent\" must be a number from 0 to 100");
        d.max_delete_percent = m->to_number<double>();
    }
    d.source.written_query = d.source.query;  // the query as written: source.query may wrap it
    read_state(top, d);
    if (top.has("newest_first")) {
        const std::string column = top.text("newest_first", true);
        if (d.source.type != "sqlite" && d.source.type != "postgres")
            top.fail("newest_first", "\"newest_first\" needs a query source (sqlite or postgres): a " + d.source.type +
                                         " file is read in its own order; sort the file instead");
        d.source.query = newest_first_query(d.source.query, column);
        d.newest_first = column;
    }
    if (top.has("max_delete_percent") && !d.audience && d.mode != "mirror")
        top.fail("max_delete_percent", "\"max_delete_percent\" applies to modes that delete: sync mode mirror, "
                                       "audience modes remove and mirror");
    return d;
}

void check_against(SyncDefinition &d, const spmanifest::Manifest &caps, uint32_t caps_minor) {
    JsonFile jf(d.file);
    auto fail = [&](const std::vector<std::string> &where, const std::string &msg) -> void {
        throw CliError(kExitConfig, jf.where(where) + ": " + msg);
    };
    // Modes: refused before a single row moves, in the plugin's own words.
    const char *const *all = d.audience ? spmanifest::all_audience_mode_names() : spmanifest::all_sync_mode_names();
    const uint32_t bit = d.audience ? spmanifest::audience_mode_bit(d.mode) : spmanifest::sync_mode_bit(d.mode);
    const uint32_t declared = d.audience ? caps.audience_modes : caps.sync_modes;
    const auto names = d.audience ? spmanifest::audience_mode_names(caps.audience_modes)
                                  : spmanifest::sync_mode_names(caps.sync_modes);
    const std::string kind = d.audience ? "audience sync mode" : "sync mode";
    const std::vector<std::string> where_mode = d.audience ? std::vector<std::string>{"audience", "mode"}
                                                           : std::vector<std::string>{"mode"};
    if (bit == 0)
        fail(where_mode, "unknown " + kind + " \"" + d.mode + "\"" +
                             support::did_you_mean(d.mode, std::vector<std::string>(all, all + 4)) + "; " + caps.id +
                             " supports " + kind + " " + (names.empty() ? "none" : support::join(names)) + " only");
    if ((declared & bit) == 0)
        fail(where_mode, caps.id + " supports " + kind + " " + (names.empty() ? "none" : support::join(names)) + " only");
    // A mode this host does not carry out is refused whatever the plugin declares: accepting it and
    // doing something else would lose data without a word.
    const uint32_t carried_out = d.audience ? kHostAudienceModes : kHostSyncModes;
    if ((carried_out & bit) == 0)
        fail(where_mode, "synchost does not carry out " + kind + " " + d.mode + " yet (it runs " +
                             support::join(d.audience ? spmanifest::audience_mode_names(carried_out)
                                                      : spmanifest::sync_mode_names(carried_out)) +
                             ")");
    if (!(caps.features & SP_FEATURE_FIELD_MAPPING) && !d.mapping.empty())
        fail({"mapping"}, caps.id + " does not support field mapping");
    // A plugin of ABI minor 0 cannot be told what a record asks for: only inserts and adds.
    if (caps_minor < 1 && !minor0_can_run(*mode_rule(d.audience, d.mode)))
        fail(where_mode, caps.id + " is built for plugin ABI 1.0, which carries inserts and audience adds only; " +
                             kind + " " + d.mode + " needs a plugin built for ABI 1.1 or later");

    // Config keys.
    std::vector<std::string> keys;
    for (const auto &c : caps.config) keys.push_back(c.key);
    for (auto &[key, value] : d.config) {
        const spmanifest::ConfigField *f = caps.config_field(key);
        if (f == nullptr)
            fail({"destination", "config", key}, "unknown config key \"" + key + "\" for " + caps.id +
                                                    support::did_you_mean(key, keys) + "; valid keys: " +
                                                    support::join(keys));
        if (f->type == SP_CONFIG_PATH && !value.empty()) value = fs::absolute(d.file.parent_path() / value).string();
    }
    for (const auto &c : caps.config) {
        bool given = false;
        for (const auto &kv : d.config) given = given || kv.first == c.key;
        if (c.required && !given)
            fail({"destination"}, "missing required config \"" + c.key + "\" (" + c.label + ") for " + caps.id);
    }

    // Mapping fields and required-field rules.
    std::vector<std::string> fields;
    for (const auto &f : caps.fields) fields.push_back(f.name);
    bool maps_event_name = false;
    const bool open_fields = (caps.features & SP_FEATURE_OPEN_FIELDS) != 0;
    for (const auto &e : d.mapping) {
        if (!open_fields && !caps.field(e.destination))
            fail({"mapping", e.destination}, "unknown destination field \"" + e.destination + "\" for " + caps.id +
                                                 support::did_you_mean(e.destination, fields) +
                                                 "; run `synchost describe " + caps.id + "` for the list");
        maps_event_name = maps_event_name || e.destination == "event_name";
    }
    // An audience sync may name the event to send for an added member; it becomes a constant of a
    // plugin's event_name field. A plugin without one has no such notion: refused, not dropped.
    if (d.audience && !d.audience_event.empty() && !caps.field("event_name") && !open_fields)
        fail({"audience", "event_name"}, caps.id + " has no destination field event_name, so \"event_name\" means "
                                                    "nothing to it; remove it");
    if (d.audience && !d.audience_event.empty() && !maps_event_name) {
        MappingEntry e;
        e.destination = "event_name";
        e.constant = true;
        e.text = d.audience_event;
        d.mapping.push_back(std::move(e));
        d.mapping.back().value.type = SP_VALUE_TEXT;
    }
    for (auto &e : d.mapping)
        if (e.value.type == SP_VALUE_TEXT) {
            e.value.as.text = e.text.c_str();
            e.value.len = static_cast<uint32_t>(e.text.size());
        }
    // A routing field's constant stands for its config key in every row: one that is no valid value
    // of that key would have every row rejected; refused here instead, where the mapping says it.
    for (const auto &e : d.mapping) {
        const spmanifest::DestinationField *f = e.constant ? caps.field(e.destination) : nullptr;
        const spmanifest::ConfigField *key = f && !f->config_key.empty() ? caps.config_field(f->config_key) : nullptr;
        if (key == nullptr) continue;
        const std::optional<std::string> v = routing_text(e.value);
        if (!v)
            fail({"mapping", e.destination}, "the constant stands for config key " + key->key +
                                                 " and must be text or an integer");
        if (!v->empty() && !key->pattern.empty() && !std::regex_match(*v, std::regex(key->pattern)))
            fail({"mapping", e.destination}, "the constant \"" + *v + "\" is not a valid " + key->key +
                                                 " (it must match " + key->pattern + ")");
    }
    for (const auto &r : caps.required) {
        bool ok = false;
        for (const auto &name : r.any_of)
            for (const auto &e : d.mapping) ok = ok || e.destination == name;
        if (!ok)
            fail({"mapping"}, "required field " + support::join(r.any_of, " or ") + " is not mapped" +
                                  (r.description.empty() ? "" : " (" + r.description + ")"));
    }
}

}  // namespace synchost
