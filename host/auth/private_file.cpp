#include "auth/private_file.hpp"

#include "auth/secret.hpp"
#include "exit_codes.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace synchost::auth {

namespace fs = std::filesystem;

namespace {

std::string errno_text() {
    return std::strerror(errno);
}

std::string octal_mode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

// Closes a descriptor on every path out of a function.
struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
};

// False with errno set on failure.
bool write_all(int fd, const std::string &data) {
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

// Creates the last component of `dir` with mode 0700 when missing (its parents with the umask's
// default, as mkdir -p would: they are not ours to lock down).
void ensure_dir(const fs::path &dir) {
    if (dir.empty() || fs::exists(dir)) return;
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) == 0) {
        // Exactly 0700 whatever the umask (0277 would leave us a directory we cannot write in).
        if (::chmod(dir.c_str(), 0700) != 0)
            throw std::runtime_error("cannot chmod directory " + dir.string() + ": " + errno_text());
    } else if (errno != EEXIST) {
        throw std::runtime_error("cannot create directory " + dir.string() + ": " + errno_text());
    }
}

}  // namespace

void require_private_mode(const fs::path &path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    if ((st.st_mode & 077) == 0) return;
    const char *what = (st.st_mode & 044) ? "readable" : (st.st_mode & 022) ? "writable" : "accessible";
    throw CliError(kExitConfig, path.string() + " is " + what + " by others (mode " + octal_mode(st.st_mode) +
                                    "): chmod 600 " + path.string());
}

std::optional<std::string> read_private_file(const fs::path &path) {
    Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (f.fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        throw CliError(kExitConfig, "cannot read " + path.string() + ": " + errno_text());
    }
    // Checked on the open descriptor, so the file cannot be swapped between check and read.
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) throw CliError(kExitConfig, "cannot stat " + path.string() + ": " + errno_text());
    if (st.st_mode & 077) require_private_mode(path);
    std::string out;
    out.reserve(static_cast<size_t>(st.st_size) + 1);  // no reallocation leaving copies behind
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw CliError(kExitConfig, "cannot read " + path.string() + ": " + errno_text());
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::explicit_bzero(buf, sizeof buf);
    return out;
}

fs::path resolve_links(const fs::path &path) {
    fs::path p = path;
    for (int hops = 0; hops < 40; ++hops) {  // 40: the kernel's own limit on links followed
        std::error_code ec;
        if (!fs::is_symlink(p, ec)) return p;
        const fs::path target = fs::read_symlink(p, ec);
        if (ec) return p;
        p = target.is_absolute() ? target : p.parent_path() / target;
    }
    throw std::runtime_error("too many levels of symbolic links from " + path.string());
}

std::string why_not_writable(const fs::path &path) {
    const fs::path target = resolve_links(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::error_code ec;
    // The file is replaced by a rename: its directory must take a new file.
    const fs::path probe = fs::exists(dir, ec) ? dir : dir.parent_path();
    if (::access(probe.c_str(), W_OK) == 0) return {};
    const std::string where = target == path ? path.string() : path.string() + " (a link to " + target.string() + ")";
    if (errno == EROFS) return where + " is on a read-only file system";
    return where + " cannot be replaced: its directory " + probe.string() + " is not writable (" + errno_text() + ")";
}

void write_private_file(const fs::path &link, const std::string &contents) {
    const fs::path path = resolve_links(link);
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    ensure_dir(dir);
    const fs::path tmp = path.string() + ".tmp." + random_hex(8);
    auto fail = [&](const std::string &step) {
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write " + path.string() + " (" + step + "): " + why);
    };
    {
        Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (f.fd < 0) fail("create temp file");
        // The umask can only clear bits; this makes the mode exactly 0600 even under umask 0277.
        if (::fchmod(f.fd, 0600) != 0) fail("chmod");
        if (!write_all(f.fd, contents)) fail("write");
        if (::fsync(f.fd) != 0) fail("fsync");
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename");
    // The rename itself is durable only once the directory entry is on disk.
    Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.fd < 0 || ::fsync(d.fd) != 0)
        throw std::runtime_error("cannot write " + path.string() + " (fsync directory): " + errno_text());
}

FileLock::FileLock(const fs::path &link) {
    const fs::path path = resolve_links(link);
    const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
    ensure_dir(dir);
    const fs::path lock = path.string() + ".lock";
    fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open lock file " + lock.string() + ": " + errno_text());
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        const std::string why = errno_text();
        ::close(fd_);
        throw std::runtime_error("cannot lock " + lock.string() + ": " + why);
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace synchost::auth
