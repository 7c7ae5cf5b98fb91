#include "adapter_host.hpp"

#include <openssl/crypto.h>

#include <cstring>

namespace airbyte {

AdapterHost::AdapterHost(Output &out, std::string token, const std::atomic<bool> &cancel)
    : out_(out), token_(std::move(token)), cancel_(cancel) {
    host_.struct_size = sizeof host_;
    host_.ctx = this;
    host_.log = [](void *c, sp_log_level level, const char *message) {
        static const char *const kLevels[] = {"DEBUG", "INFO", "WARN", "ERROR"};
        try {  // called from the plugin's threads: nothing may unwind into its C frames
            self(c)->out_.log(level <= SP_LOG_ERROR ? kLevels[level] : "INFO", message ? message : "");
        } catch (...) {
        }
    };
    host_.now_unix_ms = [](void *) { return Output::now_ms(); };
    host_.is_cancelled = [](void *c) { return self(c)->cancel_.load() ? 1 : 0; };
    host_.get_access_token = [](void *c, uint32_t flags, const char *rejected, char *out, uint32_t cap, uint32_t *len,
                                char *message, uint32_t message_cap) {
        const std::string &t = self(c)->token_;
        auto say = [&](const char *m) {
            if (message && message_cap) std::snprintf(message, message_cap, "%s", m);
        };
        if (t.empty()) {
            say("no access_token in the connection's config");
            return SP_CRED_NONE;
        }
        // A token the destination refused cannot be refreshed here: Airbyte holds the secret.
        if ((flags & SP_CRED_FORCE_REFRESH) && rejected && t == rejected) {
            say("the destination refused the access_token; update it in the connection's config");
            return SP_CRED_REAUTH_REQUIRED;
        }
        if (len) *len = static_cast<uint32_t>(t.size() + 1);
        if (out == nullptr || cap < t.size() + 1) return SP_CRED_BUFFER_TOO_SMALL;
        std::memcpy(out, t.c_str(), t.size() + 1);
        return SP_CRED_OK;
    };
    host_.metric_add = [](void *, const char *, double) {};
    host_.get_extension = [](void *, const char *) -> const void * { return nullptr; };
}

AdapterHost::~AdapterHost() {
    OPENSSL_cleanse(token_.data(), token_.size());
}

}  // namespace airbyte
