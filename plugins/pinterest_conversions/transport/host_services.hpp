// Thin, NULL-tolerant wrappers over the host vtable (sp_host) for the transport: logging,
// metrics, cancellation and credentials. The plugin never stores credentials; it asks the host.
#pragma once

#include <syncplugin/syncplugin.h>

#include <string>

namespace pcapi::transport {

class HostServices {
public:
    explicit HostServices(const sp_host *host) : host_(host) {}

    void log(sp_log_level level, const std::string &message) const;
    void metric(const char *name, double value) const;
    bool cancelled() const;
    int64_t now_unix_seconds() const;

    struct Token {
        sp_credential_status status = SP_CRED_NONE;
        std::string value;    // the access token when status is OK
        std::string message;  // the host's explanation otherwise (no secrets)
    };
    // The current token, or after a 401 (force = true) a refreshed one unless `rejected` is no
    // longer current. A host without a credentials slot gives SP_CRED_NONE.
    Token token(bool force, const std::string &rejected) const;

private:
    const sp_host *host_;
};

// Overwrites a secret in memory before it is released (OPENSSL_cleanse: not optimized away).
void cleanse(std::string &secret);

}  // namespace pcapi::transport
