#include "state/state_store.hpp"

#include "exit_codes.hpp"
#include "state/state_files.hpp"
#include "state/wal_checkpointer.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unordered_set>
#include <utility>

namespace synchost {

namespace fs = std::filesystem;

namespace {

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rows(
  pk TEXT PRIMARY KEY, state INTEGER NOT NULL, hash INTEGER, event_id TEXT,
  reason TEXT, field TEXT, run_id INTEGER, updated_at INTEGER, seq INTEGER) WITHOUT ROWID;
-- Only rejected rows are looked up by reason (status); indexing the rest would double the cost
-- of every checkpoint.
CREATE INDEX IF NOT EXISTS rows_rejected ON rows(reason) WHERE state = 2;
CREATE TABLE IF NOT EXISTS members(
  pk TEXT PRIMARY KEY, active INTEGER NOT NULL, generation INTEGER NOT NULL,
  joined_run INTEGER, seen_run INTEGER, departed_run INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY, started_at INTEGER, finished_at INTEGER, mode TEXT, dry_run INTEGER,
  status TEXT, message TEXT, rows_read INTEGER, skipped INTEGER, sent INTEGER, delivered INTEGER,
  rejected INTEGER, retry INTEGER, row_errors INTEGER, departed INTEGER, exit_code INTEGER,
  test_events INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS row_errors(run_id INTEGER, position INTEGER, pk TEXT, reason TEXT);
-- Keys delivered in insert mode, with the checkpoint (seq) that recorded them: most of a sync's
-- state, so one narrow record per key. `rows` holds the other outcomes (and delivered rows written
-- by versions before this table); a key is in one of the two.
CREATE TABLE IF NOT EXISTS delivered(pk TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta VALUES('schema_version', '1');
)sql";

// Runs as read_runs() reads them.
constexpr const char *kSelectRuns =
    "SELECT id, started_at, coalesce(finished_at, 0), mode, dry_run, status, coalesce(message, ''), rows_read, "
    "skipped, sent, delivered, rejected, retry, row_errors, departed, exit_code, test_events, op_upsert, op_delete, "
    "op_add, op_remove, tracked, coalesce(quality, ''), coalesce(routes, '') FROM runs ";

// Row errors kept per run: enough to explain, bounded so a broken query cannot fill the disk.
constexpr int kMaxRowErrorsPerRun = 1000;

// Delivered rows are written kChunk per statement: one statement step per row was the largest
// cost of a checkpoint.
constexpr int kChunk = 64;

// A checkpoint's seq is run id * kSeqPerRun + its number within the run, so a row's run is
// seq / kSeqPerRun. `rows` also has run_id (older versions wrote delivered rows there with run_id
// only); SP_ROW_RUN is a row's run either way (1000000000 = kSeqPerRun).
constexpr int64_t kSeqPerRun = 1'000'000'000;
#define SP_ROW_RUN "coalesce(rows.run_id, rows.seq / 1000000000)"

std::string chunk_sql() {
    std::string sql = "INSERT INTO delivered(pk, seq) VALUES ";
    const std::string seq = ", ?" + std::to_string(kChunk + 1) + ")";
    for (int i = 1; i <= kChunk; ++i) sql += (i > 1 ? ",(?" : "(?") + std::to_string(i) + seq;
    return sql + " ON CONFLICT(pk) DO NOTHING";
}

int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool has_table(Db &db, const char *name) {
    Stmt q = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    q.bind(1, name);
    return q.step();
}

}  // namespace

struct StateStore::Impl {
    Db db;
    int lock_fd = -1;
    // Lookups between checkpoints share one transaction: outside a transaction every statement
    // would take and release SQLite's file locks (two fcntl calls per row).
    bool in_tx = false;
    void open_tx() {
        if (!in_tx) {
            db.exec("BEGIN IMMEDIATE");
            in_tx = true;
        }
    }
    void commit_tx() {
        if (in_tx) {
            db.exec("COMMIT");
            in_tx = false;
        }
    }
    ~Impl() {
        if (in_tx) db.exec("ROLLBACK");
        if (lock_fd >= 0) ::close(lock_fd);
    }
    std::unique_ptr<WalCheckpointer> checkpointer;  // runs only; closed before `db`
    Stmt insert_chunk, insert_one, insert_hashed, update_delivered, written_before, delivered_seq, row_run, delete_row,
        delete_delivered;
    // Keys with a row in `rows` that a delivery may have to replace: found there by lookup()
    // (rejected or pending in an earlier run) or written there by this run. Only these are looked
    // at when a key is delivered; every other delivered key goes straight into `delivered`.
    std::unordered_set<std::string> in_rows;
    int64_t commits = 0;  // checkpoints so far: tells this checkpoint's rows from earlier ones
    Stmt lookup, member, upsert_row, member_add, member_seen, member_changed, member_left, save_run, add_error,
        count_errors, seen_insert;
    bool seen_table = false;  // the temporary table of keys seen by this run exists
    explicit Impl(const fs::path &file) : db(file) {
        // Closing would fold the write-ahead log into the database and sync both, at the very end
        // of a run where nothing else can overlap the wait. The log is as durable as the commits
        // in it (synchronous=NORMAL) and the next open reads it; its own checkpoints fold it in.
        // `status` leaves the files exactly as they were, too.
        sqlite3_db_config(db.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    }
    // After the state was checked (or created): the schema, then the statements.
    void prepare() {
        db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        db.exec(kSchema);
        add_column_if_missing("runs", "test_events", "INTEGER NOT NULL DEFAULT 0");
        // Minor-1 modes: what each delivered key's content was, and counts per operation.
        add_column_if_missing("delivered", "hash", "INTEGER");
        add_column_if_missing("members", "hash", "INTEGER");
        for (const char *c : {"op_upsert", "op_delete", "op_add", "op_remove", "tracked"})
            add_column_if_missing("runs", c, "INTEGER NOT NULL DEFAULT 0");
        add_column_if_missing("runs", "quality", "TEXT");  // the plugin's sp.quality/1 report, as JSON
        add_column_if_missing("runs", "routes", "TEXT");   // counts per routing value, as JSON
        lookup = db.prepare("SELECT state, " SP_ROW_RUN ", hash FROM rows WHERE pk = ?1");
        member = db.prepare("SELECT active, generation, coalesce(hash, 0) FROM members WHERE pk = ?1");
        upsert_row = db.prepare(
            "INSERT INTO rows(pk, state, hash, event_id, reason, field, run_id, updated_at, seq) "
            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) "
            "ON CONFLICT(pk) DO UPDATE SET state=excluded.state, hash=excluded.hash, event_id=excluded.event_id, "
            "reason=excluded.reason, field=excluded.field, run_id=excluded.run_id, updated_at=excluded.updated_at, "
            "seq=excluded.seq WHERE " SP_ROW_RUN " != excluded.run_id");
        insert_chunk = db.prepare(chunk_sql());
        insert_one = db.prepare("INSERT INTO delivered(pk, seq) VALUES(?1, ?2) ON CONFLICT(pk) DO NOTHING");
        insert_hashed = db.prepare("INSERT INTO delivered(pk, seq, hash) VALUES(?1, ?2, ?3) ON CONFLICT(pk) DO NOTHING");
        // A key delivered again (an update): unless this run already wrote it (a repeated key).
        update_delivered = db.prepare("UPDATE delivered SET seq = ?2, hash = ?3 WHERE pk = ?1 AND seq / " +
                                      std::to_string(kSeqPerRun) + " != ?2 / " + std::to_string(kSeqPerRun));
        written_before = db.prepare("SELECT 1 FROM delivered WHERE pk = ?1 AND seq != ?2");
        delivered_seq = db.prepare("SELECT seq, coalesce(hash, 0) FROM delivered WHERE pk = ?1");
        row_run = db.prepare("SELECT " SP_ROW_RUN " FROM rows WHERE pk = ?1");
        delete_row = db.prepare("DELETE FROM rows WHERE pk = ?1");
        delete_delivered = db.prepare("DELETE FROM delivered WHERE pk = ?1");
        member_add = db.prepare(
            "INSERT INTO members(pk, active, generation, joined_run, seen_run, hash) VALUES(?1, 1, 1, ?2, ?2, ?3) "
            "ON CONFLICT(pk) DO UPDATE SET active=1, generation=generation+1, joined_run=?2, seen_run=?2, "
            "departed_run=NULL, hash=?3");
        member_seen = db.prepare("UPDATE members SET seen_run = ?2 WHERE pk = ?1");
        member_changed = db.prepare("UPDATE members SET seen_run = ?2, hash = ?3 WHERE pk = ?1");
        member_left = db.prepare("UPDATE members SET active = 0, departed_run = ?2 WHERE pk = ?1 AND active = 1");
        save_run = db.prepare(
            "INSERT OR REPLACE INTO runs(id, started_at, finished_at, mode, dry_run, status, message, rows_read, skipped, "
            "sent, delivered, rejected, retry, row_errors, departed, exit_code, test_events, op_upsert, op_delete, "
            "op_add, op_remove, tracked, quality, routes) "
            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)");
        add_error = db.prepare("INSERT INTO row_errors(run_id, position, pk, reason) VALUES(?1,?2,?3,?4)");
        count_errors = db.prepare("SELECT count(*) FROM row_errors WHERE run_id = ?1");
    }

