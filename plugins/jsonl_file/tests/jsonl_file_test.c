/* jsonl_file_test PLUGIN.so SCRATCH_DIR: the plugin's real write path through the C ABI: the exact
 * line of every value type, the operations each mode allows, rejections, a missing column, dry and
 * test runs (no file), a batch from a minor-0 host, failed opens. Prints each failed expectation;
 * exit status 0 when all hold. Plain C99, like the plugin. */
#define _POSIX_C_SOURCE 200809L

#include <syncplugin/syncplugin.h>

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const sp_entry *E;
static int failures;
static char path[4096], dry_path[4096];

#define EXPECT(cond, ...)                                                                           \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            ++failures;                                                                             \
            printf("FAIL (line %d) ", __LINE__);                                                    \
            printf(__VA_ARGS__);                                                                    \
            printf("\n");                                                                           \
        }                                                                                           \
    } while (0)

static sp_value text(const char *s) {
    sp_value v = {SP_VALUE_TEXT, 0, {0}};
    v.len = (uint32_t)strlen(s);
    v.as.text = s;
    return v;
}
static sp_value integer(uint32_t type, int64_t i) {
    sp_value v = {0, 0, {0}};
    v.type = type;
    v.as.i = i;
    return v;
}
static sp_value real(double r) {
    sp_value v = {SP_VALUE_REAL, 0, {0}};
    v.as.r = r;
    return v;
}

/* Takes a call's error: its category (SP_ERR_NONE when there is none), message copied to msg. */
static sp_error_category take(sp_error *error, char *msg, size_t cap) {
    sp_error_category c = SP_ERR_NONE;
    if (msg != NULL) msg[0] = '\0';
    if (error == NULL) return c;
    c = E->error_category(error);
    if (msg != NULL) snprintf(msg, cap, "%s", E->error_message(error));
    E->error_destroy(error);
    return c;
}

/* Opens an instance with config path=`file` (plus an unknown key, which must be tolerated) and
 * `fsync` (NULL: absent), and the mapping a<-a, b<-b, c="k" (a constant). NULL when open fails;
 * then *category and msg say why. */
static sp_instance *open_on(uint32_t kind, uint32_t mode, uint32_t flags, const char *file, const char *fsync,
                            sp_error_category *category, char *msg) {
    const sp_config_entry p = {sizeof(sp_config_entry), "path", file};
    const sp_config_entry unknown = {sizeof(sp_config_entry), "some_future_key", "1"};
    const sp_config_entry f = {sizeof(sp_config_entry), "fsync", fsync};
    const sp_config_entry *const entries[] = {&p, &unknown, &f};
    const sp_config config = {sizeof(sp_config), fsync != NULL ? 3 : 2, entries};
    const sp_value constant = text("k");
    const sp_mapping_entry a = {sizeof(sp_mapping_entry), "a", "a", NULL};
    const sp_mapping_entry b = {sizeof(sp_mapping_entry), "b", "b", NULL};
    const sp_mapping_entry c = {sizeof(sp_mapping_entry), "c", NULL, &constant};
    const sp_mapping_entry *const mapped[] = {&a, &b, &c};
    const sp_mapping mapping = {sizeof(sp_mapping), 3, mapped};
    sp_open_params params;
    memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.target_kind = kind;
    params.sync_mode = kind == SP_TARGET_SYNC ? mode : 0;
    params.audience_mode = kind == SP_TARGET_AUDIENCE ? mode : 0;
    params.config = &config;
    params.mapping = &mapping;
    params.sync_id = "s\"1";
    params.flags = flags;
    sp_instance *inst = (sp_instance *)&params; /* not NULL: a failed open must reset it */
    sp_error *error = NULL;
    if (E->open(&params, NULL, &inst, &error) == SP_OK) return inst;
    EXPECT(inst == NULL, "a failed open left *out_instance set");
    *category = take(error, msg, 512);
    return NULL;
}

