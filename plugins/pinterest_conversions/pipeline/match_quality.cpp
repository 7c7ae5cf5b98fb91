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

size_t AgeHistogram::bucket_of(uint64_t v) {
    if (v < 64) return static_cast<size_t>(v);
    const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // 6 or more
    const uint64_t sub = (v >> (e - 6)) - 64;                             // 0..63
    return 64 + static_cast<size_t>(e - 6) * 64 + static_cast<size_t>(sub);
}

uint64_t AgeHistogram::lower_bound_of(size_t bucket) {
    if (bucket < 64) return bucket;
    const size_t k = (bucket - 64) / 64, sub = (bucket - 64) % 64;
    return static_cast<uint64_t>(64 + sub) << k;
}

void AgeHistogram::add(int64_t age_s) {
    const uint64_t v = age_s > 0 ? static_cast<uint64_t>(age_s) : 0;
    const size_t b = bucket_of(v);
    if (b >= buckets_.size()) buckets_.resize(std::max<size_t>(b + 1, 64 * 12));  // 12 doublings: ~3 days
    ++buckets_[b];
    ++count_;
    max_ = std::max(max_, static_cast<int64_t>(v));
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

MatchQuality::Group &MatchQuality::group(std::string_view name) {
    if (last_ < groups_.size() && groups_[last_].name == name) return groups_[last_];
    for (size_t g = 0; g < groups_.size(); ++g)
        if (groups_[g].name == name) return groups_[last_ = g];
    if (groups_.size() + 1 >= kMaxGroups) {  // the last slot is the shared one
        for (size_t g = 0; g < groups_.size(); ++g)
            if (groups_[g].name == kOtherGroup) return groups_[last_ = g];
        name = kOtherGroup;
    }
    groups_.push_back({std::string(name), 0, {}});
    last_ = groups_.size() - 1;
    return groups_.back();
}

void MatchQuality::count(std::string_view event_name, ComponentSet components, int64_t age_s) {
    Group &g = group(event_name);
    ++g.events;
    // Branch-free: every component's counter gets 0 or 1 (the compiler vectorizes this).
    for (size_t c = 0; c < kComponentCount; ++c) g.with[c] += (components >> c) & 1u;
    ages_.add(age_s);
    late_ += age_s > kLateAfterSeconds ? 1 : 0;
    size_t b = 0;
    for (size_t i = 0; i + 1 < kAgeBounds.size(); ++i) b += age_s > kAgeBounds[i] ? 1 : 0;
    ++age_buckets_[b];
}

}  // namespace pcapi
