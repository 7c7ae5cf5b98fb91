// Host-side use of a plugin's declared capabilities: refuse, before a single row moves, any mode
// or feature the plugin does not declare, in words that say what *is* supported.
#pragma once

#include <manifest/manifest.hpp>

#include <string_view>

namespace synchost {

// Throw CliError(kExitConfig), e.g. "pinterest_conversions supports sync mode insert only".
void require_sync_mode(const spmanifest::Manifest &m, std::string_view mode);
void require_audience_mode(const spmanifest::Manifest &m, std::string_view mode);

}  // namespace synchost
