// The destination's own score of what it received, as a plugin's sp.quality/1
// destination_report gives it (see syncplugin.h for the JSON), read into a shape the host can
// put beside its local coverage. Names are the plugin's; the host interprets none of them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace synchost {

class Plugin;
struct SyncDefinition;
class HostServices;

struct DestinationScore {
    struct Issue {
        std::string name, reason;
    };
    struct Cell {
        std::string component, group;
        std::optional<double> coverage_percent, overlap_percent;
        std::vector<Issue> issues;
    };
    struct Window {
        std::string label, status;
        std::vector<Cell> cells;
        const Cell *cell(const std::string &component, const std::string &group) const;
    };
    std::string source;
    std::vector<Window> windows;
};

// A window's issues, each once with the groups it concerns ("Low coverage of hashed_maid:
// add_to_cart, checkout"), in the order they first appear.
struct GroupedIssue {
    std::string component, name, reason;
    std::vector<std::string> groups;
    bool operator==(const GroupedIssue &) const = default;
};
std::vector<GroupedIssue> grouped_issues(const DestinationScore::Window &w);

// Throws std::runtime_error naming what is malformed.
DestinationScore destination_score_from_json(const std::string &text);

// What fetching it gave: a score, or why there is none (the plugin offers none, the credentials
// may not read it, the destination could not be reached), in the plugin's words.
struct DestinationOutcome {
    std::optional<DestinationScore> score;
    std::string json;      // the plugin's report as it came
    std::string category;  // of the failure ("permission", ...), empty on success
    std::string error;
};

// Opens an instance of `def`'s plugin with `services` and asks it. Never throws for the
// destination's answer; throws CliError only when the instance cannot be opened.
DestinationOutcome fetch_destination_score(const SyncDefinition &def, const std::shared_ptr<Plugin> &plugin,
                                           HostServices &services);

}  // namespace synchost
