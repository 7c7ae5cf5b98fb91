#include "quality/quality_report.hpp"

#include "plugin/loader.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <stdexcept>

namespace synchost {

namespace json = boost::json;

uint64_t QualityReport::events() const {
    uint64_t n = 0;
    for (const auto &g : groups) n += g.events;
    return n;
}

double QualityReport::coverage_percent(size_t g, size_t c) const {
    uint64_t with = 0, of = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
        if (g != kAll && i != g) continue;
        with += c < groups[i].with.size() ? groups[i].with[c] : 0;
        of += groups[i].events;
    }
    return of ? 100.0 * static_cast<double>(with) / static_cast<double>(of) : 0.0;
}

size_t QualityReport::group_index(const std::string &name) const {
    for (size_t i = 0; i < groups.size(); ++i)
        if (groups[i].name == name) return i;
    return kAll;
}

size_t QualityReport::component_index(const std::string &name) const {
    for (size_t i = 0; i < components.size(); ++i)
        if (components[i] == name) return i;
    return kAll;
}

std::optional<QualityReport> read_quality(const Plugin &plugin, sp_instance *instance) {
    const sp_entry &e = plugin.entry();
    const auto *ext = e.get_extension ? static_cast<const sp_ext_quality *>(e.get_extension(SP_EXT_QUALITY)) : nullptr;
    if (ext == nullptr || ext->struct_size < offsetof(sp_ext_quality, report) + sizeof ext->report || !ext->report)
        return std::nullopt;
    sp_quality_report r{};
    r.struct_size = sizeof r;
    sp_error *err = nullptr;
    if (ext->report(instance, &r, &err) != SP_OK)
        throw std::runtime_error("the plugin's quality report failed: " +
                                 take_error(plugin, err, "no message").message);
    auto name = [](const char *const *names, uint32_t i, const char *what) {
        if (names == nullptr || names[i] == nullptr)
            throw std::runtime_error(std::string("the plugin's quality report has no name for ") + what + " " +
                                     std::to_string(i));
        return std::string(names[i]);
    };
    QualityReport q;
    for (uint32_t c = 0; c < r.component_count; ++c) q.components.push_back(name(r.components, c, "component"));
    if (r.group_count && (r.group_events == nullptr || (r.component_count && r.coverage == nullptr)))
        throw std::runtime_error("the plugin's quality report has groups but no counts");
    for (uint32_t g = 0; g < r.group_count; ++g) {
        QualityReport::Group group{name(r.groups, g, "group"), r.group_events[g], {}};
        for (uint32_t c = 0; c < r.component_count; ++c) {
            const uint64_t with = r.coverage[static_cast<size_t>(g) * r.component_count + c];
            if (with > group.events)
                throw std::runtime_error("the plugin's quality report counts more events with " + q.components[c] +
                                         " than events in group " + group.name);
            group.with.push_back(with);
        }
        q.groups.push_back(std::move(group));
    }
    q.aged_events = r.aged_events;
    q.age_p50_ms = r.age_p50_ms;
    q.age_p95_ms = r.age_p95_ms;
    q.age_max_ms = r.age_max_ms;
    q.late_after_ms = r.late_after_ms;
    q.late_events = r.late_events;
    if (r.late_meaning) q.late_meaning = r.late_meaning;
    if (r.age_bucket_count && (r.age_bucket_le_ms == nullptr || r.age_bucket_events == nullptr))
        throw std::runtime_error("the plugin's quality report has age buckets but no bounds or counts");
    for (uint32_t b = 0; b < r.age_bucket_count; ++b)
        q.age_buckets.push_back({r.age_bucket_le_ms[b], r.age_bucket_events[b]});
    return q;
}

json::object to_json(const QualityReport &r) {
    json::array components(r.components.begin(), r.components.end());
    json::array groups, buckets;
    for (const auto &b : r.age_buckets)
        buckets.push_back(json::object{{"le_ms", b.le_ms == UINT64_MAX ? json::value(nullptr) : json::value(b.le_ms)},
                                       {"events", b.events}});
    for (const auto &g : r.groups) {
        json::array with(g.with.begin(), g.with.end());
        groups.push_back(json::object{{"name", g.name}, {"events", g.events}, {"with", std::move(with)}});
    }
    return {{"components", std::move(components)},
            {"groups", std::move(groups)},
            {"age", json::object{{"events", r.aged_events},
                                 {"p50_ms", r.age_p50_ms},
                                 {"p95_ms", r.age_p95_ms},
                                 {"max_ms", r.age_max_ms},
                                 {"late_after_ms", r.late_after_ms},
                                 {"late_events", r.late_events},
                                 {"late_meaning", r.late_meaning},
                                 {"buckets", std::move(buckets)}}}};
}

