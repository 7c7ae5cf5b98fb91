// JSONL source: one JSON object per line, blank lines skipped. The columns are source.columns when
// given, else the keys of the first object in order; a later line may omit a key (NULL) but not
// add one, because the columns are fixed before the first row reaches the plugin. A key repeated
// within one object keeps its last value (Boost.JSON's rule).
//
// Cell types: string -> TEXT, integer -> INT, other number -> REAL, bool -> BOOL, null -> NULL,
// array/object -> TEXT holding its compact JSON (so a content_ids array passes through). An
// integer above INT64_MAX (which only fits uint64) becomes TEXT with its exact decimal digits
// rather than a REAL that would silently round an id.
//
// Each line is parsed into a monotonic arena that is released before the next line, and the
// parser's own stack is reused, so a row costs almost no allocations.
#include "sources/buffered_file.hpp"
#include "sources/source.hpp"
#include "sources/source_util.hpp"

#include <boost/json.hpp>

#include <unordered_map>

namespace synchost::sources {

namespace {

namespace json = boost::json;

// Lets the column index be searched with a JSON key (a string_view) without building a string.
struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class JsonlSource final : public RowSource {
public:
    explicit JsonlSource(const SourceConfig &config)
        : in_(config.path, "jsonl file"),
          name_(describe_file(config.path)),
          explicit_columns_(!config.columns.empty()) {
        in_.skip_utf8_bom();
        if (explicit_columns_) {
            columns_ = config.columns;
            check_column_names(columns_, "source.columns", "list every column once");
        } else {
            if (!read_object()) {
                throw SourceError("jsonl file " + name_ +
                                  " has no rows, so its columns are unknown: set source.columns to list them");
            }
            for (const auto &kv : row_->as_object()) columns_.emplace_back(kv.key());
            check_column_names(columns_, where(), "the first object's keys name the columns");
            pending_ = true;
        }
        for (std::size_t i = 0; i < columns_.size(); ++i) index_.emplace(columns_[i], i);
        scratch_.resize(columns_.size());
    }

    const std::vector<std::string> &columns() const override { return columns_; }

    bool next(std::vector<sp_value> &cells) override {
        if (pending_) {
            pending_ = false;  // the first object, read at open to learn the columns
        } else if (!read_object()) {
            return false;
        }
        cells.assign(columns_.size(), null_cell());  // a missing key is NULL
        for (const auto &kv : row_->as_object()) {
            auto it = index_.find(std::string_view(kv.key()));
            if (it == index_.end()) {
                throw SourceError(where() + ": key '" + std::string(kv.key()) +
                                  "' is not a column (the columns come from " +
                                  (explicit_columns_ ? "source.columns" : "the first object") +
                                  "; set source.columns to list every column)");
            }
            cells[it->second] = to_cell(kv.value(), it->second);
        }
        ++rows_;
        return true;
    }

    std::optional<uint64_t> estimated_rows() override { return in_.estimate_rows(rows_); }
    uint64_t rows_read() const override { return rows_; }

private:
    std::string where() const { return name_ + " line " + std::to_string(line_); }

    // Parses the next non-blank line into row_; false at end of file.
    bool read_object() {
        for (;;) {
            BufferedFile::Line got = in_.read_line(line_text_, kMaxRecordBytes);
            if (got == BufferedFile::Line::eof) return false;
            ++line_;
            if (got == BufferedFile::Line::too_long)
                throw SourceError(where() + ": line longer than " + kMaxRecordText + " (the most one row may take)");
            if (line_text_.find_first_not_of(" \t\r") != std::string::npos) break;
        }
        row_.reset();  // the previous row lives in arena_: drop it before the arena is reused
        arena_.release();
        parser_.reset(json::storage_ptr(&arena_));
        json::error_code ec;
        parser_.write(line_text_.data(), line_text_.size(), ec);
        if (ec) throw SourceError(where() + ": invalid JSON (" + ec.message() + ")");
        row_.emplace(parser_.release());  // move-constructs, so the value stays in arena_
        if (!row_->is_object()) throw SourceError(where() + ": not a JSON object (each line must be one object)");
        return true;
    }

    sp_value to_cell(const json::value &v, std::size_t column) {
        switch (v.kind()) {
            case json::kind::null:
                return null_cell();
            case json::kind::bool_:
                return bool_cell(v.get_bool());
            case json::kind::int64:
                return int_cell(v.get_int64());
            case json::kind::double_:
                return real_cell(v.get_double());
            case json::kind::string:
                return text_cell(v.get_string().data(), v.get_string().size());
            case json::kind::uint64: {
                std::string &text = scratch_[column];
                text = std::to_string(v.get_uint64());
                return text_cell(text.data(), text.size());
            }
            case json::kind::array:
            case json::kind::object: {
                std::string &text = scratch_[column];
                text.clear();
                serializer_.reset(&v);
                char buf[4096];
                while (!serializer_.done()) text.append(serializer_.read(buf));
                if (text.size() > kMaxCellBytes) throw SourceError(where() + ": cell larger than 1 GiB");
                return text_cell(text.data(), text.size());
            }
        }
        return null_cell();  // unreachable: every kind is handled
    }

    BufferedFile in_;
    std::string name_;
    bool explicit_columns_;
    std::vector<std::string> columns_;
    std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>> index_;
    std::string line_text_;
    uint64_t line_ = 0;                                          // physical line number of line_text_
    unsigned char initial_[16384];                               // arena's first block: most lines fit
    json::monotonic_resource arena_{initial_, sizeof initial_};  // declared before row_, which uses it
    json::parser parser_;
    json::serializer serializer_;
    std::optional<json::value> row_;
    bool pending_ = false;
    std::vector<std::string> scratch_;  // per column: serialized arrays/objects, big integers
    uint64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<RowSource> open_jsonl(const SourceConfig &config) {
    return std::make_unique<JsonlSource>(config);
}

}  // namespace synchost::sources
