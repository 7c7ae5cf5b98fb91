#include "sources/readahead_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace synchost::sources {

namespace {

constexpr int kBlock = 256 * 1024;

// The block of the main database file last read, and where the reader was.
struct ReadAhead {
    std::unique_ptr<char[]> buf;
    sqlite3_int64 start = 0, len = 0;  // len 0: nothing held
    sqlite3_int64 next = -1;           // where the previous read ended
};

// SQLite allocates szOsFile bytes per open file: this header, then the default VFS's own file.
struct File {
    sqlite3_file base;
    ReadAhead *ra;  // main database files only
    sqlite3_file *real() { return reinterpret_cast<sqlite3_file *>(this + 1); }
};

File *file(sqlite3_file *f) {
    return reinterpret_cast<File *>(f);
}
sqlite3_file *real(sqlite3_file *f) {
    return file(f)->real();
}
void forget(sqlite3_file *f) {
    if (file(f)->ra) file(f)->ra->len = 0;
}

int ra_close(sqlite3_file *f) {
    delete file(f)->ra;
    file(f)->ra = nullptr;
    return real(f)->pMethods->xClose(real(f));
}

int ra_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off) {
    sqlite3_file *r = real(f);
    ReadAhead *ra = file(f)->ra;
    if (ra == nullptr || amt > kBlock) return r->pMethods->xRead(r, out, amt, off);
    if (ra->len > 0 && off >= ra->start && off + amt <= ra->start + ra->len) {
        std::memcpy(out, ra->buf.get() + (off - ra->start), static_cast<size_t>(amt));
        ra->next = off + amt;
        return SQLITE_OK;
    }
    // Read a block only for reads that move forward a little from the previous one (a scan);
    // lookups elsewhere in the file read just what they ask for.
    const bool scanning = ra->next >= 0 && off >= ra->next && off - ra->next <= kBlock;
    ra->next = off + amt;
    sqlite3_int64 size = 0;
    if (!scanning || r->pMethods->xFileSize(r, &size) != SQLITE_OK || off + amt > size)
        return r->pMethods->xRead(r, out, amt, off);  // also the short read at end of file
    if (!ra->buf) ra->buf = std::make_unique<char[]>(kBlock);
    const auto n = static_cast<int>(std::min<sqlite3_int64>(kBlock, size - off));
    ra->len = 0;
    const int rc = r->pMethods->xRead(r, ra->buf.get(), n, off);
    if (rc != SQLITE_OK) return r->pMethods->xRead(r, out, amt, off);  // let it report its error
    ra->start = off;
    ra->len = n;
    std::memcpy(out, ra->buf.get(), static_cast<size_t>(amt));
    return SQLITE_OK;
}

