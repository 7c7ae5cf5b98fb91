// synchost's side of the ABI's host vtable (sp_host): logging into synchost's log, the wall
// clock, cancellation (Ctrl-C), credentials from the token service, and metrics. Every slot is
// thread-safe: plugins may call from their own threads.
#pragma once

#include "runtime/logger.hpp"

#include <syncplugin/syncplugin.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace synchost {

// (force, rejected token or NULL, token out, message out) -> status; see sp_host.get_access_token.
using CredentialSource = std::function<sp_credential_status(bool, const char *, std::string &, std::string &)>;

class HostServices {
public:
    // `plugin_id` labels the plugin's log lines. `cancel` is read by is_cancelled().
    HostServices(Logger &log, std::string plugin_id, const std::atomic<bool> &cancel, CredentialSource credentials);

    const sp_host *get() const { return &host_; }
    std::map<std::string, double> metrics() const;

private:
    static void log_cb(void *ctx, sp_log_level level, const char *message);
    static int64_t now_cb(void *ctx);
    static int cancelled_cb(void *ctx);
    static sp_credential_status token_cb(void *ctx, uint32_t flags, const char *rejected, char *out, uint32_t cap,
                                         uint32_t *len, char *message, uint32_t message_cap);
    static void metric_cb(void *ctx, const char *name, double value);
    static const void *extension_cb(void *ctx, const char *id);

    sp_host host_{};
    Logger &log_;
    std::string plugin_id_;
    const std::atomic<bool> &cancel_;
    CredentialSource credentials_;
    mutable std::mutex metrics_mu_;
    std::map<std::string, double> metrics_;
};

}  // namespace synchost