std::string to_json_text(const QualityReport &r) {
    return json::serialize(to_json(r));
}

QualityReport quality_from_json(const std::string &text) {
    try {
        const json::object o = json::parse(text).as_object();
        QualityReport r;
        for (const auto &c : o.at("components").as_array()) r.components.emplace_back(c.as_string());
        for (const auto &gv : o.at("groups").as_array()) {
            const json::object &g = gv.as_object();
            QualityReport::Group group{std::string(g.at("name").as_string()), g.at("events").to_number<uint64_t>(), {}};
            for (const auto &w : g.at("with").as_array()) group.with.push_back(w.to_number<uint64_t>());
            r.groups.push_back(std::move(group));
        }
        const json::object &a = o.at("age").as_object();
        r.aged_events = a.at("events").to_number<uint64_t>();
        r.age_p50_ms = a.at("p50_ms").to_number<uint64_t>();
        r.age_p95_ms = a.at("p95_ms").to_number<uint64_t>();
        r.age_max_ms = a.at("max_ms").to_number<uint64_t>();
        r.late_after_ms = a.at("late_after_ms").to_number<uint64_t>();
        r.late_events = a.at("late_events").to_number<uint64_t>();
        r.late_meaning = a.at("late_meaning").as_string();
        for (const auto &bv : a.at("buckets").as_array()) {
            const json::object &b = bv.as_object();
            const json::value &le = b.at("le_ms");
            r.age_buckets.push_back(
                {le.is_null() ? UINT64_MAX : le.to_number<uint64_t>(), b.at("events").to_number<uint64_t>()});
        }
        return r;
    } catch (const std::exception &e) {
        throw std::runtime_error(std::string("a stored quality report is malformed: ") + e.what());
    }
}

namespace {

std::string percent_text(double p) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", p);
    return buf;
}

}  // namespace

std::vector<std::string> coverage_drops(const QualityReport &before, const QualityReport &now, int64_t before_run,
                                        double points) {
    std::vector<std::string> out;
    const std::string since = " since run " + std::to_string(before_run);
    for (size_t c = 0; c < now.components.size(); ++c) {
        const size_t bc = before.component_index(now.components[c]);
        if (bc == QualityReport::kAll || before.events() == 0 || now.events() == 0) continue;
        const double was = before.coverage_percent(QualityReport::kAll, bc);
        const double is = now.coverage_percent(QualityReport::kAll, c);
        if (was - is > points) {
            out.push_back(now.components[c] + " coverage fell from " + percent_text(was) + " to " + percent_text(is) +
                          " of all events" + since + ": check the sync's mapping and the model's column");
            continue;  // the groups fell with it; one line says it
        }
        for (size_t g = 0; g < now.groups.size(); ++g) {
            const size_t bg = before.group_index(now.groups[g].name);
            if (bg == QualityReport::kAll || before.groups[bg].events == 0 || now.groups[g].events == 0) continue;
            const double gwas = before.coverage_percent(bg, bc), gis = now.coverage_percent(g, c);
            if (gwas - gis > points)
                out.push_back(now.components[c] + " coverage of " + now.groups[g].name + " events fell from " +
                              percent_text(gwas) + " to " + percent_text(gis) + since);
        }
    }
    return out;
}

std::string duration_text(uint64_t ms) {
    uint64_t s = ms / 1000;
    if (s < 60) return std::to_string(s) + "s";
    static constexpr struct {
        uint64_t seconds;
        const char *unit;
    } kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
    std::string out;
    int parts = 0;
    for (const auto &u : kUnits) {
        if (parts == 2) break;
        if (s >= u.seconds) {
            out += (out.empty() ? "" : " ") + std::to_string(s / u.seconds) + u.unit;
            s %= u.seconds;
            ++parts;
        } else if (parts) {
            ++parts;  // "2h" rather than "2h 0m 5s"
        }
    }
    return out;
}

std::string freshness_text(const QualityReport &r) {
    if (r.aged_events == 0) return "";
    std::string out = "event age when sent: " + duration_text(r.age_p50_ms) + " (median), " +
                      duration_text(r.age_p95_ms) + " (p95), " + duration_text(r.age_max_ms) + " (max)";
    if (r.late_after_ms) out += "; " + std::to_string(r.late_events) + " older than " + duration_text(r.late_after_ms);
    return out;
}

std::string late_warning(const QualityReport &r) {
    if (r.late_events == 0 || r.late_after_ms == 0) return "";
    return std::to_string(r.late_events) + " of " + std::to_string(r.aged_events) + " events were older than " +
           duration_text(r.late_after_ms) + " when sent" + (r.late_meaning.empty() ? "" : ": " + r.late_meaning) +
           ". Run the sync more often, or send the newest rows first (\"newest_first\")";
}

}  // namespace synchost