/* A batch of n records with columns (b, a) (not mapping order: indexes must be resolved). */
static sp_batch batch_of(uint32_t n, const sp_value *cells, const char *const *keys, const uint32_t *ops,
                         const uint64_t *hashes) {
    static const char *const columns[] = {"b", "a"};
    sp_batch batch;
    memset(&batch, 0, sizeof batch);
    batch.struct_size = sizeof batch;
    batch.column_count = 2;
    batch.column_names = columns;
    batch.record_count = n;
    batch.values = cells;
    batch.record_keys = keys;
    batch.operations = ops;
    batch.previous_hashes = hashes;
    return batch;
}

/* Writes `batch` and checks each result against `want`: one letter per record, O(k), R(ejected)
 * or (re)T(ry). Returns write_batch's status; *category is its error's category. */
static sp_status write_expect(sp_instance *inst, const sp_batch *batch, const char *want, sp_write_result *wr,
                              sp_error_category *category, char *msg) {
    sp_error *error = NULL;
    memset(wr, 0, sizeof *wr);
    wr->struct_size = sizeof *wr;
    const sp_status s = E->write_batch(inst, batch, wr, &error);
    *category = take(error, msg, 512);
    EXPECT(wr->record_count == batch->record_count, "%u results for %u records", (unsigned)wr->record_count,
           (unsigned)batch->record_count);
    for (uint32_t i = 0; i < wr->record_count && want[i] != '\0'; ++i) {
        const sp_record_result *r = sp_result_at(wr, i);
        EXPECT(r->status <= 2 && "ORT"[r->status] == want[i], "%s: record %u has status %u, expected %c (%s)", want,
               (unsigned)i, (unsigned)r->status, want[i], r->message ? r->message : "no message");
    }
    return s;
}

static long read_file(const char *file, char *buf, size_t cap) {
    FILE *f = fopen(file, "rb");
    if (f == NULL) return -1;
    const size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (long)n;
}

