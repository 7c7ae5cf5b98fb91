/* minimal_host: a syncplugin host in pure C99 (plus POSIX dlopen), as small as a host can be.
 *
 *   minimal_host JSONL_PLUGIN.so PINTEREST_PLUGIN.so OUTPUT.jsonl
 *
 * Loads both plugins, prints what each declares (read from its descriptor: nothing else is
 * needed), then drives one batch of 3 records through the jsonl_file plugin in sync mode upsert:
 * open, write_batch, flush, close, destroy. Exit status 0 when every record came back OK.
 *
 * Built with -std=c99 -pedantic -Wall -Wextra (warnings are errors in developer and CI builds):
 * syncplugin.h is all a host needs, and sp_entry_function() turns dlsym's answer into the entry
 * function without the cast ISO C does not have.
 */
#define _POSIX_C_SOURCE 200809L /* dlopen and friends are POSIX */

#include <syncplugin/syncplugin.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static const char *const sync_modes[] = {"insert", "update", "upsert", "mirror"};
static const char *const audience_modes[] = {"add", "remove", "mirror", "upsert"};
static const char *const features[] = {"field_mapping", "schema_introspection", "test_events", "open_fields"};
static const char *const config_types[] = {"?", "string", "integer", "boolean", "enum", "secret", "path"};
static const char *const legacy_groups[] = {NULL, "event", "user_data", "custom_data", "app_data", "device_data"};
static const char *const record_statuses[] = {"OK", "REJECTED", "RETRY"};

/* Prints the names of the bits set in `bits` (bit k named names[k]). */
static void print_bits(const char *label, uint32_t bits, const char *const *names, unsigned count) {
    printf("  %s:", label);
    if (bits == 0) printf(" none");
    for (unsigned k = 0; k < count; ++k)
        if (bits & (1u << k)) printf(" %s", names[k]);
    printf("\n");
}

/* The group a destination field is shown under: its own name (minor 1), else the minor-0 enum's. */
static const char *group_of(const sp_destination_field *f) {
    if (SP_HAS_FIELD(f, sp_destination_field, group_name) && f->group_name != NULL) return f->group_name;
    return f->group < sizeof legacy_groups / sizeof *legacy_groups && legacy_groups[f->group] ? legacy_groups[f->group]
                                                                                              : "(none)";
}

static void print_capabilities(const sp_entry *entry) {
    const sp_descriptor *d = entry->describe();
    printf("plugin %s %s \"%s\" (ABI %u.%u)\n", d->id, d->version, d->name, (unsigned)entry->abi_major,
           (unsigned)entry->abi_minor);
    print_bits("sync modes", d->sync_modes, sync_modes, 4);
    print_bits("audience modes", d->audience_modes, audience_modes, 4);
    print_bits("features", d->features, features, 4);
    printf("  auth: %s\n", d->auth == NULL || d->auth->kinds == SP_AUTH_NONE ? "none" : "required");
    printf("  max records per request: %u%s\n", (unsigned)d->max_batch_records,
           d->max_batch_records == 0 ? " (no limit)" : "");
    printf("  config fields (%u):\n", (unsigned)d->config_field_count);
    for (uint32_t i = 0; i < d->config_field_count; ++i) {
        const sp_config_field *c = d->config_fields[i];
        printf("    %s (%s%s%s%s)\n", c->key, c->type < 7 ? config_types[c->type] : "?",
               c->flags & SP_CONFIG_REQUIRED ? ", required" : "", c->default_value ? ", default " : "",
               c->default_value ? c->default_value : "");
    }
    printf("  destination fields (%u):\n", (unsigned)d->destination_field_count);
    for (uint32_t i = 0; i < d->destination_field_count; ++i)
        printf("    %s / %s\n", group_of(d->destination_fields[i]), d->destination_fields[i]->name);
}

/* Loads a plugin library and returns its entry, or NULL (with a message). */
static const sp_entry *load(const char *path, void **handle) {
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (*handle == NULL) {
        fprintf(stderr, "minimal_host: %s\n", dlerror());
        return NULL;
    }
    void *symbol = dlsym(*handle, SP_ENTRY_SYMBOL);
    const sp_entry *entry = symbol != NULL ? sp_entry_function(symbol)(SP_ABI_MAJOR) : NULL;
    if (entry == NULL || entry->abi_major != SP_ABI_MAJOR) {
        fprintf(stderr, "minimal_host: %s is not a syncplugin plugin of ABI major %u\n", path, SP_ABI_MAJOR);
        return NULL;
    }
    return entry;
}

/* Prints a failed call's error and releases it. */
static int report(const sp_entry *e, const char *what, sp_error *error) {
    printf("%s failed: %s\n", what, error != NULL ? e->error_message(error) : "(no error object)");
    e->error_destroy(error);
    return 1;
}

