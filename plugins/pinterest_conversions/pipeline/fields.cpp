#include "pipeline/fields.hpp"

#include <array>

namespace pcapi {

namespace {

using K = FieldKind;
using N = Normalizer;

// Order must follow enum Field exactly (checked by a static_assert below).
constexpr std::array<FieldInfo, kFieldCount> kFields{{
    {"event_name", K::event_name, "event_name", N::none, false},
    {"event_time", K::event_time, "event_time", N::none, false},
    {"event_id", K::event_id, "event_id", N::none, false},
    {"action_source", K::action_source, "action_source", N::none, false},
    {"event_source_url", K::event_string, "event_source_url", N::none, false},
    {"opt_out", K::event_bool, "opt_out", N::none, false},
    {"language", K::language, "language", N::none, false},
    {"partner_name", K::event_string, "partner_name", N::none, false},
    {"app_id", K::event_string, "app_id", N::none, false},
    {"app_name", K::event_string, "app_name", N::none, false},
    {"app_version", K::event_string, "app_version", N::none, false},
    {"device_brand", K::event_string, "device_brand", N::none, false},
    {"device_carrier", K::event_string, "device_carrier", N::none, false},
    {"device_model", K::event_string, "device_model", N::none, false},
    {"device_type", K::event_string, "device_type", N::none, false},
    {"os_version", K::event_string, "os_version", N::none, false},
    {"wifi", K::event_bool, "wifi", N::none, false},
    {"email", K::hashed, "em", N::email, true},
    {"hashed_email", K::prehashed, "em", N::none, true},
    {"phone", K::hashed, "ph", N::phone, true},
    {"hashed_phone", K::prehashed, "ph", N::none, true},
    {"first_name", K::hashed, "fn", N::name, false},
    {"hashed_first_name", K::prehashed, "fn", N::none, false},
    {"last_name", K::hashed, "ln", N::name, false},
    {"hashed_last_name", K::prehashed, "ln", N::none, false},
    {"gender", K::hashed, "ge", N::gender, false},
    {"hashed_gender", K::prehashed, "ge", N::none, false},
    {"date_of_birth", K::hashed, "db", N::date_of_birth, false},
    {"hashed_date_of_birth", K::prehashed, "db", N::none, false},
    {"city", K::hashed, "ct", N::city, false},
    {"hashed_city", K::prehashed, "ct", N::none, false},
    {"state", K::hashed, "st", N::state, false},
    {"hashed_state", K::prehashed, "st", N::none, false},
    {"zip", K::hashed, "zp", N::zip, false},
    {"hashed_zip", K::prehashed, "zp", N::none, false},
    {"country", K::hashed, "country", N::country, false},
    {"hashed_country", K::prehashed, "country", N::none, false},
    {"external_id", K::hashed, "external_id", N::external_id, true},
    {"hashed_external_id", K::prehashed, "external_id", N::none, true},
    {"maids", K::hashed, "hashed_maids", N::maid, true},
    {"hashed_maids", K::prehashed, "hashed_maids", N::none, true},
    {"client_ip_address", K::user_string, "client_ip_address", N::none, false},
    {"client_user_agent", K::user_string, "client_user_agent", N::none, false},
    {"click_id", K::user_string, "click_id", N::none, false},
    {"partner_id", K::user_string, "partner_id", N::none, false},
    {"value", K::custom_decimal, "value", N::none, false},
    {"currency", K::custom_currency, "currency", N::none, false},
    {"order_id", K::custom_string, "order_id", N::none, false},
    {"content_ids", K::custom_string_list, "content_ids", N::none, true},
    {"contents", K::custom_contents, "contents", N::none, false},
    {"num_items", K::custom_integer, "num_items", N::none, false},
    {"content_name", K::custom_string, "content_name", N::none, false},
    {"content_category", K::custom_string, "content_category", N::none, false},
    {"content_brand", K::custom_string, "content_brand", N::none, false},
    {"search_string", K::custom_string, "search_string", N::none, false},
    {"opt_out_type", K::custom_string, "opt_out_type", N::none, false},
    {"predicted_ltv", K::custom_decimal, "predicted_ltv", N::none, false},
}};

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
