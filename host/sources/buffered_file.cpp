#include "sources/buffered_file.hpp"

#include "sources/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synchost::sources {

namespace {
constexpr std::size_t kBufferBytes = 1 << 20;  // large reads: a many-GB file is read at disk speed
}

BufferedFile::BufferedFile(const std::filesystem::path &path, const char *kind) : path_(path), kind_(kind) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        throw SourceError(std::string("cannot open ") + kind + " " + path.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<uint64_t>(st.st_size);
    buf_.resize(kBufferBytes);
}

BufferedFile::~BufferedFile() {
    if (fd_ >= 0) ::close(fd_);
}

bool BufferedFile::fill() {
    consumed_ += end_;
    pos_ = end_ = 0;
    for (;;) {
        ssize_t n = ::read(fd_, buf_.data(), buf_.size());
        if (n > 0) {
            end_ = static_cast<std::size_t>(n);
            return true;
        }
        if (n == 0) return false;
        if (errno != EINTR) {
            throw SourceError(std::string("cannot read ") + kind_ + " " + path_.string() + ": " + std::strerror(errno));
        }
    }
}

void BufferedFile::skip_utf8_bom() {
    static constexpr unsigned char kBom[] = {0xEF, 0xBB, 0xBF};
    if (pos_ == end_ && !fill()) return;
    // The first read of a regular file returns well over 3 bytes; a pipe might not, in which case
    // a BOM split across reads is simply kept (harmless: it becomes part of the first name).
    if (end_ - pos_ >= 3 && std::memcmp(buf_.data() + pos_, kBom, 3) == 0) pos_ += 3;
}

BufferedFile::Line BufferedFile::read_line(std::string &line, std::size_t max) {
    line.clear();
    if (pos_ == end_ && !fill()) return Line::eof;
    for (;;) {
        const char *start = buf_.data() + pos_;
        const auto *nl = static_cast<const char *>(std::memchr(start, '\n', end_ - pos_));
        std::size_t take = nl != nullptr ? static_cast<std::size_t>(nl - start) : end_ - pos_;
        if (line.size() + take > max) return Line::too_long;
        line.append(start, take);
        pos_ += take;
        if (nl != nullptr) {
            ++pos_;
            break;
        }
        if (!fill()) break;  // last line without a final newline
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return Line::ok;
}

std::optional<uint64_t> BufferedFile::estimate_rows(uint64_t rows) const {
    uint64_t consumed = consumed_ + pos_;
    if (rows == 0 || size_ == 0 || consumed == 0) return std::nullopt;
    auto estimate =
        static_cast<uint64_t>(static_cast<double>(size_) * static_cast<double>(rows) / static_cast<double>(consumed));
    return estimate > rows ? estimate : rows;
}

}  // namespace synchost::sources
