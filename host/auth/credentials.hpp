// The credentials file: named connections, each binding a plugin to its credentials.
//
//   {"version": 1, "connections": {
//      "prod":   {"plugin": "pinterest_conversions", "kind": "oauth2",
//                 "token_url": "https://...", "client_id": "...", "client_secret": "...",
//                 "client_auth": "basic", "ca_file": "/abs/ca.pem" (optional),
//                 "token_timeout_seconds": 10 (optional: the most one token request may take),
//                 "scopes": ["ads:read", "ads:write"],
//                 "access_token": "...", "expires_at": 1767225600,
//                 "refresh_token": "...", "refresh_token_expires_at": 1772409600,
//                 "updated_at": 1764633600},
//      "manual": {"plugin": "pinterest_conversions", "kind": "static_token", "token_env": "PIN_TOKEN"}}}
//
// A static-token connection names the environment variable only: the token never lands on disk.
// Times are Unix seconds; 0 means "not stated by the provider".
#pragma once

#include "auth/secret.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace synchost::auth {

enum class ConnectionKind { oauth2, static_token };

inline constexpr int64_t kDefaultTokenTimeoutSeconds = 10;
inline constexpr int64_t kMaxTokenTimeoutSeconds = 300;

struct Connection {
    ConnectionKind kind = ConnectionKind::oauth2;
    std::string plugin;
    // oauth2
    std::string token_url;
    std::string client_id;
    Secret client_secret;
    std::string client_auth = "basic";  // or "body"
    std::string ca_file;                // extra CA for the token endpoint, or empty
    // The most one request to the token endpoint may take, from connecting to the last byte of
    // the answer; 0 means kDefaultTokenTimeoutSeconds. Beyond it the refresh fails as transient.
    int64_t token_timeout_seconds = 0;
    std::vector<std::string> scopes;
    Secret access_token;
    int64_t expires_at = 0;
    Secret refresh_token;
    int64_t refresh_token_expires_at = 0;
    int64_t updated_at = 0;
    // static_token
    std::string token_env;
};

// One read of the file, to look connections up or to change some and write it back. Connections
// this code does not touch are written back exactly as read. For a read-modify-write, hold a
// FileLock (private_file.hpp) on the path from before read() until after write().
class CredentialsFile {
public:
    // Parses `path`; a missing file reads as empty. Throws CliError(kExitConfig) when the file is
    // accessible by others, unreadable or malformed (messages never quote its contents).
    static CredentialsFile read(const std::filesystem::path &path);

    const std::filesystem::path &path() const { return path_; }
    std::vector<std::string> names() const;
    // Connection `name`, or nullopt. Throws CliError(kExitConfig) when that entry is malformed.
    std::optional<Connection> find(const std::string &name) const;
    // Adds or replaces connection `name`; returns true when it replaced one.
    bool set(const std::string &name, const Connection &c);
    // Writes the file atomically with mode 0600 (write_private_file).
    void write() const;

private:
    explicit CredentialsFile(std::filesystem::path path);
    std::filesystem::path path_;
    boost::json::value doc_;  // on cleansing_storage(): it holds secrets
};

// Adds or replaces connection `name` in `path`, keeping the others: read-modify-write under the
// file lock. Returns true when it replaced one. Throws CliError or std::runtime_error.
bool save_connection(const std::filesystem::path &path, const std::string &name, const Connection &c);

}  // namespace synchost::auth
