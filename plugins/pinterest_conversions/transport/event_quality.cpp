#include "transport/event_quality.hpp"

#include "pipeline/match_quality.hpp"
#include "transport/api_reader.hpp"
#include "transport/response.hpp"

#include <syncplugin/syncplugin.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace pcapi {

namespace json = boost::json;
using transport::error_summary;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

json::value percent(const json::object &o, std::string_view key) {
    const json::value *v = o.if_contains(key);
    if (v == nullptr || !v->is_number()) return nullptr;
    return v->to_number<double>();
}

// One component's map from event type to {coverage, issues, overlap}, as report groups.
json::array groups_of(const json::object &by_event) {
    json::array groups;
    for (const auto &[event, detail] : by_event) {
        if (!detail.is_object()) continue;
        const json::object &d = detail.get_object();
        json::array issues;
        if (const json::value *list = d.if_contains("issues"); list && list->is_array())
            for (const json::value &i : list->get_array()) {
                if (!i.is_object()) continue;
                const json::object &io = i.get_object();
                auto text = [&](std::string_view k) -> json::value {
                    const json::value *v = io.if_contains(k);
                    return v && v->is_string() ? json::value(v->get_string()) : json::value(nullptr);
                };
                issues.push_back(json::object{{"name", text("name")}, {"reason", text("reason")}});
            }
        groups.push_back(json::object{{"name", lower(event)},
                                      {"coverage_percent", percent(d, "coverage")},
                                      {"overlap_percent", percent(d, "overlap")},
                                      {"issues", std::move(issues)}});
    }
    return groups;
}

// The components of one score, ours first in the report's order, then any Pinterest adds later.
json::array components_of(const json::object &quality) {
    json::array out;
    const auto &known = component_names();
    for (const char *name : known)
        if (const json::value *v = quality.if_contains(name); v && v->is_object())
            out.push_back(json::object{{"name", name}, {"groups", groups_of(v->get_object())}});
    for (const auto &[name, v] : quality) {
        const bool ours = std::any_of(known.begin(), known.end(), [&](const char *k) { return name == k; });
        if (!ours && v.is_object()) out.push_back(json::object{{"name", name}, {"groups", groups_of(v.get_object())}});
    }
    return out;
}

}  // namespace

std::string event_quality_report(const std::vector<std::pair<std::string, std::string>> &answers) {
    json::array windows;
    for (const auto &[label, body] : answers) {
        json::error_code ec;
        json::value v = json::parse(body, ec);
        const json::array *items = nullptr;
        if (!ec && v.is_array()) items = &v.get_array();
        if (!ec && v.is_object())
            if (const json::value *i = v.get_object().if_contains("items"); i && i->is_array()) items = &i->get_array();
        if (items == nullptr)
            throw sp::failure(SP_ERR_TRANSIENT,
                              "Pinterest's Event Quality Score for " + label + " is not the documented list of scores");
        for (const json::value &item : *items) {
            if (!item.is_object()) continue;
            const json::object &o = item.get_object();
            std::string window = label;
            if (const json::value *p = o.if_contains("source_platform"); p && p->is_string())
                window += " " + lower(p->get_string());
            const json::value *status = o.if_contains("overall_status");
            const json::value *quality = o.if_contains("quality_components");
            windows.push_back(json::object{
                {"label", window},
                {"status", status && status->is_string() ? json::value(status->get_string()) : json::value(nullptr)},
                {"components",
                 quality && quality->is_object() ? components_of(quality->get_object()) : json::array{}}});
        }
    }
    return json::serialize(
        json::object{{"source", "Pinterest Event Quality Score (Conversions API)"}, {"windows", std::move(windows)}});
}

std::string fetch_event_quality(const PluginConfig &c, const sp_host *host) {
    transport::ApiReader api(c, host);
    std::vector<std::pair<std::string, std::string>> answers;
    for (const char *lookback : {"1d", "14d"}) {
        const spnet::HttpResponse r =
            api.get("/v5/ad_accounts/" + c.ad_account_id + "/conversion_eqs?lookback_period=" + lookback +
                    "&ingestion_source=CONVERSIONS_API");
        const std::string rid = transport::request_id_note(r);
        switch (r.status) {
            case 200:
                answers.emplace_back(lookback, r.body);
                continue;
            case 401:
                throw sp::failure(SP_ERR_AUTH,
                                  "Pinterest rejected the access token (401)" + rid + ": reconnect the account");
            case 403:
                throw sp::failure(
                    SP_ERR_PERMISSION,
                    "reading Pinterest's Event Quality Score needs the ads:read scope (403)" + rid +
                        ": a conversion access token cannot read it; connect with OAuth (synchost connect), "
                        "which asks for ads:read");
            case 400:
            case 404:
                throw sp::failure(SP_ERR_CONFIG, "Pinterest has no Event Quality Score for ad account " +
                                                     c.ad_account_id + " (" + error_summary(r.status, r.body) + ")" +
                                                     rid);
            default:
                throw sp::failure(SP_ERR_TRANSIENT,
                                  "reading the Event Quality Score failed: " + error_summary(r.status, r.body) + rid);
        }
    }
    return event_quality_report(answers);
}

}  // namespace pcapi