/* Every value type, escaping, previous hashes, DELETE, and records refused in mirror mode. */
static void test_lines(void) {
    sp_error_category category;
    char msg[512], got[4096];
    sp_write_result wr;
    unlink(path);
    sp_instance *inst = open_on(SP_TARGET_SYNC, SP_SYNC_MIRROR, 0, path, NULL, &category, msg);
    EXPECT(inst != NULL, "open in mirror mode failed: %s", msg);
    if (inst == NULL) return;
    const unsigned char bytes[] = {0x00, 0xab, 0xff};
    sp_value blob = {SP_VALUE_BLOB, 3, {0}};
    blob.as.blob = bytes;
    const sp_value null = integer(SP_VALUE_NULL, 0);
    const sp_value cells[] = {/* b, a */
                              real(0.1), text("x\"\\\n\x01y\xc3\xa9"),
                              integer(SP_VALUE_INT, INT64_MIN), integer(SP_VALUE_BOOL, 1),
                              blob, real(HUGE_VAL),
                              real(1e300), text("ok"),
                              text("bad \xc3\x28"), null,
                              null, null,
                              null, null,
                              null, null};
    const char *const keys[] = {"k1", "k2", NULL, "k4", "k5", "k6", "k7", "k8"};
    const uint32_t ops[] = {SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_UPSERT,
                            SP_OP_UPSERT, SP_OP_DELETE, SP_OP_ADD,    9};
    const uint64_t hashes[] = {0, 0xabcdef0123456789ull, 0, 0, 0, 7, 0, 0};
    sp_batch batch = batch_of(8, cells, keys, ops, hashes);
    EXPECT(write_expect(inst, &batch, "OOOORORR", &wr, &category, msg) == SP_OK, "write failed: %s", msg);
    EXPECT(wr.ok_count == 5 && wr.rejected_count == 3 && wr.retry_count == 0, "counts %u/%u/%u",
           (unsigned)wr.ok_count, (unsigned)wr.rejected_count, (unsigned)wr.retry_count);
    const sp_record_result *bad = sp_result_at(&wr, 4), *add = sp_result_at(&wr, 6), *op9 = sp_result_at(&wr, 7);
    EXPECT(bad->category == SP_ERR_DATA && bad->field != NULL && strcmp(bad->field, "b") == 0 && bad->message &&
               strstr(bad->message, "\"b\"") && !strstr(bad->message, "bad"),
           "invalid UTF-8: category %u, message %s", (unsigned)bad->category, bad->message);
    EXPECT(add->category == SP_ERR_UNSUPPORTED && op9->category == SP_ERR_UNSUPPORTED,
           "refused operations: categories %u and %u", (unsigned)add->category, (unsigned)op9->category);
    sp_error *error = NULL;
    EXPECT(E->flush(inst, &error) == SP_OK, "flush failed");
    take(error, NULL, 0);
    E->close(inst);
    E->close(inst);
    EXPECT(E->flush(inst, &error) != SP_OK && take(error, NULL, 0) == SP_ERR_INTERNAL, "flush after close worked");
    EXPECT(write_expect(inst, &batch, "TTTTTTTT", &wr, &category, msg) != SP_OK, "write after close worked");
    E->destroy(inst);
    const char *want =
        "{\"sync\":\"s\\\"1\",\"op\":\"upsert\",\"key\":\"k1\",\"previous_hash\":null,"
        "\"fields\":{\"a\":\"x\\\"\\\\\\u000a\\u0001y\xc3\xa9\",\"b\":0.1,\"c\":\"k\"}}\n"
        "{\"sync\":\"s\\\"1\",\"op\":\"upsert\",\"key\":\"k2\",\"previous_hash\":\"abcdef0123456789\","
        "\"fields\":{\"a\":true,\"b\":-9223372036854775808,\"c\":\"k\"}}\n"
        "{\"sync\":\"s\\\"1\",\"op\":\"upsert\",\"key\":null,\"previous_hash\":null,"
        "\"fields\":{\"a\":null,\"b\":\"00abff\",\"c\":\"k\"}}\n"
        "{\"sync\":\"s\\\"1\",\"op\":\"upsert\",\"key\":\"k4\",\"previous_hash\":null,"
        "\"fields\":{\"a\":\"ok\",\"b\":1e+300,\"c\":\"k\"}}\n"
        "{\"sync\":\"s\\\"1\",\"op\":\"delete\",\"key\":\"k6\",\"previous_hash\":\"0000000000000007\",\"fields\":{}}\n";
    EXPECT(read_file(path, got, sizeof got) >= 0 && strcmp(got, want) == 0, "the file holds\n%s\nexpected\n%s", got,
           want);
}

/* The operations each mode allows (the header's table), in test runs: results, and no file. */
static void test_modes(void) {
    static const struct {
        uint32_t kind, mode;
        const char *want; /* for UPSERT, DELETE, ADD, REMOVE */
    } cases[] = {{SP_TARGET_SYNC, SP_SYNC_INSERT, "ORRR"},        {SP_TARGET_SYNC, SP_SYNC_UPDATE, "ORRR"},
                 {SP_TARGET_SYNC, SP_SYNC_UPSERT, "ORRR"},        {SP_TARGET_SYNC, SP_SYNC_MIRROR, "OORR"},
                 {SP_TARGET_AUDIENCE, SP_AUDIENCE_ADD, "RROR"},   {SP_TARGET_AUDIENCE, SP_AUDIENCE_REMOVE, "RRRO"},
                 {SP_TARGET_AUDIENCE, SP_AUDIENCE_MIRROR, "RROO"}, {SP_TARGET_AUDIENCE, SP_AUDIENCE_UPSERT, "RROR"}};
    const sp_value cells[8] = {{0, 0, {0}}};
    const char *const keys[] = {"u", "d", "a", "r"};
    const uint32_t ops[] = {SP_OP_UPSERT, SP_OP_DELETE, SP_OP_ADD, SP_OP_REMOVE};
    char msg[512];
    sp_error_category category;
    sp_write_result wr;
    unlink(dry_path);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
        sp_instance *inst = open_on(cases[i].kind, cases[i].mode, SP_OPEN_TEST_EVENTS, dry_path, NULL, &category, msg);
        EXPECT(inst != NULL, "open in mode %u/%u failed: %s", (unsigned)cases[i].kind, (unsigned)cases[i].mode, msg);
        if (inst == NULL) continue;
        sp_batch batch = batch_of(4, cells, keys, ops, NULL);
        EXPECT(write_expect(inst, &batch, cases[i].want, &wr, &category, msg) == SP_OK, "write failed: %s", msg);
        E->destroy(inst);
    }
    EXPECT(access(dry_path, F_OK) != 0, "a test run created the file");
}

