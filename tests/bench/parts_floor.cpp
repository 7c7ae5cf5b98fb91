// parts_floor BENCH_DB [EVENTS] [BYTES_PER_EVENT] [PARTS]: what the parts of a sync cost when each
// is done alone, in the cheapest way known here, in CPU-seconds per 1M events of the thread doing
// it (user + system, getrusage RUSAGE_THREAD). A sync must read each row, send each event's bytes
// over TLS and record each delivered key; here nothing else runs beside those.
//
//   read      SELECT * FROM orders on BENCH_DB (made by tests/bench/make_bench_db.sql), every
//             cell read as synchost reads it (text, integer or real), one read call per page
//   read-256k the same through synchost's read-ahead VFS (host/sources/readahead_vfs.cpp)
//   keys      the state's table of delivered keys (the same schema, WAL, synchronous=NORMAL), one
//             transaction per 8,000 keys (a batch) of 64-row INSERT statements, as synchost
//             checkpoints
//   tcp       EVENTS x BYTES_PER_EVENT bytes over loopback TCP in 1,000-event writes, no TLS: the
//             kernel's share of sending
//   tls       the same bytes through TLS 1.3 (the plugin's offer, AES-128-GCM first) with a socket
//             BIO, the sending thread's CPU
// PARTS (default read,keys,tls; tls also runs tcp) chooses which run.
//
// With two CPUs or more, the measuring thread runs on the first allowed CPU and the receiving end
// of tcp and tls on the second, as scripts/bench-sync.sh places synchost and the sandbox: the
// receiver's CPU is not counted (in a sync it is the destination's). The plugin's encode alone is
// abi_throughput's figure; scripts/bench-floor.sh runs both.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "sources/readahead_vfs.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

double thread_cpu_s() {
    rusage u{};
    getrusage(RUSAGE_THREAD, &u);
    auto s = [](const timeval &t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return s(u.ru_utime) + s(u.ru_stime);
}

// Pins the calling thread to the n-th CPU it may run on, when there is one.
void pin_to(int n) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed) || n-- > 0) continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
        return;
    }
}

[[noreturn]] void die(const std::string &what) {
    std::fprintf(stderr, "parts_floor: %s\n", what.c_str());
    std::exit(1);
}

void check_sqlite(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// Every cell of every row; returns the rows read (the byte sum keeps the reads from being dropped).
long read_model(const char *path, const char *vfs, size_t &bytes) {
    sqlite3 *db = nullptr;
    check_sqlite(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, vfs), db, path);
    sqlite3_stmt *q = nullptr;
    check_sqlite(sqlite3_prepare_v2(db, "SELECT * FROM orders", -1, &q, nullptr), db, "prepare");
    const int cols = sqlite3_column_count(q);
    long rows = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ++rows;
        for (int c = 0; c < cols; ++c) {
            // As synchost reads a cell: one sqlite3_column_value, then the value's own accessors.
            sqlite3_value *v = sqlite3_column_value(q, c);
            switch (sqlite3_value_type(v)) {
                case SQLITE_INTEGER:
                    bytes += static_cast<size_t>(sqlite3_value_int64(v) & 1);
                    break;
                case SQLITE_FLOAT:
                    bytes += sqlite3_value_double(v) > 0 ? 1 : 0;
                    break;
                case SQLITE_TEXT:
                    bytes += sqlite3_value_text(v)[0] ? static_cast<size_t>(sqlite3_value_bytes(v)) : 0;
                    break;
                default:
                    break;
            }
        }
    }
    check_sqlite(rc, db, "step");
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rows;
}

