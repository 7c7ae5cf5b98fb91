// The seam between the pipeline's payloads and whatever delivers them: the HTTPS transport in
// production, a recording sink for dry runs and benchmarks. Knows nothing about fields.
#pragma once

#include "pipeline/payload.hpp"

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pcapi {

struct EventOutcome {
    sp_record_status status = SP_RECORD_RETRY;
    sp_error_category category = SP_ERR_NONE;
    int32_t code = 0;
    std::string message;  // reason (rejected/retry) or warning (ok); never PII or secrets
};

struct DeliveryReport {
    std::vector<std::vector<EventOutcome>> outcomes;  // [payload][item], sized by deliver()
    // Set when the run should stop (auth, permission, config): events without a final outcome
    // are RETRY, and write_batch reports this error.
    sp_error_category fatal_category = SP_ERR_NONE;
    int32_t fatal_code = 0;
    std::string fatal_message;
    uint64_t retry_after_ms = 0;  // hint for RETRY outcomes

    void reset(const std::vector<Payload> &payloads) {
        outcomes.resize(payloads.size());
        for (size_t i = 0; i < payloads.size(); ++i) outcomes[i].assign(payloads[i].size(), EventOutcome{});
        fatal_category = SP_ERR_NONE;
        fatal_code = 0;
        fatal_message.clear();
        retry_after_ms = 0;
    }
};

class Delivery {
public:
    virtual ~Delivery() = default;
    // Delivers every payload (concurrently where it can), filling report.outcomes for each item.
    // Never throws for delivery failures; those are outcomes.
    virtual void deliver(const std::vector<Payload> &payloads, DeliveryReport &report) = 0;
    // Stops background work and releases connections. Idempotent.
    virtual void close() {}
};

// Sends nothing: keeps the bodies that would have been sent (for --dry-run and benchmarks) and
// reports every event as OK ("would be sent").
class RecordingDelivery final : public Delivery {
public:
    explicit RecordingDelivery(bool keep_bodies) : keep_(keep_bodies) {}
    void deliver(const std::vector<Payload> &payloads, DeliveryReport &report) override {
        report.reset(payloads);
        bodies_.clear();
        for (size_t i = 0; i < payloads.size(); ++i) {
            if (keep_) bodies_.push_back(payloads[i].body);
            for (auto &o : report.outcomes[i]) o.status = SP_RECORD_OK;
        }
    }
    const std::vector<std::string> &bodies() const { return bodies_; }

private:
    bool keep_;
    std::vector<std::string> bodies_;
};

}  // namespace pcapi
