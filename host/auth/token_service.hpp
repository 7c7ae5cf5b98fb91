// Access tokens for plugins, from a named connection in the credentials file. Thread-safe: the
// plugin may ask from any thread; refreshes are single-flight.
//
// An OAuth connection's token is refreshed when it has 60 s or less left, or when a plugin reports
// it rejected. One mutex is held across the refresh (like golang.org/x/oauth2's
// reuseTokenSource), and an flock on the credentials file across read-refresh-write, so neither
// threads nor other synchost processes sharing the connection ever spend the same rotating refresh
// token twice. The rotated tokens are on disk before the new access token is handed out.
#pragma once

#include <syncplugin/syncplugin.h>

#include <filesystem>
#include <memory>
#include <string>

namespace synchost {

// Default credentials file: $SYNCHOST_CREDENTIALS, else <state_dir>/credentials.json.
std::filesystem::path credentials_path(const std::filesystem::path &state_dir);

class TokenService {
public:
    // Connection `name` from the credentials file; throws CliError(kExitAuth) when it is missing
    // ("no connection named X in FILE: run synchost connect PLUGIN --name X"), and CliError(kExitConfig)
    // when the file is readable by group/others ("FILE is readable by others (mode 0644): chmod 600 FILE")
    // or malformed. `plugin_id` must match the connection's plugin.
    static std::unique_ptr<TokenService> open(const std::filesystem::path &credentials_file, const std::string &name,
                                              const std::string &plugin_id);
    // A static token read from environment variable `var` at each call.
    static std::unique_ptr<TokenService> from_env(const std::string &var);
    virtual ~TokenService();
    // The semantics of sp_host.get_access_token: current token; with force=true refresh unless
    // `rejected` (may be null) is no longer the current token. Returns SP_CRED_OK with the token in
    // `token`, or another status with a human message (no secrets) in `message`.
    virtual sp_credential_status get(bool force, const char *rejected, std::string &token, std::string &message) = 0;
    // Before a run: throws CliError(kExitConfig) when the token must be refreshed now but the
    // rotated refresh token could not be saved (a read-only credentials file: the refresh would
    // spend the only refresh token). Returns a warning for the log when a refresh later in the run
    // would fail the same way, else an empty string.
    virtual std::string check_ready() { return {}; }
};

}  // namespace synchost
