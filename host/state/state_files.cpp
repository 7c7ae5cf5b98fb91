#include "state/state_files.hpp"

#include "auth/private_file.hpp"
#include "auth/secret.hpp"

#include <boost/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

namespace synchost {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Every SQLite database file begins with these 16 bytes.
constexpr char kSqliteHeader[] = "SQLite format 3";

std::string utc_stamp() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

// mkdir with mode exactly 0700; an existing directory is made 0700 too (it names what was sent).
void private_dir(const fs::path &dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw CliError(kExitConfig, "cannot create the state directory " + dir.string() + ": " + std::strerror(errno));
    ::chmod(dir.c_str(), 0700);
}

json::object identity_json(const FileIdentity &f) {
    return {{"size", f.size}, {"inode", f.inode}, {"mtime_ns", f.mtime_ns}};
}

FileIdentity identity_from(const json::value *v) {
    FileIdentity f;
    if (v == nullptr || !v->is_object()) return f;
    const json::object &o = v->get_object();
    auto num = [&](const char *k) -> int64_t {
        const json::value *n = o.if_contains(k);
        return n && n->is_number() ? n->to_number<int64_t>() : 0;
    };
    f.size = static_cast<uint64_t>(num("size"));
    f.inode = static_cast<uint64_t>(num("inode"));
    f.mtime_ns = num("mtime_ns");
    return f;
}

}  // namespace

StateDamaged::StateDamaged(const fs::path &db, const std::string &problem, bool at_open)
    : CliError(kExitConfig, "the sync's state " + db.string() + " " + problem +
                                (at_open ? ". Nothing was sent or changed" : "") +
                                ". Restore it from a backup together with its -wal and -shm files (and "
                                "marker.json beside them), or start over on purpose with `synchost sync SYNC.json "
                                "--full-resync`, which sets these files aside and sends every row again") {}

StateFiles StateFiles::of(const fs::path &state_dir, const std::string &sync_name) {
    StateFiles f;
    f.dir = state_dir / "syncs" / sync_name;
    f.db = f.dir / "state.sqlite";
    f.lock = f.dir / "lock";
    f.marker = f.dir / "marker.json";
    return f;
}

FileIdentity FileIdentity::of(const fs::path &file) {
    struct stat st {};
    FileIdentity f;
    if (::stat(file.c_str(), &st) != 0) return f;
    f.size = static_cast<uint64_t>(st.st_size);
    f.inode = static_cast<uint64_t>(st.st_ino);
    f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    return f;
}

std::optional<StateMarker> read_marker(const StateFiles &files) {
    std::optional<std::string> text = auth::read_private_file(files.marker);
    if (!text) return std::nullopt;
    json::error_code ec;
    const json::value v = json::parse(*text, ec);
    const json::object *o = ec ? nullptr : v.if_object();
    const json::value *id = o ? o->if_contains("state_id") : nullptr;
    if (id == nullptr || !id->is_string())
        throw StateDamaged(files.db, "has a marker " + files.marker.string() + " that cannot be read");
    StateMarker m;
    m.state_id = std::string(id->get_string());
    if (const json::value *run = o->if_contains("last_run"); run && run->is_number())
        m.last_run = run->to_number<int64_t>();
    m.db = identity_from(o->if_contains("db"));
    m.wal = identity_from(o->if_contains("wal"));
    return m;
}

void write_marker(const StateFiles &files, const StateMarker &m) {
    const json::object o{{"what", "synchost state marker: keep it with state.sqlite, -wal and -shm"},
                         {"state_id", m.state_id},
                         {"last_run", m.last_run},
                         {"db", identity_json(m.db)},
                         {"wal", identity_json(m.wal)}};
    auth::write_private_file(files.marker, json::serialize(o) + "\n");
}

std::optional<std::string> prepare_state_dir(const fs::path &state_dir, const std::string &sync_name,
                                             const StateFiles &files) {
    private_dir(state_dir / "syncs");
    private_dir(files.dir);
    // The layout before: STATE_DIR/NAME.sqlite, its -wal and -shm, and a lock NAME.lock.
    const fs::path legacy = state_dir / (sync_name + ".sqlite");
    std::error_code ec;
    if (!fs::exists(legacy, ec) || fs::exists(files.db, ec)) return std::nullopt;
    for (const char *suffix : {"-wal", "-shm", ""}) {  // the database last: it marks the move done
        const fs::path from = legacy.string() + suffix;
        if (!fs::exists(from, ec)) continue;
        if (::rename(from.c_str(), (files.db.string() + suffix).c_str()) != 0)
            throw CliError(kExitConfig, "cannot move the state " + from.string() + " to " + files.dir.string() + ": " +
                                            std::strerror(errno));
    }
    return "moved the state of sync \"" + sync_name + "\" from " + legacy.string() + " to " + files.db.string();
}

void check_before_open(const StateFiles &files) {
    std::error_code ec;
    if (!fs::exists(files.db, ec)) {
        if (fs::exists(files.marker, ec))
            throw StateDamaged(files.db, "is missing, but its marker " + files.marker.string() +
                                             " says runs were recorded in it (deleted, or never copied here?)");
        return;
    }
    const uintmax_t size = fs::file_size(files.db, ec);
    if (ec) throw StateDamaged(files.db, "cannot be read (" + ec.message() + ")");
    // A database in WAL mode has its first page in the file from the start; an empty file is one
    // that lost its contents (SQLite would take it for a new, empty database).
    if (size == 0) throw StateDamaged(files.db, "is empty (0 bytes): it was truncated or not copied whole");
    unsigned char head[18] = {};  // the header string, then the page size (big-endian; 1 means 65536)
    std::ifstream in(files.db, std::ios::binary);
    in.read(reinterpret_cast<char *>(head), sizeof head);
    if (in.gcount() != static_cast<std::streamsize>(sizeof head) ||
        std::memcmp(head, kSqliteHeader, sizeof kSqliteHeader) != 0)
        throw StateDamaged(files.db, "is not a SQLite database (" + std::to_string(size) +
                                         " bytes that do not begin with its header): it was truncated or overwritten");
    const unsigned stored_page = head[16] * 256u + head[17];
    const unsigned page = stored_page == 1 ? 65536u : stored_page;
    if (page < 512 || size % page != 0)
        throw StateDamaged(files.db, "is " + std::to_string(size) + " bytes, not a whole number of its " +
                                         std::to_string(page) + "-byte pages: it was truncated");
}

fs::path set_aside(const StateFiles &files) {
    const std::string suffix = ".damaged-" + utc_stamp();
    std::error_code ec;
    for (const fs::path &f : {files.wal(), files.shm(), files.marker, files.db}) {
        if (!fs::exists(f, ec)) continue;
        if (::rename(f.c_str(), (f.string() + suffix).c_str()) != 0)
            throw CliError(kExitConfig, "cannot set aside " + f.string() + ": " + std::strerror(errno));
    }
    return files.db.string() + suffix;
}

std::string new_state_id() {
    return auth::random_hex(16);
}

}  // namespace synchost
