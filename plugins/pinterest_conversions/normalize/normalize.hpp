// Per-identifier normalization rules for Pinterest user_data, applied before SHA-256 hashing.
//
// Pure functions: no I/O, no global state, no allocation beyond growing the caller's `out`
// buffer (which callers reuse across rows). Each returns nullptr on success with the normalized
// text in `out` (cleared first), or a static, PII-free reason string on failure.
// The rules follow ../shared/reference/pinterest-conversions-api.md §3; README "Normalization"
// documents them for users.
#pragma once

#include <string>
#include <string_view>

namespace pcapi {

using Reason = const char *;  // nullptr = ok

// Trimmed, lowercased; must look like local@domain with no spaces.
Reason normalize_email(std::string_view in, std::string &out);

// Digits only with the country code. "+" and "00" prefixes are international; otherwise leading
// zeros (trunk prefix) are dropped and `default_country_code` (digits, may be empty) is prepended
// unless the digits already start with it and are at least 11 long. An extension (x, ext, #) is
// dropped. Result must be 7..15 digits.
Reason normalize_phone(std::string_view in, std::string_view default_country_code, std::string &out);

// First/last name: trimmed, lowercased (ASCII and common Latin/Greek/Cyrillic letters).
Reason normalize_name(std::string_view in, std::string &out);

// f, m or n from common spellings (female/woman/f, male/man/m, non-binary/nonbinary/nb/n/x/other...).
Reason normalize_gender(std::string_view in, std::string &out);

// YYYYMMDD from YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, MM/DD/YYYY (DD/MM/YYYY when the first part > 12),
// DD.MM.YYYY, or an ISO date-time (date part). Must be a real calendar date, year >= 1900.
Reason normalize_date_of_birth(std::string_view in, std::string &out);

// Lowercased, without spaces or punctuation ("Menlo Park" -> "menlopark").
Reason normalize_city(std::string_view in, std::string &out);

// Two-letter lowercase code; US state names (and DC, territories) are converted.
Reason normalize_state(std::string_view in, std::string &out);

// US ZIP / ZIP+4 -> 5 digits; other postcodes lowercased with spaces and dashes removed
// ("SW1A 1AA" -> "sw1a1aa"). Never destroys letters of non-US postcodes.
Reason normalize_zip(std::string_view in, std::string &out);

// ISO-3166 alpha-2, lowercase; alpha-3 codes and common English names are converted.
Reason normalize_country(std::string_view in, std::string &out);

// Trimmed; case kept.
Reason normalize_external_id(std::string_view in, std::string &out);

// Mobile advertising id (GAID/IDFA): trimmed, lowercased.
Reason normalize_maid(std::string_view in, std::string &out);

// A pre-hashed value: trimmed; must be exactly 64 hex characters; uppercase hex is lowercased.
Reason normalize_prehashed(std::string_view in, std::string &out);

}  // namespace pcapi
