// check() against the live account: read-only calls that prove the token can read the ad account
// and, when configured, that the conversion tag exists and is enabled. Sends no events.
#pragma once

#include "plugin/config.hpp"

#include <syncplugin/syncplugin.h>

namespace pcapi {

// Throws sp::failure with a category and a message a user can act on: AUTH (bad token),
// PERMISSION (no access to the ad account), CONFIG (unknown ad account, unknown or disabled
// conversion tag, certificate problems), TRANSIENT (network, 5xx, 429).
void live_check(const PluginConfig &config, const sp_host *host);

}  // namespace pcapi
