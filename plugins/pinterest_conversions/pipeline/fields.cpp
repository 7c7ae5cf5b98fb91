#include "pipeline/fields.hpp"

#include "pipeline/json_out.hpp"

#include <array>

namespace pcapi {

namespace {

using K = FieldKind;
using N = Normalizer;

// The JSON key written after another member: `,"em":`.
#define F(name, kind, api, norm, multi) FieldInfo{name, kind, api, PCAPI_JSON_KEY(api), norm, multi}

// Order must follow enum Field exactly (checked by a static_assert below).
constexpr std::array<FieldInfo, kFieldCount> kFields{{
    F("event_name", K::event_name, "event_name", N::none, false),
    F("event_time", K::event_time, "event_time", N::none, false),
    F("event_id", K::event_id, "event_id", N::none, false),
    F("action_source", K::action_source, "action_source", N::none, false),
    F("event_source_url", K::event_string, "event_source_url", N::none, false),
    F("opt_out", K::event_bool, "opt_out", N::none, false),
    F("language", K::language, "language", N::none, false),
    F("partner_name", K::event_string, "partner_name", N::none, false),
    F("app_id", K::event_string, "app_id", N::none, false),
    F("app_name", K::event_string, "app_name", N::none, false),
    F("app_version", K::event_string, "app_version", N::none, false),
    F("device_brand", K::event_string, "device_brand", N::none, false),
    F("device_carrier", K::event_string, "device_carrier", N::none, false),
    F("device_model", K::event_string, "device_model", N::none, false),
    F("device_type", K::event_string, "device_type", N::none, false),
    F("os_version", K::event_string, "os_version", N::none, false),
    F("wifi", K::event_bool, "wifi", N::none, false),
    F("email", K::hashed, "em", N::email, true),
    F("hashed_email", K::prehashed, "em", N::none, true),
    F("phone", K::hashed, "ph", N::phone, true),
    F("hashed_phone", K::prehashed, "ph", N::none, true),
    F("first_name", K::hashed, "fn", N::name, false),
    F("hashed_first_name", K::prehashed, "fn", N::none, false),
    F("last_name", K::hashed, "ln", N::name, false),
    F("hashed_last_name", K::prehashed, "ln", N::none, false),
    F("gender", K::hashed, "ge", N::gender, false),
    F("hashed_gender", K::prehashed, "ge", N::none, false),
    F("date_of_birth", K::hashed, "db", N::date_of_birth, false),
    F("hashed_date_of_birth", K::prehashed, "db", N::none, false),
    F("city", K::hashed, "ct", N::city, false),
    F("hashed_city", K::prehashed, "ct", N::none, false),
    F("state", K::hashed, "st", N::state, false),
    F("hashed_state", K::prehashed, "st", N::none, false),
    F("zip", K::hashed, "zp", N::zip, false),
    F("hashed_zip", K::prehashed, "zp", N::none, false),
    F("country", K::hashed, "country", N::country, false),
    F("hashed_country", K::prehashed, "country", N::none, false),
    F("external_id", K::hashed, "external_id", N::external_id, true),
    F("hashed_external_id", K::prehashed, "external_id", N::none, true),
    F("maids", K::hashed, "hashed_maids", N::maid, true),
    F("hashed_maids", K::prehashed, "hashed_maids", N::none, true),
    F("client_ip_address", K::user_string, "client_ip_address", N::none, false),
    F("client_user_agent", K::user_string, "client_user_agent", N::none, false),
    F("click_id", K::user_string, "click_id", N::none, false),
    F("partner_id", K::user_string, "partner_id", N::none, false),
    F("value", K::custom_decimal, "value", N::none, false),
    F("currency", K::custom_currency, "currency", N::none, false),
    F("order_id", K::custom_string, "order_id", N::none, false),
    F("content_ids", K::custom_string_list, "content_ids", N::none, true),
    F("contents", K::custom_contents, "contents", N::none, false),
    F("num_items", K::custom_integer, "num_items", N::none, false),
    F("content_name", K::custom_string, "content_name", N::none, false),
    F("content_category", K::custom_string, "content_category", N::none, false),
    F("content_brand", K::custom_string, "content_brand", N::none, false),
    F("search_string", K::custom_string, "search_string", N::none, false),
    F("opt_out_type", K::custom_string, "opt_out_type", N::none, false),
    F("predicted_ltv", K::custom_decimal, "predicted_ltv", N::none, false),
}};
#undef F

static_assert(kFields.back().name == "predicted_ltv", "kFields must follow enum Field");

}  // namespace

const FieldInfo &field_info(Field f) noexcept { return kFields[static_cast<size_t>(f)]; }

bool field_by_name(std::string_view name, Field &out) noexcept {
    for (size_t i = 0; i < kFields.size(); ++i) {
        if (kFields[i].name == name) {
            out = static_cast<Field>(i);
            return true;
        }
    }
    return false;
}

}  // namespace pcapi
