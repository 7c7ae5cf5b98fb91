// The plugin's embedded manifest (manifests/pinterest_conversions.json, compiled in at build
// time) and the static descriptor built from it.
#pragma once

#include <manifest/manifest.hpp>

namespace pcapi {

// Parsed on first use (thread-safe), valid until unload.
const spmanifest::Manifest &manifest();

// Same pointer on every call.
const sp_descriptor *descriptor();

}  // namespace pcapi
