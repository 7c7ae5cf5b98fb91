// What a plugin reported through sp.quality/1 about a run: per group of events (an event name)
// how many carried each match component, and how old the events were when sent. The host knows
// none of the names: it stores the report with the run, compares it with the previous one, and
// shows it (synchost sync, status, quality).
#pragma once

#include <syncplugin/syncplugin.h>

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace synchost {

class Plugin;

struct QualityReport {
    struct Group {
        std::string name;
        uint64_t events = 0;
        std::vector<uint64_t> with;  // per component: events of the group carrying it
    };
    std::vector<std::string> components;
    std::vector<Group> groups;
    uint64_t aged_events = 0, age_p50_ms = 0, age_p95_ms = 0, age_max_ms = 0;
    uint64_t late_after_ms = 0, late_events = 0;
    std::string late_meaning;
    struct AgeBucket {
        uint64_t le_ms;  // UINT64_MAX: no upper bound
        uint64_t events;
    };
    std::vector<AgeBucket> age_buckets;

    uint64_t events() const;
    // Percent of the events (of group g, or of every group when g is npos) carrying component c.
    static constexpr size_t kAll = static_cast<size_t>(-1);
    double coverage_percent(size_t g, size_t c) const;
    // Index of the group or component named so, or npos.
    size_t group_index(const std::string &name) const;
    size_t component_index(const std::string &name) const;
};

// The instance's report, or nullopt when the plugin has no sp.quality/1. Throws std::runtime_error
// with the plugin's message when the report fails or is malformed (counts larger than their group).
std::optional<QualityReport> read_quality(const Plugin &plugin, sp_instance *instance);

// The stored form (runs.quality) and back. from_json throws std::runtime_error on a malformed text.
std::string to_json_text(const QualityReport &r);
boost::json::object to_json(const QualityReport &r);
QualityReport quality_from_json(const std::string &text);

// Components whose coverage fell by more than `points` percentage points from `before` to `now`,
// over all events and per event group present in both; one sentence each, naming component,
// group, both figures and `before_run`.
std::vector<std::string> coverage_drops(const QualityReport &before, const QualityReport &now, int64_t before_run,
                                        double points = 10.0);

// "3m 20s", "2h 5m", "4d 1h": the largest two units.
std::string duration_text(uint64_t ms);
// "events were 2s old when sent (p50), 1h 2m (p95), 3h (max)", with the late count when not zero.
std::string freshness_text(const QualityReport &r);
// The late-event warning (empty when none was late).
std::string late_warning(const QualityReport &r);

}  // namespace synchost
