// The plugin-facing sp_mapping and sp_config of a sync definition, owned for as long as an
// instance is opened from them.
#pragma once

#include "sync/definition.hpp"

#include <syncplugin/syncplugin.h>

#include <manifest/manifest.hpp>

#include <string>
#include <utility>
#include <vector>

namespace synchost {

// The plugin-facing owned mapping (sp_mapping) built from the definition.
class AbiMapping {
public:
    explicit AbiMapping(const std::vector<MappingEntry> &entries) {
        entries_.reserve(entries.size());
        for (const auto &e : entries)
            entries_.push_back({sizeof(sp_mapping_entry), e.destination.c_str(),
                                e.constant ? nullptr : e.column.c_str(), e.constant ? &e.value : nullptr});
        for (const auto &e : entries_) ptrs_.push_back(&e);
        mapping_ = {sizeof(sp_mapping), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_mapping *get() const { return &mapping_; }

private:
    std::vector<sp_mapping_entry> entries_;
    std::vector<const sp_mapping_entry *> ptrs_;
    sp_mapping mapping_{};
};

class AbiConfig {
public:
    explicit AbiConfig(const std::vector<std::pair<std::string, std::string>> &kv) {
        entries_.reserve(kv.size());
        for (const auto &[k, v] : kv) entries_.push_back({sizeof(sp_config_entry), k.c_str(), v.c_str()});
        for (const auto &e : entries_) ptrs_.push_back(&e);
        config_ = {sizeof(sp_config), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_config *get() const { return &config_; }

private:
    std::vector<sp_config_entry> entries_;
    std::vector<const sp_config_entry *> ptrs_;
    sp_config config_{};
};

// The parameters that open an instance for `def` (SP_OPEN_* `flags`); `config` and `mapping`
// must outlive the open call.
inline sp_open_params open_params(const SyncDefinition &def, const AbiConfig &config, const AbiMapping &mapping,
                                  uint32_t flags) {
    sp_open_params p{};
    p.struct_size = sizeof p;
    p.target_kind = def.audience ? SP_TARGET_AUDIENCE : SP_TARGET_SYNC;
    p.sync_mode = def.audience ? 0 : spmanifest::sync_mode_bit(def.mode);
    p.audience_mode = def.audience ? spmanifest::audience_mode_bit(def.mode) : 0;
    p.config = config.get();
    p.mapping = mapping.get();
    p.sync_id = def.name.c_str();
    p.flags = flags;
    return p;
}

}  // namespace synchost
