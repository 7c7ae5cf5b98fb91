// Where plugins live and how a name becomes a library: the plugin search path (--plugin-path,
// then $SYNCHOST_PLUGIN_PATH, then the defaults beside the synchost binary) holds
// lib<id>.so files, each optionally with its manifest <id>.json beside it, so plugins can be
// listed without loading their code.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace synchost {

struct CatalogEntry {
    std::string id;
    std::filesystem::path library;
    std::filesystem::path manifest;  // empty when the plugin ships none
};

// Directories to search, in order. `option` is --plugin-path (colon-separated), may be empty.
std::vector<std::filesystem::path> plugin_search_path(const std::string &option);

// Every plugin in `dirs` (first one wins for a duplicate id), sorted by id.
std::vector<CatalogEntry> discover_plugins(const std::vector<std::filesystem::path> &dirs);

// A plugin by id, or by path to a .so. Throws std::runtime_error listing the known ids and the
// closest match when not found.
CatalogEntry find_plugin(const std::string &name_or_path, const std::vector<std::filesystem::path> &dirs);

}  // namespace synchost