int ra_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off) {
    forget(f);
    return real(f)->pMethods->xWrite(real(f), p, amt, off);
}
int ra_truncate(sqlite3_file *f, sqlite3_int64 size) {
    forget(f);
    return real(f)->pMethods->xTruncate(real(f), size);
}
int ra_sync(sqlite3_file *f, int flags) {
    return real(f)->pMethods->xSync(real(f), flags);
}
int ra_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    return real(f)->pMethods->xFileSize(real(f), size);
}
// What the file holds may change whenever the lock does.
int ra_lock(sqlite3_file *f, int level) {
    forget(f);
    return real(f)->pMethods->xLock(real(f), level);
}
int ra_unlock(sqlite3_file *f, int level) {
    forget(f);
    return real(f)->pMethods->xUnlock(real(f), level);
}
int ra_check_reserved(sqlite3_file *f, int *out) {
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int ra_file_control(sqlite3_file *f, int op, void *arg) {
    return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int ra_sector_size(sqlite3_file *f) {
    return real(f)->pMethods->xSectorSize(real(f));
}
int ra_device(sqlite3_file *f) {
    return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int ra_shm_map(sqlite3_file *f, int pg, int size, int extend, void volatile **pp) {
    return real(f)->pMethods->xShmMap(real(f), pg, size, extend, pp);
}
int ra_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void ra_shm_barrier(sqlite3_file *f) {
    real(f)->pMethods->xShmBarrier(real(f));
}
int ra_shm_unmap(sqlite3_file *f, int del) {
    return real(f)->pMethods->xShmUnmap(real(f), del);
}
// No memory-mapped pages: SQLite then reads through xRead (as it does with mmap_size 0).
int ra_fetch(sqlite3_file *, sqlite3_int64, int, void **pp) {
    *pp = nullptr;
    return SQLITE_OK;
}
int ra_unfetch(sqlite3_file *, sqlite3_int64, void *) {
    return SQLITE_OK;
}

// Version 1 methods for files whose own methods stop there; version 3 otherwise.
const sqlite3_io_methods kMethodsV1 = {
    1,       ra_close,  ra_read,           ra_write,        ra_truncate,    ra_sync,   ra_file_size,
    ra_lock, ra_unlock, ra_check_reserved, ra_file_control, ra_sector_size, ra_device, nullptr,
    nullptr, nullptr,   nullptr,           nullptr,         nullptr};
const sqlite3_io_methods kMethodsV3 = {
    3,           ra_close,       ra_read,           ra_write,        ra_truncate,    ra_sync,   ra_file_size,
    ra_lock,     ra_unlock,      ra_check_reserved, ra_file_control, ra_sector_size, ra_device, ra_shm_map,
    ra_shm_lock, ra_shm_barrier, ra_shm_unmap,      ra_fetch,        ra_unfetch};

sqlite3_vfs *base_vfs(sqlite3_vfs *vfs) {
    return static_cast<sqlite3_vfs *>(vfs->pAppData);
}

int ra_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    File *p = file(f);
    p->base.pMethods = nullptr;
    p->ra = nullptr;
    const int rc = base_vfs(vfs)->xOpen(base_vfs(vfs), name, p->real(), flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    if (flags & SQLITE_OPEN_MAIN_DB) p->ra = new (std::nothrow) ReadAhead();
    p->base.pMethods = p->real()->pMethods->iVersion >= 3 ? &kMethodsV3 : &kMethodsV1;
    return SQLITE_OK;
}

sqlite3_vfs make_vfs() {
    sqlite3_vfs *base = sqlite3_vfs_find(nullptr);
    sqlite3_vfs v = *base;  // every other method is the default VFS's, called with it
    v.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
    v.zName = "synchost-readahead";
    v.pAppData = base;
    v.pNext = nullptr;
    v.xOpen = ra_open;
    v.xDelete = [](sqlite3_vfs *s, const char *n, int sync) { return base_vfs(s)->xDelete(base_vfs(s), n, sync); };
    v.xAccess = [](sqlite3_vfs *s, const char *n, int fl, int *out) {
        return base_vfs(s)->xAccess(base_vfs(s), n, fl, out);
    };
    v.xFullPathname = [](sqlite3_vfs *s, const char *n, int len, char *out) {
        return base_vfs(s)->xFullPathname(base_vfs(s), n, len, out);
    };
    v.xDlOpen = [](sqlite3_vfs *s, const char *n) { return base_vfs(s)->xDlOpen(base_vfs(s), n); };
    v.xDlError = [](sqlite3_vfs *s, int len, char *out) { base_vfs(s)->xDlError(base_vfs(s), len, out); };
    v.xDlSym = [](sqlite3_vfs *s, void *h, const char *sym) { return base_vfs(s)->xDlSym(base_vfs(s), h, sym); };
    v.xDlClose = [](sqlite3_vfs *s, void *h) { base_vfs(s)->xDlClose(base_vfs(s), h); };
    v.xRandomness = [](sqlite3_vfs *s, int len, char *out) { return base_vfs(s)->xRandomness(base_vfs(s), len, out); };
    v.xSleep = [](sqlite3_vfs *s, int us) { return base_vfs(s)->xSleep(base_vfs(s), us); };
    v.xCurrentTime = [](sqlite3_vfs *s, double *out) { return base_vfs(s)->xCurrentTime(base_vfs(s), out); };
    v.xGetLastError = [](sqlite3_vfs *s, int len, char *out) {
        return base_vfs(s)->xGetLastError(base_vfs(s), len, out);
    };
    if (base->iVersion >= 2 && base->xCurrentTimeInt64)
        v.xCurrentTimeInt64 = [](sqlite3_vfs *s, sqlite3_int64 *out) {
            return base_vfs(s)->xCurrentTimeInt64(base_vfs(s), out);
        };
    // No system-call overrides through this VFS (a testing interface).
    if (v.iVersion >= 3) v.xSetSystemCall = nullptr, v.xGetSystemCall = nullptr, v.xNextSystemCall = nullptr;
    return v;
}

}  // namespace

const char *readahead_vfs() {
    static sqlite3_vfs vfs = make_vfs();
    static const bool registered = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
    return registered ? vfs.zName : nullptr;  // nullptr: the default VFS
}

}  // namespace synchost::sources
