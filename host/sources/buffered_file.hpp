// A read-only file consumed front to back through one fixed buffer, for the text sources (CSV,
// JSONL): files may be many GB, so nothing but the buffer and the current row is ever in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace synchost::sources {

class BufferedFile {
public:
    // Throws SourceError naming `kind` ("csv file") and the path when the file cannot be opened.
    BufferedFile(const std::filesystem::path &path, const char *kind);
    ~BufferedFile();
    BufferedFile(const BufferedFile &) = delete;
    BufferedFile &operator=(const BufferedFile &) = delete;

    // The next byte, or -1 at end of file.
    int get() {
        if (pos_ == end_ && !fill()) return -1;
        return static_cast<unsigned char>(buf_[pos_++]);
    }
    int peek() {
        if (pos_ == end_ && !fill()) return -1;
        return static_cast<unsigned char>(buf_[pos_]);
    }

    // Skips a UTF-8 byte order mark at the current position (call before reading anything).
    void skip_utf8_bom();

    enum class Line { ok, eof, too_long };
    // Reads up to the next '\n' into `line` (without the '\n' or a '\r' before it). `eof` when
    // nothing is left; `too_long` once the line exceeds `max` bytes (the rest is not read).
    Line read_line(std::string &line, std::size_t max);

    // A cheap estimate of the total number of rows after `rows` rows were read: the file size
    // times the rows per byte consumed so far. nullopt before the first row or for a pipe.
    std::optional<uint64_t> estimate_rows(uint64_t rows) const;

private:
    bool fill();

    std::filesystem::path path_;
    const char *kind_;
    int fd_ = -1;
    uint64_t size_ = 0;      // at open; 0 for pipes and other non-regular files
    uint64_t consumed_ = 0;  // bytes before buf_[0]
    std::vector<char> buf_;
    std::size_t pos_ = 0, end_ = 0;
};

}  // namespace synchost::sources
