#include "transport/endpoint.hpp"

#include <syncplugin/syncplugin.hpp>

#include <algorithm>
#include <cctype>

namespace pcapi::transport {

Endpoint parse_endpoint(const std::string &url) {
    const std::string scheme = "https://";
    auto bad = [] { return sp::failure(SP_ERR_CONFIG, "api_base_url must look like https://host or https://host:port"); };
    if (url.rfind(scheme, 0) != 0) throw bad();
    std::string rest = url.substr(scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) throw bad();
    Endpoint e;
    size_t colon = std::string::npos;
    if (rest.front() == '[') {  // [IPv6]:port
        const size_t close = rest.find(']');
        if (close == std::string::npos) throw bad();
        e.host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') throw bad();
            colon = close + 1;
        }
    } else {
        colon = rest.find(':');
        e.host = rest.substr(0, colon);
    }
    if (colon != std::string::npos) {
        e.port = rest.substr(colon + 1);
        if (e.port.empty() || e.port.size() > 5 ||
            !std::all_of(e.port.begin(), e.port.end(), [](unsigned char c) { return std::isdigit(c); }))
            throw bad();
    }
    if (e.host.empty()) throw bad();
    return e;
}

}  // namespace pcapi::transport
