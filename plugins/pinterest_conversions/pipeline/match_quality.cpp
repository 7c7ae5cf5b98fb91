#include "pipeline/match_quality.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pcapi {

const std::array<const char *, kComponentCount> &component_names() {
    static constexpr std::array<const char *, kComponentCount> kNames = {
        "hashed_email",      "hashed_maid", "ip_address",  "user_agent", "click_id_epik", "advertiser_external_id",
        "external_event_id", "order_id",    "order_value", "product_id", "source_url"};
    return kNames;
}

uint64_t AgeHistogram::lower_bound_of(size_t bucket) {
    if (bucket < 64) return bucket;
    const size_t k = (bucket - 64) / 64, sub = (bucket - 64) % 64;
    return static_cast<uint64_t>(64 + sub) << k;
}

void AgeHistogram::grow(size_t bucket) {
    buckets_.resize(std::max<size_t>(bucket + 1, 64 * 12));  // 12 doublings: ~3 days, at once
}

int64_t AgeHistogram::percentile(double p) const {
    if (count_ == 0) return 0;
    const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_))));
    uint64_t seen = 0;
    for (size_t b = 0; b < buckets_.size(); ++b) {
        seen += buckets_[b];
        if (seen >= rank) return std::min(static_cast<int64_t>(lower_bound_of(b)), max_);
    }
    return max_;
}

size_t MatchQuality::group_index(std::string_view name) {
    for (size_t g = 0; g < groups_.size(); ++g)
        if (same_name(groups_[g], name)) return last_ = g;
    if (groups_.size() + 1 >= kMaxGroups) {  // the last slot is the shared one
        for (size_t g = 0; g < groups_.size(); ++g)
            if (groups_[g].name == kOtherGroup) return last_ = g;
        name = kOtherGroup;
    }
    Group fresh;
    fresh.name.assign(name);
    fresh.prefix = prefix_of(name);
    groups_.push_back(std::move(fresh));
    return last_ = groups_.size() - 1;
}

}  // namespace pcapi