/* A dry run writes nothing and offers the lines through sp.dry_run/1; a batch from a minor-0 host
 * (no operations, no previous hashes within its struct_size) is all upserts. */
static void test_dry_run_and_minor0(void) {
    const sp_ext_dry_run *ext = (const sp_ext_dry_run *)E->get_extension(SP_EXT_DRY_RUN);
    char msg[512];
    sp_error_category category;
    sp_write_result wr;
    unlink(dry_path);
    sp_instance *inst = open_on(SP_TARGET_SYNC, SP_SYNC_INSERT, SP_OPEN_DRY_RUN, dry_path, NULL, &category, msg);
    EXPECT(ext != NULL && inst != NULL, "no dry-run extension or instance: %s", msg);
    if (ext == NULL || inst == NULL) return;
    const sp_value cells[] = {integer(SP_VALUE_INT, 1), text("one"), integer(SP_VALUE_INT, 2), text("two")};
    const char *const keys[] = {"1", "2"};
    const uint32_t deletes[] = {SP_OP_DELETE, SP_OP_DELETE}; /* beyond a minor-0 struct_size: unread */
    const uint64_t hashes[] = {5, 6};
    sp_batch batch = batch_of(2, cells, keys, deletes, hashes);
    batch.struct_size = (uint32_t)offsetof(sp_batch, operations);
    EXPECT(write_expect(inst, &batch, "OO", &wr, &category, msg) == SP_OK, "dry write failed: %s", msg);
    uint32_t count = 0;
    const char *const *lines = ext->requests(inst, &count);
    EXPECT(count == 2 && lines != NULL, "%u dry-run requests for 2 records", (unsigned)count);
    if (count == 2 && lines != NULL) {
        EXPECT(strcmp(lines[1], "{\"sync\":\"s\\\"1\",\"op\":\"upsert\",\"key\":\"2\",\"previous_hash\":null,"
                                "\"fields\":{\"a\":\"two\",\"b\":2,\"c\":\"k\"}}") == 0,
               "dry-run line: %s", lines[1]);
    }
    sp_error *error = NULL;
    EXPECT(E->flush(inst, &error) == SP_OK, "dry-run flush failed");
    take(error, NULL, 0);
    E->destroy(inst);
    EXPECT(access(dry_path, F_OK) != 0, "a dry run created the file");
}

/* Writes one record to `file` (it must be OK) and flushes: the category of flush's error, or
 * SP_ERR_NONE when it succeeded; msg says why. */
static sp_error_category write_one_and_flush(const char *file, char *msg) {
    sp_error_category category = SP_ERR_NONE;
    sp_write_result wr;
    sp_instance *inst = open_on(SP_TARGET_SYNC, SP_SYNC_UPSERT, 0, file, NULL, &category, msg);
    EXPECT(inst != NULL, "open on %s: %s", file, msg);
    if (inst == NULL) return SP_ERR_INTERNAL;
    const sp_value cells[] = {text("x"), text("y")};
    sp_batch batch = batch_of(1, cells, NULL, NULL, NULL);
    sp_error *error = NULL;
    EXPECT(write_expect(inst, &batch, "O", &wr, &category, msg) == SP_OK, "write to %s: %s", file, msg);
    E->flush(inst, &error);
    category = take(error, msg, 512);
    E->destroy(inst);
    return category;
}