/* One batch of 3 records through jsonl_file, opened in sync mode upsert. */
static int drive(const sp_entry *e, const char *output) {
    /* The config and the mapping (destination field <- source column, or a constant). */
    const sp_config_entry path = {sizeof(sp_config_entry), "path", output};
    const sp_config_entry *const entries[] = {&path};
    const sp_config config = {sizeof(sp_config), 1, entries};
    sp_value web;
    web.type = SP_VALUE_TEXT;
    web.len = 3;
    web.as.text = "web";
    const sp_mapping_entry m_email = {sizeof(sp_mapping_entry), "email", "email", NULL};
    const sp_mapping_entry m_value = {sizeof(sp_mapping_entry), "value", "total", NULL};
    const sp_mapping_entry m_source = {sizeof(sp_mapping_entry), "source", NULL, &web};
    const sp_mapping_entry *const mapped[] = {&m_email, &m_value, &m_source};
    const sp_mapping mapping = {sizeof(sp_mapping), 3, mapped};
    sp_open_params params;
    memset(&params, 0, sizeof params);
    params.struct_size = sizeof params;
    params.target_kind = SP_TARGET_SYNC;
    params.sync_mode = SP_SYNC_UPSERT;
    params.config = &config;
    params.mapping = &mapping;
    params.sync_id = "minimal-host";

    sp_instance *instance = NULL;
    sp_error *error = NULL;
    if (e->check(&config, NULL, &error) != SP_OK) return report(e, "check", error);
    if (e->open(&params, NULL, &instance, &error) != SP_OK) return report(e, "open", error);

    /* Three records: a new one, a changed one (its previous hash is known), another new one. */
    const char *const columns[] = {"email", "total"};
    sp_value cells[6];
    const char *const emails[] = {"ada@example.com", "grace@example.com", "edsger@example.com"};
    const double totals[] = {12.5, 40.0, 7.25};
    for (int r = 0; r < 3; ++r) {
        cells[2 * r].type = SP_VALUE_TEXT;
        cells[2 * r].len = (uint32_t)strlen(emails[r]);
        cells[2 * r].as.text = emails[r];
        cells[2 * r + 1].type = SP_VALUE_REAL;
        cells[2 * r + 1].len = 0;
        cells[2 * r + 1].as.r = totals[r];
    }
    const char *const keys[] = {"1001", "1002", "1003"};
    const uint32_t operations[] = {SP_OP_UPSERT, SP_OP_UPSERT, SP_OP_UPSERT};
    const uint64_t previous_hashes[] = {0, 0x5eed5eed5eed5eedull, 0};
    sp_batch batch;
    memset(&batch, 0, sizeof batch);
    batch.struct_size = sizeof batch;
    batch.column_count = 2;
    batch.column_names = columns;
    batch.record_count = 3;
    batch.values = cells;
    batch.record_keys = keys;
    batch.operations = operations;
    batch.previous_hashes = previous_hashes;

    sp_write_result result;
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result;
    int failed = 0;
    if (e->write_batch(instance, &batch, &result, &error) != SP_OK) failed = report(e, "write_batch", error);
    for (uint32_t i = 0; i < result.record_count && i < 3; ++i) {
        const sp_record_result *r = sp_result_at(&result, i);
        printf("record %s: %s%s%s\n", keys[i], r->status <= SP_RECORD_RETRY ? record_statuses[r->status] : "?",
               r->message ? ": " : "", r->message ? r->message : "");
    }
    printf("results: %u OK, %u rejected, %u retry\n", (unsigned)result.ok_count, (unsigned)result.rejected_count,
           (unsigned)result.retry_count);
    if (!failed) {
        if (e->flush(instance, &error) != SP_OK) failed = report(e, "flush", error);
        else printf("flush: OK (the lines are in %s)\n", output);
    }
    e->close(instance);
    e->destroy(instance);
    return failed || result.ok_count != 3;
}

int main(int argc, char **argv) {
    void *handles[2] = {NULL, NULL};
    const sp_entry *entries[2];
    int status = 0;
    if (argc != 4) {
        fprintf(stderr, "usage: minimal_host JSONL_PLUGIN.so PINTEREST_PLUGIN.so OUTPUT.jsonl\n");
        return 2;
    }
    for (int i = 0; i < 2; ++i) {
        if ((entries[i] = load(argv[1 + i], &handles[i])) == NULL) return 1;
        print_capabilities(entries[i]);
    }
    if (strcmp(entries[0]->plugin_id, "jsonl_file") != 0) {
        fprintf(stderr, "minimal_host: the first plugin must be jsonl_file, not %s\n", entries[0]->plugin_id);
        status = 1;
    } else {
        status = drive(entries[0], argv[3]);
    }
    for (int i = 0; i < 2; ++i) dlclose(handles[i]);
    return status;
}
