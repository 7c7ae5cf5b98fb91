#include "sync/json_file.hpp"

#include "exit_codes.hpp"

#include <boost/json.hpp>

#include <fstream>

namespace synchost {

namespace {

std::pair<size_t, size_t> line_col(std::string_view text, size_t offset) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') ++line, col = 1;
        else ++col;
    }
    return {line, col};
}

}  // namespace

JsonFile::JsonFile(const std::filesystem::path &file) : path_(file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw CliError(kExitConfig, file.string() + ": cannot read the sync definition");
    // Read one byte past the limit, so that a pipe or a growing file is bounded too.
    text_.resize(kMaxDefinitionBytes + 1);
    in.read(text_.data(), static_cast<std::streamsize>(text_.size()));
    if (in.bad()) throw CliError(kExitConfig, file.string() + ": cannot read the sync definition");
    text_.resize(static_cast<size_t>(in.gcount()));
    if (text_.size() > kMaxDefinitionBytes)
        throw CliError(kExitConfig, file.string() + ": larger than 1 MiB; a sync definition is a few KB (keep data in "
                                                    "the model and long queries in a view)");
    boost::json::parse_options opt;
    opt.allow_comments = true;
    opt.allow_trailing_commas = true;
    boost::json::stream_parser p({}, opt);
    boost::json::error_code ec;
    const size_t used = p.write_some(text_.data(), text_.size(), ec);
    if (!ec) p.finish(ec);
    if (ec) {
        auto [line, col] = line_col(text_, used);
        throw CliError(kExitConfig, file.string() + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                        ": not valid JSON: " + ec.message());
    }
    root_ = p.release();
}

std::string JsonFile::where(const std::vector<std::string> &key_path) const {
    size_t from = 0, at = std::string::npos;
    for (const auto &key : key_path) {
        const std::string quoted = "\"" + key + "\"";
        at = std::string::npos;
        for (size_t pos = text_.find(quoted, from); pos != std::string::npos; pos = text_.find(quoted, pos + 1)) {
            size_t k = pos + quoted.size();
            while (k < text_.size() && (text_[k] == ' ' || text_[k] == '\t' || text_[k] == '\r' || text_[k] == '\n')) ++k;
            if (k < text_.size() && text_[k] == ':') {
                at = pos;
                break;
            }
        }
        if (at == std::string::npos) return path_.string();
        from = at + quoted.size();
    }
    return path_.string() + ":" + std::to_string(line_col(text_, at).first);
}

}  // namespace synchost
