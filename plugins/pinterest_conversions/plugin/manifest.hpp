// The plugin's embedded manifest (manifests/pinterest_conversions.json, compiled in at build
// time) and the static descriptor built from it.
#pragma once

#include "pipeline/event_builder.hpp"

#include <manifest/manifest.hpp>

namespace pcapi {

// Parsed on first use (thread-safe), valid until unload.
const spmanifest::Manifest &manifest();

// Same pointer on every call.
const sp_descriptor *descriptor();

// Pipeline options at their defaults, with the catalogues the manifest lists (the standard event
// names, the action sources): the names live in the manifest, not in code.
PipelineOptions pipeline_options();

}  // namespace pcapi
