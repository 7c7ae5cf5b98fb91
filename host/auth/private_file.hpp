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

// Replaces `path` with `contents` atomically and durably, mode 0600 whatever the umask: a temp
// file created O_EXCL with 0600 in the same directory, written, fsynced, renamed over `path`, then
// the directory fsynced. A missing parent directory is created with mode 0700.
// Throws std::runtime_error naming the file and the failing step.
void write_private_file(const std::filesystem::path &path, const std::string &contents);

// An exclusive flock on `<path>.lock` (created 0600, never removed: removing lock files races).
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
