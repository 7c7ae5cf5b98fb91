// What the plugin can tell, locally, about how well Pinterest will match the events it sends:
// per event name, how many events carried each of the components Pinterest's Event Quality Score
// grades, and how old the events were when they were sent (Pinterest counts events that arrive
// more than an hour late as offline conversions). Counted as each event is placed in a request,
// with no second pass. Pure: the caller passes each event's age.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace pcapi {

// Pinterest's EQS components (GET /v5/ad_accounts/{id}/conversion_eqs, quality_components), in
// the order reports list them.
enum class Component : uint8_t {
    hashed_email,
    hashed_maid,
    ip_address,
    user_agent,
    click_id_epik,
    advertiser_external_id,
    external_event_id,
    order_id,
    order_value,
    product_id,
    source_url,
    count_
};
inline constexpr size_t kComponentCount = static_cast<size_t>(Component::count_);
using ComponentSet = uint16_t;  // bit i: Component i
static_assert(kComponentCount <= 16, "ComponentSet holds one bit per component");

constexpr ComponentSet bit(Component c) {
    return static_cast<ComponentSet>(1u << static_cast<unsigned>(c));
}

// Pinterest's names of the components, indexed by Component.
const std::array<const char *, kComponentCount> &component_names();

// Event ages in whole seconds: exact below 64 s, then 64 buckets per doubling (each at most
// 1/64 = 1.6 % wide), so percentiles are within 2 % and the histogram stays a few kilobytes
// however many events are counted. Memory is taken at the first event.
class AgeHistogram {
public:
    // Inline: called for every event sent.
    void add(int64_t age_s) {
        const uint64_t v = age_s > 0 ? static_cast<uint64_t>(age_s) : 0;
        const size_t b = bucket_of(v);
        if (b >= buckets_.size()) grow(b);
        ++buckets_[b];
        ++count_;
        max_ = std::max(max_, static_cast<int64_t>(v));
    }
    uint64_t count() const { return count_; }
    int64_t max() const { return max_; }
    // The p-th percentile (0 < p <= 1): the lower bound of the bucket holding that rank, or the
    // exact maximum when that is lower. 0 when empty.
    int64_t percentile(double p) const;

private:
    static size_t bucket_of(uint64_t v) {
        if (v < 64) return static_cast<size_t>(v);
        const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // 6 or more
        return 64 + static_cast<size_t>(e - 6) * 64 + static_cast<size_t>((v >> (e - 6)) - 64);
    }
    static uint64_t lower_bound_of(size_t bucket);
    void grow(size_t bucket);
    std::vector<uint64_t> buckets_;
    uint64_t count_ = 0;
    int64_t max_ = 0;
};

class MatchQuality {
public:
    // Events later than this reach Pinterest as offline conversions.
    static constexpr int64_t kLateAfterSeconds = 3600;
    // Distinct event names counted apart; any further custom names share one group, so a model
    // with a name per row cannot grow the report without bound.
    static constexpr size_t kMaxGroups = 64;
    static constexpr std::string_view kOtherGroup = "(other custom names)";

    struct Group {
        std::string name;
        uint64_t events = 0;
        // Events of a group mostly carry the same components: they are counted as runs of one
        // set, spread over `settled` only when the set changes.
        std::array<uint64_t, kComponentCount> settled{};
        ComponentSet run_set = 0;
        uint64_t run = 0;
        uint64_t prefix = 0;  // the name's first 8 bytes, zero-padded: most comparisons end here

        // Events of the group that carried component c.
        uint64_t with(size_t c) const { return settled[c] + ((run_set >> c) & 1u) * run; }
    };

    // One sent event: its (shaped) name, the components it carried, and its age when sent.
    // Inline and short: it runs for every event sent.
    void count(std::string_view event_name, ComponentSet components, int64_t age_s) {
        count_in(group_of(event_name), components, age_s);
    }
    // The same in two steps: the group is found when the event is built, and the event counted
    // once the destination took it (an event that is never sent is never counted).
    size_t group_of(std::string_view event_name) {
        return last_ < groups_.size() && same_name(groups_[last_], event_name) ? last_ : group_index(event_name);
    }
    void count_in(size_t group, ComponentSet components, int64_t age_s) {
        Group &g = groups_[group];
        ++g.events;
        if (components != g.run_set) settle(g, components);
        ++g.run;
        ages_.add(age_s);
        late_ += age_s > kLateAfterSeconds ? 1 : 0;
        size_t b = 0;
        for (size_t i = 0; i + 1 < kAgeBounds.size(); ++i) b += age_s > kAgeBounds[i] ? 1 : 0;
        ++age_buckets_[b];
    }

    const std::vector<Group> &groups() const { return groups_; }
    const AgeHistogram &ages() const { return ages_; }
    uint64_t late_events() const { return late_; }
    // Exact counts per coarse age bucket (for charts): events at most kAgeBounds[i] seconds old
    // and older than the bound before; the last bound holds everything older.
    static constexpr std::array<int64_t, 10> kAgeBounds = {
        60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, std::numeric_limits<int64_t>::max()};
    const std::array<uint64_t, kAgeBounds.size()> &age_buckets() const { return age_buckets_; }

private:
    static uint64_t prefix_of(std::string_view name) {
        uint64_t p = 0;
        std::memcpy(&p, name.data(), std::min<size_t>(name.size(), 8));
        return p;
    }
    static bool same_name(const Group &g, std::string_view name) {
        return g.name.size() == name.size() && g.prefix == prefix_of(name) &&
               (name.size() <= 8 || std::memcmp(g.name.data() + 8, name.data() + 8, name.size() - 8) == 0);
    }
    // Adds the group's current run to `settled` and starts a run of `next`.
    static void settle(Group &g, ComponentSet next) {
        for (size_t c = 0; c < kComponentCount; ++c) g.settled[c] = g.with(c);
        g.run_set = next;
        g.run = 0;
    }
    size_t group_index(std::string_view name);
    std::vector<Group> groups_;
    size_t last_ = 0;  // the group counted last: consecutive events usually share a name
    AgeHistogram ages_;
    uint64_t late_ = 0;
    std::array<uint64_t, kAgeBounds.size()> age_buckets_{};
};

}  // namespace pcapi
