/* example_noop: a minimal syncplugin destination plugin in plain C99, built against an installed
 * SDK (see README "Use the SDK"). It declares sync mode insert, one required config key and field
 * mapping, and accepts every record without sending it anywhere. Start a real plugin from here.
 * Built with -fvisibility=hidden so that sp_get_entry is its only exported symbol. */
#include <syncplugin/syncplugin.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_ID "example_noop"

/* Every ABI struct is filled with designated initializers: minor versions append fields, which
 * then start as zero here. */

struct sp_error {
    sp_error_category category;
    char message[256];
};

struct sp_instance {
    int closed;
    uint32_t column_count; /* mapped source columns, which every batch must carry */
    char **columns;
    sp_record_result *results; /* results of the last write, valid until the next call */
    uint32_t result_capacity;
};

static sp_status fail(sp_error **out, sp_error_category category, const char *format, ...) {
    if (out == NULL) return SP_FAILED;
    *out = malloc(sizeof **out);
    if (*out != NULL) {
        va_list args;
        va_start(args, format);
        (*out)->category = category;
        vsnprintf((*out)->message, sizeof (*out)->message, format, args);
        va_end(args);
    }
    return SP_FAILED;
}

/* ---- the descriptor: must equal example_noop.json, which ships beside the library ---- */

static const sp_config_field destination_name = {
    .struct_size = sizeof(sp_config_field), .type = SP_CONFIG_STRING, .flags = SP_CONFIG_REQUIRED,
    .key = "destination_name", .label = "Destination name",
    .description = "A label for this destination, shown in logs."};
static const sp_config_field *const config_fields[] = {&destination_name};

static const sp_destination_field email = {.struct_size = sizeof(sp_destination_field), .group = SP_GROUP_USER_DATA,
                                           .type = SP_FIELD_STRING, .flags = SP_FIELD_DEFAULT, .name = "email",
                                           .description = "The customer's email address."};
static const sp_destination_field value = {.struct_size = sizeof(sp_destination_field), .group = SP_GROUP_CUSTOM_DATA,
                                           .type = SP_FIELD_DECIMAL, .name = "value",
                                           .description = "The order's total."};
static const sp_destination_field *const fields[] = {&email, &value};

static const sp_descriptor descriptor = {
    .struct_size = sizeof(sp_descriptor),
    .sync_modes = SP_SYNC_INSERT,
    .features = SP_FEATURE_FIELD_MAPPING,
    .id = PLUGIN_ID,
    .name = "Example no-op destination",
    .version = "0.1.0",
    .description = "Accepts every record and sends it nowhere: a template for out-of-tree plugins.",
    .config_field_count = 1,
    .config_fields = config_fields,
    .destination_field_count = 2,
    .destination_fields = fields,
    .max_batch_records = 500,
    .recommended_batch_records = 500,
};

static const sp_descriptor *describe(void) { return &descriptor; }

static const void *get_extension(const char *id) {
    (void)id; /* no extensions */
    return NULL;
}

/* ---- configuration and lifecycle ---- */

static sp_status check(const sp_config *config, const sp_host *host, sp_error **out_error) {
    (void)host; /* nothing to verify online */
    if (config != NULL && config->entry_count > 0 && config->entries == NULL)
        return fail(out_error, SP_ERR_CONFIG, "config has %u entries but no entry array", config->entry_count);
    for (uint32_t i = 0; config != NULL && i < config->entry_count; ++i) {
        const sp_config_entry *e = config->entries[i];
        if (e != NULL && e->key != NULL && strcmp(e->key, "destination_name") == 0 && e->value != NULL &&
            e->value[0] != '\0')
            return SP_OK;
    }
    return fail(out_error, SP_ERR_CONFIG, "config key \"destination_name\" is required");
}

static char *copy_text(const char *text) { /* strdup is POSIX, not C99 */
    char *copy = malloc(strlen(text) + 1);
    return copy != NULL ? strcpy(copy, text) : NULL;
}

static int is_field(const char *name) {
    for (size_t i = 0; i < sizeof fields / sizeof *fields; ++i)
        if (name != NULL && strcmp(name, fields[i]->name) == 0) return 1;
    return 0;
}

static void destroy(sp_instance *instance) {
    if (instance == NULL) return;
    for (uint32_t i = 0; i < instance->column_count; ++i) free(instance->columns[i]);
    free(instance->columns);
    free(instance->results);
    free(instance);
}

