// Static lookup tables for value rules: ISO-4217 currencies, ISO-639-1 languages, ISO-3166-1
// countries (alpha-2, alpha-3, English names and common aliases), US states and Canadian
// provinces by name. Sorted constant arrays searched by binary search; no allocation.
#pragma once

#include <cstddef>
#include <string_view>

namespace pcapi::tables {

// `code` is three upper-case ASCII letters.
bool is_active_currency(std::string_view code) noexcept;

// `code` is two lower-case ASCII letters.
bool is_language(std::string_view code) noexcept;

// `key` is a place-name key (see text::fold_key). Returns the lower-case alpha-2 code for an
// alpha-2 code, an alpha-3 code or a known name, else an empty view.
std::string_view country_alpha2(std::string_view key) noexcept;

// `key` is a place-name key. Returns the lower-case two-letter code of a US state, DC, a US
// territory or a Canadian province/territory named by `key`, else an empty view.
std::string_view state_code(std::string_view key) noexcept;

}  // namespace pcapi::tables
