#include "normalize/iso_tables.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>

namespace pcapi::tables {
namespace {

struct KeyCode {
    std::string_view key;  // a view, so that comparisons need no strlen
    std::string_view code;
};

#include "normalize/iso_tables_data.inc"

// clang-format off
// Keys are place-name keys (lower-case ASCII letters only), sorted.
static constexpr KeyCode kStates[] = {
    {"alabama", "al"}, {"alaska", "ak"}, {"alberta", "ab"}, {"americansamoa", "as"},
    {"arizona", "az"}, {"arkansas", "ar"}, {"britishcolumbia", "bc"}, {"california", "ca"},
    {"colorado", "co"}, {"connecticut", "ct"}, {"delaware", "de"}, {"districtofcolumbia", "dc"},
    {"florida", "fl"}, {"georgia", "ga"}, {"guam", "gu"}, {"hawaii", "hi"}, {"idaho", "id"},
    {"illinois", "il"}, {"indiana", "in"}, {"iowa", "ia"}, {"kansas", "ks"}, {"kentucky", "ky"},
    {"louisiana", "la"}, {"maine", "me"}, {"manitoba", "mb"}, {"maryland", "md"},
    {"massachusetts", "ma"}, {"michigan", "mi"}, {"minnesota", "mn"}, {"mississippi", "ms"},
    {"missouri", "mo"}, {"montana", "mt"}, {"nebraska", "ne"}, {"nevada", "nv"},
    {"newbrunswick", "nb"}, {"newfoundland", "nl"}, {"newfoundlandandlabrador", "nl"},
    {"newhampshire", "nh"}, {"newjersey", "nj"}, {"newmexico", "nm"}, {"newyork", "ny"},
    {"northcarolina", "nc"}, {"northdakota", "nd"}, {"northernmarianaislands", "mp"},
    {"northwestterritories", "nt"}, {"novascotia", "ns"}, {"nunavut", "nu"}, {"ohio", "oh"},
    {"oklahoma", "ok"}, {"ontario", "on"}, {"oregon", "or"}, {"pennsylvania", "pa"},
    {"princeedwardisland", "pe"}, {"puertorico", "pr"}, {"quebec", "qc"}, {"rhodeisland", "ri"},
    {"saskatchewan", "sk"}, {"southcarolina", "sc"}, {"southdakota", "sd"}, {"tennessee", "tn"},
    {"texas", "tx"}, {"usvirginislands", "vi"}, {"utah", "ut"}, {"vermont", "vt"},
    {"virginia", "va"}, {"virginislands", "vi"}, {"washington", "wa"}, {"washingtondc", "dc"},
    {"westvirginia", "wv"}, {"wisconsin", "wi"}, {"wyoming", "wy"}, {"yukon", "yt"},
};
// clang-format on

template <class T, size_t N>
constexpr bool sorted_keys(const T (&a)[N]) {
    for (size_t i = 1; i < N; ++i)
        if (!(a[i - 1].key < a[i].key)) return false;
    return true;
}
static_assert(sorted_keys(kStates), "kStates must be sorted and unique");
static_assert(sorted_keys(kCountries), "kCountries must be sorted and unique");

template <size_t N>
std::string_view find_code(const KeyCode (&table)[N], std::string_view key) noexcept {
    auto it = std::lower_bound(std::begin(table), std::end(table), key,
                               [](const KeyCode &e, std::string_view k) { return e.key < k; });
    if (it != std::end(table) && it->key == key) return it->code;
    return {};
}

template <size_t N, size_t L>
bool find_fixed(const char (&table)[N][L], std::string_view code) noexcept {
    if (code.size() != L - 1) return false;
    auto it = std::lower_bound(std::begin(table), std::end(table), code,
                               [](const char(&e)[L], std::string_view k) { return std::string_view(e, L - 1) < k; });
    return it != std::end(table) && std::string_view(*it, L - 1) == code;
}

// The currency codes as a set of bits indexed by the three letters (26^3 bits, 2.2 KB), built at
// compile time: checking a code is one load, where a binary search over the table was eight
// string comparisons (it runs for every event with a currency).
constexpr size_t kLetterCodes = 26 * 26 * 26;
constexpr int letter_code(char a, char b, char c) {
    auto letter = [](char x) { return x >= 'A' && x <= 'Z' ? x - 'A' : -1; };
    if (letter(a) < 0 || letter(b) < 0 || letter(c) < 0) return -1;
    return (letter(a) * 26 + letter(b)) * 26 + letter(c);
}
constexpr std::array<uint64_t, (kLetterCodes + 63) / 64> make_currency_bits() {
    std::array<uint64_t, (kLetterCodes + 63) / 64> bits{};
    for (const auto &code : kCurrencies) {
        const int i = letter_code(code[0], code[1], code[2]);
        if (i < 0) throw "currency codes are three upper-case letters";  // fails the constant evaluation
        bits[static_cast<size_t>(i) / 64] |= uint64_t{1} << (i % 64);
    }
    return bits;
}
constexpr auto kCurrencyBits = make_currency_bits();

}  // namespace

bool is_active_currency(std::string_view code) noexcept {
    if (code.size() != 3) return false;
    const int i = letter_code(code[0], code[1], code[2]);
    return i >= 0 && (kCurrencyBits[static_cast<size_t>(i) / 64] >> (i % 64) & 1) != 0;
}

bool is_language(std::string_view code) noexcept {
    return find_fixed(kLanguages, code);
}

std::string_view country_alpha2(std::string_view key) noexcept {
    return find_code(kCountries, key);
}

std::string_view state_code(std::string_view key) noexcept {
    return find_code(kStates, key);
}

}  // namespace pcapi::tables
