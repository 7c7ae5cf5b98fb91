// Shaping of non-identifier values into what the Pinterest v5 events API demands.
// Pure functions over sp_value cells; no I/O. Each returns nullptr on success or a static,
// PII-free reason. Output buffers are cleared first and reused by callers across rows.
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace pcapi {

using Reason = const char *;  // nullptr = ok

// Unix seconds from: INT (seconds; values > 1e11 are milliseconds, > 1e14 microseconds),
// REAL (seconds), TEXT holding digits (same rules), ISO-8601 with Z or an offset (fractions
// allowed), SQL datetime "YYYY-MM-DD HH:MM:SS[.fff]" (UTC), or a date "YYYY-MM-DD" (midnight UTC).
Reason parse_event_time(const sp_value &v, int64_t &unix_seconds);

// Window rule: rejects times more than max_future_s after now, or older than max_age_s.
Reason check_event_time_window(int64_t t, int64_t now_s, int64_t max_age_s, int64_t max_future_s);

// A decimal string for value / item_price / predicted_ltv: INT -> "12", REAL -> shortest exact
// fixed notation ("12.5"; NaN/inf rejected), TEXT trimmed and matching [+-]?digits[.digits].
Reason shape_decimal(const sp_value &v, std::string &out);

// Integer (num_items, quantity): INT, integral REAL, or TEXT of digits.
Reason shape_integer(const sp_value &v, int64_t &out);

// Boolean (opt_out, wifi): BOOL, INT 0/1, TEXT true/false/yes/no/1/0/t/f/y/n (any case).
Reason shape_bool(const sp_value &v, bool &out);

// Plain string: TEXT trimmed; INT/REAL rendered as text (order_id 123 -> "123"); must be valid
// UTF-8 without NUL bytes; empty after trimming is reported as `empty` = true (field omitted).
Reason shape_string(const sp_value &v, std::string &out, bool &empty);

// ISO-4217 code, upper-cased, from the table of active codes.
Reason shape_currency(const sp_value &v, std::string &out);

// Standard event names (any case, lowercased) or a custom name: letters, digits, _ and -,
// 1..100 characters (kept as given).
Reason shape_event_name(const sp_value &v, std::string &out);

// web, app_android, app_ios or offline (any case, lowercased).
Reason shape_action_source(const sp_value &v, std::string &out);

// ISO-639-1 two-letter code, lowercased.
Reason shape_language(const sp_value &v, std::string &out);

// Calls `each(std::string_view item)` for each element of a list value: a JSON array in TEXT
// (strings and numbers; numbers rendered as text), else TEXT split on `delimiter`, else one INT/REAL
// rendered as text. Items are trimmed; empty items are skipped. Returns a reason for malformed JSON.
// `scratch` is a reusable buffer. `each` returns a Reason; the first non-null one stops the walk
// and is returned.
template <class F>
Reason for_each_list_item(const sp_value &v, char delimiter, std::string &scratch, F &&each);

// `contents`: TEXT holding a JSON array of objects with keys id, item_price, quantity, item_name,
// item_category, item_brand (others rejected, naming the key); item_price becomes a decimal
// string, quantity an integer. Writes the compact JSON array to `out`.
Reason shape_contents(const sp_value &v, std::string &out);

// True when [p, p+n) is valid UTF-8 (no overlongs, no surrogates) and contains no NUL byte.
bool valid_utf8_text(const char *p, size_t n) noexcept;

}  // namespace pcapi

#include "values_list.ipp"
