// A host vtable (sp_host) for tests: a token service with single-flight refresh semantics and a
// scripted refresh outcome, captured log lines, a cancel flag, and counters. Thread-safe.
#pragma once

#include <syncplugin/syncplugin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace test_support {

class TestHost {
public:
    explicit TestHost(std::string token) : token_(std::move(token)) {
        host_.struct_size = sizeof host_;
        host_.ctx = this;
        host_.log = [](void *ctx, sp_log_level, const char *m) {
            auto *self = static_cast<TestHost *>(ctx);
            std::lock_guard lock(self->mu_);
            self->logs_.emplace_back(m ? m : "");
            if (!self->hold_needle_.empty() && self->logs_.back().find(self->hold_needle_) != std::string::npos) {
                ++self->held_lines_;
                self->logged_.notify_all();
            }
        };
        host_.is_cancelled = [](void *ctx) { return static_cast<TestHost *>(ctx)->cancel.load() ? 1 : 0; };
        host_.metric_add = [](void *ctx, const char *name, double v) {
            auto *self = static_cast<TestHost *>(ctx);
            std::lock_guard lock(self->mu_);
            self->metrics_[name] += v;
        };
        host_.get_access_token = &TestHost::get_token;
    }

    const sp_host *get() const { return &host_; }

    // What a forced refresh yields from now on.
    void on_refresh(sp_credential_status status, std::string next_token, std::string message = "") {
        std::lock_guard lock(mu_);
        refresh_status_ = status;
        next_token_ = std::move(next_token);
        refresh_message_ = std::move(message);
    }

    // Forced refreshes wait until `lines` log lines containing `needle` have been logged, so that a
    // test can have several requests fail before the first refresh answers. A bound of 30 s keeps a
    // plugin that never logs them from hanging the test; the test's own assertions then fail.
    void hold_refreshes_until_logged(std::string needle, int lines) {
        std::lock_guard lock(mu_);
        hold_needle_ = std::move(needle);
        hold_lines_ = lines;
    }

    int refreshes() const {
        std::lock_guard lock(mu_);
        return refreshes_;
    }
    std::vector<std::string> logs() const {
        std::lock_guard lock(mu_);
        return logs_;
    }
    double metric(const std::string &name) const {
        std::lock_guard lock(mu_);
        auto it = metrics_.find(name);
        return it == metrics_.end() ? 0 : it->second;
    }

    std::atomic<bool> cancel{false};

private:
    static sp_credential_status get_token(void *ctx, uint32_t flags, const char *rejected, char *out, uint32_t cap,
                                          uint32_t *len, char *msg, uint32_t msg_cap) {
        auto *self = static_cast<TestHost *>(ctx);
        std::unique_lock lock(self->mu_);
        if (flags & SP_CRED_FORCE_REFRESH) {
            self->logged_.wait_for(lock, std::chrono::seconds(30),
                                   [self] { return self->held_lines_ >= self->hold_lines_; });
            // Refresh only when the rejected token is still the current one (single flight).
            if (rejected == nullptr || self->token_ == rejected) {
                ++self->refreshes_;
                if (self->refresh_status_ != SP_CRED_OK) {
                    std::strncpy(msg, self->refresh_message_.c_str(), msg_cap - 1);
                    msg[msg_cap - 1] = '\0';
                    return self->refresh_status_;
                }
                self->token_ = self->next_token_;
            }
        }
        *len = static_cast<uint32_t>(self->token_.size() + 1);
        if (*len > cap) return SP_CRED_BUFFER_TOO_SMALL;
        std::memcpy(out, self->token_.c_str(), *len);
        return SP_CRED_OK;
    }

    sp_host host_{};
    mutable std::mutex mu_;
    std::string token_, next_token_, refresh_message_;
    sp_credential_status refresh_status_ = SP_CRED_REAUTH_REQUIRED;
    int refreshes_ = 0;
    std::string hold_needle_;
    int hold_lines_ = 0, held_lines_ = 0;
    std::condition_variable logged_;
    std::vector<std::string> logs_;
    std::map<std::string, double> metrics_;
};

}  // namespace test_support
