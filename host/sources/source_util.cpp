#include "sources/source_util.hpp"

#include <unordered_map>

namespace synchost::sources {

void check_column_names(const std::vector<std::string> &names, const std::string &where, std::string_view hint) {
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i].empty()) {
            throw SourceError(where + ": column " + std::to_string(i + 1) + " has an empty name; " + std::string(hint));
        }
        auto [it, inserted] = seen.emplace(names[i], i);
        if (!inserted) {
            throw SourceError(where + ": duplicate column name '" + names[i] + "' (columns " +
                              std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + "); " +
                              std::string(hint));
        }
    }
}

std::string describe_query(std::string_view query) {
    constexpr std::size_t kMax = 80;
    std::string out;
    bool space = false;
    for (char c : query) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        if (out.size() >= kMax) {
            // Cut on a UTF-8 character boundary so the message stays valid UTF-8.
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
            if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
            return "\"" + out + "...\"";
        }
        out.push_back(c);
    }
    return "\"" + out + "\"";
}

std::string describe_file(const std::filesystem::path &path) {
    return path.filename().string();
}

}  // namespace synchost::sources
