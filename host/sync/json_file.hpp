// Reading a relaxed JSON file (comments, trailing commas) with error positions: parse errors give
// line and column; later checks can ask for the line where a key appears.
#pragma once

#include <boost/json/value.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace synchost {

// The largest sync definition read: a definition is a few KB, and its parsed form costs several
// times its text.
inline constexpr size_t kMaxDefinitionBytes = size_t{1} << 20;

class JsonFile {
public:
    // Throws CliError(kExitConfig): unreadable file, larger than kMaxDefinitionBytes, or invalid
    // JSON with "FILE:LINE:COL: reason".
    explicit JsonFile(const std::filesystem::path &file);

    const boost::json::value &root() const { return root_; }
    const std::filesystem::path &path() const { return path_; }

    // "FILE:LINE" for the first occurrence of the key path (e.g. {"destination", "config",
    // "ad_acount_id"}), searching each key after its parent; "FILE" when it cannot be found.
    std::string where(const std::vector<std::string> &key_path) const;

private:
    std::filesystem::path path_;
    std::string text_;
    boost::json::value root_;
};

}  // namespace synchost
