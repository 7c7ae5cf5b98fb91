#include "quality/quality_html.hpp"

#include "runtime/html_text.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace synchost {

namespace {

constexpr const char *kStyle = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:980px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}h3{font-size:14px;margin:18px 0 4px}
.muted{color:#666}.warn{color:#a33}
table{border-collapse:collapse;margin:6px 0}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;color:#fff;font-weight:600}
.GOOD{background:#2a7d3f}.FAIR{background:#b7791f}.NEEDS_IMPROVEMENT{background:#b83232}.none{background:#777}
svg text{font:12px system-ui,sans-serif}
)css";

std::string fixed1(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

// The destination's windows are told apart by their marker: the first filled, the others hollow.
std::string marker_style(size_t window) {
    return window == 0 ? "fill=\"#e07b24\"" : "fill=\"#fff\" stroke=\"#e07b24\" stroke-width=\"2\"";
}

std::optional<double> local(const QualityReport *r, size_t g, const std::string &component) {
    if (r == nullptr) return std::nullopt;
    const size_t c = r->component_index(component);
    if (c == QualityReport::kAll) return std::nullopt;
    const uint64_t events = g == QualityReport::kAll ? r->events() : r->groups[g].events;
    if (events == 0) return std::nullopt;
    return r->coverage_percent(g, c);
}

// Horizontal bars, one row per component: this run's coverage (solid), the run before (a grey
// tick) and each destination window (a small diamond), with the figures written out.
void coverage_chart(std::ostream &o, const QualityPage &p, const std::string &group) {
    const QualityReport &now = *p.now;
    const size_t g = group.empty() ? QualityReport::kAll : now.group_index(group);
    const size_t b = p.before && !group.empty() ? p.before->group_index(group) : QualityReport::kAll;
    const bool before_has_group = p.before && (group.empty() || b != QualityReport::kAll);
    const auto *windows = p.destination && p.destination->score ? &p.destination->score->windows : nullptr;
    constexpr int kLabel = 190, kBar = 460, kRow = 22, kWidth = kLabel + kBar + 70;
    const int height = static_cast<int>(now.components.size()) * kRow + 24;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << kWidth << " " << height
      << "\" style=\"max-width:100%;height:auto\" role=\"img\" aria-label=\"coverage per component\">\n";
    for (int tick = 0; tick <= 100; tick += 25) {
        const int x = kLabel + kBar * tick / 100;
        o << "<line x1=\"" << x << "\" y1=\"0\" x2=\"" << x << "\" y2=\"" << height - 18
          << "\" stroke=\"#ddd\"/><text x=\"" << x << "\" y=\"" << height - 4
          << "\" text-anchor=\"middle\" fill=\"#888\">" << tick << "%</text>\n";
    }
    for (size_t c = 0; c < now.components.size(); ++c) {
        const std::string &name = now.components[c];
        const int y = static_cast<int>(c) * kRow;
        const double pct = local(&now, g, name).value_or(0.0);
        o << "<text x=\"" << kLabel - 12 << "\" y=\"" << y + 15 << "\" text-anchor=\"end\">" << html_escape(name)
          << "</text>";
        o << "<rect x=\"" << kLabel << "\" y=\"" << y + 4 << "\" width=\"" << fixed1(kBar * pct / 100) << "\" height=\""
          << kRow - 8 << "\" fill=\"#3b6fb6\"/>";
        if (before_has_group)
            if (auto was = local(p.before, group.empty() ? QualityReport::kAll : b, name))
                o << "<line x1=\"" << fixed1(kLabel + kBar * *was / 100) << "\" y1=\"" << y + 2 << "\" x2=\""
                  << fixed1(kLabel + kBar * *was / 100) << "\" y2=\"" << y + kRow - 2
                  << "\" stroke=\"#555\" stroke-width=\"2\"><title>previous run " << fixed1(*was) << "%</title></line>";
        if (windows && !group.empty())
            for (size_t wi = 0; wi < windows->size(); ++wi) {
                const auto &w = (*windows)[wi];
                if (const auto *cell = w.cell(name, group); cell && cell->coverage_percent) {
                    const double x = kLabel + kBar * *cell->coverage_percent / 100;
                    o << "<path d=\"M" << fixed1(x) << " " << y + 5 << " l5 6 l-5 6 l-5 -6 z\" " << marker_style(wi)
                      << "><title>" << html_escape(w.label) << " " << fixed1(*cell->coverage_percent)
                      << "%</title></path>";
                }
            }
        o << "<text x=\"" << kLabel + kBar + 10 << "\" y=\"" << y + 15 << "\">" << fixed1(pct) << "%</text>\n";
    }
    o << "</svg>\n";
}

// The figures behind the chart, one row per component (what a reader copies, and tests parse).
void coverage_table(std::ostream &o, const QualityPage &p, const std::string &group) {
    const QualityReport &now = *p.now;
    const size_t g = group.empty() ? QualityReport::kAll : now.group_index(group);
    const size_t b = p.before && !group.empty() ? p.before->group_index(group) : QualityReport::kAll;
    // The destination scores per event name only: the all-events table has no column for it.
    const auto *windows =
        p.destination && p.destination->score && !group.empty() ? &p.destination->score->windows : nullptr;
    o << "<table><tr><th>component</th><th>this run</th><th>change</th>";
    if (windows)
        for (const auto &w : *windows) o << "<th>destination, " << html_escape(w.label) << "</th>";
    o << "</tr>\n";
    for (const auto &name : now.components) {
        const auto pct = local(&now, g, name);
        std::optional<double> was;
        if (p.before && (group.empty() || b != QualityReport::kAll))
            was = local(p.before, group.empty() ? QualityReport::kAll : b, name);
        o << "<tr><td>" << html_escape(name) << "</td><td class=\"num\" data-group=\"" << html_escape(group)
          << "\" data-component=\"" << html_escape(name) << "\" data-kind=\"local\">"
          << (pct ? fixed1(*pct) + "%" : "-") << "</td><td class=\"num\">"
          << (pct && was ? (*pct - *was >= 0 ? "+" : "") + fixed1(*pct - *was) : "&#8211;") << "</td>";
        if (windows)
            for (const auto &w : *windows) {
                const auto *cell = group.empty() ? nullptr : w.cell(name, group);
                o << "<td class=\"num\" data-group=\"" << html_escape(group) << "\" data-component=\""
                  << html_escape(name) << "\" data-kind=\"destination\" data-window=\"" << html_escape(w.label) << "\">"
                  << (cell && cell->coverage_percent ? fixed1(*cell->coverage_percent) + "%" : "-") << "</td>";
            }
        o << "</tr>\n";
    }
    o << "</table>\n";
}

std::string bucket_label(uint64_t le_ms) {
    return le_ms == UINT64_MAX ? "older" : "&#8804; " + duration_text(le_ms);
}

void age_histogram(std::ostream &o, const QualityReport &r) {
    if (r.age_buckets.empty()) return;
    uint64_t most = 1;
    for (const auto &b : r.age_buckets) most = std::max(most, b.events);
    constexpr int kWidth = 70, kHeight = 160;
    const int n = static_cast<int>(r.age_buckets.size());
    const int width = n * kWidth + 20, height = kHeight + 50;
    o << "<p class=\"muted\">Events by age when sent"
      << (r.late_after_ms ? "; red: older than " + duration_text(r.late_after_ms) : std::string())
      << ".</p>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height
      << "\" style=\"max-width:100%;height:auto\" role=\"img\" aria-label=\"event age histogram\">\n"
      << "<line x1=\"10\" y1=\"" << kHeight + 16 << "\" x2=\"" << width - 10 << "\" y2=\"" << kHeight + 16
      << "\" stroke=\"#888\"/>\n";
    for (int i = 0; i < n; ++i) {
        const auto &b = r.age_buckets[static_cast<size_t>(i)];
        const double h = static_cast<double>(kHeight) * static_cast<double>(b.events) / static_cast<double>(most);
        // Bars past the destination's late threshold in red: those events were treated differently.
        const uint64_t lower = i ? r.age_buckets[static_cast<size_t>(i - 1)].le_ms : 0;
        const bool late = r.late_after_ms && lower >= r.late_after_ms;
        const int x = 10 + i * kWidth;
        o << "<rect x=\"" << x + 6 << "\" y=\"" << fixed1(kHeight - h + 16) << "\" width=\"" << kWidth - 12
          << "\" height=\"" << fixed1(h) << "\" fill=\"" << (late ? "#b83232" : "#3b6fb6") << "\" data-events=\""
          << b.events << "\"/>";
        o << "<text x=\"" << x + kWidth / 2 << "\" y=\"" << fixed1(kHeight - h + 12) << "\" text-anchor=\"middle\">"
          << b.events << "</text>";
        o << "<text x=\"" << x + kWidth / 2 << "\" y=\"" << kHeight + 34 << "\" text-anchor=\"middle\">"
          << bucket_label(b.le_ms) << "</text>\n";
    }
    o << "</svg>\n";
}

void destination_section(std::ostream &o, const DestinationOutcome &d) {
    o << "<h2>The destination's own score</h2>\n";
    if (!d.score) {
        o << "<p class=\"warn\" id=\"destination-unavailable\">Unavailable (" << html_escape(d.category)
          << "): " << html_escape(d.error) << "</p>\n";
        return;
    }
    o << "<p class=\"muted\">" << html_escape(d.score->source)
      << ". Its status weighs the keys as the destination "
         "chooses; the issues below are its own, listed once per key with the event names they concern.</p>\n<ul>\n";
    for (size_t wi = 0; wi < d.score->windows.size(); ++wi) {
        const auto &w = d.score->windows[wi];
        const std::string status = w.status.empty() ? "none" : w.status;
        o << "<li>" << html_escape(w.label) << ": <span class=\"badge " << html_escape(status) << "\" data-window=\""
          << html_escape(w.label) << "\">" << html_escape(status) << "</span>";
        const auto issues = grouped_issues(w);
        // Identical issues in every window are listed under the first one only.
        const bool same_as_first = wi > 0 && issues == grouped_issues(d.score->windows[0]);
        if (same_as_first && !issues.empty()) o << " <span class=\"muted\">(the same issues)</span>";
        if (!same_as_first && !issues.empty()) {
            o << "<ul>";
            for (const auto &i : issues) {
                o << "<li>" << html_escape(i.component) << ": " << html_escape(i.name)
                  << (i.reason.empty() ? "" : ": " + html_escape(i.reason)) << " <span class=\"muted\">(";
                for (size_t g = 0; g < i.groups.size(); ++g) o << (g ? ", " : "") << html_escape(i.groups[g]);
                o << ")</span></li>";
            }
            o << "</ul>";
        }
        for (const auto &c : w.cells)
            if (c.overlap_percent)
                o << "<div class=\"muted\">" << html_escape(c.group) << ": " << fixed1(*c.overlap_percent)
                  << "% of the " << html_escape(c.component)
                  << " values were also sent by the tag (those events are deduplicated)"
                  << "</div>";
        o << "</li>\n";
    }
    o << "</ul>\n";
}

}  // namespace

std::string quality_html(const QualityPage &p) {
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Match quality: "
      << html_escape(p.sync) << "</title>\n<style>" << kStyle << "</style></head><body>\n";
    o << "<h1>Match quality of sync " << html_escape(p.sync) << " <span class=\"muted\">(" << html_escape(p.plugin)
      << ")</span></h1>\n";
    if (p.now == nullptr) {
        o << "<p>No run has recorded match-quality figures yet: run <code>synchost sync</code> first.</p>\n";
    } else {
        o << "<p>Run " << p.run << ": <span id=\"events\">" << p.now->events() << "</span> events sent"
          << (p.previous_run ? "; change against run " + std::to_string(p.previous_run) : std::string()) << ".</p>\n";
        o << "<h2>Freshness</h2>\n<p id=\"freshness\">" << html_escape(freshness_text(*p.now)) << "</p>\n";
        if (const std::string late = late_warning(*p.now); !late.empty())
            o << "<p class=\"warn\">" << html_escape(late) << "</p>\n";
        age_histogram(o, *p.now);
        o << "<h2>Coverage of match keys</h2>\n<p class=\"muted\">Bars: the share of this run's events carrying each "
             "key.";
        if (p.before) o << " Grey tick: run " << p.previous_run << ".";
        if (p.destination && p.destination->score && !p.destination->score->windows.empty()) {
            o << " The destination's own figures, per event name:";
            const auto &ws = p.destination->score->windows;
            for (size_t wi = 0; wi < ws.size(); ++wi)
                o << (wi ? "," : "")
                  << " <svg width=\"12\" height=\"14\" viewBox=\"-6 4 12 14\"><path d=\"M0 5 l5 6 l-5 6 l-5 -6 z\" "
                  << marker_style(wi) << "/></svg> " << html_escape(ws[wi].label);
            o << ".";
        }
        o << "</p>\n";
        std::vector<std::string> groups{""};
        for (const auto &g : p.now->groups) groups.push_back(g.name);
        for (const auto &g : groups) {
            const uint64_t n = g.empty() ? p.now->events() : p.now->groups[p.now->group_index(g)].events;
            o << "<h3>" << (g.empty() ? std::string("All events") : html_escape(g)) << " <span class=\"muted\">(" << n
              << " events)</span></h3>\n";
            coverage_chart(o, p, g);
            coverage_table(o, p, g);
        }
    }
    if (p.destination) destination_section(o, *p.destination);
    o << "</body></html>\n";
    return o.str();
}

}  // namespace synchost
