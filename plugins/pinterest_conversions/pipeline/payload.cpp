#include "pipeline/payload.hpp"

namespace pcapi {

Payload Payload::slice(size_t first, size_t last) const {
    Payload out;
    out.account = account;
    size_t bytes = prefix.size() + suffix.size();
    for (size_t i = first; i < last; ++i) bytes += items[i].end - items[i].begin + 1;
    out.body.reserve(bytes);
    out.body.append(prefix);
    for (size_t i = first; i < last; ++i) {
        if (i != first) out.body.push_back(',');
        const auto begin = static_cast<uint32_t>(out.body.size());
        out.body.append(body, items[i].begin, items[i].end - items[i].begin);
        out.items.push_back({begin, static_cast<uint32_t>(out.body.size()), items[i].record});
    }
    out.body.append(suffix);
    return out;
}

}  // namespace pcapi
