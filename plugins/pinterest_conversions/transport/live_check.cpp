#include "transport/live_check.hpp"

#include "transport/api_reader.hpp"
#include "transport/response.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/json.hpp>

namespace pcapi {

using transport::error_summary;
using transport::request_id_note;

void live_check(const PluginConfig &c, const sp_host *host) {
    transport::ApiReader api(c, host);
    const std::string account = "/v5/ad_accounts/" + c.ad_account_id;
    spnet::HttpResponse r = api.get(account);
    switch (r.status) {
    case 200: break;
    case 401:
        throw sp::failure(SP_ERR_AUTH, "Pinterest rejected the access token (401)" + request_id_note(r) +
                                           ": reconnect the account or generate a new conversion access token");
    case 403:
        throw sp::failure(SP_ERR_PERMISSION,
                          "the token has no access to ad account " + c.ad_account_id + " (403)" + request_id_note(r) +
                              ": make sure the authenticated user has access to it with conversion permissions and "
                              "the token carries the scopes ads:write and ads:read");
    case 404:
    case 400:
        throw sp::failure(SP_ERR_CONFIG, "Pinterest does not know ad account " + c.ad_account_id + " (" +
                                             error_summary(r.status, r.body) + ")" + request_id_note(r) +
                                             ": verify the Ad Account ID in Pinterest Ads Manager; it is numeric");
    default:
        throw sp::failure(SP_ERR_TRANSIENT, "reading ad account " + c.ad_account_id + " failed: " +
                                                error_summary(r.status, r.body) + request_id_note(r));
    }

    if (!c.conversion_tag_id.empty() && !c.routed_check) {
        r = api.get(account + "/conversion_tags/" + c.conversion_tag_id);
        if (r.status == 404)
            throw sp::failure(SP_ERR_CONFIG, "conversion tag " + c.conversion_tag_id + " does not exist in ad account " +
                                                 c.ad_account_id + request_id_note(r) +
                                                 ": check conversion_tag_id in Pinterest Ads Manager (Conversions)");
        if (r.status != 200)
            throw sp::failure(r.status == 401 ? SP_ERR_AUTH : r.status == 403 ? SP_ERR_PERMISSION : SP_ERR_TRANSIENT,
                              "reading conversion tag " + c.conversion_tag_id + " failed: " +
                                  error_summary(r.status, r.body) + request_id_note(r));
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
}

}  // namespace pcapi
