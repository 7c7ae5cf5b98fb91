// The seam between the pipeline's payloads and whatever delivers them: the HTTPS transport in
// production, a recording sink for dry runs and benchmarks. Knows nothing about fields.
#pragma once

#include "pipeline/payload.hpp"

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <functional>
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

    // Starts delivering every payload (concurrently where it can), filling report.outcomes for
    // each item, and calls `done` (from any thread) once every item has its outcome. `payloads`
    // and `report` must stay valid until then. Several deliveries may be in progress at once;
    // they share the connection pool and the call budget. Never throws for delivery failures;
    // those are outcomes.
    virtual void start(const std::vector<Payload> &payloads, DeliveryReport &report, std::function<void()> done) = 0;

    // Stops background work and releases connections; deliveries still in progress end with
    // RETRY outcomes. Idempotent.
    virtual void close() {}
};

// Sends nothing and reports every event as OK ("would be sent"): for --dry-run, where the host
// reads the prepared bodies instead, and for benchmarks of the pipeline alone.
class NullDelivery final : public Delivery {
public:
    void start(const std::vector<Payload> &payloads, DeliveryReport &report, std::function<void()> done) override {
        report.reset(payloads);
        for (auto &per_payload : report.outcomes)
            for (auto &o : per_payload) o.status = SP_RECORD_OK;
        done();
    }
};

}  // namespace pcapi
