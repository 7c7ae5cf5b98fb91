#include "pipeline/event_builder.hpp"

#include "normalize/normalize.hpp"
#include "normalize/values.hpp"
#include "pipeline/event_objects.hpp"
#include "pipeline/json_out.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <span>

namespace pcapi {

namespace {

using json_out::key;

// Sentinel returned from list callbacks when the callback already recorded the error.
constexpr Reason kAlreadyReported = "(reported)";

Reason normalize(Normalizer n, std::string_view in, std::string_view cc, std::string &out) {
    switch (n) {
    case Normalizer::email: return normalize_email(in, out);
    case Normalizer::phone: return normalize_phone(in, cc, out);
    case Normalizer::name: return normalize_name(in, out);
    case Normalizer::gender: return normalize_gender(in, out);
    case Normalizer::date_of_birth: return normalize_date_of_birth(in, out);
    case Normalizer::city: return normalize_city(in, out);
    case Normalizer::state: return normalize_state(in, out);
    case Normalizer::zip: return normalize_zip(in, out);
    case Normalizer::country: return normalize_country(in, out);
    case Normalizer::external_id: return normalize_external_id(in, out);
    case Normalizer::maid: return normalize_maid(in, out);
    case Normalizer::none: break;
    }
    return normalize_prehashed(in, out);
}

// user_data keys whose values are SHA-256 hashes: the raw field and its pre-hashed twin.
struct HashedKey {
    Field raw, prehashed;
    std::string_view json_key;
};
constexpr HashedKey kHashedKeys[] = {
    {Field::email, Field::hashed_email, PCAPI_JSON_KEY("em")},
    {Field::phone, Field::hashed_phone, PCAPI_JSON_KEY("ph")},
    {Field::first_name, Field::hashed_first_name, PCAPI_JSON_KEY("fn")},
    {Field::last_name, Field::hashed_last_name, PCAPI_JSON_KEY("ln")},
    {Field::gender, Field::hashed_gender, PCAPI_JSON_KEY("ge")},
    {Field::date_of_birth, Field::hashed_date_of_birth, PCAPI_JSON_KEY("db")},
    {Field::city, Field::hashed_city, PCAPI_JSON_KEY("ct")},
    {Field::state, Field::hashed_state, PCAPI_JSON_KEY("st")},
    {Field::zip, Field::hashed_zip, PCAPI_JSON_KEY("zp")},
    {Field::country, Field::hashed_country, PCAPI_JSON_KEY("country")},
    {Field::external_id, Field::hashed_external_id, PCAPI_JSON_KEY("external_id")},
    {Field::maids, Field::hashed_maids, PCAPI_JSON_KEY("hashed_maids")},
};

constexpr Field kEventStrings[] = {Field::event_source_url, Field::partner_name, Field::app_id, Field::app_name,
                                   Field::app_version, Field::device_brand, Field::device_carrier,
                                   Field::device_model, Field::device_type, Field::os_version};
constexpr Field kUserStrings[] = {Field::client_ip_address, Field::client_user_agent, Field::click_id,
                                  Field::partner_id};
static_assert(kHashedKeys[EventBuilder::kStateKey].raw == Field::state, "kStateKey must index st");
static_assert(kHashedKeys[EventBuilder::kCountryKey].raw == Field::country, "kCountryKey must index country");

constexpr Field kCustomStrings[] = {Field::order_id, Field::content_name, Field::content_category,
                                    Field::content_brand, Field::search_string};

bool is_null(const sp_value &v) { return v.type == SP_VALUE_NULL; }

// The EQS component a field's value gives an event, if any.
constexpr ComponentSet component_of(Field f) {
    switch (f) {
    case Field::email: return bit(Component::hashed_email);
    case Field::maids: return bit(Component::hashed_maid);
    case Field::client_ip_address: return bit(Component::ip_address);
    case Field::client_user_agent: return bit(Component::user_agent);
    case Field::click_id: return bit(Component::click_id_epik);
    case Field::external_id: return bit(Component::advertiser_external_id);
    case Field::order_id: return bit(Component::order_id);
    case Field::value: return bit(Component::order_value);
    case Field::content_ids:
    case Field::contents: return bit(Component::product_id);
    case Field::event_source_url: return bit(Component::source_url);
    default: return 0;
    }
}

void event_id_material(std::string_view sync_id, std::string_view record_key, std::string &material) {
    material.clear();
    material.append("pcapi-event/1\n").append(sync_id).push_back('\n');
    material.append(record_key);
}

// 8-4-4-4-12, like a UUID, from the first 32 hex digits.
void format_event_id(const char *hex, char out[kEventIdLength]) {
    size_t o = 0, h = 0;
    for (size_t group : {8u, 4u, 4u, 4u, 12u}) {
        if (o != 0) out[o++] = '-';
        std::memcpy(out + o, hex + h, group);
        o += group;
        h += group;
    }
}

}  // namespace

void derive_event_id(Sha256 &sha, std::string_view sync_id, std::string_view record_key, char out[kEventIdLength],
                     std::string &material) {
    event_id_material(sync_id, record_key, material);
    char hex[64];
    sha.hex(material, hex);
    format_event_id(hex, out);
}

void EventBuilder::plan_for(const Mapping &m) {
    if (plan_.mapping == m.id()) return;
    plan_ = Plan{};
    plan_.mapping = m.id();
    for (size_t k = 0; k < std::size(kHashedKeys); ++k)
        for (Field f : {kHashedKeys[k].raw, kHashedKeys[k].prehashed})
            if (m.mapped(f)) plan_.hashed.emplace_back(static_cast<uint8_t>(k), f);
    auto mapped_of = [&m](std::span<const Field> group, std::vector<Field> &out) {
        for (Field f : group)
            if (m.mapped(f)) out.push_back(f);
    };
    mapped_of(kEventStrings, plan_.event_strings);
    mapped_of(kUserStrings, plan_.user_strings);
    mapped_of(kCustomStrings, plan_.custom_strings);
}

bool EventBuilder::fail(RowError &err, Field f, std::string_view reason, int index) {
    err.field = f;
    err.message.clear();
    if (f != Field::count_) {
        err.message.append(field_info(f).name);
        if (index >= 0) err.message.append(" (value ").append(std::to_string(index + 1)).append(")");
        err.message.append(": ");
    }
    err.message.append(reason);
    return false;
}

bool EventBuilder::build(const Mapping &m, const sp_batch &b, uint32_t r, int64_t now_s, std::string &out,
                         std::string &event_id, RowError &err) {
    json_out::Writer w(out);
    return build(m, b, r, now_s, w, event_id, err);
}

bool EventBuilder::build(const Mapping &m, const sp_batch &b, uint32_t r, int64_t now_s, json_out::Writer &out,
                         std::string &event_id, RowError &err) {
    plan_for(m);
    event_id_pending_ = false;
    ldp_ = false;
    components_ = bit(Component::external_event_id);  // every event carries its event_id
    const bool ok = build_event(m, b, r, now_s, out, event_id, err);
    if (event_id_pending_) {  // rejected before the identifiers (and the id with them) were hashed
        char hex[64];
        sha_.hex(id_material_, hex);
        format_event_id(hex, event_id.data());
        event_id_pending_ = false;
    }
    return ok;
}

bool EventBuilder::build_event(const Mapping &m, const sp_batch &b, uint32_t r, int64_t now_s, json_out::Writer &out,
                               std::string &event_id, RowError &err) {
    const size_t mark = out.size();
    auto reject = [&] {
        out.truncate(mark);
        return false;
    };
    bool empty = false;
    Reason why = nullptr;

    // event_id first, so that even a rejection can say which event it was.
    event_id.clear();
    if (m.mapped(Field::event_id)) {
        why = shape_string(m.value(b, r, Field::event_id), event_id, empty);
        if (why) return fail(err, Field::event_id, why);
        if (empty) return fail(err, Field::event_id, "is empty");
    } else {
        const char *rk = b.record_keys ? b.record_keys[r] : nullptr;
        if (rk == nullptr || rk[0] == '\0')
            return fail(err, Field::event_id, "no event id: map event_id, or give the sync a primary key");
        // Hashed later with the event's identifiers (hash_identifiers); a placeholder until then.
        event_id.assign(kEventIdLength, '0');
        event_id_material(opt_.sync_id, rk, id_material_);
        event_id_pending_ = true;
    }

    out.put('{');
    bool first = true;

    const sp_value &name = m.value(b, r, Field::event_name);
    if (is_null(name)) return reject(), fail(err, Field::event_name, "is empty");
    std::string_view shaped;
    auto event_name = [this](const sp_value &v, std::string &o) { return shape_event_name(v, opt_.event_names, o); };
    if ((why = event_names_.shape(name, text_, shaped, event_name)))
        return reject(), fail(err, Field::event_name, why);
    key(out, PCAPI_JSON_KEY("event_name"), first);
    json_out::string(out, shaped);
    event_name_.assign(shaped);

    const sp_value &source = m.value(b, r, Field::action_source);
    if (is_null(source)) {
        shaped = "web";  // Pinterest's default for this destination; documented
    } else if ((why = action_sources_.shape(source, text_, shaped, [this](const sp_value &v, std::string &o) {
                    return shape_action_source(v, opt_.action_sources, o);
                }))) {
        return reject(), fail(err, Field::action_source, why);
    }
    key(out, PCAPI_JSON_KEY("action_source"), first);
    json_out::string(out, shaped);

    int64_t t = now_s;
    if (m.mapped(Field::event_time)) {
        const sp_value &tv = m.value(b, r, Field::event_time);
        if (is_null(tv)) return reject(), fail(err, Field::event_time, "is empty");
        if ((why = parse_event_time(tv, t))) return reject(), fail(err, Field::event_time, why);
        if ((why = check_event_time_window(t, now_s, opt_.max_age_seconds, opt_.max_future_seconds)))
            return reject(), fail(err, Field::event_time, why);
    }
    key(out, PCAPI_JSON_KEY("event_time"), first);
    json_out::integer(out, t);
    event_time_ = t;
    key(out, PCAPI_JSON_KEY("event_id"), first);
    event_id_at_ = out.size() + 1;  // after the opening quote
    json_out::string(out, event_id);

    for (Field f : plan_.event_strings) {
        std::string_view view;
        if ((why = shape_string_view(m.value(b, r, f), text_, view))) return reject(), fail(err, f, why);
        if (view.empty()) continue;
        key(out, field_info(f).json_key, first);
        json_out::string(out, view);
        components_ |= component_of(f);
    }
    for (Field f : {Field::opt_out, Field::wifi}) {
        if (!m.mapped(f) || is_null(m.value(b, r, f))) continue;
        bool flag = false;
        if ((why = shape_bool(m.value(b, r, f), flag))) return reject(), fail(err, f, why);
        key(out, field_info(f).json_key, first);
        out.append(flag ? "true" : "false");
    }
    if (m.mapped(Field::language) && !is_null(m.value(b, r, Field::language))) {
        if ((why = shape_language(m.value(b, r, Field::language), text_)))
            return reject(), fail(err, Field::language, why);
        key(out, PCAPI_JSON_KEY("language"), first);
        json_out::string(out, text_);
    }
    Field bad = Field::count_;
    if (!write_event_objects(m, b, r, opt_.list_delimiter, out, first, objects_, bad, text_))
        return reject(), fail(err, bad, text_);

    key(out, PCAPI_JSON_KEY("user_data"), first);
    if (!user_data(m, b, r, out, event_id, err)) return reject();
    if (!custom_data(m, b, r, out, err)) return reject();
    out.put('}');
    return true;
}

bool EventBuilder::collect_identifiers(const Mapping &m, const sp_batch &b, uint32_t r, RowError &err) {
    identifiers_.clear();
    identifier_text_.clear();
    Reason why = nullptr;
    for (const auto &[k, f] : plan_.hashed) {
        const FieldInfo &info = field_info(f);
        const bool prehashed = info.kind != FieldKind::hashed;
        // Normalizes one value and queues it for hashing; returns a reason on failure.
        auto add = [&](std::string_view item) -> Reason {
            // Items come from for_each_list_item or shape_string_view, which validated the cell's UTF-8.
            if (Reason bad = normalize(info.normalizer, item, opt_.default_phone_country_code, norm_)) return bad;
            identifiers_.push_back(
                {k, prehashed, static_cast<uint32_t>(identifier_text_.size()), static_cast<uint32_t>(norm_.size())});
            identifier_text_.append(norm_);
            return nullptr;
        };
        const sp_value &v = m.value(b, r, f);
        if (info.multi) {
            int index = 0, bad_index = -1;
            Reason bad = nullptr;
            why = for_each_list_item(v, opt_.list_delimiter, list_scratch_, [&](std::string_view item) -> Reason {
                bad = add(item);
                bad_index = index++;
                return bad ? kAlreadyReported : nullptr;
            });
            if (why == kAlreadyReported) {
                // Name the position only when the cell held several values.
                int items = 0;
                for_each_list_item(v, opt_.list_delimiter, list_scratch_, [&](std::string_view) -> Reason {
                    ++items;
                    return nullptr;
                });
                return fail(err, f, bad, items > 1 ? bad_index : -1);
            }
            if (why) return fail(err, f, why);
        } else {
            std::string_view view;
            if ((why = shape_string_view(v, text_, view))) return fail(err, f, why);
            if (!view.empty() && (why = add(view))) return fail(err, f, why);
        }
    }
    return true;
}

void EventBuilder::hash_identifiers(json_out::Writer &out, std::string &event_id) {
    hash_inputs_.clear();
    if (event_id_pending_) hash_inputs_.push_back(id_material_);
    for (const Identifier &id : identifiers_)
        if (!id.prehashed) hash_inputs_.emplace_back(identifier_text_.data() + id.begin, id.size);
    hash_outputs_.resize(64 * hash_inputs_.size());
    if (!hash_inputs_.empty()) sha_.hex_many(hash_inputs_.data(), hash_inputs_.size(), hash_outputs_.data());
    if (event_id_pending_) {
        format_event_id(hash_outputs_.data(), event_id.data());
        std::memcpy(out.data() + event_id_at_, event_id.data(), kEventIdLength);
        event_id_pending_ = false;
    }
}

bool EventBuilder::user_data(const Mapping &m, const sp_batch &b, uint32_t r, json_out::Writer &out, std::string &event_id,
                             RowError &err) {
    if (!collect_identifiers(m, b, r, err) || !decide_ldp(m, b, r, err)) return false;
    const bool id_hashed_here = event_id_pending_;
    hash_identifiers(out, event_id);

    out.put('{');
    bool first = true;
    bool has_em = false, has_maids = false;
    Reason why = nullptr;
    size_t next = 0;                               // into identifiers_, grouped by key
    size_t next_hash = id_hashed_here ? 1 : 0;     // into hash_outputs_
    while (next < identifiers_.size()) {  // one key at a time: identifiers_ are in key order
        const uint8_t k = identifiers_[next].key;
        const HashedKey &hk = kHashedKeys[k];
        hashes_.clear();
        for (; next < identifiers_.size() && identifiers_[next].key == k; ++next) {
            const Identifier &id = identifiers_[next];
            const char *hex = id.prehashed ? identifier_text_.data() + id.begin : hash_outputs_.data() + 64 * next_hash++;
            std::array<char, 64> h;
            std::memcpy(h.data(), hex, 64);
            if (std::find(hashes_.begin(), hashes_.end(), h) == hashes_.end()) hashes_.push_back(h);
        }
        if (hashes_.empty()) continue;
        has_em = has_em || hk.raw == Field::email;
        has_maids = has_maids || hk.raw == Field::maids;
        components_ |= component_of(hk.raw);
        key(out, hk.json_key, first);
        // ["h1","h2"]: 67 bytes per hash, written in place.
        const size_t bytes = 1 + hashes_.size() * 67;
        char *p = out.room(bytes);
        out.advance(bytes);
        *p++ = '[';
        for (size_t i = 0; i < hashes_.size(); ++i) {
            *p++ = '"';
            std::memcpy(p, hashes_[i].data(), 64);
            p += 64;
            *p++ = '"';
            *p++ = i + 1 < hashes_.size() ? ',' : ']';
        }
    }

    bool has_ip = false, has_ua = false;
    for (Field f : plan_.user_strings) {
        std::string_view view;
        if ((why = shape_string_view(m.value(b, r, f), text_, view))) return fail(err, f, why);
        if (view.empty()) continue;
        has_ip = has_ip || f == Field::client_ip_address;
        has_ua = has_ua || f == Field::client_user_agent;
        key(out, field_info(f).json_key, first);
        json_out::string(out, view);
        components_ |= component_of(f);
    }
    if (!has_em && !has_maids && !(has_ip && has_ua))
        return fail(err, Field::count_,
                    "no usable identifier: Pinterest needs an email (email or hashed_email), a mobile ad id "
                    "(maids or hashed_maids), or both client_ip_address and client_user_agent; phone and the "
                    "other fields alone are not enough");
    out.put('}');
    return true;
}

bool EventBuilder::custom_data(const Mapping &m, const sp_batch &b, uint32_t r, json_out::Writer &out, RowError &err) {
    const size_t mark = out.size();
    out.append(",\"custom_data\":{");
    const size_t body_start = out.size();
    bool first = true;
    Reason why = nullptr;
    auto present = [&](Field f) { return m.mapped(f) && !is_null(m.value(b, r, f)); };

    for (Field f : {Field::value, Field::predicted_ltv}) {
        if (!present(f)) continue;
        if ((why = shape_decimal(m.value(b, r, f), text_))) return fail(err, f, why);
        key(out, field_info(f).json_key, first);
        json_out::string(out, text_);
        components_ |= component_of(f);
    }
    if (present(Field::currency)) {
        std::string_view shaped;
        if ((why = currencies_.shape(m.value(b, r, Field::currency), text_, shaped, shape_currency)))
            return fail(err, Field::currency, why);
        key(out, PCAPI_JSON_KEY("currency"), first);
        json_out::string(out, shaped);
    }
    for (Field f : plan_.custom_strings) {
        std::string_view view;
        if ((why = shape_string_view(m.value(b, r, f), text_, view))) return fail(err, f, why);
        if (view.empty()) continue;
        key(out, field_info(f).json_key, first);
        json_out::string(out, view);
        components_ |= component_of(f);
    }
    if (!opt_out_type(m, b, r, out, first, err)) return false;
    if (present(Field::num_items)) {
        int64_t n = 0;
        if ((why = shape_integer(m.value(b, r, Field::num_items), n))) return fail(err, Field::num_items, why);
        key(out, PCAPI_JSON_KEY("num_items"), first);
        json_out::integer(out, n);
    }
    if (present(Field::content_ids)) {
        const sp_value &v = m.value(b, r, Field::content_ids);  // for_each_list_item validates UTF-8
        const size_t key_mark = out.size();
        const bool first_before = first;
        key(out, PCAPI_JSON_KEY("content_ids"), first);
        out.put('[');
        size_t count = 0;
        why = for_each_list_item(v, opt_.list_delimiter, list_scratch_, [&](std::string_view item) -> Reason {
            if (count++) out.put(',');
            json_out::string(out, item);
            return nullptr;
        });
        if (why) return fail(err, Field::content_ids, why);
        out.put(']');
        if (count == 0) {  // an empty list is omitted, not sent as []
            out.truncate(key_mark);
            first = first_before;
        } else {
            components_ |= component_of(Field::content_ids);
        }
    }
    if (present(Field::contents)) {
        if ((why = shape_contents(m.value(b, r, Field::contents), text_))) {
            fail(err, Field::contents, why);
            if (!text_.empty()) err.message.append(" (key \"").append(text_).append("\")");  // a key name, never a value
            return false;
        }
        if (!text_.empty()) {  // NULL, blank or [] is omitted
            key(out, PCAPI_JSON_KEY("contents"), first);
            out.append(text_);
            components_ |= component_of(Field::contents);
        }
    }
    if (out.size() == body_start) out.truncate(mark);  // nothing: omit custom_data entirely
    else out.put('}');
    return true;
}

}  // namespace pcapi
