// A SQLite VFS for the SQLite source: the default VFS, except that the main database file is read
// in 256 KB blocks, each page then copied out of the block. A model query scans its tables once,
// and one pread per page (4 KB by default) cost more in system-call overhead than the reading
// itself: ~2 us each on this kind of VM, 50,000 of them for a 200 MB table.
//
// The block holds file content only while the connection holds a lock on the file (it is dropped
// whenever the lock level changes, and on any write), which is when SQLite guarantees that what
// it reads from the database file does not change: in rollback-journal mode no writer commits
// under a SHARED lock; in WAL mode, pages newer than the reader's snapshot are read from the log.
#pragma once

namespace synchost::sources {

// The VFS's name, registered with SQLite on first use (thread-safe); pass it to sqlite3_open_v2.
const char *readahead_vfs();

}  // namespace synchost::sources
