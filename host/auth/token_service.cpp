#include "auth/token_service.hpp"

#include "auth/credentials.hpp"
#include "auth/private_file.hpp"
#include "auth/token_endpoint.hpp"
#include "exit_codes.hpp"

#include <support/suggest.hpp>

#include <cstdlib>
#include <mutex>

namespace synchost {

namespace fs = std::filesystem;
using auth::Connection;
using auth::CredentialsFile;
using auth::TokenReply;

fs::path credentials_path(const fs::path &state_dir) {
    if (const char *env = std::getenv("SYNCHOST_CREDENTIALS"); env != nullptr && *env != '\0') return env;
    return state_dir / "credentials.json";
}

TokenService::~TokenService() = default;

namespace {

// A token with this much life left or less is refreshed before use, so it cannot expire in flight.
constexpr int64_t kRefreshMarginSeconds = 60;

class EnvTokenService final : public TokenService {
public:
    explicit EnvTokenService(std::string var) : var_(std::move(var)) {}

    sp_credential_status get(bool force, const char *rejected, std::string &token, std::string &message) override {
        const char *value = std::getenv(var_.c_str());
        if (value == nullptr || *value == '\0') {
            message = "environment variable " + var_ + " is not set";
            return SP_CRED_NONE;
        }
        // Nothing to refresh: a rejected static token stays rejected until the user replaces it.
        if (force && rejected != nullptr && auth::Secret(std::string_view(value)) == rejected) {
            message = "the static token in " + var_ + " was rejected: generate a new conversion access token";
            return SP_CRED_REAUTH_REQUIRED;
        }
        if (!auth::fits_a_header(value)) {
            message = "the token in " + var_ + " holds a control character, space or non-ASCII byte; a token is "
                      "visible ASCII only (was it pasted with a line break?)";
            return SP_CRED_REAUTH_REQUIRED;
        }
        token = value;
        return SP_CRED_OK;
    }

private:
    std::string var_;
};

class OAuthTokenService final : public TokenService {
public:
    OAuthTokenService(fs::path file, std::string name, Connection c)
        : file_(std::move(file)), name_(std::move(name)), conn_(std::move(c)) {}

    sp_credential_status get(bool force, const char *rejected, std::string &token, std::string &message) override {
        std::lock_guard lock(mutex_);
        try {
            if (unsaved_) {
                auth::FileLock file_lock(file_);
                if (!save(message)) return SP_CRED_REAUTH_REQUIRED;
            }
            if (needs_refresh(force, rejected)) {
                const sp_credential_status s = refresh(force, rejected, message);
                if (s != SP_CRED_OK) return s;
            }
            if (!auth::fits_a_header(conn_.access_token.str())) {
                message = "the access token of connection " + name_ + " in " + file_.string() +
                          " holds a control character, space or non-ASCII byte: " + reconnect();
                return SP_CRED_REAUTH_REQUIRED;
            }
            token = conn_.access_token.str();
            return SP_CRED_OK;
        } catch (const std::exception &e) {  // the credentials file became unreadable or malformed
            message = e.what();
            return SP_CRED_REAUTH_REQUIRED;
        }
    }

    std::string check_ready() override {
        std::lock_guard lock(mutex_);
        const std::string why = auth::why_not_writable(file_);
        if (why.empty()) return {};
        if (needs_refresh(false, nullptr)) throw CliError(kExitConfig, cannot_refresh(why));
        return why + ": if the access token must be refreshed during the run, the run will stop";
    }

private:
    std::string cannot_refresh(const std::string &why) const {
        return "the access token of connection " + name_ + " must be refreshed, but " + why +
               ", so the rotated refresh token could not be saved (refreshing would spend the only one). Make it "
               "writable, or copy it to a writable place and point --credentials or SYNCHOST_CREDENTIALS at the copy";
    }

    bool needs_refresh(bool force, const char *rejected) const {
        const bool fresh = conn_.expires_at == 0 || conn_.expires_at - auth::unix_now() > kRefreshMarginSeconds;
        return !fresh || (force && (rejected == nullptr || conn_.access_token == rejected));
    }

    std::string reconnect() const { return "reconnect: synchost connect " + conn_.plugin + " --name " + name_; }