/* A batch without a mapped column fails as CONFIG, naming it, every record RETRY; bad configs and
 * unwritable files fail open with CONFIG errors that name the key and not the value. */
static void test_failures(void) {
    char msg[512];
    sp_error_category category = SP_ERR_NONE;
    sp_write_result wr;
    unlink(path);
    sp_instance *inst = open_on(SP_TARGET_SYNC, SP_SYNC_UPSERT, 0, path, "false", &category, msg);
    EXPECT(inst != NULL, "open with fsync=false failed: %s", msg);
    if (inst != NULL) {
        static const char *const columns[] = {"a", "zzz"};
        const sp_value cells[] = {text("x"), text("y")};
        sp_batch batch = batch_of(1, cells, NULL, NULL, NULL);
        batch.column_names = columns;
        EXPECT(write_expect(inst, &batch, "T", &wr, &category, msg) != SP_OK && category == SP_ERR_CONFIG &&
                   strstr(msg, "\"b\"") != NULL,
               "missing column: category %u, message %s", (unsigned)category, msg);
        E->destroy(inst);
    }
    /* A device that is always full: the line fits in the stdio buffer (OK), flush fails TRANSIENT.
     * A file that cannot be synced (/dev/null, a pipe, /dev/stdout) flushes OK. */
    category = write_one_and_flush("/dev/full", msg);
    EXPECT(category == SP_ERR_TRANSIENT && strstr(msg, "space"), "flush to /dev/full: %u, %s", (unsigned)category, msg);
    category = write_one_and_flush("/dev/null", msg);
    EXPECT(category == SP_ERR_NONE, "flush to /dev/null: %u, %s", (unsigned)category, msg);
    inst = open_on(SP_TARGET_SYNC, SP_SYNC_UPSERT, 0, "/nonexistent-dir-jsonl/secret-name.jsonl", NULL, &category, msg);
    EXPECT(inst == NULL && category == SP_ERR_CONFIG && strstr(msg, "path") && !strstr(msg, "secret-name"),
           "unwritable path: category %u, message %s", (unsigned)category, msg);
    inst = open_on(SP_TARGET_SYNC, SP_SYNC_UPSERT, 0, path, "maybe", &category, msg);
    EXPECT(inst == NULL && category == SP_ERR_CONFIG && strstr(msg, "fsync") && !strstr(msg, "maybe"),
           "fsync=maybe: category %u, message %s", (unsigned)category, msg);
    inst = open_on(SP_TARGET_SYNC, SP_SYNC_UPSERT | SP_SYNC_MIRROR, 0, path, NULL, &category, msg);
    EXPECT(inst == NULL && category == SP_ERR_UNSUPPORTED, "two mode bits: category %u", (unsigned)category);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: jsonl_file_test PLUGIN.so SCRATCH_DIR\n");
        return 2;
    }
    void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    void *symbol = handle != NULL ? dlsym(handle, SP_ENTRY_SYMBOL) : NULL;
    E = symbol != NULL ? sp_entry_function(symbol)(SP_ABI_MAJOR) : NULL;
    if (E == NULL) {
        fprintf(stderr, "jsonl_file_test: cannot load %s\n", argv[1]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/jsonl_file_test.jsonl", argv[2]);
    snprintf(dry_path, sizeof dry_path, "%s/jsonl_file_test_never_written.jsonl", argv[2]);
    test_lines();
    test_modes();
    test_dry_run_and_minor0();
    test_failures();
    dlclose(handle);
    printf("%s\n", failures == 0 ? "every expectation holds" : "some expectations failed");
    return failures == 0 ? 0 : 1;
}
