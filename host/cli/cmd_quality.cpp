// `synchost quality SYNC`: how well the destination can match what the sync sends. The local
// figures are what the plugin counted in the last run (sp.quality/1 report, kept with each run),
// with the change since the run before; beside them, the destination's own score, which the
// plugin fetches (sp.quality/1 destination_report). Text, --json, or --html FILE.
#include "cli/commands.hpp"
#include "cli/session.hpp"
#include "exit_codes.hpp"
#include "quality/destination_score.hpp"
#include "quality/quality_html.hpp"
#include "quality/quality_report.hpp"
#include "runtime/host_services.hpp"
#include "runtime/terminal_text.hpp"
#include "state/state_store.hpp"

#include <support/suggest.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

namespace synchost {

namespace {

namespace json = boost::json;

// The groups to show: the run's, then any only the destination scored.
std::vector<std::string> group_names(const QualityReport *now, const DestinationOutcome *dest) {
    std::vector<std::string> out;
    auto add = [&](const std::string &g) {
        if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
    };
    if (now)
        for (const auto &g : now->groups) add(g.name);
    if (dest && dest->score)
        for (const auto &w : dest->score->windows)
            for (const auto &c : w.cells) add(c.group);
    return out;
}

std::vector<std::string> component_names(const QualityReport *now, const DestinationOutcome *dest) {
    std::vector<std::string> out;
    if (now) out = now->components;
    if (dest && dest->score)
        for (const auto &w : dest->score->windows)
            for (const auto &c : w.cells)
                if (std::find(out.begin(), out.end(), c.component) == out.end()) out.push_back(c.component);
    return out;
}

std::optional<double> local_percent(const QualityReport *r, const std::string &group, const std::string &component) {
    if (r == nullptr) return std::nullopt;
    const size_t c = r->component_index(component);
    const size_t g = group.empty() ? QualityReport::kAll : r->group_index(group);
    if (c == QualityReport::kAll || (!group.empty() && g == QualityReport::kAll)) return std::nullopt;
    if ((g == QualityReport::kAll ? r->events() : r->groups[g].events) == 0) return std::nullopt;
    return r->coverage_percent(g, c);
}

std::string percent_cell(std::optional<double> p) {
    if (!p) return "-";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.1f%%", *p);
    return buf;
}

std::string change_cell(std::optional<double> now, std::optional<double> before) {
    if (!now || !before) return "";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%+.1f", *now - *before);
    return buf;
}

std::string pad(std::string s, size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s + " ";
}

uint64_t group_events(const QualityReport *r, const std::string &group) {
    if (r == nullptr) return 0;
    if (group.empty()) return r->events();
    const size_t g = r->group_index(group);
    return g == QualityReport::kAll ? 0 : r->groups[g].events;
}

// One matrix: a row per component, a column per group ("" = every event), `cell` filling it.
template <class Cell>
void print_matrix(std::ostream &out, const std::vector<std::string> &components, const std::vector<std::string> &groups,
                  const QualityReport *now, Cell cell) {
    size_t first = 24;
    for (const auto &c : components) first = std::max(first, c.size() + 1);
    std::vector<size_t> widths;
    auto emit = [&](std::string line) {
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << "\n";
    };
    std::string line = "  " + pad("", first);
    for (const auto &g : groups) {
        std::string head = g.empty() ? "all events" : terminal_safe(g);
        if (const uint64_t n = group_events(now, g)) head += " (" + std::to_string(n) + ")";
        widths.push_back(std::max<size_t>(head.size(), 13));
        line += pad(head, widths.back());
    }
    emit(line);
    for (const auto &c : components) {
        line = "  " + pad(terminal_safe(c), first);
        for (size_t i = 0; i < groups.size(); ++i) line += pad(cell(c, groups[i]), widths[i]);
        emit(line);
    }
}

void print_text(const QualityPage &p, std::ostream &out) {
    const DestinationOutcome *dest = p.destination;
    out << "sync " << p.sync << " (" << p.plugin << ")";
    if (p.now)
        out << ": run " << p.run << ", " << p.now->events() << " events sent"
            << (p.previous_run ? "; changes are against run " + std::to_string(p.previous_run) : "");
    out << "\n";
    if (!p.now)
        out << "no run has recorded match-quality figures yet: run `synchost sync` first\n";
    else if (const std::string f = freshness_text(*p.now); !f.empty())
        out << terminal_safe(f) << "\n";

    const auto components = component_names(p.now, dest);
    if (p.now) {
        std::vector<std::string> groups = group_names(p.now, nullptr);
        groups.insert(groups.begin(), "");  // "" = every event
        out << "\nshare of the events sent that carried each match key:\n";
        print_matrix(out, components, groups, p.now, [&](const std::string &c, const std::string &g) {
            const auto now = local_percent(p.now, g, c);
            const std::string change = change_cell(now, local_percent(p.before, g, c));
            return percent_cell(now) + (change.empty() ? "" : " " + change);
        });
    }
    if (!dest) return;
    out << "\n";
    if (!dest->score) {
        out << "the destination's own score: unavailable (" << dest->category << "): " << terminal_safe(dest->error)
            << "\n";
        return;
    }
    const std::vector<std::string> scored = group_names(nullptr, dest);
    for (const auto &w : dest->score->windows) {
        out << terminal_safe(dest->score->source) << ", " << terminal_safe(w.label) << ": "
            << terminal_safe(w.status.empty() ? "no status" : w.status) << "\n";
        print_matrix(out, components, scored, nullptr, [&](const std::string &c, const std::string &g) {
            const DestinationScore::Cell *cell = w.cell(c, g);
            return percent_cell(cell ? cell->coverage_percent : std::nullopt);
        });
        for (const auto &c : w.cells)
            if (c.overlap_percent)
                out << "  " << terminal_safe(c.component) << " of " << terminal_safe(c.group)
                    << " events also sent by the tag (deduplicated against it): " << percent_cell(c.overlap_percent)
                    << "\n";
        for (const auto &i : grouped_issues(w))
            out << "  issue with " << terminal_safe(i.component) << ": " << terminal_safe(i.name)
                << (i.reason.empty() ? "" : ": " + terminal_safe(i.reason)) << " ("
                << terminal_safe(support::join(i.groups)) << ")\n";
        out << "\n";
    }
}

json::value number_or_null(std::optional<double> v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object page_json(const QualityPage &p) {
    const DestinationOutcome *dest = p.destination;
    json::array coverage;
    std::vector<std::string> groups = group_names(p.now, dest);
    if (p.now) groups.insert(groups.begin(), "");
    for (const std::string &g : groups) {
        json::array components;
        for (const auto &c : component_names(p.now, dest)) {
            const auto now = local_percent(p.now, g, c), before = local_percent(p.before, g, c);
            json::object destination;
            if (dest && dest->score && !g.empty())
                for (const auto &w : dest->score->windows)
                    if (const auto *cell = w.cell(c, g))
                        destination[w.label] =
                            json::object{{"coverage_percent", number_or_null(cell->coverage_percent)},
                                         {"overlap_percent", number_or_null(cell->overlap_percent)}};
            components.push_back(json::object{{"name", c},
                                              {"local_percent", number_or_null(now)},
                                              {"change_points", now && before ? json::value(*now - *before) : nullptr},
                                              {"destination", std::move(destination)}});
        }
        coverage.push_back(json::object{{"group", g.empty() ? json::value(nullptr) : json::value(g)},
                                        {"events", group_events(p.now, g)},
                                        {"components", std::move(components)}});
    }
    json::value destination = nullptr;
    if (dest && dest->score)
        destination = json::parse(dest->json);
    else if (dest)
        destination = json::object{{"error", json::object{{"category", dest->category}, {"message", dest->error}}}};
    return {{"sync", p.sync},
            {"plugin", p.plugin},
            {"run", p.now ? json::value(p.run) : json::value(nullptr)},
            {"previous_run", p.previous_run ? json::value(p.previous_run) : json::value(nullptr)},
            {"freshness", p.now ? to_json(*p.now)["age"] : json::value(nullptr)},
            {"coverage", std::move(coverage)},
            {"destination", std::move(destination)}};
}

}  // namespace

int cmd_quality(const Argv &argv) {
    std::vector<FlagSpec> spec = common_flags();
    spec.insert(spec.end(), {
                                {"json", false, "print JSON"},
                                {"html", true, "also write a self-contained HTML report to FILE", "FILE"},
                                {"local", false, "show only what the plugin counted; do not ask the destination"},
                            });
    Args args(argv, spec,
              "usage: synchost quality SYNC.json [--json] [--html FILE] [--local]\n\nMatch quality: per event "
              "name, the share of events that carried each match key in the last run, the change since the run "
              "before, and the destination's own score beside it.");
    if (args.positional().size() != 1)
        throw CliError(kExitConfig, "usage: synchost quality SYNC.json [--json] [--html FILE]");
    auto session = Session::load(args, args.positional()[0]);
    auto state = StateStore::open(session->state_dir, session->def.name, StateStore::Access::read);
    const std::vector<RunSummary> runs = state->runs_with_quality(2);
    std::optional<QualityReport> now, before;
    QualityPage page;
    page.sync = session->def.name;
    page.plugin = session->caps.id;
    if (!runs.empty()) {
        now = quality_from_json(runs[0].quality);
        page.run = runs[0].id;
        page.now = &*now;
    }
    if (runs.size() > 1) {
        before = quality_from_json(runs[1].quality);
        page.previous_run = runs[1].id;
        page.before = &*before;
    }

    DestinationOutcome dest;
    if (!args.has("local")) {
        std::unique_ptr<TokenService> tokens;
        try {
            tokens = session->tokens();
        } catch (const CliError &e) {
            dest.category = "auth";
            dest.error = e.what();
        }
        if (dest.error.empty()) {
            const CredentialSource credentials = credential_source(tokens.get());
            std::atomic<bool> never{false};
            HostServices services(session->log, session->caps.id, never, credentials);
            dest = fetch_destination_score(session->def, session->plugin, services);
        }
        page.destination = &dest;
    }

    if (args.has("html")) {
        const std::string file = args.get("html");
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << quality_html(page);
        out.close();
        if (!out) throw CliError(kExitConfig, "cannot write the HTML report to " + file);
        session->log.info("wrote the HTML report to " + file);
    }
    if (args.has("json"))
        std::cout << json::serialize(page_json(page)) << "\n";
    else
        print_text(page, std::cout);
    return kExitOk;
}

}  // namespace synchost
