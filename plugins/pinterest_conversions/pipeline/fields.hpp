// Every destination field the pipeline understands, and how each becomes part of a v5 event.
// The names must equal the manifest's "fields" (a unit test holds the two together).
#pragma once

#include <cstdint>
#include <string_view>

namespace pcapi {

enum class Field : uint8_t {
    event_name, event_time, event_id, action_source, event_source_url, opt_out, language, partner_name,
    app_id, app_name, app_version, device_brand, device_carrier, device_model, device_type, os_version, wifi,
    email, hashed_email, phone, hashed_phone, first_name, hashed_first_name, last_name, hashed_last_name,
    gender, hashed_gender, date_of_birth, hashed_date_of_birth, city, hashed_city, state, hashed_state,
    zip, hashed_zip, country, hashed_country, external_id, hashed_external_id, maids, hashed_maids,
    client_ip_address, client_user_agent, click_id, partner_id,
    value, currency, order_id, content_ids, contents, num_items, content_name, content_category,
    content_brand, search_string, opt_out_type, predicted_ltv,
    ldp,  // Limited Data Processing: a boolean column; not sent itself (see PipelineOptions::ldp_states)
    ad_account_id,  // routes the row's event to this ad account (Payload::account); not sent itself
    // app_info object (schema ConversionEventAppInfo)
    app_info_app_id, app_info_app_name, app_info_app_package_name, app_info_app_store, app_info_app_version,
    app_info_install_time, app_info_user_agent, app_info_window_height, app_info_window_width,
    // device_info object (schema ConversionEventDeviceInfo)
    device_info_battery_level, device_info_brand, device_info_carrier, device_info_cpu_cores,
    device_info_external_storage_free_space, device_info_external_storage_size, device_info_form_factor,
    device_info_kernel_version, device_info_languages, device_info_locale, device_info_model,
    device_info_network_type, device_info_os_family, device_info_os_name, device_info_os_release_name,
    device_info_os_version, device_info_screen_density, device_info_screen_height, device_info_screen_width,
    device_info_storage_free_space, device_info_storage_size, device_info_timezone, device_info_timezone_abbr,
    device_info_type,
    count_
};
inline constexpr size_t kFieldCount = static_cast<size_t>(Field::count_);
// The members of app_info and device_info are the last fields, from this one on.
inline constexpr Field kFirstObjectMember = Field::app_info_app_id;

// How a field's value is turned into JSON.
enum class FieldKind : uint8_t {
    event_name, event_time, event_id, action_source, language,
    event_string,  // top-level string (event_source_url, partner_name, app/device strings)
    event_bool,    // top-level boolean (opt_out, wifi)
    hashed,        // user_data identifier, normalized then SHA-256 hashed
    prehashed,     // user_data identifier that must already be a SHA-256 hex digest
    user_string,   // user_data plain string (client_ip_address, ...)
    custom_string, custom_decimal, custom_integer, custom_currency, custom_string_list, custom_contents,
    ldp_flag,              // decides custom_data.opt_out_type = "LDP"
    route,                 // chooses the request the event travels in (Pipeline::encode)
    app_info, device_info  // a member of the event's app_info or device_info object (see MemberRule)
};

// Which normalization rule applies to a hashed field.
enum class Normalizer : uint8_t { none, email, phone, name, gender, date_of_birth, city, state, zip, country, external_id, maid };

struct FieldInfo {
    std::string_view name;     // mapping name (manifest)
    FieldKind kind;
    std::string_view api_key;  // key in the v5 payload ("em", "custom_data.value" -> "value", ...)
    std::string_view json_key; // the same as written after another member: `,"em":`
    Normalizer normalizer;     // for hashed fields
    bool multi;                // several values per row (list / JSON array)
};

const FieldInfo &field_info(Field f) noexcept;

// What a member of app_info or device_info accepts, from Pinterest's schema (release 5.23). A
// value outside it rejects the row with the rule in the reason: Pinterest would refuse the whole
// request for it (additionalProperties false, maxLength, minimum/maximum, enum).
struct MemberRule {
    enum class Type : uint8_t { string, integer, unix_time, choice, string_list } type;
    uint32_t max_length = 0;  // string: characters (code points); string_list: items
    int64_t min = 0, max = 0; // integer
    const std::string_view *choices = nullptr;  // choice: the allowed values, lowercase
    size_t choice_count = 0;
};
const MemberRule &member_rule(Field f) noexcept;  // f's kind must be app_info or device_info

// Field by mapping name; false when unknown.
bool field_by_name(std::string_view name, Field &out) noexcept;

// The standard field names in declaration order (for error messages and tests).
inline constexpr Field all_fields(size_t i) noexcept { return static_cast<Field>(i); }

}  // namespace pcapi
