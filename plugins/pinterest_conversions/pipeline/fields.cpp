#include "pipeline/fields.hpp"

#include "pipeline/json_out.hpp"

#include <array>
#include <cstdint>
#include <iterator>

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
    F("ldp", K::ldp_flag, "ldp", N::none, false),
    F("ad_account_id", K::route, "ad_account_id", N::none, false),
    F("app_info.app_id", K::app_info, "app_id", N::none, false),
    F("app_info.app_name", K::app_info, "app_name", N::none, false),
    F("app_info.app_package_name", K::app_info, "app_package_name", N::none, false),
    F("app_info.app_store", K::app_info, "app_store", N::none, false),
    F("app_info.app_version", K::app_info, "app_version", N::none, false),
    F("app_info.install_time", K::app_info, "install_time", N::none, false),
    F("app_info.user_agent", K::app_info, "user_agent", N::none, false),
    F("app_info.window_height", K::app_info, "window_height", N::none, false),
    F("app_info.window_width", K::app_info, "window_width", N::none, false),
    F("device_info.battery_level", K::device_info, "battery_level", N::none, false),
    F("device_info.brand", K::device_info, "brand", N::none, false),
    F("device_info.carrier", K::device_info, "carrier", N::none, false),
    F("device_info.cpu_cores", K::device_info, "cpu_cores", N::none, false),
    F("device_info.external_storage_free_space", K::device_info, "external_storage_free_space", N::none, false),
    F("device_info.external_storage_size", K::device_info, "external_storage_size", N::none, false),
    F("device_info.form_factor", K::device_info, "form_factor", N::none, false),
    F("device_info.kernel_version", K::device_info, "kernel_version", N::none, false),
    F("device_info.languages", K::device_info, "languages", N::none, true),
    F("device_info.locale", K::device_info, "locale", N::none, false),
    F("device_info.model", K::device_info, "model", N::none, false),
    F("device_info.network_type", K::device_info, "network_type", N::none, false),
    F("device_info.os_family", K::device_info, "os_family", N::none, false),
    F("device_info.os_name", K::device_info, "os_name", N::none, false),
    F("device_info.os_release_name", K::device_info, "os_release_name", N::none, false),
    F("device_info.os_version", K::device_info, "os_version", N::none, false),
    F("device_info.screen_density", K::device_info, "screen_density", N::none, false),
    F("device_info.screen_height", K::device_info, "screen_height", N::none, false),
    F("device_info.screen_width", K::device_info, "screen_width", N::none, false),
    F("device_info.storage_free_space", K::device_info, "storage_free_space", N::none, false),
    F("device_info.storage_size", K::device_info, "storage_size", N::none, false),
    F("device_info.timezone", K::device_info, "timezone", N::none, false),
    F("device_info.timezone_abbr", K::device_info, "timezone_abbr", N::none, false),
    F("device_info.type", K::device_info, "type", N::none, false),
}};
#undef F

static_assert(kFields.back().name == "device_info.type", "kFields must follow enum Field");

// The enums of ConversionEventDeviceInfo.
constexpr std::array<std::string_view, 9> kFormFactors{"desktop",    "laptop", "cellphone", "tablet", "smartwatch",
                                                       "tv",         "vr",     "console",   "other"};
constexpr std::array<std::string_view, 8> kNetworkTypes{"wifi",        "cellular_2g", "cellular_3g", "cellular_4g",
                                                        "cellular_5g", "cellular_6g", "ethernet",    "unknown"};
constexpr std::array<std::string_view, 7> kOsFamilies{"ios", "android", "macos", "windows", "linux", "bsd", "other"};

using T = MemberRule::Type;
struct MemberEntry {
    Field field;
    MemberRule rule;
};
// maxLength, minimum/maximum and enum of every member, as the schema states them.
constexpr MemberEntry kMembers[] = {
    {Field::app_info_app_id, {T::string, 200}},
    {Field::app_info_app_name, {T::string, 200}},
    {Field::app_info_app_package_name, {T::string, 200}},
    {Field::app_info_app_store, {T::string, 100}},
    {Field::app_info_app_version, {T::string, 100}},
    {Field::app_info_install_time, {T::unix_time, 0, 0, INT64_MAX}},
    {Field::app_info_user_agent, {T::string, 16384}},
    {Field::app_info_window_height, {T::integer, 0, 0, 30720}},
    {Field::app_info_window_width, {T::integer, 0, 0, 30720}},
    {Field::device_info_battery_level, {T::integer, 0, 0, 100}},
    {Field::device_info_brand, {T::string, 100}},
    {Field::device_info_carrier, {T::string, 100}},
    {Field::device_info_cpu_cores, {T::integer, 0, 0, 1152}},
    {Field::device_info_external_storage_free_space, {T::integer, 0, 0, 1048576}},
    {Field::device_info_external_storage_size, {T::integer, 0, 0, 1048576}},
    {Field::device_info_form_factor, {T::choice, 0, 0, 0, kFormFactors.data(), kFormFactors.size()}},
    {Field::device_info_kernel_version, {T::string, 100}},
    {Field::device_info_languages, {T::string_list, 100}},
    {Field::device_info_locale, {T::string, 35}},
    {Field::device_info_model, {T::string, 100}},
    {Field::device_info_network_type, {T::choice, 0, 0, 0, kNetworkTypes.data(), kNetworkTypes.size()}},
    {Field::device_info_os_family, {T::choice, 0, 0, 0, kOsFamilies.data(), kOsFamilies.size()}},
    {Field::device_info_os_name, {T::string, 100}},
    {Field::device_info_os_release_name, {T::string, 100}},
    {Field::device_info_os_version, {T::string, 100}},
    {Field::device_info_screen_density, {T::integer, 0, 0, 100000}},
    {Field::device_info_screen_height, {T::integer, 0, 0, 30720}},
    {Field::device_info_screen_width, {T::integer, 0, 0, 30720}},
    {Field::device_info_storage_free_space, {T::integer, 0, 0, 1048576}},
    {Field::device_info_storage_size, {T::integer, 0, 0, 1048576}},
    {Field::device_info_timezone, {T::string, 40}},
    {Field::device_info_timezone_abbr, {T::string, 5}},
    {Field::device_info_type, {T::string, 100}},
};
constexpr size_t kFirstMember = static_cast<size_t>(kFirstObjectMember);
constexpr bool members_follow_the_enum() {
    for (size_t i = 0; i < std::size(kMembers); ++i)
        if (static_cast<size_t>(kMembers[i].field) != kFirstMember + i) return false;
    return std::size(kMembers) == kFieldCount - kFirstMember;
}
static_assert(members_follow_the_enum(), "kMembers must list every app_info/device_info member in enum order");

}  // namespace

const FieldInfo &field_info(Field f) noexcept { return kFields[static_cast<size_t>(f)]; }

const MemberRule &member_rule(Field f) noexcept { return kMembers[static_cast<size_t>(f) - kFirstMember].rule; }

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
