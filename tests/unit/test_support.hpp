// Helpers shared by the plugin's unit tests.
#pragma once

#include "pipeline/mapping.hpp"
#include "abi_objects.hpp"

#include <syncplugin/syncplugin.h>

#include <openssl/evp.h>

#include <string>
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

using test_support::OwnedMapping;

inline const std::vector<pcapi::RequiredRule> &pinterest_rules() {
    static const std::vector<pcapi::RequiredRule> rules{{{"event_name"}}, {{"email", "hashed_email"}}};
    return rules;
}

}  // namespace testing_support
