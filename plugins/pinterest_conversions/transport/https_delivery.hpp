// The production Delivery: sends payloads to POST {api_base_url}/v5/ad_accounts/{id}/events over
// HTTPS, several at once, paced to the call budget, and turns every answer (or its absence) into
// per-event outcomes. The whole retry policy lives here; see README "Failure handling".
#pragma once

#include "plugin/config.hpp"
#include "plugin/delivery.hpp"
#include "transport/clock.hpp"

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace pcapi {

// What a test may replace: the clock that paces, backs off, honours Retry-After and measures the
// retry budget, and the seed of the backoff jitter. The defaults are production's.
struct DeliveryOptions {
    transport::Clock *clock = nullptr;    // nullptr: transport::steady_clock(); must outlive the delivery
    std::optional<uint64_t> jitter_seed;  // unset: seeded from std::random_device
};

// Throws sp::failure(SP_ERR_CONFIG) when the API URL or the CA file is unusable.
std::unique_ptr<Delivery> make_https_delivery(const PluginConfig &config, bool test_events, const sp_host *host,
                                              const DeliveryOptions &options = {});

}  // namespace pcapi
