// Where a sync's state lives on disk, and what keeps an existing state from ever being silently
// replaced by a new, empty one.
//
//   STATE_DIR/syncs/NAME/state.sqlite      the state database (with -wal and -shm beside it)
//                        lock              held by the run of this sync
//                        marker.json       written when the state is created and after each run
//
// Each sync has a folder of its own under `syncs/`, which holds nothing else, so no sync name can
// collide with another sync's files or with the files the host keeps in STATE_DIR (credentials).
// The marker outlives a state that was deleted, truncated or copied without its write-ahead log:
// it names the state (a random id also stored inside the database) and the last run recorded.
#pragma once

#include "exit_codes.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace synchost {

// A state that exists but cannot be trusted. Exit code 2; the message names the file and the ways
// out (restore it with its -wal and -shm, or start over with --full-resync).
class StateDamaged : public CliError {
public:
    // `at_open`: found before the command did anything (the message says nothing was sent), not
    // by a statement in the middle of a run.
    StateDamaged(const std::filesystem::path &db, const std::string &problem, bool at_open = true);
};

struct StateFiles {
    std::filesystem::path dir, db, lock, marker;

    static StateFiles of(const std::filesystem::path &state_dir, const std::string &sync_name);
    std::filesystem::path wal() const { return db.string() + "-wal"; }
    std::filesystem::path shm() const { return db.string() + "-shm"; }
};

// Size, modification time and inode of a file, to tell whether it changed since synchost last
// closed it.
struct FileIdentity {
    uint64_t size = 0, inode = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity &) const = default;
    static FileIdentity of(const std::filesystem::path &file);  // all zero when it does not exist
};

struct StateMarker {
    std::string state_id;  // also in the database's meta table
    int64_t last_run = 0;  // the id of the last run recorded (0: none yet)
    FileIdentity db, wal;  // the files as synchost left them at the end of that run
};

// The marker, or nullopt when there is none. Throws StateDamaged when it is unreadable.
std::optional<StateMarker> read_marker(const StateFiles &files);
// Replaces the marker atomically, mode 0600. Throws std::runtime_error naming the file.
void write_marker(const StateFiles &files, const StateMarker &marker);

// Creates STATE_DIR/syncs/NAME (mode 0700) and moves a state of the layout before it
// (STATE_DIR/NAME.sqlite with -wal and -shm) into it. Returns a note for the log when it moved one.
// Throws CliError when a directory cannot be created or a file cannot be moved.
std::optional<std::string> prepare_state_dir(const std::filesystem::path &state_dir, const std::string &sync_name,
                                             const StateFiles &files);

// Checks that can be made before SQLite opens the file: a state file that exists must be a SQLite
// database of at least one page, and a missing one must not have a marker. Throws StateDamaged.
void check_before_open(const StateFiles &files);

// --full-resync of a damaged state: renames its files (database, -wal, -shm, marker) to
// NAME.damaged-YYYYMMDDTHHMMSSZ beside them, so nothing is lost. Returns the new database name.
std::filesystem::path set_aside(const StateFiles &files);

// A random id for a new state.
std::string new_state_id();

}  // namespace synchost
