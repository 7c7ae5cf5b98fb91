// Shaping of non-identifier values into what the Pinterest v5 events API demands.
// Pure functions over sp_value cells; no I/O. Each returns nullptr on success or a static,
// PII-free reason. Output buffers are cleared first and reused by callers across rows.
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pcapi {

using Reason = const char *;  // nullptr = ok

// Unix seconds from: INT (seconds; values > 1e11 are milliseconds, > 1e14 microseconds, > 1e17
// nanoseconds), REAL (same rules, fraction truncated), TEXT holding digits (same rules, an
// optional fraction), ISO-8601 "YYYY-MM-DDTHH:MM[:SS[.fff]]" with Z or an offset (+HH:MM, +HHMM,
// +HH), SQL datetime "YYYY-MM-DD HH:MM:SS[.fff]" (UTC, optionally " UTC" or an offset), or a
// date "YYYY-MM-DD" (midnight UTC). Fractions are truncated. Ranges are validated (real calendar
// date, hour < 24, minute < 60, second <= 60). Negative numbers, years before 1970, NULL, BOOL
// and BLOB get a reason.
Reason parse_event_time(const sp_value &v, int64_t &unix_seconds);

// Window rule: rejects times more than max_future_s after now, or older than max_age_s. Both
// edges are accepted (t == now - max_age_s, t == now + max_future_s).
Reason check_event_time_window(int64_t t, int64_t now_s, int64_t max_age_s, int64_t max_future_s);

// A decimal string for value / item_price / predicted_ltv: INT -> "12", REAL -> shortest exact
// fixed notation ("12.5", 1e20 -> "100000000000000000000"; NaN/inf rejected), TEXT trimmed and
// matching [+-]?digits[.digits] (".5" -> "0.5", "5." -> "5", a leading '+' dropped; separators,
// currency symbols and exponents rejected with their own reasons). `out` is empty on failure.
Reason shape_decimal(const sp_value &v, std::string &out);

// Integer (num_items, quantity): INT, integral REAL, or TEXT of [+-]digits (".0" allowed).
Reason shape_integer(const sp_value &v, int64_t &out);

// Boolean (opt_out, wifi): BOOL, INT 0/1, TEXT true/false/yes/no/1/0/t/f/y/n (any case).
Reason shape_bool(const sp_value &v, bool &out);

// Plain string: TEXT trimmed; INT/REAL rendered as text (order_id 123 -> "123"); must be valid
// UTF-8 without NUL bytes; empty after trimming, or NULL, is reported as `empty` = true (field
// omitted). REAL uses the shortest round-trip text; BOOL gives "true"/"false"; BLOB a reason.
Reason shape_string(const sp_value &v, std::string &out, bool &empty);

// The same as a view, without copying text: `out` points into the cell's text (TEXT) or into
// `scratch` (numbers, booleans); it is empty for NULL and blank text. Valid while both are.
Reason shape_string_view(const sp_value &v, std::string &scratch, std::string_view &out);

// ISO-4217 code, upper-cased, from the table of active codes.
Reason shape_currency(const sp_value &v, std::string &out);

// The values a destination field knows (the manifest's "values"): a name matches in any case
// and with ' ', '-', '_' or nothing between its words ("Add To Cart", "add-to-cart" and
// "AddToCart" are add_to_cart).
class NameCatalogue {
public:
    NameCatalogue() = default;
    // `what` names the field in refusal() ("action source").
    NameCatalogue(std::vector<std::string> names, const std::string &what);
    // The catalogue's spelling of `s`, or nullptr.
    const std::string *find(std::string_view s) const;
    const std::vector<std::string> &names() const { return names_; }
    // "WHAT must be a, b or c", for a field that takes nothing else; valid as long as the catalogue.
    Reason refusal() const { return refusal_.c_str(); }

private:
    std::vector<std::string> names_, keys_;  // keys_: the names lowercased, without separators
    std::string refusal_;
};

// A standard event name from `standard` (see NameCatalogue), or a custom name: letters, digits,
// _ and -, 1..100 characters, at least one letter or digit (kept as given).
Reason shape_event_name(const sp_value &v, const NameCatalogue &standard, std::string &out);

// One of `sources` (web, app_android, app_ios or offline for Pinterest), as the catalogue spells it.
Reason shape_action_source(const sp_value &v, const NameCatalogue &sources, std::string &out);

// ISO-639-1 two-letter code, lowercased; a locale ("en-US", "pt_BR") gives its language.
Reason shape_language(const sp_value &v, std::string &out);

// Calls `each(std::string_view item)` for each element of a list value: a JSON array in TEXT
// (first non-blank character '['; strings and numbers; numbers rendered as text, integers without
// ".0"; an integer beyond 2^53 that is not a JSON string is refused, as the parser may have
// rounded it), else TEXT split on `delimiter` ('\0': no splitting), else one INT/REAL rendered as
// text. NULL gives no items. Items are trimmed; empty items are skipped. Returns a reason for
// malformed JSON, other element kinds, invalid UTF-8/NUL, BOOL or BLOB. `scratch` is a reusable
// buffer; an item may point into it (or into `v`) and is valid only during the call. `each`
// returns a Reason; the first non-null one stops the walk and is returned.
template <class F>
Reason for_each_list_item(const sp_value &v, char delimiter, std::string &scratch, F &&each);

// `contents`: TEXT holding a JSON array of objects (or one object) with keys id, item_price,
// quantity, item_name, item_category, item_brand; item_price becomes a decimal string, quantity a
// non-negative integer, id a string (numbers converted), names/category/brand trimmed strings;
// null members are dropped. Writes the compact JSON array to `out`. NULL, blank text or "[]"
// leave `out` empty with no reason (omit the field). Any other key is rejected; then `out` holds
// that key's name (printable ASCII, at most 40 characters) for the caller's message, never a
// value.
Reason shape_contents(const sp_value &v, std::string &out);

// True when [p, p+n) is valid UTF-8 (no overlongs, no surrogates) and contains no NUL byte.
bool valid_utf8_text(const char *p, size_t n) noexcept;

}  // namespace pcapi

#include "values_list.ipp"
