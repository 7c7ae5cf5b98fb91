// The API endpoint from the api_base_url setting ("https://host[:port]", already pattern-checked).
#pragma once

#include <string>

namespace pcapi::transport {

struct Endpoint {
    std::string host;
    std::string port = "443";
};

// Throws sp::failure(SP_ERR_CONFIG) for anything but https://host[:port].
Endpoint parse_endpoint(const std::string &base_url);

}  // namespace pcapi::transport