    // The seq of a delivered key, if it is one (and the content hash recorded with it, 0: none).
    std::optional<int64_t> delivered_at(std::string_view pk, uint64_t *hash = nullptr) {
        delivered_seq.bind_static(1, pk);
        std::optional<int64_t> seq;
        if (delivered_seq.step()) {
            seq = delivered_seq.integer(0);
            if (hash) *hash = static_cast<uint64_t>(delivered_seq.integer(1));
        }
        delivered_seq.reset();
        return seq;
    }
    // Records delivered key `pk`; false when it already was (written_earlier() then tells whether
    // by an earlier checkpoint).
    bool insert_delivered(std::string_view pk, int64_t seq) {
        insert_one.bind_static(1, pk).bind(2, seq);
        insert_one.run();
        return db.changes() == 1;
    }
    bool written_earlier(std::string_view pk, int64_t seq) {
        written_before.bind_static(1, pk).bind(2, seq);
        const bool found = written_before.step();
        written_before.reset();
        return found;
    }
    // A delivery that records the content hash, or replaces an earlier delivery (an update).
    // False when this run had already written the key (a key repeated in the query result).
    bool deliver_with_hash(const RowUpdate &u, int64_t seq) {
        const int64_t run = seq / kSeqPerRun;
        if (in_rows.count(u.pk)) {  // an earlier attempt (rejected, retry) is superseded
            row_run.bind_static(1, u.pk);
            const bool this_run = row_run.step() && row_run.integer(0) == run;
            row_run.reset();
            if (this_run) return false;
            run_one(delete_row, u.pk);
            in_rows.erase(u.pk);
        }
        Stmt &s = u.replaces ? update_delivered : insert_hashed;
        s.bind_static(1, u.pk).bind(2, seq);
        if (u.keep_hash) s.bind(3, static_cast<int64_t>(u.hash));
        else s.bind_null(3);
        s.run();
        if (db.changes() == 1) return true;
        if (u.replaces && !delivered_at(u.pk)) {  // delivered in the layout before: now in `delivered`
            insert_hashed.bind_static(1, u.pk).bind(2, seq);
            if (u.keep_hash) insert_hashed.bind(3, static_cast<int64_t>(u.hash));
            else insert_hashed.bind_null(3);
            insert_hashed.run();
            return true;
        }
        return false;
    }

