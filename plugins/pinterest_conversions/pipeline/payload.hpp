// One request's worth of serialized events: the body plus where each event sits in it, so the
// transport can resend any subset (e.g. to isolate a bad event after a 400) without knowing
// anything about fields. The body is always `prefix item,item,... suffix`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pcapi {

struct Payload {
    struct Item {
        uint32_t begin, end;  // byte range of the item in `body`
        uint32_t record;      // index of the record in the host's batch
    };
    std::string body;
    std::vector<Item> items;
    // The ad account whose events these are, when rows choose it (the ad_account_id field); empty:
    // the configured account. A request never mixes accounts.
    std::string account;
    static constexpr std::string_view prefix = "{\"data\":[";
    static constexpr std::string_view suffix = "]}";

    size_t size() const noexcept { return items.size(); }

    // A new payload with only the items [first, last) of this one (record indices kept).
    Payload slice(size_t first, size_t last) const;
};

// An ad account id as Pinterest's path takes it (digits only, at most 18), without leading zeros:
// "0123" and "123" name one account, which gets one request stream and one budget. Empty when `s`
// is not an account id.
inline std::string_view canonical_ad_account(std::string_view s) {
    if (s.empty() || s.size() > 18) return {};
    for (char c : s)
        if (c < '0' || c > '9') return {};
    const size_t first = s.find_first_not_of('0');
    return first == std::string_view::npos ? s.substr(s.size() - 1) : s.substr(first);
}

}  // namespace pcapi
