// Files that hold secrets: readable only by their owner, replaced atomically, and updated under an
// advisory lock so that two synchost processes never lose each other's writes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace synchost::auth {

// Throws CliError(kExitConfig) when `path` is accessible by group or others:
// "FILE is readable by others (mode 0644): chmod 600 FILE". Does nothing when it does not exist.
void require_private_mode(const std::filesystem::path &path);

// The contents of `path` after require_private_mode(), or nullopt when it does not exist.
// Throws CliError(kExitConfig) when it cannot be read.
std::optional<std::string> read_private_file(const std::filesystem::path &path);

// `path` with the symbolic links of its last component followed (a link to a link, relative or
// absolute), whether or not the final target exists yet: where a write must go so that a link (a
// mounted secret, a shared secrets folder) stays a link and its target gets the new contents.
std::filesystem::path resolve_links(const std::filesystem::path &path);

// Empty when write_private_file(path) can succeed as far as permissions tell; else why not, naming
// the file (e.g. "... is on a read-only file system").
std::string why_not_writable(const std::filesystem::path &path);

// Replaces `path` (the target, when `path` is a symbolic link) with `contents` atomically and durably, mode 0600 whatever the umask: a temp
// file created O_EXCL with 0600 in the same directory, written, fsynced, renamed over `path`, then
// the directory fsynced. A missing parent directory is created with mode 0700.
// Throws std::runtime_error naming the file and the failing step.
void write_private_file(const std::filesystem::path &path, const std::string &contents);

// An exclusive flock on `<target>.lock`, where target is resolve_links(path), so that every link
// to one file shares its lock (created 0600, never removed: removing lock files races).
// Blocks until acquired; released by the destructor.
class FileLock {
public:
    explicit FileLock(const std::filesystem::path &path);
    ~FileLock();
    FileLock(const FileLock &) = delete;
    FileLock &operator=(const FileLock &) = delete;

private:
    int fd_ = -1;
};

}  // namespace synchost::auth
