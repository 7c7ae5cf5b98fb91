// What syncplugin-airbyte derives from a plugin's manifest (its descriptor as data): the SPEC's
// connectionSpecification, the DESTINATION_CATALOG, how Airbyte's destination sync modes map onto
// the plugin's modes, and the plugin config a connection's config file gives.
#pragma once

#include <manifest/manifest.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace airbyte {

// A config or catalog the adapter cannot use; the message names the key.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// How one Airbyte destination sync mode is carried out, as data: the plugin's row-sync mode and the
// operation every record becomes. `sync_mode` 0: no plugin mode can carry it.
struct ModeRoute {
    const char *airbyte;  // destination_sync_mode
    uint32_t sync_mode;   // SP_SYNC_*
    uint32_t operation;   // sp_operation of each record
    const char *why_not;  // when sync_mode is 0
};
const std::vector<ModeRoute> &mode_routes();
// The route of `airbyte_mode` if the plugin declares its mode; else nullopt with `why` set.
std::optional<ModeRoute> route_for(const spmanifest::Manifest &m, const std::string &airbyte_mode, std::string &why);

// The keys of a connection's config that are the adapter's own, not the plugin's.
inline constexpr const char *kTokenKey = "access_token";
inline constexpr const char *kMappingKey = "mapping";

boost::json::object connector_specification(const spmanifest::Manifest &m);
boost::json::object destination_catalog(const spmanifest::Manifest &m);

struct Connection {
    std::vector<std::pair<std::string, std::string>> config;   // the plugin's config, as text
    std::string token;                                         // empty: none given
    std::vector<std::pair<std::string, std::string>> mapping;  // destination field -> record field; empty: by name
    std::vector<std::string> ignored;                          // keys neither the plugin's nor ours
};
// Reads a config file's object. Throws ConfigError naming the key (never a value).
Connection read_connection(const boost::json::object &config, const spmanifest::Manifest &m);

}  // namespace airbyte