    void run_one(Stmt &s, std::string_view pk) {
        s.bind_static(1, pk);
        s.run();
    }

    void write_run(const RunSummary &r) {
        save_run.bind(1, r.id).bind(2, r.started_at).bind(4, r.mode).bind(5, r.dry_run ? 1 : 0).bind(6, r.status);
        if (r.finished_at) save_run.bind(3, r.finished_at);
        else save_run.bind_null(3);
        save_run.bind(7, r.message);
        const uint64_t counters[] = {r.rows_read, r.skipped, r.sent, r.delivered, r.rejected, r.retry, r.row_errors, r.departed};
        for (int i = 0; i < 8; ++i) save_run.bind(8 + i, static_cast<int64_t>(counters[i]));
        save_run.bind(16, r.exit_code).bind(17, r.test_events ? 1 : 0);
        for (int i = 0; i < 4; ++i) save_run.bind(18 + i, static_cast<int64_t>(r.by_operation[i]));
        save_run.bind(22, static_cast<int64_t>(r.tracked));
        for (auto [column, text] : {std::pair{23, &r.quality}, std::pair{24, &r.routes}}) {
            if (text->empty()) save_run.bind_null(column);
            else save_run.bind(column, *text);
        }
        save_run.run();
    }

    void add_column_if_missing(const char *table, const char *column, const char *decl) {
        Stmt q = db.prepare(std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name = ?1");
        q.bind(1, column);
        if (q.step()) return;
        q.reset();
        db.exec((std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + decl).c_str());
    }

    std::string meta(const char *key) {
        Stmt q = db.prepare("SELECT value FROM meta WHERE key = ?1");
        q.bind(1, key);
        return q.step() ? q.text(0) : std::string();
    }
    void set_meta(const char *key, const std::string &value) {
        Stmt q = db.prepare("INSERT OR REPLACE INTO meta VALUES(?1, ?2)");
        q.bind(1, key).bind(2, value);
        q.run();
    }
    int64_t last_run_id() {
        Stmt q = db.prepare("SELECT coalesce(max(id), 0) FROM runs");
        q.step();
        return q.integer(0);
    }

    // A state that was there before this open: checked before anything is written to it. A full
    // integrity check reads every page, so it runs only when the files are not exactly as synchost
    // left them at the end of the last run (a crash, a copy, a restore, a disk that changed them).
    void verify_existing(const std::optional<StateMarker> &marker) {
        const StateFiles &f = files;
        const bool as_left = marker && marker->db == FileIdentity::of(f.db) && marker->wal == FileIdentity::of(f.wal());
        if (!as_left) {
            Stmt q = db.prepare("PRAGMA quick_check(1)");
            const std::string verdict = q.step() ? q.text(0) : "no answer";
            if (verdict != "ok") throw StateDamaged(f.db, "is damaged (SQLite's integrity check: " + verdict + ")");
        }
        if (!has_table(db, "meta") || !has_table(db, "runs"))
            throw StateDamaged(f.db, "holds no sync state: it was truncated, or copied without its -wal file");
        state_id = meta("state_id");
        if (state_id.empty()) {
            // States written before ids existed have no marker either: adopt them. A marker means
            // the state was made by this version, so a state without an id is not the one it names.
            if (marker) throw StateDamaged(f.db, "is not the state its marker " + f.marker.string() + " describes");
            state_id = new_state_id();
            set_meta("state_id", state_id);
            return;
        }
        if (!marker) return;  // a lost marker: the state itself is consistent; closing rewrites it
        if (marker->state_id != state_id)
            throw StateDamaged(f.db, "is not the state its marker " + f.marker.string() +
                                         " describes (another sync's state, or another copy)");
        if (const int64_t last = last_run_id(); last < marker->last_run)
            throw StateDamaged(f.db, "ends at run " + std::to_string(last) + ", but run " +
                                         std::to_string(marker->last_run) +
                                         " was recorded after it: it is an older copy, or lost its -wal file");
    }

    // Opens the files of an existing state, or creates a new one. Throws StateDamaged.
    static std::unique_ptr<Impl> open_checked(const StateFiles &files) {
        check_before_open(files);
        const std::optional<StateMarker> marker = read_marker(files);
        const bool existed = fs::exists(files.db);
        auto im = std::make_unique<Impl>(files.db);
        im->files = files;
        if (existed) im->verify_existing(marker);
        im->prepare();
        if (!existed) {
            im->db.exec("PRAGMA synchronous=FULL");  // on disk before the marker that names it
            im->state_id = new_state_id();
            im->set_meta("state_id", im->state_id);
            im->db.exec("PRAGMA synchronous=NORMAL");
            write_marker(files, {im->state_id, 0, {}, {}});
        }
        return im;
    }

    StateFiles files;
    std::string state_id;
    std::vector<std::string> notes;
    bool record_marker = false;  // runs: the destructor records the files as left
};



std::unique_ptr<StateStore> StateStore::open(const fs::path &dir, const std::string &sync_name, Access access,
                                             Damaged damaged) {
    const StateFiles files = StateFiles::of(dir, sync_name);
    std::error_code ec;
    if (access == Access::read && !fs::exists(files.db, ec) && !fs::exists(files.marker, ec) &&
        !fs::exists(dir / (sync_name + ".sqlite"), ec))
        throw CliError(kExitConfig, "sync \"" + sync_name + "\" has not run yet (no state in " + dir.string() + ")");
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw CliError(kExitConfig, "cannot create the state directory " + dir.string() + ": " + ec.message());
        ::chmod(dir.c_str(), 0700);  // state names what was delivered: keep it private
    }
    if (::access(dir.c_str(), W_OK) != 0)
        throw CliError(kExitConfig, "the state directory " + dir.string() +
                                        " is not writable (set --state-dir or SYNCHOST_STATE_DIR to a writable directory)");
    std::vector<std::string> notes;
    if (std::optional<std::string> moved = prepare_state_dir(dir, sync_name, files)) notes.push_back(*moved);
    // One run of a sync at a time: a second one would send the same rows.
    const int fd = access == Access::read ? -1 : ::open(files.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (access == Access::run && fd < 0)
        throw CliError(kExitConfig, "cannot create " + files.lock.string() + ": " + std::strerror(errno));
    if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw CliError(kExitConfig, "another synchost process is using sync \"" + sync_name + "\" (lock " +
                                        files.lock.string() + "); wait for it to finish");
    }
    std::unique_ptr<StateStore> s(new StateStore());
    try {
        try {
            s->impl_ = Impl::open_checked(files);
        } catch (const StateDamaged &) {
            if (damaged != Damaged::start_over) throw;
            s->impl_.reset();
            notes.push_back("set aside the damaged state as " + set_aside(files).string() + " and started a new one");
            s->impl_ = Impl::open_checked(files);
        }
    } catch (const CliError &) {
        if (fd >= 0) ::close(fd);
        throw;
    } catch (const std::exception &e) {
        if (fd >= 0) ::close(fd);
        throw CliError(kExitConfig, e.what());
    }
    s->impl_->lock_fd = fd;
    s->impl_->notes = std::move(notes);
    if (access == Access::run) {
        s->impl_->record_marker = true;
        s->impl_->checkpointer = WalCheckpointer::start(s->impl_->db.handle(), s->file());
    }
    return s;
}

StateStore::~StateStore() {
    if (!impl_ || !impl_->record_marker) return;
    // The marker records the files as they are left, under the lock, once the database is closed.
    const int lock_fd = std::exchange(impl_->lock_fd, -1);
    const StateFiles files = impl_->files;
    StateMarker m;
    bool record = true;
    try {
        impl_->commit_tx();
        m.state_id = impl_->state_id;
        m.last_run = impl_->last_run_id();
    } catch (const std::exception &) {
        record = false;  // the next open checks the whole state instead
    }
    impl_.reset();
    if (record) {
        m.db = FileIdentity::of(files.db);
        m.wal = FileIdentity::of(files.wal());
        try {
            write_marker(files, m);
        } catch (const std::exception &) {  // idem
        }
    }
    if (lock_fd >= 0) ::close(lock_fd);
}

const std::vector<std::string> &StateStore::notes() const { return impl_->notes; }

const fs::path &StateStore::file() const { return impl_->db.file(); }

std::optional<KnownRow> StateStore::lookup(std::string_view pk, bool with_attempt) {
    impl_->open_tx();
    KnownRow out;
    uint64_t hash = 0;
    if (std::optional<int64_t> seq = impl_->delivered_at(pk, &hash)) {
        out.delivered = KnownRow::Delivery{*seq / kSeqPerRun, hash};
        if (!with_attempt) return out;
    }
    Stmt &q = impl_->lookup;
    q.bind(1, pk);
    if (q.step()) {
        const auto state = static_cast<RowState>(q.integer(0));
        const int64_t run = q.integer(1);
        const auto row_hash = static_cast<uint64_t>(q.integer(2));
        if (state == RowState::delivered) out.delivered = KnownRow::Delivery{run, 0};  // the layout before
        else out.attempt = KnownRow::Attempt{state, run, row_hash};
        impl_->in_rows.emplace(pk);
    }
    q.reset();
    if (!out.delivered && !out.attempt) return std::nullopt;
    return out;
}

std::optional<MemberState> StateStore::member(std::string_view pk) {
    impl_->open_tx();
    Stmt &q = impl_->member;
    q.bind(1, pk);
    std::optional<MemberState> out;
    if (q.step()) out = MemberState{q.integer(0) != 0, q.integer(1), static_cast<uint64_t>(q.integer(2))};
    q.reset();
    return out;
}

void StateStore::use_row_hash(int version) {
    impl_->commit_tx();
    Stmt q = impl_->db.prepare("SELECT value FROM meta WHERE key = 'row_hash'");
    // A state without the key predates versioned hashes: version 1.
    const std::string stored = q.step() ? q.text(0) : "1";
    q.reset();
    if (stored == std::to_string(version)) return;
    Db::Transaction tx(impl_->db);
    impl_->db.exec("UPDATE rows SET hash = NULL WHERE hash IS NOT NULL");
    Stmt set = impl_->db.prepare("INSERT OR REPLACE INTO meta VALUES('row_hash', ?1)");
    set.bind(1, std::to_string(version));
    set.run();
    tx.commit();
}

RunSummary StateStore::begin_run(const std::string &mode, bool dry_run, bool test_events) {
    impl_->commit_tx();
    RunSummary r;
    r.started_at = now_s();
    r.mode = mode;
    r.dry_run = dry_run;
    r.test_events = test_events;
    r.id = impl_->last_run_id() + 1;
    if (!dry_run) {
        // A run still "running" was killed: this one holds the lock, so no other is under way.
        impl_->db.exec("UPDATE runs SET status = 'interrupted', message = 'the process was killed; the next run "
                       "continued from its last checkpoint' WHERE status = 'running'");
        impl_->write_run(r);
    }
    return r;
}

std::vector<size_t> StateStore::commit(const RunSummary &run, const std::vector<RowUpdate> &rows,
                                            const std::vector<MemberUpdate> &members,
                                            const std::vector<RowError> &errors) {
    impl_->open_tx();
    const int64_t now = now_s();
    // Unique per checkpoint: rows already written by this run (keys repeated in the query result)
    // keep an older seq, since the upserts skip rows whose run_id is this run's.
    const int64_t seq = run.id * kSeqPerRun + ++impl_->commits;
    Impl &im = *impl_;
    std::vector<size_t> repeated;
    std::vector<size_t> fresh, replacing;  // delivered keys: new, or with a row in `rows`
    for (size_t i = 0; i < rows.size(); ++i) {
        const RowUpdate &u = rows[i];
        if (u.state == RowState::gone) {  // a DELETE the destination acknowledged
            im.run_one(im.delete_delivered, u.pk);
            im.run_one(im.delete_row, u.pk);
            im.in_rows.erase(u.pk);
            continue;
        }
        if (u.state == RowState::delivered && (u.replaces || u.keep_hash)) {
            if (!im.deliver_with_hash(u, seq)) repeated.push_back(i);
            continue;
        }
        if (u.state == RowState::delivered) {
            // Hashing each key to ask an empty set (a first run) cost about 1% of a sync.
            (!im.in_rows.empty() && im.in_rows.count(u.pk) ? replacing : fresh).push_back(i);
            continue;
        }
        // A rejection or a retry leaves a delivered key delivered: the destination still holds
        // what it was sent before (an update that failed changes nothing there).
        if (std::optional<int64_t> at = im.delivered_at(u.pk); at && *at / kSeqPerRun == run.id) {
            repeated.push_back(i);  // delivered earlier in this run
            continue;
        }
        Stmt &s = im.upsert_row;
        s.bind(1, u.pk).bind(2, static_cast<int64_t>(u.state)).bind(3, static_cast<int64_t>(u.hash)).bind(4, u.event_id);
        if (u.reason.empty()) s.bind_null(5);
        else s.bind(5, u.reason);
        if (u.field.empty()) s.bind_null(6);
        else s.bind(6, u.field);
        s.bind(7, run.id).bind(8, now).bind(9, seq);
        s.run();
        if (im.db.changes() == 0) repeated.push_back(i);  // already written by this run
        else im.in_rows.insert(u.pk);
    }
    // Delivered keys: only key and checkpoint (the event id is derived from the key, and the
    // content hash matters only for rejected rows).
    size_t at = 0;
    for (; at + kChunk <= fresh.size(); at += kChunk) {
        Stmt &s = im.insert_chunk;
        // `rows` outlives the statement's run: no copies of the keys
        for (int k = 0; k < kChunk; ++k) s.bind_static(k + 1, rows[fresh[at + k]].pk);
        s.bind(kChunk + 1, seq);
        s.run();
        if (im.db.changes() == kChunk) continue;
        for (int k = 0; k < kChunk; ++k)  // rare: find which keys this run had delivered before
            if (im.written_earlier(rows[fresh[at + k]].pk, seq)) repeated.push_back(fresh[at + k]);
    }
    for (; at < fresh.size(); ++at)
        if (!im.insert_delivered(rows[fresh[at]].pk, seq) && im.written_earlier(rows[fresh[at]].pk, seq))
            repeated.push_back(fresh[at]);
    for (size_t i : replacing) {
        const std::string &pk = rows[i].pk;
        im.row_run.bind_static(1, pk);
        const bool this_run = im.row_run.step() && im.row_run.integer(0) == run.id;
        im.row_run.reset();
        if (this_run) {  // its first row's outcome, from this run, stands
            repeated.push_back(i);
            continue;
        }
        im.run_one(im.delete_row, pk);
        im.in_rows.erase(pk);
        if (!im.insert_delivered(pk, seq) && im.written_earlier(pk, seq)) repeated.push_back(i);
    }
    for (const auto &m : members) {
        Stmt &s = m.kind == MemberUpdate::joined    ? impl_->member_add
                  : m.kind == MemberUpdate::changed ? impl_->member_changed
                  : m.kind == MemberUpdate::left    ? impl_->member_left
                                                    : impl_->member_seen;
        s.bind(1, m.pk).bind(2, run.id);
        if (m.kind == MemberUpdate::joined || m.kind == MemberUpdate::changed) s.bind(3, static_cast<int64_t>(m.hash));
        s.run();
    }
    if (!errors.empty()) {
        impl_->count_errors.bind(1, run.id);
        impl_->count_errors.step();
        int64_t have = impl_->count_errors.integer(0);
        impl_->count_errors.reset();
        for (const auto &e : errors) {
            if (have++ >= kMaxRowErrorsPerRun) break;
            impl_->add_error.bind(1, run.id).bind(2, static_cast<int64_t>(e.position)).bind(3, e.pk).bind(4, e.reason);
            impl_->add_error.run();
        }
    }
    impl_->write_run(run);
    impl_->commit_tx();
    return repeated;
}

void StateStore::mark_seen(std::string_view pk) {
    impl_->open_tx();
    Impl &im = *impl_;
    if (!im.seen_table) {
        im.db.exec("CREATE TEMP TABLE IF NOT EXISTS seen(pk TEXT PRIMARY KEY) WITHOUT ROWID");
        im.seen_insert = im.db.prepare("INSERT OR IGNORE INTO temp.seen(pk) VALUES(?1)");
        im.seen_table = true;
    }
    im.run_one(im.seen_insert, pk);
}

namespace {
// Delivered keys (row syncs) or active members (audiences), the departed ones only when asked.
std::string known_keys_sql(bool audience, bool departed, const char *columns) {
    std::string sql = std::string("SELECT ") + columns + (audience ? " FROM members WHERE active = 1" : " FROM delivered WHERE 1");
    if (departed) sql += " AND pk NOT IN (SELECT pk FROM temp.seen)";
    return sql;
}
}  // namespace

uint64_t StateStore::count_known(bool audience) {
    impl_->commit_tx();
    Stmt q = impl_->db.prepare(known_keys_sql(audience, false, "count(*)"));
    q.step();
    return static_cast<uint64_t>(q.integer(0));
}

uint64_t StateStore::count_departed(bool audience) {
    impl_->commit_tx();
    if (!impl_->seen_table) return count_known(audience);  // nothing seen: every key left
    Stmt q = impl_->db.prepare(known_keys_sql(audience, true, "count(*)"));
    q.step();
    return static_cast<uint64_t>(q.integer(0));
}

std::vector<DepartedKey> StateStore::departed(bool audience) {
    impl_->commit_tx();
    Stmt q = impl_->db.prepare(known_keys_sql(audience, impl_->seen_table,
                                              audience ? "pk, generation, coalesce(hash, 0)" : "pk, 0, coalesce(hash, 0)"));
    std::vector<DepartedKey> out;
    while (q.step()) out.push_back({q.text(0), q.integer(1), static_cast<uint64_t>(q.integer(2))});
    return out;
}

void StateStore::finish_run(const RunSummary &run) {
    impl_->commit_tx();
    // On disk before the marker names this run (one fsync of the log).
    impl_->db.exec("PRAGMA synchronous=FULL");
    impl_->open_tx();
    impl_->write_run(run);
    impl_->commit_tx();
    impl_->db.exec("PRAGMA synchronous=NORMAL");
}

uint64_t StateStore::mark_departures(int64_t run_id) {
    impl_->commit_tx();
    Db::Transaction tx(impl_->db);
    Stmt s = impl_->db.prepare("UPDATE members SET active = 0, departed_run = ?1 WHERE active = 1 AND seen_run < ?1");
    s.bind(1, run_id);
    s.run();
    const auto n = static_cast<uint64_t>(impl_->db.changes());
    tx.commit();
    return n;
}

uint64_t StateStore::forget_delivered() {
    impl_->commit_tx();
    Db::Transaction tx(impl_->db);
    impl_->db.exec("DELETE FROM rows");
    auto n = static_cast<uint64_t>(impl_->db.changes());
    impl_->db.exec("DELETE FROM delivered");
    n += static_cast<uint64_t>(impl_->db.changes());
    impl_->in_rows.clear();
    impl_->db.exec("DELETE FROM members");
    tx.commit();
    return n;
}

std::string StateStore::keys_location() { return impl_->meta("keys_location"); }

std::string StateStore::keys_schema() { return impl_->meta("keys_schema"); }

void StateStore::set_keys_location(const std::string &table, const std::string &schema) {
    impl_->commit_tx();
    impl_->set_meta("keys_location", table);
    impl_->set_meta("keys_schema", schema);
}

void StateStore::export_keys(bool audience, size_t batch, const std::function<void(std::vector<KeyRecord> &)> &each) {
    impl_->commit_tx();
    Stmt q = impl_->db.prepare(audience ? "SELECT pk, coalesce(hash, 0), generation, active FROM members"
                                        : "SELECT pk, coalesce(hash, 0), 0, 1 FROM delivered UNION ALL "
                                          "SELECT pk, coalesce(hash, 0), 0, 1 FROM rows WHERE state = 1");
    std::vector<KeyRecord> out;
    while (q.step()) {
        out.push_back({q.text(0), static_cast<uint64_t>(q.integer(1)), q.integer(2), q.integer(3) != 0});
        if (out.size() < batch) continue;
        each(out);
        out.clear();
    }
    if (!out.empty()) each(out);
}

void StateStore::import_keys(bool audience, const std::vector<KeyRecord> &keys) {
    impl_->commit_tx();
    Db::Transaction tx(impl_->db);
    Stmt put = impl_->db.prepare(audience ? "INSERT OR REPLACE INTO members(pk, active, generation, joined_run, "
                                            "seen_run, hash) VALUES(?1, ?4, ?3, 0, 0, nullif(?2, 0))"
                                          : "INSERT OR REPLACE INTO delivered(pk, seq, hash) VALUES(?1, 0, nullif(?2, 0))");
    Stmt drop_row = impl_->db.prepare("DELETE FROM rows WHERE pk = ?1 AND state = 1");
    for (const KeyRecord &k : keys) {
        put.bind(1, k.pk).bind(2, static_cast<int64_t>(k.hash));
        if (audience) put.bind(3, k.generation).bind(4, int64_t{k.active});
        put.run();
        if (!audience) drop_row.bind(1, k.pk).run();  // an older layout's delivered row: one record per key
    }
    tx.commit();
}

bool StateStore::has_keys(bool audience) {
    Stmt q = impl_->db.prepare(audience ? "SELECT EXISTS(SELECT 1 FROM members)"
                                        : "SELECT EXISTS(SELECT 1 FROM delivered) OR EXISTS(SELECT 1 FROM rows WHERE state = 1)");
    q.step();
    return q.integer(0) != 0;
}

void StateStore::clear_keys() {
    impl_->commit_tx();
    Db::Transaction tx(impl_->db);
    impl_->db.exec("DELETE FROM delivered; DELETE FROM members; DELETE FROM rows WHERE state = 1;");
    tx.commit();
}

bool StateStore::has_rows() {
    Stmt q = impl_->db.prepare("SELECT EXISTS(SELECT 1 FROM rows) OR EXISTS(SELECT 1 FROM delivered) OR EXISTS(SELECT 1 FROM members)");
    q.step();
    return q.integer(0) != 0;
}

StateCounts StateStore::counts() {
    impl_->commit_tx();
    StateCounts c;
    Stmt q = impl_->db.prepare("SELECT state, count(*) FROM rows GROUP BY state");
    while (q.step()) {
        const auto n = static_cast<uint64_t>(q.integer(1));
        switch (static_cast<RowState>(q.integer(0))) {
        case RowState::delivered: c.delivered = n; break;
        case RowState::rejected: c.rejected = n; break;
        case RowState::pending: c.pending = n; break;
        case RowState::gone: break;  // never stored
        }
    }
    Stmt d = impl_->db.prepare("SELECT count(*) FROM delivered");
    if (d.step()) c.delivered += static_cast<uint64_t>(d.integer(0));
    Stmt m = impl_->db.prepare("SELECT active, count(*) FROM members GROUP BY active");
    while (m.step()) (m.integer(0) ? c.members_active : c.members_departed) = static_cast<uint64_t>(m.integer(1));
    return c;
}

std::vector<RunSummary> StateStore::recent_runs(int n) {
    Stmt q = impl_->db.prepare(std::string(kSelectRuns) + "ORDER BY id DESC LIMIT ?1");
    q.bind(1, n);
    return read_runs(q);
}

std::optional<RunSummary> StateStore::last_test_run() {
    Stmt q = impl_->db.prepare(std::string(kSelectRuns) + "WHERE test_events = 1 ORDER BY id DESC LIMIT 1");
    std::vector<RunSummary> runs = read_runs(q);
    if (runs.empty()) return std::nullopt;
    return runs.front();
}

std::vector<RunSummary> StateStore::runs_with_quality(int n) {
    Stmt q = impl_->db.prepare(std::string(kSelectRuns) + "WHERE quality IS NOT NULL AND test_events = 0 ORDER BY id DESC LIMIT ?1");
    q.bind(1, n);
    return read_runs(q);
}

std::vector<RunSummary> StateStore::read_runs(Stmt &q) {
    std::vector<RunSummary> out;
    while (q.step()) {
        RunSummary r;
        r.id = q.integer(0);
        r.started_at = q.integer(1);
        r.finished_at = q.integer(2);
        r.mode = q.text(3);
        r.dry_run = q.integer(4) != 0;
        r.status = q.text(5);
        r.message = q.text(6);
        uint64_t *counters[] = {&r.rows_read, &r.skipped, &r.sent, &r.delivered, &r.rejected, &r.retry, &r.row_errors, &r.departed};
        for (int i = 0; i < 8; ++i) *counters[i] = static_cast<uint64_t>(q.integer(7 + i));
        r.exit_code = static_cast<int>(q.integer(15));
        r.test_events = q.integer(16) != 0;
        for (int i = 0; i < 4; ++i) r.by_operation[i] = static_cast<uint64_t>(q.integer(17 + i));
        r.tracked = static_cast<uint64_t>(q.integer(21));
        r.quality = q.text(22);
        r.routes = q.text(23);
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<ReasonCount> StateStore::top_reasons(int n, int examples) {
    Stmt q = impl_->db.prepare(
        "SELECT reason, count(*) AS c FROM rows WHERE state = 2 GROUP BY reason ORDER BY c DESC, reason LIMIT ?1");
    Stmt ex = impl_->db.prepare("SELECT pk FROM rows WHERE state = 2 AND reason = ?1 ORDER BY updated_at DESC LIMIT ?2");
    q.bind(1, n);
    std::vector<ReasonCount> out;
    while (q.step()) {
        ReasonCount r{q.text(0), static_cast<uint64_t>(q.integer(1)), {}};
        ex.bind(1, r.reason).bind(2, examples);
        while (ex.step()) r.example_keys.push_back(ex.text(0));
        ex.reset();
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<RowError> StateStore::row_errors(int64_t run_id, int n) {
    Stmt q = impl_->db.prepare("SELECT position, pk, reason FROM row_errors WHERE run_id = ?1 ORDER BY position LIMIT ?2");
    q.bind(1, run_id).bind(2, n);
    std::vector<RowError> out;
    while (q.step()) out.push_back({static_cast<uint64_t>(q.integer(0)), q.text(1), q.text(2)});
    return out;
}

}  // namespace synchost
