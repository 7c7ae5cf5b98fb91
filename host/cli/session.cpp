#include "cli/session.hpp"

#include "exit_codes.hpp"
#include "plugin/catalog.hpp"

#include <cstdlib>

namespace synchost {

namespace fs = std::filesystem;

std::vector<FlagSpec> common_flags() {
    return {
        {"plugin-path", true, "directories to search for plugins (colon-separated)", "DIRS"},
        {"state-dir", true, "where sync state lives (default $SYNCHOST_STATE_DIR or ./.synchost)", "DIR"},
        {"credentials", true, "credentials file (default $SYNCHOST_CREDENTIALS or STATE_DIR/credentials.json)", "FILE"},
        {"log-level", true, "debug, info (default), warn, error or off", "LEVEL"},
        {"log-json", false, "log as JSON lines"},
        {"log-file", true, "append the log to FILE instead of stderr", "FILE"},
    };
}

fs::path state_dir(const Args &args) {
    if (args.has("state-dir")) return args.get("state-dir");
    if (const char *env = std::getenv("SYNCHOST_STATE_DIR"); env && *env) return env;
    return fs::current_path() / ".synchost";
}

std::unique_ptr<Session> Session::load(const Args &args, const std::string &sync_file) {
    auto s = std::make_unique<Session>();
    s->log.configure(args.get("log-level", "info"), args.has("log-json"), args.get("log-file"));
    s->def = load_definition(sync_file);
    const CatalogEntry entry = find_plugin(s->def.plugin, plugin_search_path(args.get("plugin-path")));
    try {
        s->plugin = Plugin::load(entry.library);
    } catch (const PluginLoadError &e) {
        throw CliError(kExitConfig, e.what());
    }
    s->caps = spmanifest::from_descriptor(s->plugin->descriptor());
    check_against(s->def, s->caps, s->plugin->entry().abi_minor);
    s->state_dir = synchost::state_dir(args);
    s->credentials_file = args.has("credentials") ? fs::path(args.get("credentials")) : credentials_path(s->state_dir);
    return s;
}

std::unique_ptr<TokenService> Session::tokens() const {
    if (!def.token_env.empty()) return TokenService::from_env(def.token_env);
    if (!def.credentials.empty()) return TokenService::open(credentials_file, def.credentials, caps.id);
    return nullptr;
}

}  // namespace synchost
