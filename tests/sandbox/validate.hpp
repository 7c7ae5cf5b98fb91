// pinterest-sandbox: strict validation of a POST /v5/ad_accounts/{id}/events body, mirroring
// the API's schema (additionalProperties:false everywhere, typed fields, the user_data matching
// rule). Messages name the event index and the key or rule, never a value: the body is PII.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sandbox {

struct EventTimeWindow {
    std::int64_t now = 0;
    std::int64_t max_age_seconds = 7 * 86400;
    std::int64_t max_future_seconds = 300;
};

struct ValidatedEvent {
    std::string event_id;
    std::string error_message;  // empty = processed; else a per-event failure like Pinterest's
    std::string event_name;
    // The Event Quality Score components the event carries (bit i: kEqsComponents[i]), read from
    // the body independently of the plugin's own count.
    std::uint32_t components = 0;
};

// Pinterest's EQS components, in the order conversion_eqs lists them.
inline constexpr const char* kEqsComponents[] = {
    "hashed_email",      "hashed_maid", "ip_address",  "user_agent", "click_id_epik", "advertiser_external_id",
    "external_event_id", "order_id",    "order_value", "product_id", "source_url"};

struct ValidationResult {
    std::string schema_error;  // non-empty = the whole request is a 400 (code 4196)
    std::vector<ValidatedEvent> events;
};

ValidationResult validate_events(std::string_view body, const EventTimeWindow& window);

}  // namespace sandbox
