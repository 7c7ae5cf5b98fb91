// The plugin's validated configuration. Every key is declared in the manifest; this file turns
// the host's textual key/value pairs into typed settings, reporting every problem at once.
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace pcapi {

struct PluginConfig {
    std::string ad_account_id;
    std::string conversion_tag_id;   // empty when not configured
    bool test_events = false;
    std::string default_phone_country_code;  // digits, may be empty
    char list_delimiter = ',';
    std::vector<std::string> ldp_states;  // normalized two-letter codes ("ca"), from ldp_states
    int64_t event_time_max_age_days = 7;
    int64_t event_time_max_future_seconds = 300;
    std::string api_base_url;  // https://host[:port], no trailing slash
    std::string ca_file;       // empty: system store only
    int64_t max_in_flight = 12;
    int64_t calls_per_minute = 5000;
    // Budgets of ad accounts that rows are routed to (the ad_account_id field), where they differ
    // from calls_per_minute.
    std::map<std::string, int64_t, std::less<>> account_calls_per_minute;
    int64_t retry_max_elapsed_seconds = 600;
    int64_t retry_initial_backoff_ms = 1000;
    int64_t retry_max_backoff_ms = 30000;
    int64_t request_timeout_seconds = 30;
    int64_t max_request_bytes = 4194304;

    // check() of one routed account (SP_CONFIG_ROUTED_CHECK): the conversion tag, which belongs to
    // the configured account, is not looked for in it.
    bool routed_check = false;

    // Keys the manifest does not declare: tolerated (a newer host may send them), reported.
    std::vector<std::string> unknown_keys;
};

// Validates `config` against the manifest. Throws sp::failure(SP_ERR_CONFIG) whose message lists
// every problem, each naming its key; values are never echoed (some are secrets or identifiers).
PluginConfig parse_config(const sp_config *config);

}  // namespace pcapi
