// Read-only GETs against the Pinterest API, for check() and the Event Quality Score: one TLS
// connection, the host's current access token, every step under the request timeout. The token
// is cleansed from memory when the reader goes.
#pragma once

#include "net/https_client.hpp"
#include "plugin/config.hpp"

#include <syncplugin/syncplugin.h>

#include <boost/asio/io_context.hpp>

#include <string>

namespace pcapi::transport {

class ApiReader {
public:
    // Throws sp::failure: AUTH or TRANSIENT when the host has no token to give, CONFIG when the
    // API URL or CA file is unusable.
    ApiReader(const PluginConfig &config, const sp_host *host);
    ~ApiReader();
    ApiReader(const ApiReader &) = delete;
    ApiReader &operator=(const ApiReader &) = delete;

    // The answer to GET `target`, whatever its status. Throws sp::failure when there is none:
    // CONFIG for a certificate that does not verify, TRANSIENT for the rest.
    spnet::HttpResponse get(const std::string &target);

private:
    std::string host_, token_;
    boost::asio::io_context ioc_{1};
    spnet::HttpsClient client_;
};

// " (x-pinterest-rid N)" when the answer carried a request id, for messages a user can quote to
// Pinterest's support; empty otherwise.
std::string request_id_note(const spnet::HttpResponse &r);

}  // namespace pcapi::transport
