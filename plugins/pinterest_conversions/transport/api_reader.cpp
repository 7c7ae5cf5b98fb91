#include "transport/api_reader.hpp"

#include "transport/endpoint.hpp"
#include "transport/host_services.hpp"

#include <syncplugin/syncplugin.hpp>

namespace pcapi::transport {

using namespace spnet;

namespace {

std::string token_from(const sp_host *host) {
    HostServices services(host);
    HostServices::Token token = services.token(false, "");
    if (token.status != SP_CRED_OK)
        throw sp::failure(
            token.status == SP_CRED_TRANSIENT ? SP_ERR_TRANSIENT : SP_ERR_AUTH,
            "no access token: " + (token.message.empty() ? std::string("no credentials configured") : token.message));
    return std::move(token.value);
}

ClientOptions client_options(const PluginConfig &c) {
    const Endpoint e = parse_endpoint(c.api_base_url);
    ClientOptions o;
    o.host = e.host;
    o.port = e.port;
    o.ca_file = c.ca_file;
    o.step_timeout = std::chrono::milliseconds(c.request_timeout_seconds * 1000);
    return o;
}

}  // namespace

ApiReader::ApiReader(const PluginConfig &config, const sp_host *host)
    : host_(parse_endpoint(config.api_base_url).host),
      token_(token_from(host)),
      client_(ioc_, client_options(config), 1) {}

ApiReader::~ApiReader() {
    cleanse(token_);
}

HttpResponse ApiReader::get(const std::string &target) {
    HttpResponse out;
    std::string authorization = "Bearer " + token_;
    HttpsClient::Request req;
    req.target = target;
    req.authorization = authorization;
    client_.request(0, req, [&](HttpResponse r) { out = std::move(r); });
    ioc_.restart();
    ioc_.run();
    cleanse(authorization);
    if (out.error == NetError::tls_verify)
        throw sp::failure(SP_ERR_CONFIG, "cannot verify the TLS certificate of " + host_ + ": " + out.error_detail +
                                             " (set ca_file when a sandbox or TLS-inspecting proxy is in the way)");
    if (out.error != NetError::none)
        throw sp::failure(SP_ERR_TRANSIENT, "cannot reach " + host_ + ": " + to_string(out.error) +
                                                (out.error_detail.empty() ? "" : " (" + out.error_detail + ")"));
    return out;
}

std::string request_id_note(const HttpResponse &r) {
    return r.request_id.empty() ? "" : " (x-pinterest-rid " + r.request_id + ")";
}

}  // namespace pcapi::transport