static sp_status open_instance(const sp_open_params *params, const sp_host *host, sp_instance **out_instance,
                               sp_error **out_error) {
    (void)host; /* host services (log, clock, credentials) are not needed here */
    if (out_instance == NULL) return fail(out_error, SP_ERR_INTERNAL, "open: out_instance is NULL");
    *out_instance = NULL;
    if (params == NULL) return fail(out_error, SP_ERR_INTERNAL, "open: params is NULL");
    if (params->target_kind != SP_TARGET_SYNC || params->sync_mode != SP_SYNC_INSERT)
        return fail(out_error, SP_ERR_UNSUPPORTED, PLUGIN_ID " supports sync mode insert only");
    if (check(params->config, NULL, out_error) != SP_OK) return SP_FAILED;
    const sp_mapping *m = params->mapping;
    if (m == NULL || m->entry_count == 0 || m->entries == NULL)
        return fail(out_error, SP_ERR_CONFIG, "the mapping is empty; map email or value");
    sp_instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL || (inst->columns = calloc(m->entry_count, sizeof *inst->columns)) == NULL) {
        free(inst);
        return fail(out_error, SP_ERR_INTERNAL, "out of memory");
    }
    for (uint32_t i = 0; i < m->entry_count; ++i) {
        const sp_mapping_entry *e = m->entries[i];
        if (e == NULL || !is_field(e->destination_field)) {
            destroy(inst);
            return fail(out_error, SP_ERR_CONFIG, "mapping entry %u names no known destination field", i);
        }
        if (e->source_column == NULL) continue; /* a constant */
        if ((inst->columns[inst->column_count] = copy_text(e->source_column)) == NULL) {
            destroy(inst);
            return fail(out_error, SP_ERR_INTERNAL, "out of memory");
        }
        ++inst->column_count;
    }
    *out_instance = inst;
    return SP_OK;
}

/* Gives all n records the same status. Returns 0 when there is no room for n results. */
static int report_all(sp_instance *inst, sp_write_result *out, uint32_t n, sp_record_status status) {
    if (n > inst->result_capacity) {
        sp_record_result *grown = realloc(inst->results, (size_t)n * sizeof *grown);
        if (grown == NULL) return 0;
        inst->results = grown;
        inst->result_capacity = n;
    }
    for (uint32_t i = 0; i < n; ++i) {
        sp_record_result r = {.struct_size = sizeof r, .status = status,
                              .category = status == SP_RECORD_OK ? SP_ERR_NONE : SP_ERR_TRANSIENT};
        inst->results[i] = r;
    }
    out->record_count = n;
    out->result_stride = sizeof(sp_record_result);
    out->results = inst->results;
    out->ok_count = status == SP_RECORD_OK ? n : 0;
    out->rejected_count = 0;
    out->retry_count = status == SP_RECORD_RETRY ? n : 0;
    out->retry_after_ms = 0;
    return 1;
}

static int has_column(const sp_batch *batch, const char *column) {
    for (uint32_t c = 0; c < batch->column_count; ++c)
        if (batch->column_names[c] != NULL && strcmp(batch->column_names[c], column) == 0) return 1;
    return 0;
}

static sp_status write_batch(sp_instance *inst, const sp_batch *batch, sp_write_result *out, sp_error **out_error) {
    if (inst == NULL || batch == NULL || out == NULL)
        return fail(out_error, SP_ERR_INTERNAL, "write_batch: instance, batch and out must not be NULL");
    const uint32_t n = batch->record_count;
    if (!report_all(inst, out, n, SP_RECORD_RETRY)) return fail(out_error, SP_ERR_INTERNAL, "out of memory");
    if (inst->closed) return fail(out_error, SP_ERR_INTERNAL, "write_batch after close");
    if ((n > 0 && batch->values == NULL) || (batch->column_count > 0 && batch->column_names == NULL))
        return fail(out_error, SP_ERR_INTERNAL, "malformed batch: records without values or column names");
    for (uint32_t i = 0; i < inst->column_count; ++i)
        if (!has_column(batch, inst->columns[i]))
            return fail(out_error, SP_ERR_CONFIG, "mapped column \"%s\" is not in the batch", inst->columns[i]);
    report_all(inst, out, n, SP_RECORD_OK); /* delivered nowhere, acknowledged at once */
    /* Insert mode receives upserts only (the table above sp_operation): anything else is refused
     * per record, as the header's Rules require. */
    for (uint32_t i = 0; i < n; ++i) {
        if (sp_operation_at(batch, i, 0) == SP_OP_UPSERT) continue;
        inst->results[i].status = SP_RECORD_REJECTED;
        inst->results[i].category = SP_ERR_UNSUPPORTED;
        inst->results[i].message = "this plugin writes in sync mode insert only: upserts, never deletes";
        --out->ok_count;
        ++out->rejected_count;
    }
    return SP_OK;
}

static sp_status flush(sp_instance *inst, sp_error **out_error) {
    if (inst == NULL || inst->closed) return fail(out_error, SP_ERR_INTERNAL, "flush on a NULL or closed instance");
    return SP_OK;
}

static void close_instance(sp_instance *inst) {
    if (inst != NULL) inst->closed = 1;
}

static sp_error_category error_category(const sp_error *e) { return e->category; }
static int32_t error_code(const sp_error *e) {
    (void)e; /* no destination codes */
    return 0;
}
static const char *error_message(const sp_error *e) { return e->message; }
static void error_destroy(sp_error *e) { free(e); }

static const sp_entry entry = {
    .struct_size = sizeof(sp_entry), .abi_major = SP_ABI_MAJOR, .abi_minor = SP_ABI_MINOR, .plugin_id = PLUGIN_ID,
    .describe = describe, .get_extension = get_extension, .check = check, .open = open_instance,
    .write_batch = write_batch, .flush = flush, .close = close_instance, .destroy = destroy,
    .error_category = error_category, .error_code = error_code, .error_message = error_message,
    .error_destroy = error_destroy};

__attribute__((visibility("default"))) const sp_entry *sp_get_entry(uint32_t host_abi_major) {
    return host_abi_major == SP_ABI_MAJOR ? &entry : NULL;
}
