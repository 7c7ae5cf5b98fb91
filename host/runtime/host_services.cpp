#include "runtime/host_services.hpp"

#include <openssl/crypto.h>

#include <chrono>
#include <cstring>

namespace synchost {

HostServices::HostServices(Logger &log, std::string plugin_id, const std::atomic<bool> &cancel,
                           CredentialSource credentials)
    : log_(log), plugin_id_(std::move(plugin_id)), cancel_(cancel), credentials_(std::move(credentials)) {
    host_.struct_size = sizeof host_;
    host_.ctx = this;
    host_.log = log_cb;
    host_.now_unix_ms = now_cb;
    host_.is_cancelled = cancelled_cb;
    host_.get_access_token = token_cb;
    host_.metric_add = metric_cb;
    host_.get_extension = extension_cb;
}

std::map<std::string, double> HostServices::metrics() const {
    std::lock_guard lock(metrics_mu_);
    return metrics_;
}

void HostServices::log_cb(void *ctx, sp_log_level level, const char *message) {
    auto *self = static_cast<HostServices *>(ctx);
    const LogLevel l = level == SP_LOG_DEBUG  ? LogLevel::debug
                       : level == SP_LOG_INFO ? LogLevel::info
                       : level == SP_LOG_WARN ? LogLevel::warn
                                              : LogLevel::error;
    self->log_.log(l, self->plugin_id_, message ? message : "");
}

int64_t HostServices::now_cb(void *) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int HostServices::cancelled_cb(void *ctx) { return static_cast<HostServices *>(ctx)->cancel_.load() ? 1 : 0; }

sp_credential_status HostServices::token_cb(void *ctx, uint32_t flags, const char *rejected, char *out, uint32_t cap,
                                            uint32_t *len, char *message, uint32_t message_cap) {
    auto *self = static_cast<HostServices *>(ctx);
    auto put_message = [&](const std::string &m) {
        if (message && message_cap) {
            std::strncpy(message, m.c_str(), message_cap - 1);
            message[message_cap - 1] = '\0';
        }
    };
    if (!self->credentials_) {
        put_message("this sync has no credentials: set \"credentials\" in the sync definition");
        return SP_CRED_NONE;
    }
    std::string token, msg;
    sp_credential_status s = SP_CRED_TRANSIENT;
    try {
        s = self->credentials_((flags & SP_CRED_FORCE_REFRESH) != 0, rejected, token, msg);
    } catch (const std::exception &e) {
        msg = e.what();
    }
    if (s != SP_CRED_OK) {
        put_message(msg);
        return s;
    }
    const auto need = static_cast<uint32_t>(token.size() + 1);
    if (len) *len = need;
    if (out == nullptr || need > cap) {
        OPENSSL_cleanse(token.data(), token.size());
        return SP_CRED_BUFFER_TOO_SMALL;
    }
    std::memcpy(out, token.c_str(), need);
    OPENSSL_cleanse(token.data(), token.size());
    return SP_CRED_OK;
}

void HostServices::metric_cb(void *ctx, const char *name, double value) {
    auto *self = static_cast<HostServices *>(ctx);
    if (name == nullptr) return;
    std::lock_guard lock(self->metrics_mu_);
    self->metrics_[name] += value;
}

const void *HostServices::extension_cb(void *, const char *) { return nullptr; }

}  // namespace synchost
