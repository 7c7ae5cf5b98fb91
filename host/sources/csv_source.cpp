// CSV source (RFC 4180): the header row names the columns; every other cell is TEXT, except an
// unquoted empty field, which is NULL (a quoted "" is an empty string), so a CSV export can tell
// "no value" from "empty value". Lenient where real exports differ from the RFC: LF or CRLF (or a
// lone CR) ends a record, blank lines are skipped, and a quote inside an unquoted field is kept as
// a literal character (5" screen). Strict where guessing would shift data between columns: a
// wrong field count, text after a closing quote, and an unterminated quote are errors.
#include "sources/buffered_file.hpp"
#include "sources/source.hpp"
#include "sources/source_util.hpp"

namespace synchost::sources {

namespace {

class CsvSource final : public RowSource {
public:
    explicit CsvSource(const SourceConfig &config)
        : in_(config.path, "csv file"),
          name_(describe_file(config.path)),
          delim_(static_cast<unsigned char>(config.delimiter)) {
        if (delim_ == '"' || delim_ == '\n' || delim_ == '\r' || delim_ == '\0') {
            throw SourceError("csv source " + name_ + ": the delimiter cannot be a quote, a line break or NUL");
        }
        in_.skip_utf8_bom();
        if (!read_record())
            throw SourceError("csv file " + name_ + " is empty: it needs a header row naming the columns");
        for (const Field &f : fields_) columns_.emplace_back(row_, f.offset, f.length);
        check_column_names(columns_, name_ + " line " + std::to_string(record_line_),
                           "every header column needs a unique name");
    }

    const std::vector<std::string> &columns() const override { return columns_; }

    bool next(std::vector<sp_value> &cells) override {
        if (!read_record()) return false;
        if (fields_.size() != columns_.size()) {
            throw SourceError(where(record_line_) + ": " + std::to_string(fields_.size()) +
                              (fields_.size() == 1 ? " field" : " fields") + ", expected " +
                              std::to_string(columns_.size()) + " (one per header column)");
        }
        cells.resize(fields_.size());
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            const Field &f = fields_[i];
            cells[i] = (!f.quoted && f.length == 0) ? null_cell() : text_cell(row_.data() + f.offset, f.length);
        }
        ++rows_;
        return true;
    }

    std::optional<uint64_t> estimated_rows() override { return in_.estimate_rows(rows_); }
    uint64_t rows_read() const override { return rows_; }

private:
    struct Field {
        std::size_t offset, length;
        bool quoted;
    };

    std::string where(uint64_t line) const { return name_ + " line " + std::to_string(line); }

    static bool ends_field(int c, int delim) { return c == delim || c == '\n' || c == '\r' || c == -1; }

    // Appends a byte of the current record, refusing to grow past the limit: a stray quote would
    // otherwise pull the rest of a huge file into memory before the error at end of file.
    void append(int c) {
        if (row_.size() >= kMaxRecordBytes) {
            throw SourceError(where(record_line_) + ": record larger than " + kMaxRecordText +
                              " (an unterminated quote?)");
        }
        row_.push_back(static_cast<char>(c));
    }

    // Reads one record's fields into row_/fields_; false at end of file.
    bool read_record() {
        row_.clear();
        fields_.clear();
        for (int c = in_.peek();; c = in_.peek()) {  // skip blank lines
            if (c == -1) return false;
            if (c != '\n' && c != '\r') break;
            end_line(in_.get());
        }
        record_line_ = line_;
        for (;;) {
            Field f{row_.size(), 0, false};
            int c = in_.get();
            if (c == '"') {
                f.quoted = true;
                c = read_quoted();
            } else {
                for (; !ends_field(c, delim_); c = in_.get()) append(c);
            }
            f.length = row_.size() - f.offset;
            fields_.push_back(f);
            if (c == delim_) continue;
            if (c != -1) end_line(c);
            return true;
        }
    }

    // Reads a quoted field's content after its opening quote; returns the byte after the closing
    // quote, which must end the field.
    int read_quoted() {
        const uint64_t opened = line_;
        for (;;) {
            int c = in_.get();
            if (c == -1) {
                throw SourceError(where(opened) +
                                  ": quoted field opened here is never closed (unterminated quote at end of file)");
            }
            if (c == '"') {
                if (in_.peek() != '"') break;
                in_.get();  // "" is an escaped quote
            } else if (c == '\n' || (c == '\r' && in_.peek() != '\n')) {
                ++line_;  // a line break inside the field: keep it, but count the line
            }
            append(c);
        }
        int c = in_.get();
        if (!ends_field(c, delim_)) {
            throw SourceError(where(line_) + ": unexpected character after the closing quote of field " +
                              std::to_string(fields_.size() + 1) + " (a quote inside a quoted field must be doubled)");
        }
        return c;
    }

    // Consumes the rest of a line ending that started with `c` (CRLF counts once).
    void end_line(int c) {
        if (c == '\r' && in_.peek() == '\n') in_.get();
        ++line_;
    }

    BufferedFile in_;
    std::string name_;
    int delim_;  // as a byte value, like BufferedFile::get()
    std::vector<std::string> columns_;
    std::string row_;            // the current record's field bytes, back to back
    std::vector<Field> fields_;  // where each field sits in row_
    uint64_t line_ = 1;          // physical line of the next byte
    uint64_t record_line_ = 1;   // line where the current record starts
    uint64_t rows_ = 0;
};

}  // namespace

std::unique_ptr<RowSource> open_csv(const SourceConfig &config) {
    return std::make_unique<CsvSource>(config);
}

}  // namespace synchost::sources
