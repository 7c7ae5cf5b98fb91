// Owned ABI input structs for tests: sp_config from key/value pairs, sp_mapping from
// (destination, source) pairs where a source starting with '=' is a text constant.
#pragma once

#include <syncplugin/syncplugin.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

using Pairs = std::vector<std::pair<std::string, std::string>>;

class OwnedConfig {
public:
    explicit OwnedConfig(Pairs kv) : kv_(std::move(kv)) {
        for (auto &[k, v] : kv_) entries_.push_back({sizeof(sp_config_entry), k.c_str(), v.c_str()});
        for (auto &e : entries_) ptrs_.push_back(&e);
        config_ = {sizeof(sp_config), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_config *get() const { return &config_; }

private:
    Pairs kv_;
    std::deque<sp_config_entry> entries_;
    std::vector<const sp_config_entry *> ptrs_;
    sp_config config_{};
};

class OwnedMapping {
public:
    explicit OwnedMapping(Pairs kv) : kv_(std::move(kv)) {
        for (auto &[dest, src] : kv_) {
            sp_mapping_entry e{sizeof(sp_mapping_entry), dest.c_str(), nullptr, nullptr};
            if (!src.empty() && src[0] == '=') {
                sp_value v{};
                v.type = SP_VALUE_TEXT;
                v.len = static_cast<uint32_t>(src.size() - 1);
                v.as.text = src.c_str() + 1;
                constants_.push_back(v);
                e.constant = &constants_.back();
            } else {
                e.source_column = src.c_str();
            }
            entries_.push_back(e);
        }
        for (auto &e : entries_) ptrs_.push_back(&e);
        mapping_ = {sizeof(sp_mapping), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_mapping *get() const { return &mapping_; }

private:
    Pairs kv_;
    std::deque<sp_value> constants_;
    std::deque<sp_mapping_entry> entries_;
    std::vector<const sp_mapping_entry *> ptrs_;
    sp_mapping mapping_{};
};

}  // namespace test_support
