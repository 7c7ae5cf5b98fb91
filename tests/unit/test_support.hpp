// Helpers shared by the plugin's unit tests.
#pragma once

#include "pipeline/mapping.hpp"

#include <syncplugin/syncplugin.h>

#include <openssl/evp.h>

#include <string>
#include <utility>
#include <vector>

namespace testing_support {

// SHA-256 hex computed independently of the code under test (one-shot EVP_Digest).
inline std::string sha256_hex(const std::string &s) {
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
    static const char *hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(hex[md[i] >> 4]);
        out.push_back(hex[md[i] & 15]);
    }
    return out;
}

// An owned sp_mapping: (destination, column) pairs, or (destination, constant text) when the
// column starts with '='.
class OwnedMapping {
public:
    explicit OwnedMapping(std::vector<std::pair<std::string, std::string>> kv) : kv_(std::move(kv)) {
        entries_.reserve(kv_.size());
        constants_.reserve(kv_.size());
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
        for (const auto &e : entries_) ptrs_.push_back(&e);
        mapping_ = {sizeof(sp_mapping), static_cast<uint32_t>(ptrs_.size()), ptrs_.data()};
    }
    const sp_mapping *get() const { return &mapping_; }

private:
    std::vector<std::pair<std::string, std::string>> kv_;
    std::vector<sp_value> constants_;
    std::vector<sp_mapping_entry> entries_;
    std::vector<const sp_mapping_entry *> ptrs_;
    sp_mapping mapping_{};
};

inline const std::vector<pcapi::RequiredRule> &pinterest_rules() {
    static const std::vector<pcapi::RequiredRule> rules{{{"event_name"}}, {{"email", "hashed_email"}}};
    return rules;
}

}  // namespace testing_support
