// Limited Data Processing (Pinterest reference §10): custom_data.opt_out_type is a comma-separated
// list of which only "LDP" is processed, and an LDP event must carry country and st so that
// Pinterest can apply the state's rules. An event is LDP when its `ldp` field is true, or when
// its state is one of PipelineOptions::ldp_states and it is in the US.
#include "normalize/normalize.hpp"
#include "normalize/values.hpp"
#include "pipeline/event_builder.hpp"

#include <algorithm>

namespace pcapi {

namespace {

// Whether the opt_out_type list already names LDP (any case, spaces around items allowed).
bool lists_ldp(std::string_view list) {
    while (!list.empty()) {
        const size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (item.size() == 3 && (item[0] | 0x20) == 'l' && (item[1] | 0x20) == 'd' && (item[2] | 0x20) == 'p')
            return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

bool EventBuilder::decide_ldp(const Mapping &m, const sp_batch &b, uint32_t r, RowError &err) {
    ldp_ = false;
    bool flagged = false;
    if (m.mapped(Field::ldp)) {
        const sp_value &v = m.value(b, r, Field::ldp);
        if (v.type != SP_VALUE_NULL)
            if (Reason why = shape_bool(v, flagged)) return fail(err, Field::ldp, why);
    }
    const Identifier *state = nullptr, *country = nullptr;
    for (const Identifier &id : identifiers_) {
        if (id.key == kStateKey && state == nullptr) state = &id;
        if (id.key == kCountryKey && country == nullptr) country = &id;
    }
    auto text = [&](const Identifier *id) { return std::string_view(identifier_text_).substr(id->begin, id->size); };
    bool listed = false;
    if (!opt_.ldp_states.empty() && state != nullptr && !state->prehashed &&
        (country == nullptr || (!country->prehashed && text(country) == "us")))
        listed = std::find(opt_.ldp_states.begin(), opt_.ldp_states.end(), text(state)) != opt_.ldp_states.end();
    ldp_ = flagged || listed;
    if (!ldp_) return true;
    if (state == nullptr)
        return fail(err, Field::ldp,
                    "an LDP event needs its state: map state (or hashed_state) so that Pinterest can apply the "
                    "state's rules");
    if (country != nullptr) return true;
    if (!listed) return fail(err, Field::ldp, "an LDP event needs its country: map country (or hashed_country)");
    // ldp_states names US states, so the country is known: add it where the country key belongs
    // (identifiers_ stay grouped by key in key order).
    if (Reason why = normalize_country("US", norm_)) return fail(err, Field::country, why);
    const auto at = std::find_if(identifiers_.begin(), identifiers_.end(),
                                 [](const Identifier &id) { return id.key > kCountryKey; });
    identifiers_.insert(at, Identifier{kCountryKey, false, static_cast<uint32_t>(identifier_text_.size()),
                                       static_cast<uint32_t>(norm_.size())});
    identifier_text_.append(norm_);
    return true;
}

bool EventBuilder::opt_out_type(const Mapping &m, const sp_batch &b, uint32_t r, json_out::Writer &out, bool &first,
                                RowError &err) {
    std::string_view view;
    if (m.mapped(Field::opt_out_type))
        if (Reason why = shape_string_view(m.value(b, r, Field::opt_out_type), text_, view))
            return fail(err, Field::opt_out_type, why);
    if (!ldp_ && view.empty()) return true;
    json_out::key(out, PCAPI_JSON_KEY("opt_out_type"), first);
    if (!ldp_ || lists_ldp(view)) {
        json_out::string(out, view);
    } else if (view.empty()) {
        json_out::string(out, "LDP");
    } else {
        scratch_.assign(view).append(",LDP");
        json_out::string(out, scratch_);
    }
    return true;
}

}  // namespace pcapi
