#include "runtime/metrics_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

namespace synchost {

namespace {

boost::json::value number(double v) {
    if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < 9.007199254740992e15)  // exact below 2^53
        return static_cast<std::int64_t>(v);
    return v;
}

// The bucket bound of "le_B", or nullopt-like false when `suffix` is not one.
bool bucket_bound(std::string_view suffix, double &bound) {
    if (suffix == "inf") {
        bound = std::numeric_limits<double>::infinity();
        return true;
    }
    if (suffix.empty()) return false;
    const std::string text(suffix);
    char *end = nullptr;
    bound = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && std::isfinite(bound);
}

}  // namespace

boost::json::object metrics_json(const std::map<std::string, double> &metrics) {
    struct Bucket {
        double bound;
        std::string name;  // "le_50"
        double value;
    };
    std::map<std::string, std::vector<Bucket>> histograms;
    boost::json::object out;
    for (const auto &[name, value] : metrics) {
        const size_t at = name.rfind(".le_");
        double bound = 0;
        if (at != std::string::npos && at > 0 && bucket_bound(std::string_view(name).substr(at + 4), bound)) {
            histograms[name.substr(0, at)].push_back({bound, name.substr(at + 1), value});
            continue;
        }
        out[name] = number(value);
    }
    for (auto &[name, buckets] : histograms) {
        std::sort(buckets.begin(), buckets.end(), [](const Bucket &a, const Bucket &b) { return a.bound < b.bound; });
        boost::json::object h;
        for (const Bucket &b : buckets) h[b.name] = number(b.value);
        out[name] = std::move(h);
    }
    return out;
}

}  // namespace synchost
