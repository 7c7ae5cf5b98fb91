// `synchost connect PLUGIN --name NAME`: stores a named connection in the credentials file, either
// by running the OAuth 2.0 authorization-code flow the plugin's auth descriptor describes, or (with
// --token-env) as a static token read from an environment variable at each run.
#include "auth/connect_flow.hpp"
#include "auth/credentials.hpp"
#include "auth/token_endpoint.hpp"
#include "auth/token_service.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "exit_codes.hpp"
#include "plugin/catalog.hpp"
#include "plugin/loader.hpp"

#include <manifest/manifest.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <cstdlib>
#include <iostream>
#include <regex>

extern char **environ;

namespace synchost {

namespace fs = std::filesystem;

namespace {

const std::vector<FlagSpec> kSpec{
    {"name", true, "name of the connection in the credentials file (required)", "NAME"},
    {"client-id", true, "OAuth client (app) id (required for OAuth)", "ID"},
    {"client-secret-env", true, "environment variable holding the client secret (default SYNCHOST_CLIENT_SECRET)",
     "VAR"},
    {"authorize-url", true, "authorization endpoint instead of the plugin's (e.g. a sandbox)", "URL"},
    {"token-url", true, "token endpoint instead of the plugin's (e.g. a sandbox)", "URL"},
    {"ca-file", true, "extra CA (PEM) trusted for the token endpoint, stored with the connection", "FILE"},
    {"port", true, "port of the loopback redirect listener (default 0: any free port)", "N"},
    {"no-browser", false, "only print the authorize URL; do not start a browser"},
    {"timeout", true, "seconds to wait for the redirect (default 300)", "SECONDS"},
    {"token-timeout", true, "the most one token request (the code exchange, each refresh) may take, stored with the connection (default 10)", "SECONDS"},
    {"token-env", true, "store a static-token connection that reads the token from VAR at each run", "VAR"},
    {"state-dir", true, "state directory (default $SYNCHOST_STATE_DIR, else .synchost)", "DIR"},
    {"credentials", true, "credentials file (default $SYNCHOST_CREDENTIALS, else STATE_DIR/credentials.json)", "FILE"},
    {"plugin-path", true, "directories to search for plugins (colon-separated)", "DIRS"},
    {"help", false, "show this help"},
};

const char *kUsageLine =
    "usage: synchost connect PLUGIN --name NAME --client-id ID [options]\n"
    "       synchost connect PLUGIN --name NAME --token-env VAR";

// OAuth-only flags, meaningless for a static token.
const std::vector<std::string> kOAuthFlags{"client-id", "client-secret-env", "authorize-url", "token-url", "ca-file",
                                           "port",      "no-browser",        "timeout",   "token-timeout"};

void require_pattern(const std::string &value, const char *pattern, const std::string &what) {
    if (!std::regex_match(value, std::regex(pattern)))
        throw CliError(kExitConfig, what + " \"" + value + "\" must match " + pattern);
}

fs::path credentials_file(const Args &args) {
    if (args.has("credentials")) return args.get("credentials");
    fs::path state_dir = args.get("state-dir");
    if (state_dir.empty()) {
        const char *env = std::getenv("SYNCHOST_STATE_DIR");
        state_dir = env != nullptr && *env != '\0' ? env : ".synchost";
    }
    return credentials_path(state_dir);
}

spmanifest::Auth plugin_auth(const std::string &plugin, const std::string &plugin_path) {
    try {
        const CatalogEntry entry = find_plugin(plugin, plugin_search_path(plugin_path));
        return spmanifest::from_descriptor(Plugin::load(entry.library)->descriptor()).auth;
    } catch (const CliError &) {
        throw;
    } catch (const std::exception &e) {
        throw CliError(kExitConfig, e.what());
    }
}

// Starts xdg-open on the URL when there is a desktop session; never waits for it (some browsers
// keep it running), and reaps it on the way out if it has finished.
class Browser {
public:
    explicit Browser(const std::string &url) {
        const char *display = std::getenv("DISPLAY");
        const char *wayland = std::getenv("WAYLAND_DISPLAY");
        if ((display == nullptr || *display == '\0') && (wayland == nullptr || *wayland == '\0')) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
        std::string prog = "xdg-open", arg = url;
        char *argv[] = {prog.data(), arg.data(), nullptr};
        if (posix_spawnp(&pid_, "xdg-open", &actions, nullptr, argv, environ) != 0) {
            pid_ = -1;
            std::cout << "(could not start xdg-open: open the URL yourself)" << std::endl;
        }
        posix_spawn_file_actions_destroy(&actions);
    }
    ~Browser() {
        int status = 0;
        if (pid_ > 0) ::waitpid(pid_, &status, WNOHANG);
    }
    Browser(const Browser &) = delete;
    Browser &operator=(const Browser &) = delete;

private:
    pid_t pid_ = -1;
};

int connect_static(const Args &args, const std::string &plugin, const std::string &name, const spmanifest::Auth &auth,
                   const fs::path &file) {
    if (!(auth.kinds & SP_AUTH_STATIC_TOKEN))
        throw CliError(kExitConfig,
                       "plugin " + plugin + " does not accept a static token: connect with OAuth (--client-id ID)");
    auth::Connection c;
    c.kind = auth::ConnectionKind::static_token;
    c.plugin = plugin;
    c.token_env = args.get("token-env");
    try {
        auth::save_connection(file, name, c);
    } catch (const CliError &) {
        throw;
    } catch (const std::exception &e) {
        throw CliError(kExitConfig, e.what());
    }
    std::cout << "Connected " << name << " (" << plugin << "); the token is read from $" << c.token_env
              << " at each run and never stored\n";
    const char *value = std::getenv(c.token_env.c_str());
    if (value == nullptr || *value == '\0')
        std::cerr << "note: " << c.token_env << " is not set in this environment; set it before running syncs"
                  << (auth.static_token_help.empty() ? "" : " (" + auth.static_token_help + ")") << "\n";
    return kExitOk;
}

int connect_oauth(const Args &args, const std::string &plugin, const std::string &name, const spmanifest::Auth &auth,
                  const fs::path &file, auth::Secret client_secret) {
    if (!(auth.kinds & SP_AUTH_OAUTH2))
        throw CliError(kExitConfig, "plugin " + plugin + " does not support OAuth" +
                                        (auth.kinds & SP_AUTH_STATIC_TOKEN ? ": use --token-env VAR" : ""));
    auth::ConnectSettings s;
    s.plugin_id = plugin;
    s.name = name;
    s.credentials_file = file;
    s.authorize_url = args.get("authorize-url", auth.authorize_url);
    s.token_url = args.get("token-url", auth.token_url);
    if (s.authorize_url.empty() || s.token_url.empty())
        throw CliError(kExitConfig,
                       "plugin " + plugin + " declares no OAuth endpoints: pass --authorize-url and --token-url");
    s.scopes = auth.scopes;
    s.scope_separator = auth.scope_separator.empty() ? " " : auth.scope_separator;
    s.client_auth = auth.client_auth.empty() ? "basic" : auth.client_auth;
    if (s.client_auth != "basic" && s.client_auth != "body")
        throw CliError(kExitConfig, "plugin " + plugin + " asks for client_auth \"" + s.client_auth +
                                        "\", which synchost does not support (basic, body)");
    s.client_id = args.get("client-id");
    s.client_secret = std::move(client_secret);
    if (args.has("ca-file")) {
        std::error_code ec;
        s.ca_file = fs::absolute(args.get("ca-file"), ec).string();  // the token service may run elsewhere
        if (ec || !fs::is_regular_file(s.ca_file))
            throw CliError(kExitConfig, "--ca-file " + args.get("ca-file") + " is not a readable file");
    }
    s.port = static_cast<unsigned short>(args.get_int("port", 0, 0, 65535));
    s.timeout = std::chrono::seconds(args.get_int("timeout", 300, 1, 24 * 3600));
    s.token_timeout_seconds = args.get_int("token-timeout", 0, 1, auth::kMaxTokenTimeoutSeconds);

    auth::ConnectFlow flow(std::move(s));
    // Flushed before anything waits: a person, a script or a test reads this line to go on.
    std::cout << "Open this URL to authorize: " << flow.authorize_url() << "\n"
              << "Waiting for the redirect to " << flow.redirect_uri() << " ..." << std::endl;
    std::optional<Browser> browser;
    if (!args.has("no-browser")) browser.emplace(flow.authorize_url());
    const auth::Connection c = flow.finish();
    std::cout << "Connected " << name << " (" << plugin << "); access token "
              << (c.expires_at > 0 ? "valid until " + auth::utc_time(c.expires_at)
                                   : std::string("has no stated expiry"))
              << "\n";
    return kExitOk;
}

}  // namespace

int cmd_connect(const Argv &argv) {
    Args args(argv, kSpec);
    if (args.has("help")) {
        std::cout << kUsageLine << "\n\nStores a named connection for PLUGIN in the credentials file (mode 0600).\n"
                  << "The OAuth client secret is read from an environment variable, never from the command line.\n\n"
                  << flags_help(kSpec);
        return kExitOk;
    }
    if (args.positional().size() != 1) throw CliError(kExitConfig, kUsageLine);
    const std::string plugin = args.positional()[0];
    const std::string name = args.get("name");
    if (name.empty())
        throw CliError(kExitConfig, "--name NAME is required: the name syncs use to refer to this connection");
    require_pattern(name, "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", "--name");
    const fs::path file = credentials_file(args);

    // Flags are checked before the plugin is loaded: mistakes surface at once.
    if (args.has("token-env")) {
        for (const auto &f : kOAuthFlags)
            if (args.has(f)) throw CliError(kExitConfig, "--" + f + " does not apply to a static token (--token-env)");
        require_pattern(args.get("token-env"), "[A-Za-z_][A-Za-z0-9_]*", "--token-env");
        return connect_static(args, plugin, name, plugin_auth(plugin, args.get("plugin-path")), file);
    }
    if (args.get("client-id").empty())
        throw CliError(kExitConfig, "--client-id ID is required for OAuth (or --token-env VAR for a static token)");
    const std::string secret_env = args.get("client-secret-env", "SYNCHOST_CLIENT_SECRET");
    require_pattern(secret_env, "[A-Za-z_][A-Za-z0-9_]*", "--client-secret-env");
    const char *secret = std::getenv(secret_env.c_str());
    if (secret == nullptr || *secret == '\0')
        throw CliError(kExitConfig, "set the OAuth client secret in environment variable " + secret_env +
                                        " (it is never taken from the command line)");
    return connect_oauth(args, plugin, name, plugin_auth(plugin, args.get("plugin-path")), file,
                         auth::Secret(std::string_view(secret)));
}

}  // namespace synchost
