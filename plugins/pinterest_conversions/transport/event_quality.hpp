// Pinterest's own Event Quality Score (GET /v5/ad_accounts/{id}/conversion_eqs) for what the
// Conversions API received, over the last day and the last 14 days, translated into the report
// sp.quality/1 defines, with the component and event names the local counts use.
#pragma once

#include "plugin/config.hpp"

#include <syncplugin/syncplugin.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pcapi {

// Fetches both windows. Throws sp::failure: PERMISSION when the token lacks ads:read (a conversion
// access token always does), AUTH, CONFIG (unknown account), TRANSIENT.
std::string fetch_event_quality(const PluginConfig &config, const sp_host *host);

// The report for Pinterest's answers, one (lookback label, response body) per window. Pure.
// Throws sp::failure(SP_ERR_TRANSIENT) naming the window whose body is not the documented shape.
std::string event_quality_report(const std::vector<std::pair<std::string, std::string>> &answers);

}  // namespace pcapi
