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
    count_
};
inline constexpr size_t kFieldCount = static_cast<size_t>(Field::count_);

// How a field's value is turned into JSON.
enum class FieldKind : uint8_t {
    event_name, event_time, event_id, action_source, language,
    event_string,  // top-level string (event_source_url, partner_name, app/device strings)
    event_bool,    // top-level boolean (opt_out, wifi)
    hashed,        // user_data identifier, normalized then SHA-256 hashed
    prehashed,     // user_data identifier that must already be a SHA-256 hex digest
    user_string,   // user_data plain string (client_ip_address, ...)
    custom_string, custom_decimal, custom_integer, custom_currency, custom_string_list, custom_contents
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

// Field by mapping name; false when unknown.
bool field_by_name(std::string_view name, Field &out) noexcept;

// The standard field names in declaration order (for error messages and tests).
inline constexpr Field all_fields(size_t i) noexcept { return static_cast<Field>(i); }

}  // namespace pcapi
