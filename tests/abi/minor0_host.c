/* minor0_host PLUGIN.so OUTPUT.jsonl: a host exactly as one written for ABI 1.0 (minor 0) is built,
 * against the frozen header in tests/abi/minor0 and nothing else, driving the current jsonl_file
 * plugin (minor 1): a minor-1 plugin must work under a minor-0 host.
 *
 * It opens the plugin in sync mode insert with a minor-0 sp_open_params, writes a minor-0 sp_batch
 * (struct_size = this header's sizeof, so no operations and no previous hashes), flushes, and
 * exits 0 only if every result is OK and the file holds one line per record with "op":"upsert"
 * and "previous_hash":null (the minor-0 defaults). Every failed expectation is printed. */
#define _POSIX_C_SOURCE 200809L

#include <syncplugin/syncplugin.h>

#if SP_ABI_MINOR != 0
#error "minor0_host must be compiled against the frozen minor-0 header (tests/abi/minor0) only"
#endif

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what) {
    if (!ok) {
        ++failures;
        printf("FAIL: %s\n", what);
    }
}

/* dlsym's object pointer as the entry function: minor 0 has no sp_entry_function(), so the same
 * union read, which -pedantic accepts. */
static sp_get_entry_fn entry_function(void *symbol) {
    union {
        void *object;
        sp_get_entry_fn function;
    } u;
    u.object = symbol;
    return u.function;
}

static void print_error(const sp_entry *e, const char *what, sp_error *error) {
    printf("FAIL: %s: %s\n", what, error != NULL ? e->error_message(error) : "(no error object)");
    ++failures;
    if (error != NULL) e->error_destroy(error);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: minor0_host PLUGIN.so OUTPUT.jsonl\n");
        return 2;
    }
    remove(argv[2]);
    void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    void *symbol = handle != NULL ? dlsym(handle, SP_ENTRY_SYMBOL) : NULL;
    const sp_entry *e = symbol != NULL ? entry_function(symbol)(SP_ABI_MAJOR) : NULL;
    if (e == NULL) {
        printf("FAIL: cannot load %s as a plugin of ABI major %u\n", argv[1], SP_ABI_MAJOR);
        return 1;
    }
    printf("loaded %s: ABI %u.%u (this host: %u.%u)\n", e->plugin_id, (unsigned)e->abi_major, (unsigned)e->abi_minor,
           SP_ABI_MAJOR, SP_ABI_MINOR);
    expect(e->struct_size >= sizeof(sp_entry), "the entry is smaller than this host's view of it");
    const sp_descriptor *d = e->describe();
    expect(d != NULL && d->struct_size >= sizeof(sp_descriptor) && (d->sync_modes & SP_SYNC_INSERT),
           "the descriptor is too small or does not declare insert");

    /* Everything below is filled as minor 0 knows it: struct_size is this header's sizeof. */
    const sp_config_entry path = {sizeof(sp_config_entry), "path", argv[2]};
    const sp_config_entry *const entries[] = {&path};
    const sp_config config = {sizeof(sp_config), 1, entries};
    const sp_mapping_entry email = {sizeof(sp_mapping_entry), "email", "email", NULL};
    const sp_mapping_entry value = {sizeof(sp_mapping_entry), "value", "total", NULL};
    const sp_mapping_entry *const mapped[] = {&email, &value};
    const sp_mapping mapping = {sizeof(sp_mapping), 2, mapped};
    const sp_open_params params = {sizeof(sp_open_params), SP_TARGET_SYNC, SP_SYNC_INSERT, 0, &config, &mapping,
                                   "minor0-host", 0, 0};
    sp_instance *inst = NULL;
    sp_error *error = NULL;
    if (e->open(&params, NULL, &inst, &error) != SP_OK) {
        print_error(e, "open in insert mode", error);
        return 1;
    }
    const char *const columns[] = {"email", "total"};
    sp_value cells[6];
    const char *const emails[] = {"a@example.com", "b@example.com", "c@example.com"};
    for (int r = 0; r < 3; ++r) {
        cells[2 * r].type = SP_VALUE_TEXT;
        cells[2 * r].len = (uint32_t)strlen(emails[r]);
        cells[2 * r].as.text = emails[r];
        cells[2 * r + 1].type = SP_VALUE_INT;
        cells[2 * r + 1].len = 0;
        cells[2 * r + 1].as.i = 10 * (r + 1);
    }
    const char *const keys[] = {"1", "2", "3"};
    const sp_batch batch = {sizeof(sp_batch), 2, columns, 3, cells, keys};
    sp_write_result wr;
    memset(&wr, 0, sizeof wr);
    wr.struct_size = sizeof wr;
    if (e->write_batch(inst, &batch, &wr, &error) != SP_OK) print_error(e, "write_batch", error);
    expect(wr.record_count == 3 && wr.ok_count == 3, "not every record came back OK");
    for (uint32_t i = 0; i < wr.record_count; ++i) {
        const sp_record_result *r =
            (const sp_record_result *)(const void *)((const char *)wr.results + (size_t)i * wr.result_stride);
        if (r->status != SP_RECORD_OK) printf("  record %u: status %u: %s\n", (unsigned)i, (unsigned)r->status,
                                              r->message ? r->message : "");
    }
    if (e->flush(inst, &error) != SP_OK) print_error(e, "flush", error);
    e->close(inst);
    e->destroy(inst);
    dlclose(handle);

    /* The file: one line per record, each an upsert with no previous hash. */
    char line[1024];
    int lines = 0, defaults = 0;
    FILE *f = fopen(argv[2], "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        ++lines;
        defaults += strstr(line, "\"op\":\"upsert\"") != NULL && strstr(line, "\"previous_hash\":null") != NULL;
        printf("  %s", line);
    }
    if (f != NULL) fclose(f);
    expect(lines == 3, "the file does not hold 3 lines");
    expect(defaults == 3, "not every line is an upsert with \"previous_hash\":null");
    printf("%s\n", failures == 0 ? "a minor-1 plugin works under this minor-0 host" : "FAILED");
    return failures == 0 ? 0 : 1;
}