    // Called with mutex_ held. Takes the file lock for the whole read-refresh-write.
    sp_credential_status refresh(bool force, const char *rejected, std::string &message) {
        if (const std::string why = auth::why_not_writable(file_); !why.empty()) {
            message = cannot_refresh(why);
            return SP_CRED_REAUTH_REQUIRED;
        }
        auth::FileLock file_lock(file_);
        // Another synchost process may have refreshed since we read the file, spending the refresh
        // token we hold: adopt what it stored, which may make our refresh unnecessary.
        std::optional<Connection> stored = CredentialsFile::read(file_).find(name_);
        if (!stored || stored->plugin != conn_.plugin || stored->kind != auth::ConnectionKind::oauth2) {
            message = "connection " + name_ + " is no longer in " + file_.string() + ": " + reconnect();
            return SP_CRED_REAUTH_REQUIRED;
        }
        if (!(stored->refresh_token == conn_.refresh_token.str()) ||
            !(stored->access_token == conn_.access_token.str())) {
            conn_ = std::move(*stored);
            if (!needs_refresh(force, rejected)) return SP_CRED_OK;
        }

        const int64_t now = auth::unix_now();
        if (conn_.refresh_token.empty()) {
            message = "connection " + name_ + " has no refresh token: " + reconnect();
            return SP_CRED_REAUTH_REQUIRED;
        }
        if (conn_.refresh_token_expires_at != 0 && conn_.refresh_token_expires_at <= now) {
            message =
                "the refresh token expired on " + auth::utc_time(conn_.refresh_token_expires_at) + ": " + reconnect();
            return SP_CRED_REAUTH_REQUIRED;
        }
        const TokenReply reply =
            auth::request_token(conn_, {{"grant_type", "refresh_token"}, {"refresh_token", conn_.refresh_token.str()}});
        if (reply.kind == TokenReply::Kind::ok) {
            auth::apply_tokens(reply, conn_, now);
            unsaved_ = true;
            // The old refresh token is spent: a run that went on could not renew this token.
            return save(message) ? SP_CRED_OK : SP_CRED_REAUTH_REQUIRED;
        }
        if (reply.kind == TokenReply::Kind::oauth_error && reply.error == "invalid_grant") {
            message = "the refresh token was refused (invalid_grant): " + reconnect();
            return SP_CRED_REAUTH_REQUIRED;
        }
        if (reply.transient() || reply.kind == TokenReply::Kind::bad_response) {
            message = "could not refresh the access token of connection " + name_ + ": " + reply.summary();
            return SP_CRED_TRANSIENT;
        }
        if (reply.kind == TokenReply::Kind::local_error)  // nothing was sent: e.g. the CA file is gone
            message = "could not refresh the access token of connection " + name_ + ": " + reply.summary() +
                      " (fix it, or " + reconnect() + ")";
        else
            message = "the token endpoint refused to refresh connection " + name_ + ": " + reply.summary() + ": " +
                      reconnect();
        return SP_CRED_REAUTH_REQUIRED;
    }

    // Writes conn_ into the file (the caller holds the file lock). On failure the new tokens stay
    // in memory, unsaved_, and no token is handed out (the plugin is told to stop the run) unless
    // a later call manages to save them: a run must not go on with a token nobody can renew.
    bool save(std::string &message) {
        try {
            CredentialsFile f = CredentialsFile::read(file_);
            f.set(name_, conn_);
            f.write();
            unsaved_ = false;
            return true;
        } catch (const std::exception &e) {
            message = "refreshed the access token but could not save the rotated tokens (" + std::string(e.what()) +
                      "); the run stops, since the refresh token on file was spent: " + reconnect();
            return false;
        }
    }

    const fs::path file_;
    const std::string name_;
    std::mutex mutex_;  // held across refreshes: single flight
    Connection conn_;
    bool unsaved_ = false;
};

}  // namespace

std::unique_ptr<TokenService> TokenService::open(const fs::path &credentials_file, const std::string &name,
                                                 const std::string &plugin_id) {
    const CredentialsFile file = CredentialsFile::read(credentials_file);
    std::optional<Connection> c = file.find(name);
    if (!c)
        throw CliError(kExitAuth, "no connection named " + name + " in " + credentials_file.string() +
                                      ": run synchost connect " + plugin_id + " --name " + name +
                                      support::did_you_mean(name, file.names()));
    if (c->plugin != plugin_id)
        throw CliError(kExitConfig, "connection " + name + " in " + credentials_file.string() + " is for plugin " +
                                        c->plugin + ", not " + plugin_id);
    if (c->kind == auth::ConnectionKind::static_token) return from_env(c->token_env);
    return std::make_unique<OAuthTokenService>(credentials_file, name, std::move(*c));
}

std::unique_ptr<TokenService> TokenService::from_env(const std::string &var) {
    return std::make_unique<EnvTokenService>(var);
}

}  // namespace synchost
