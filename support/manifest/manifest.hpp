// Plugin manifests: the JSON file that declares a plugin's capabilities (the single source of
// truth; see manifests/*.json and README "Manifest format"), its C++ model, and the conversions
//   manifest JSON  -> Manifest -> sp_descriptor   (plugins: what describe() returns)
//   sp_descriptor  -> Manifest -> canonical JSON  (hosts and the harness: what a plugin declares)
// so that a manifest and a plugin's descriptor can be compared field by field.
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace boost::json { class value; }

namespace spmanifest {

class ManifestError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ConfigField {
    std::string key, label, description, default_value, pattern;
    sp_config_type type = SP_CONFIG_STRING;
    bool required = false;
    bool advanced = false;
    bool has_default = false;
    int64_t min_value = 0, max_value = 0;  // both 0: unbounded
    std::vector<std::string> enum_values;
    bool operator==(const ConfigField &) const = default;
};

struct DestinationField {
    std::string name, description;
    std::string group;  // plugin-defined ("user_data"); empty: none
    sp_field_type type = SP_FIELD_STRING;
    uint32_t flags = 0;  // SP_FIELD_*
    std::vector<std::string> values;  // the values the destination knows (ABI minor 2)
    std::string config_key;  // routing: a row's value replaces this config key for the row (minor 3)
    bool operator==(const DestinationField &) const = default;
};

struct RequiredRule {
    std::vector<std::string> any_of;
    std::string description;
    bool operator==(const RequiredRule &) const = default;
};

struct Auth {
    uint32_t kinds = 0;  // SP_AUTH_*
    std::string authorize_url, token_url, scope_separator, client_auth, static_token_help;
    std::vector<std::string> scopes;
    bool operator==(const Auth &) const = default;
};

struct Manifest {
    std::string id, name, version, description;
    uint32_t sync_modes = 0, audience_modes = 0, features = 0;
    Auth auth;
    uint32_t max_batch_records = 0, recommended_batch_records = 0;
    uint64_t max_batch_bytes = 0;
    std::vector<ConfigField> config;
    std::vector<DestinationField> fields;
    std::vector<RequiredRule> required;

    const ConfigField *config_field(std::string_view key) const;
    const DestinationField *field(std::string_view name) const;
    bool operator==(const Manifest &) const = default;
};

// Parses manifest JSON. Throws ManifestError naming the bad key.
Manifest parse(std::string_view json_text);

// Reads a plugin's descriptor (honouring struct_size everywhere). Throws ManifestError when the
// descriptor is malformed (NULL arrays, unknown enum values), naming the problem.
Manifest from_descriptor(const sp_descriptor &d);

// Canonical JSON of a manifest (the same shape parse() reads).
boost::json::value to_json(const Manifest &m);
std::string to_json_text(const Manifest &m);

// Owns an sp_descriptor and everything it points to, built from a manifest.
class DescriptorStorage {
public:
    DescriptorStorage(Manifest m, std::string manifest_json);
    ~DescriptorStorage();
    const sp_descriptor *get() const;
    const Manifest &manifest() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Names of modes, kinds and enums as manifests spell them.
uint32_t sync_mode_bit(std::string_view name);      // 0 if unknown
uint32_t audience_mode_bit(std::string_view name);  // 0 if unknown
std::vector<std::string> sync_mode_names(uint32_t bits);
std::vector<std::string> audience_mode_names(uint32_t bits);
const char *const *all_sync_mode_names();      // 4 names, bit order
const char *const *all_audience_mode_names();  // 4 names, bit order
const char *config_type_name(sp_config_type t);
const char *field_group_name(sp_field_group g);  // the minor-0 enum's names; NULL if unknown
sp_field_group field_group_of(std::string_view name);  // the minor-0 enum for a name; 0 if none
const char *field_type_name(sp_field_type t);

}  // namespace spmanifest
