// Primary keys as text (the identity the state and the plugin's event ids are built from) and a
// content hash of a row (to notice when a rejected row changed and deserves another try).
#pragma once

#include <syncplugin/syncplugin.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synchost {

// The key cell as text: integers in decimal, reals in shortest form, text as is, blobs in hex.
// Returns false for NULL (a per-row error: the row cannot be tracked).
bool key_text(const sp_value &v, std::string &out);

// A content hash over the types and bytes of the cells at `columns`. The state keeps these for
// rejected rows; kRowHashVersion names the function, so that a state written with another one is
// known not to compare.
inline constexpr int kRowHashVersion = 2;
uint64_t row_hash(const std::vector<sp_value> &cells, const std::vector<size_t> &columns);

// A hash of a key, for in-memory duplicate detection (confirmed by comparing the keys).
uint64_t key_hash(std::string_view key);

// A key as shown to people. Keys that look like personal identifiers are masked, since `status`
// output must not print raw personal data: an email address ("a***@***"), a phone number (7 to 15
// digits with separators or a leading "+", or 10 to 15 plain digits: "***03") and a mobile
// advertising id (a UUID: "6f1e****-..."). Other keys (order ids, numeric ids) are shown as is.
std::string display_key(const std::string &key);

}  // namespace synchost
