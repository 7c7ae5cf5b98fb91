// The metrics a plugin reported (sp_host.metric_add) as JSON people and programs can read.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <string>

namespace synchost {

// Whole values become JSON integers ("pinterest.requests": 2, not 2E0); others stay reals.
// Metrics named `NAME.le_B` (B a number or "inf", the Prometheus convention for cumulative
// histogram buckets) are gathered into one object per NAME with the buckets in numeric order,
// "le_inf" last: {"pinterest.request_ms": {"le_50": 3, "le_100": 5, ..., "le_inf": 6}}.
boost::json::object metrics_json(const std::map<std::string, double> &metrics);

}  // namespace synchost
