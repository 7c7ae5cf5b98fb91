#include "transport/live_check.hpp"

#include "transport/endpoint.hpp"
#include "transport/host_services.hpp"
#include "net/https_client.hpp"
#include "transport/response.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/json.hpp>

namespace pcapi {

using namespace transport;
using namespace spnet;

namespace {

HttpResponse get(boost::asio::io_context &ioc, HttpsClient &client, const std::string &target, const std::string &token) {
    HttpResponse out;
    const std::string authorization = "Bearer " + token;
    HttpsClient::Request req;
    req.target = target;
    req.authorization = authorization;
    client.request(0, req, [&](HttpResponse r) { out = std::move(r); });
    ioc.restart();
    ioc.run();
    return out;
}

[[noreturn]] void network_failure(const HttpResponse &r, const std::string &host) {
    if (r.error == NetError::tls_verify)
        throw sp::failure(SP_ERR_CONFIG, "cannot verify the TLS certificate of " + host + ": " + r.error_detail +
                                             " (set ca_file when a sandbox or TLS-inspecting proxy is in the way)");
    throw sp::failure(SP_ERR_TRANSIENT, "cannot reach " + host + ": " + to_string(r.error) +
                                            (r.error_detail.empty() ? "" : " (" + r.error_detail + ")"));
}

std::string rid(const HttpResponse &r) { return r.request_id.empty() ? "" : " (x-pinterest-rid " + r.request_id + ")"; }

}  // namespace

void live_check(const PluginConfig &c, const sp_host *host) {
    HostServices services(host);
    HostServices::Token token = services.token(false, "");
    if (token.status != SP_CRED_OK)
        throw sp::failure(token.status == SP_CRED_TRANSIENT ? SP_ERR_TRANSIENT : SP_ERR_AUTH,
                          "no access token: " + (token.message.empty() ? std::string("no credentials configured") : token.message));

    Endpoint e = parse_endpoint(c.api_base_url);
    ClientOptions o;
    o.host = e.host;
    o.port = e.port;
    o.ca_file = c.ca_file;
    o.step_timeout = std::chrono::milliseconds(c.request_timeout_seconds * 1000);
    boost::asio::io_context ioc{1};
    HttpsClient client(ioc, o, 1);

    const std::string account = "/v5/ad_accounts/" + c.ad_account_id;
    HttpResponse r = get(ioc, client, account, token.value);
    if (r.error != NetError::none) {
        cleanse(token.value);
        network_failure(r, e.host);
    }
    switch (r.status) {
    case 200: break;
    case 401:
        cleanse(token.value);
        throw sp::failure(SP_ERR_AUTH, "Pinterest rejected the access token (401)" + rid(r) +
                                           ": reconnect the account or generate a new conversion access token");
    case 403:
        cleanse(token.value);
        throw sp::failure(SP_ERR_PERMISSION,
                          "the token has no access to ad account " + c.ad_account_id + " (403)" + rid(r) +
                              ": make sure the authenticated user has access to it with conversion permissions and "
                              "the token carries the scopes ads:write and ads:read");
    case 404:
    case 400:
        cleanse(token.value);
        throw sp::failure(SP_ERR_CONFIG, "Pinterest does not know ad account " + c.ad_account_id + " (" +
                                             error_summary(r.status, r.body) + ")" + rid(r) +
                                             ": verify the Ad Account ID in Pinterest Ads Manager; it is numeric");
    default:
        cleanse(token.value);
        throw sp::failure(SP_ERR_TRANSIENT, "reading ad account " + c.ad_account_id + " failed: " +
                                                error_summary(r.status, r.body) + rid(r));
    }

    if (!c.conversion_tag_id.empty()) {
        r = get(ioc, client, account + "/conversion_tags/" + c.conversion_tag_id, token.value);
        cleanse(token.value);
        if (r.error != NetError::none) network_failure(r, e.host);
        if (r.status == 404)
            throw sp::failure(SP_ERR_CONFIG, "conversion tag " + c.conversion_tag_id + " does not exist in ad account " +
                                                 c.ad_account_id + rid(r) +
                                                 ": check conversion_tag_id in Pinterest Ads Manager (Conversions)");
        if (r.status != 200)
            throw sp::failure(r.status == 401 ? SP_ERR_AUTH : r.status == 403 ? SP_ERR_PERMISSION : SP_ERR_TRANSIENT,
                              "reading conversion tag " + c.conversion_tag_id + " failed: " +
                                  error_summary(r.status, r.body) + rid(r));
        boost::json::error_code ec;
        auto v = boost::json::parse(r.body, ec);
        std::string status;
        if (!ec && v.is_object())
            if (auto *s = v.get_object().if_contains("status"); s && s->is_string()) status = s->get_string();
        if (status != "ACTIVE")
            throw sp::failure(SP_ERR_CONFIG, "conversion tag " + c.conversion_tag_id + " is " +
                                                 (status.empty() ? std::string("in an unknown state") : status) +
                                                 ": enable it in Pinterest Ads Manager, or events will not appear in "
                                                 "reporting");
    }
    cleanse(token.value);
}

}  // namespace pcapi
