// Per-identifier normalization rules for Pinterest user_data, applied before SHA-256 hashing.
//
// Pure functions: no I/O, no global state, no allocation beyond growing the caller's `out`
// buffer (which callers reuse across rows). Each returns nullptr on success with the normalized
// text in `out` (cleared first), or a static, PII-free reason string on failure (it names the
// rule, never the value or the field; callers prefix the field). "Trimmed" means ASCII whitespace
// and U+00A0 at both ends and a leading UTF-8 BOM; a value that is empty after trimming, or that
// is not valid UTF-8 or holds a NUL byte, gets a reason.
// The rules follow ../shared/reference/pinterest-conversions-api.md §3; README "Normalization"
// documents them for users.
#pragma once

#include <string>
#include <string_view>

namespace pcapi {

using Reason = const char *;  // nullptr = ok

// Trimmed (a leading "mailto:" dropped), lowercased (ASCII, Latin, Greek, Cyrillic); must be
// local@domain with exactly one '@', a non-empty local part, a domain with a '.' and no empty
// label, and no whitespace or control characters anywhere.
Reason normalize_email(std::string_view in, std::string &out);

// Digits only with the country code. "+" and "00" prefixes are international; otherwise leading
// zeros (trunk prefix) are dropped and `default_country_code` (digits, may be empty, a leading '+'
// is ignored) is prepended unless the digits already start with it and are at least 11 long; a
// number written with a trunk prefix always gets it. "+44 (0)20..." drops the bracketed 0. An
// optional "tel:" prefix is dropped; an extension (x, ext, #, ;, ,) and what follows is dropped.
// Separators allowed: space, U+00A0, - . ( ) /. Letters (e.g. "1-800-FLOWERS") are rejected rather
// than guessed. Result must be 7..15 digits.
Reason normalize_phone(std::string_view in, std::string_view default_country_code, std::string &out);

// First/last name: trimmed, lowercased (ASCII, Latin-1, Latin Extended-A, Greek incl. final
// sigma, Cyrillic; other scripts unchanged), inner whitespace runs collapsed to one space.
Reason normalize_name(std::string_view in, std::string &out);

// f, m or n from common spellings, any case, ignoring ' ', '-' and '_': f/female/woman/w,
// m/male/man, n/nb/non-binary/x/other/enby/genderqueer.
Reason normalize_gender(std::string_view in, std::string &out);

// YYYYMMDD from YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, MM/DD/YYYY (DD/MM/YYYY when the first part > 12),
// DD.MM.YYYY, or an ISO date-time (date part). Month and day may have one digit when separated.
// Must be a real calendar date, year >= 1900; a two-digit year is rejected.
Reason normalize_date_of_birth(std::string_view in, std::string &out);

// Lowercased, without spaces or punctuation ("Menlo Park" -> "menlopark"): ASCII punctuation,
// Latin-1 symbols, Unicode General Punctuation (spaces, dashes, quotes), ideographic space and
// full-width punctuation are removed; letters and digits of every script are kept.
Reason normalize_city(std::string_view in, std::string &out);

// Two-letter lowercase code (any two ASCII letters/digits, "N.Y." too, or the part after the
// country in ISO 3166-2 "US-CA"); names of US states, DC, US territories and Canadian provinces
// (any case, accents and punctuation ignored) are converted.
Reason normalize_state(std::string_view in, std::string &out);

// US ZIP+4 ("12345-6789", "12345 6789", "123456789") -> 5 digits; other postcodes lowercased
// with spaces and dashes removed ("SW1A 1AA" -> "sw1a1aa", "K1A 0B1" -> "k1a0b1"), 3..10 ASCII
// letters/digits. Never destroys letters or leading zeros of non-US postcodes.
Reason normalize_zip(std::string_view in, std::string &out);

// ISO-3166 alpha-2, lowercase; alpha-3 codes, English names (ISO short, common and official
// forms, "UK", "USA", a few native names), any case, accents/punctuation ignored, are converted.
// Ambiguous names ("Virgin Islands") are rejected rather than guessed.
Reason normalize_country(std::string_view in, std::string &out);

// Trimmed; case kept.
Reason normalize_external_id(std::string_view in, std::string &out);

// Mobile advertising id (GAID/IDFA): trimmed, lowercased. An all-zero id (what iOS/Android
// report when the user limits ad tracking) is rejected: it would match every such user.
Reason normalize_maid(std::string_view in, std::string &out);

// A pre-hashed value: trimmed; must be exactly 64 hex characters; uppercase hex is lowercased.
Reason normalize_prehashed(std::string_view in, std::string &out);

}  // namespace pcapi
