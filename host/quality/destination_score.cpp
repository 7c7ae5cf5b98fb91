#include "quality/destination_score.hpp"

#include "exit_codes.hpp"
#include "plugin/loader.hpp"
#include "runtime/host_services.hpp"
#include "sync/abi_params.hpp"
#include "sync/runner.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace synchost {

namespace json = boost::json;

const DestinationScore::Cell *DestinationScore::Window::cell(const std::string &component,
                                                             const std::string &group) const {
    for (const Cell &c : cells)
        if (c.component == component && c.group == group) return &c;
    return nullptr;
}

std::vector<GroupedIssue> grouped_issues(const DestinationScore::Window &w) {
    std::vector<GroupedIssue> out;
    for (const auto &c : w.cells)
        for (const auto &i : c.issues) {
            auto it = std::find_if(out.begin(), out.end(), [&](const GroupedIssue &g) {
                return g.component == c.component && g.name == i.name && g.reason == i.reason;
            });
            if (it == out.end())
                out.push_back({c.component, i.name, i.reason, {c.group}});
            else
                it->groups.push_back(c.group);
        }
    return out;
}

namespace {

std::optional<double> optional_number(const json::object &o, std::string_view key) {
    const json::value *v = o.if_contains(key);
    if (v == nullptr || v->is_null()) return std::nullopt;
    return v->to_number<double>();
}

std::string optional_text(const json::object &o, std::string_view key) {
    const json::value *v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

DestinationScore destination_score_from_json(const std::string &text) {
    try {
        const json::object root = json::parse(text).as_object();
        DestinationScore s;
        s.source = optional_text(root, "source");
        for (const json::value &wv : root.at("windows").as_array()) {
            const json::object &w = wv.as_object();
            DestinationScore::Window window{optional_text(w, "label"), optional_text(w, "status"), {}};
            for (const json::value &cv : w.at("components").as_array()) {
                const json::object &c = cv.as_object();
                const std::string component(c.at("name").as_string());
                for (const json::value &gv : c.at("groups").as_array()) {
                    const json::object &g = gv.as_object();
                    DestinationScore::Cell cell{component,
                                                std::string(g.at("name").as_string()),
                                                optional_number(g, "coverage_percent"),
                                                optional_number(g, "overlap_percent"),
                                                {}};
                    if (const json::value *issues = g.if_contains("issues"); issues && issues->is_array())
                        for (const json::value &iv : issues->get_array())
                            cell.issues.push_back(
                                {optional_text(iv.as_object(), "name"), optional_text(iv.as_object(), "reason")});
                    window.cells.push_back(std::move(cell));
                }
            }
            s.windows.push_back(std::move(window));
        }
        return s;
    } catch (const std::exception &e) {
        throw std::runtime_error(std::string("the plugin's destination report is malformed: ") + e.what());
    }
}

DestinationOutcome fetch_destination_score(const SyncDefinition &def, const std::shared_ptr<Plugin> &plugin,
                                           HostServices &services) {
    DestinationOutcome out;
    const sp_entry &e = plugin->entry();
    const auto *ext = e.get_extension ? static_cast<const sp_ext_quality *>(e.get_extension(SP_EXT_QUALITY)) : nullptr;
    if (ext == nullptr || !SP_HAS_FIELD(ext, sp_ext_quality, destination_report) || !ext->destination_report) {
        out.category = category_name(SP_ERR_UNSUPPORTED);
        out.error = "the plugin offers no score from the destination (" SP_EXT_QUALITY " destination_report)";
        return out;
    }
    AbiConfig config(def.config);
    AbiMapping mapping(def.mapping);
    const sp_open_params p = open_params(def, config, mapping, 0);
    sp_instance *raw = nullptr;
    sp_error *err = nullptr;
    if (e.open(&p, services.get(), &raw, &err) != SP_OK) {
        PluginError pe = take_error(*plugin, err, "open failed");
        throw CliError(exit_code_for(pe.category), pe.message);
    }
    Instance instance(plugin, raw);
    const char *report = nullptr;
    if (ext->destination_report(raw, &report, &err) != SP_OK || report == nullptr) {
        PluginError pe = take_error(*plugin, err, "the destination report failed");
        out.category = category_name(pe.category);
        out.error = pe.message;
        return out;
    }
    out.json = report;
    try {
        out.score = destination_score_from_json(out.json);
    } catch (const std::exception &ex) {
        out.category = category_name(SP_ERR_INTERNAL);
        out.error = ex.what();
    }
    return out;
}

}  // namespace synchost
