// Reading Pinterest's answers to POST /v5/ad_accounts/{id}/events into per-event outcomes.
// 200: {num_events_received, num_events_processed, events:[{status, error_message, warning_message}]}
// 422: {code, message, details:{... same per-event shape ...}}. Pure; no I/O.
#pragma once

#include "plugin/delivery.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace pcapi::transport {

// Fills `out` (one per event, in request order) from a 200 or 422 body. Returns false with
// `problem` set when the body is not a complete, well-formed answer for exactly `expected`
// events: such an answer is never counted as success.
bool parse_event_results(std::string_view body, size_t expected, std::vector<EventOutcome> &out,
                         std::string &problem);

// "code 4196: <message>" from an error body {code, message}, or a short description of the body
// when it is not one. Truncated; Pinterest's text only (never our request data).
std::string error_summary(unsigned status, std::string_view body);

}  // namespace pcapi::transport
