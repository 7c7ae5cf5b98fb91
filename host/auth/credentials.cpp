#include "auth/credentials.hpp"

#include "auth/private_file.hpp"
#include "exit_codes.hpp"

#include <boost/json.hpp>

namespace synchost::auth {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr int64_t kFormatVersion = 1;

const char *kind_name(ConnectionKind k) {
    return k == ConnectionKind::oauth2 ? "oauth2" : "static_token";
}

// Typed access to one connection's fields, with errors that name the connection and field but
// never the value (it may be a secret).
class Fields {
public:
    Fields(const json::object &o, std::string where) : o_(o), where_(std::move(where)) {}

    std::string str(std::string_view key, bool required = true) const {
        const json::value *v = o_.if_contains(key);
        if (v == nullptr || v->is_null()) {
            if (required) bad(key, "is missing");
            return {};
        }
        if (!v->is_string()) bad(key, "must be a string");
        return std::string(v->get_string());
    }
    int64_t integer(std::string_view key) const {
        const json::value *v = o_.if_contains(key);
        if (v == nullptr || v->is_null()) return 0;
        if (v->is_int64()) return v->get_int64();
        if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX))
            return static_cast<int64_t>(v->get_uint64());
        bad(key, "must be an integer (Unix seconds)");
    }
    std::vector<std::string> strings(std::string_view key) const {
        std::vector<std::string> out;
        const json::value *v = o_.if_contains(key);
        if (v == nullptr || v->is_null()) return out;
        if (!v->is_array()) bad(key, "must be an array of strings");
        for (const auto &e : v->get_array()) {
            if (!e.is_string()) bad(key, "must be an array of strings");
            out.emplace_back(e.get_string());
        }
        return out;
    }
    [[noreturn]] void bad(std::string_view key, std::string_view problem) const {
        throw CliError(kExitConfig, where_ + ": \"" + std::string(key) + "\" " + std::string(problem));
    }

private:
    const json::object &o_;
    std::string where_;
};

Connection from_json(const json::object &o, const std::string &where) {
    Fields f(o, where);
    Connection c;
    c.plugin = f.str("plugin");
    const std::string kind = f.str("kind", false);
    if (kind == "static_token") {
        c.kind = ConnectionKind::static_token;
        c.token_env = f.str("token_env");
        return c;
    }
    if (!kind.empty() && kind != "oauth2") f.bad("kind", "must be \"oauth2\" or \"static_token\"");
    c.kind = ConnectionKind::oauth2;
    c.token_url = f.str("token_url");
    c.client_id = f.str("client_id");
    c.client_secret = Secret(f.str("client_secret"));
    c.client_auth = f.str("client_auth", false);
    if (c.client_auth.empty()) c.client_auth = "basic";
    if (c.client_auth != "basic" && c.client_auth != "body") f.bad("client_auth", "must be \"basic\" or \"body\"");
    c.ca_file = f.str("ca_file", false);
    c.token_timeout_seconds = f.integer("token_timeout_seconds");
    if (c.token_timeout_seconds < 0 || c.token_timeout_seconds > kMaxTokenTimeoutSeconds)
        f.bad("token_timeout_seconds", "must be 1 to " + std::to_string(kMaxTokenTimeoutSeconds) +
                                           " seconds (0 or absent: " + std::to_string(kDefaultTokenTimeoutSeconds) + ")");
    c.scopes = f.strings("scopes");
    c.access_token = Secret(f.str("access_token"));
    c.expires_at = f.integer("expires_at");
    c.refresh_token = Secret(f.str("refresh_token", false));
    c.refresh_token_expires_at = f.integer("refresh_token_expires_at");
    c.updated_at = f.integer("updated_at");
    return c;
}

json::object to_json(const Connection &c) {
    json::object o(cleansing_storage());
    o["plugin"] = c.plugin;
    o["kind"] = kind_name(c.kind);
    if (c.kind == ConnectionKind::static_token) {
        o["token_env"] = c.token_env;
        return o;
    }
    o["token_url"] = c.token_url;
    o["client_id"] = c.client_id;
    o["client_secret"] = c.client_secret.str();
    o["client_auth"] = c.client_auth;
    if (!c.ca_file.empty()) o["ca_file"] = c.ca_file;
    if (c.token_timeout_seconds > 0) o["token_timeout_seconds"] = c.token_timeout_seconds;
    json::array scopes(cleansing_storage());
    for (const auto &s : c.scopes) scopes.emplace_back(s);
    o["scopes"] = std::move(scopes);
    o["access_token"] = c.access_token.str();
    o["expires_at"] = c.expires_at;
    o["refresh_token"] = c.refresh_token.str();
    o["refresh_token_expires_at"] = c.refresh_token_expires_at;
    o["updated_at"] = c.updated_at;
    return o;
}

}  // namespace

CredentialsFile::CredentialsFile(fs::path path) : path_(std::move(path)), doc_(cleansing_storage()) {
    doc_ = json::object(cleansing_storage());
    doc_.as_object()["version"] = kFormatVersion;
    doc_.as_object()["connections"] = json::object(cleansing_storage());
}

CredentialsFile CredentialsFile::read(const fs::path &path) {
    CredentialsFile f(path);
    std::optional<std::string> text = read_private_file(path);
    if (!text) return f;
    const std::string where = path.string() + " is not a valid credentials file";
    json::error_code ec;
    json::value v = json::parse(*text, ec, cleansing_storage());
    cleanse(*text);
    if (ec) throw CliError(kExitConfig, where + ": " + ec.message());
    if (!v.is_object()) throw CliError(kExitConfig, where + ": expected a JSON object");
    const json::value *conns = v.as_object().if_contains("connections");
    if (conns == nullptr || !conns->is_object())
        throw CliError(kExitConfig, where + ": expected an object \"connections\"");
    for (const auto &kv : conns->get_object())
        if (!kv.value().is_object())
            throw CliError(kExitConfig, where + ": connection \"" + std::string(kv.key()) + "\" is not an object");
    f.doc_ = std::move(v);
    return f;
}

std::vector<std::string> CredentialsFile::names() const {
    std::vector<std::string> out;
    for (const auto &kv : doc_.at("connections").get_object()) out.emplace_back(kv.key());
    return out;
}

std::optional<Connection> CredentialsFile::find(const std::string &name) const {
    const json::value *v = doc_.at("connections").get_object().if_contains(name);
    if (v == nullptr) return std::nullopt;
    return from_json(v->get_object(), "connection \"" + name + "\" in " + path_.string());
}

bool CredentialsFile::set(const std::string &name, const Connection &c) {
    json::object &conns = doc_.as_object()["connections"].as_object();
    const bool replaced = conns.contains(name);
    conns[name] = to_json(c);
    return replaced;
}

void CredentialsFile::write() const {
    std::string text = serialize_cleansed(doc_);
    try {
        write_private_file(path_, text);
    } catch (...) {
        cleanse(text);
        throw;
    }
    cleanse(text);
}

bool save_connection(const fs::path &path, const std::string &name, const Connection &c) {
    FileLock lock(path);
    CredentialsFile f = CredentialsFile::read(path);
    const bool replaced = f.set(name, c);
    f.write();
    return replaced;
}

}  // namespace synchost::auth
