#include "transport/host_services.hpp"

#include <openssl/crypto.h>

#include <chrono>

namespace pcapi::transport {

#define SP_SLOT(h, field) ((h) != nullptr && SP_HAS_FIELD(h, sp_host, field) && (h)->field != nullptr)

void HostServices::log(sp_log_level level, const std::string &message) const {
    if (SP_SLOT(host_, log)) host_->log(host_->ctx, level, message.c_str());
}

void HostServices::metric(const char *name, double value) const {
    if (SP_SLOT(host_, metric_add)) host_->metric_add(host_->ctx, name, value);
}

bool HostServices::cancelled() const { return SP_SLOT(host_, is_cancelled) && host_->is_cancelled(host_->ctx) != 0; }

int64_t HostServices::now_unix_seconds() const {
    if (SP_SLOT(host_, now_unix_ms)) return host_->now_unix_ms(host_->ctx) / 1000;
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

HostServices::Token HostServices::token(bool force, const std::string &rejected) const {
    Token t;
    if (!SP_SLOT(host_, get_access_token)) {
        t.message = "the host provides no credentials";
        return t;
    }
    std::string buf(4096, '\0');
    char msg[512] = {0};
    for (int tries = 0; tries < 2; ++tries) {
        uint32_t len = 0;
        t.status = host_->get_access_token(host_->ctx, force ? SP_CRED_FORCE_REFRESH : 0,
                                           rejected.empty() ? nullptr : rejected.c_str(), buf.data(),
                                           static_cast<uint32_t>(buf.size()), &len, msg, sizeof msg);
        if (t.status == SP_CRED_BUFFER_TOO_SMALL && len > buf.size() && len < (1u << 20)) {
            cleanse(buf);
            buf.assign(len, '\0');
            continue;
        }
        if (t.status == SP_CRED_OK) t.value.assign(buf.c_str());
        break;
    }
    cleanse(buf);
    msg[sizeof msg - 1] = '\0';
    t.message = msg;
    // Whatever the host's source, a CR or LF would split the Authorization header in two.
    for (unsigned char c : t.value) {
        if (c < 0x21 || c > 0x7e) {
            cleanse(t.value);
            t.status = SP_CRED_REAUTH_REQUIRED;
            t.message = "the host's access token holds a control character, space or non-ASCII byte, which cannot "
                        "go into an HTTP header";
            break;
        }
    }
    return t;
}

void cleanse(std::string &secret) {
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    secret.clear();
}

}  // namespace pcapi::transport
