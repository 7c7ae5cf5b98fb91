// The adapter's side of the ABI's host vtable: plugin log lines become LOG messages, the clock is
// the wall clock, the access token is the connection's (Airbyte holds the secret; there is no
// refresh), metrics are kept for the run, cancellation follows SIGTERM. Every slot is thread-safe.
#pragma once

#include "output.hpp"

#include <syncplugin/syncplugin.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace airbyte {

class AdapterHost {
public:
    AdapterHost(Output &out, std::string token, const std::atomic<bool> &cancel);
    ~AdapterHost();
    const sp_host *get() const { return &host_; }

private:
    static AdapterHost *self(void *ctx) { return static_cast<AdapterHost *>(ctx); }
    Output &out_;
    std::string token_;
    const std::atomic<bool> &cancel_;
    sp_host host_{};
};

}  // namespace airbyte