void record_keys(const std::string &path, const std::vector<std::string> &keys) {
    const long events = static_cast<long>(keys.size());
    constexpr int kChunk = 64, kPerCommit = 8000;  // the plugin's recommended batch
    sqlite3 *db = nullptr;
    check_sqlite(
        sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr),
        db, path.c_str());
    check_sqlite(sqlite3_exec(db,
                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                              "CREATE TABLE delivered(pk TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;",
                              nullptr, nullptr, nullptr),
                 db, "schema");
    std::string sql = "INSERT INTO delivered(pk, seq) VALUES ";
    for (int i = 1; i <= kChunk; ++i) sql += (i > 1 ? ",(?" : "(?") + std::to_string(i) + ", ?65)";
    sqlite3_stmt *chunk = nullptr, *one = nullptr;
    check_sqlite(sqlite3_prepare_v2(db, (sql + " ON CONFLICT(pk) DO NOTHING").c_str(), -1, &chunk, nullptr), db,
                 "chunk");
    check_sqlite(sqlite3_prepare_v2(db, "INSERT INTO delivered(pk, seq) VALUES(?1, ?2) ON CONFLICT(pk) DO NOTHING", -1,
                                    &one, nullptr),
                 db, "one");
    for (long start = 0; start < events; start += kPerCommit) {
        const long end = std::min(events, start + kPerCommit);
        check_sqlite(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
        long i = start;
        for (; i + kChunk <= end; i += kChunk) {
            for (int k = 0; k < kChunk; ++k) {
                const std::string &key = keys[static_cast<size_t>(i + k)];
                sqlite3_bind_text(chunk, k + 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
            }
            sqlite3_bind_int64(chunk, kChunk + 1, start / kPerCommit + 1);
            check_sqlite(sqlite3_step(chunk), db, "insert");
            sqlite3_reset(chunk);
        }
        for (; i < end; ++i) {
            const std::string &key = keys[static_cast<size_t>(i)];
            sqlite3_bind_text(one, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
            sqlite3_bind_int64(one, 2, start / kPerCommit + 1);
            check_sqlite(sqlite3_step(one), db, "insert");
            sqlite3_reset(one);
        }
        check_sqlite(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    }
    sqlite3_finalize(chunk);
    sqlite3_finalize(one);
    sqlite3_close(db);
}

// A connected loopback TCP pair: {client, server}.
std::pair<int, int> tcp_pair() {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(listener, 1) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len) != 0)
        die(std::string("listen: ") + std::strerror(errno));
    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(client, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
        die(std::string("connect: ") + std::strerror(errno));
    const int server = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    return {client, server};
}

// A throwaway P-256 key and self-signed certificate for the server side of `tls`.
void self_signed(SSL_CTX *ctx) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char *>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    if (!key || !X509_sign(cert, key, EVP_sha256()) || SSL_CTX_use_certificate(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1)
        die("self-signed certificate");
    X509_free(cert);
    EVP_PKEY_free(key);
}

// Sends `total` bytes in writes of `chunk` from this thread while another reads them; returns this
// thread's CPU-seconds.
double send_bytes(bool tls, size_t total, size_t chunk) {
    auto [client, server] = tcp_pair();
    SSL_CTX *sctx = nullptr, *cctx = nullptr;
    SSL *s = nullptr, *c = nullptr;
    if (tls) {
        sctx = SSL_CTX_new(TLS_server_method());
        cctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
        // The plugin's offer (support/net/https_client.cpp), which the sandbox's OpenSSL follows.
        SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
        self_signed(sctx);
        s = SSL_new(sctx);
        c = SSL_new(cctx);
        SSL_set_fd(s, server);
        SSL_set_fd(c, client);
    }
    std::thread reader([&, server = server] {
        pin_to(1);
        if (tls && SSL_accept(s) != 1) die("SSL_accept");
        std::vector<char> buf(64 * 1024);
        size_t got = 0;
        while (got < total) {
            const long n =
                tls ? SSL_read(s, buf.data(), static_cast<int>(buf.size())) : ::read(server, buf.data(), buf.size());
            if (n <= 0) die("read");
            got += static_cast<size_t>(n);
        }
    });
    if (tls && SSL_connect(c) != 1) die("SSL_connect");
    std::vector<char> body(chunk, 'x');
    const double t0 = thread_cpu_s();
    for (size_t sent = 0; sent < total;) {
        const size_t n = std::min(chunk, total - sent);
        if (tls) {
            if (SSL_write(c, body.data(), static_cast<int>(n)) != static_cast<int>(n)) die("SSL_write");
        } else {
            for (size_t off = 0; off < n;) {
                const ssize_t w = ::write(client, body.data() + off, n - off);
                if (w <= 0) die("write");
                off += static_cast<size_t>(w);
            }
        }
        sent += n;
    }
    const double cpu = thread_cpu_s() - t0;
    reader.join();
    if (tls) {
        if (SSL_version(c) != TLS1_3_VERSION) die("not TLS 1.3");
        std::fprintf(stderr, "parts_floor: tls suite %s\n", SSL_CIPHER_get_name(SSL_get_current_cipher(c)));
        SSL_free(c);
        SSL_free(s);
        SSL_CTX_free(cctx);
        SSL_CTX_free(sctx);
    }
    ::close(client);
    ::close(server);
    return cpu;
}

long positive(const char *text, const char *what) {
    long v = 0;
    const char *end = text + std::strlen(text);
    if (auto [p, ec] = std::from_chars(text, end, v); ec != std::errc() || p != end || v <= 0)
        die(std::string(what) + " must be a positive integer, not \"" + text + "\"");
    return v;
}

void row(const char *part, double cpu_s, long events, const char *what) {
    std::printf("| %s | %.3f | %s |\n", part, cpu_s * 1e6 / static_cast<double>(events), what);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: parts_floor BENCH_DB [EVENTS=1000000] [BYTES_PER_EVENT=487] [PARTS=read,keys,tls]\n");
        return 2;
    }
    const long events = argc > 2 ? positive(argv[2], "EVENTS") : 1000000;
    const auto per_event = static_cast<size_t>(argc > 3 ? positive(argv[3], "BYTES_PER_EVENT") : 487);
    const std::string parts = argc > 4 ? argv[4] : "read,keys,tls";  // tls also runs tcp
    pin_to(0);
    auto wanted = [&](const char *part) {
        return ("," + parts + ",").find("," + std::string(part) + ",") != std::string::npos;
    };

    std::printf("| part | CPU-s per 1M events | what |\n|---|---:|---|\n");
    size_t bytes = 0;
    for (const char *vfs : {static_cast<const char *>(nullptr), synchost::sources::readahead_vfs()}) {
        if (!wanted("read")) break;
        const double t0 = thread_cpu_s();
        const long rows = read_model(argv[1], vfs, bytes);
        if (rows != events)
            die(std::string(argv[1]) + " holds " + std::to_string(rows) + " rows, not " + std::to_string(events));
        row(vfs ? "read-256k" : "read", thread_cpu_s() - t0, events,
            vfs ? "the same through synchost's VFS (256 KiB reads)"
                : "every cell of SELECT * FROM orders, 4 KiB reads");
    }

    if (wanted("keys")) {
        const std::filesystem::path dir =
            std::filesystem::temp_directory_path() / ("parts_floor." + std::to_string(getpid()));
        std::filesystem::create_directories(dir);
        std::vector<std::string> keys(static_cast<size_t>(events));  // the bench orders' keys
        char key[32];
        for (long i = 0; i < events; ++i)
            keys[static_cast<size_t>(i)].assign(
                key, static_cast<size_t>(std::snprintf(key, sizeof key, "ord-%08ld", i + 1)));
        const double t0 = thread_cpu_s();
        record_keys((dir / "state.db").string(), keys);
        row("keys", thread_cpu_s() - t0, events, "delivered keys, 64 per INSERT, 8,000 per commit, WAL");
        std::filesystem::remove_all(dir);
    }
    if (wanted("tls")) {
        const size_t total = per_event * static_cast<size_t>(events), chunk = per_event * 1000;
        row("tcp", send_bytes(false, total, chunk), events, "the events' bytes sent over loopback TCP");
        row("tls", send_bytes(true, total, chunk), events, "the same through TLS 1.3 (includes tcp)");
    }
    std::fprintf(stderr, "parts_floor: %zu cell bytes read\n", bytes);
    return 0;
}
