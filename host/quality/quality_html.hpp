// `synchost quality --html`: one self-contained HTML page (inline CSS and SVG, no script, nothing
// fetched) with bars of coverage per component and event group, the destination's score beside
// them, and the event-age histogram of the run.
#pragma once

#include "quality/destination_score.hpp"
#include "quality/quality_report.hpp"

#include <optional>
#include <string>

namespace synchost {

struct QualityPage {
    std::string sync, plugin;
    int64_t run = 0, previous_run = 0;   // previous_run 0: none
    const QualityReport *now = nullptr;  // may be NULL: no run recorded figures yet
    const QualityReport *before = nullptr;
    const DestinationOutcome *destination = nullptr;  // NULL: not asked (--local)
};

std::string quality_html(const QualityPage &page);

}  // namespace synchost
