// What `sync`, `check` and `status` share: the common flags, loading the sync definition, the
// plugin and its capabilities, the state directory, and credentials for the plugin.
#pragma once

#include "auth/token_service.hpp"
#include "cli/args.hpp"
#include "plugin/loader.hpp"
#include "runtime/host_services.hpp"
#include "runtime/logger.hpp"
#include "sync/definition.hpp"

#include <filesystem>
#include <memory>
#include <vector>

namespace synchost {

// --plugin-path, --state-dir, --credentials, --log-level, --log-json, --log-file.
std::vector<FlagSpec> common_flags();

// Where state lives: --state-dir, else $SYNCHOST_STATE_DIR, else ./.synchost.
std::filesystem::path state_dir(const Args &args);

struct Session {
    Logger log;
    SyncDefinition def;
    std::shared_ptr<Plugin> plugin;
    spmanifest::Manifest caps;
    std::filesystem::path state_dir;
    std::filesystem::path credentials_file;

    // Loads and checks everything that can be checked without the network. Throws CliError.
    static std::unique_ptr<Session> load(const Args &args, const std::string &sync_file);

    // The credentials named by the definition; throws CliError(kExitAuth) when they are missing.
    // Null when the definition names none (then the plugin gets SP_CRED_NONE).
    std::unique_ptr<TokenService> tokens() const;
};

// The host services' credentials from `tokens` (which must outlive them); none when NULL.
inline CredentialSource credential_source(TokenService *tokens) {
    if (tokens == nullptr) return {};
    return [tokens](bool force, const char *rejected, std::string &token, std::string &msg) {
        return tokens->get(force, rejected, token, msg);
    };
}

}  // namespace synchost
