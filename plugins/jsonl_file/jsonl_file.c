/* jsonl_file: a syncplugin destination plugin in plain C99 that appends one JSON line per record
 * to a file and makes it durable (fsync) on flush. It is a debugging destination, and the template
 * to copy for a new plugin (README.md beside this file says how).
 *
 * Written against plugin_api/include/syncplugin/syncplugin.h alone, with the optional helpers of
 * syncplugin_util.h (error objects, config lookup, results, column indexes). json_line.c writes
 * the JSON. Built with -fvisibility=hidden: sp_get_entry (SP_EXPORT) is the only exported symbol.
 *
 * One line per record, keys in this order (README.md):
 *   {"sync":"<sync_id>","op":"upsert|delete|add|remove","key":"<record key>",
 *    "previous_hash":"<16 hex digits>"|null,"fields":{"<destination field>":<value>,...}}
 */
#define _POSIX_C_SOURCE 200809L /* open, fdopen, fileno, fsync, strerror_r */

#include "json_line.h"

#include <syncplugin/syncplugin.h>
#include <syncplugin/syncplugin_util.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLUGIN_ID "jsonl_file"

/* ---- What the plugin declares: pure data, returned by describe() --------------------------------
 * Every struct is filled with designated initializers: fields a later ABI minor appends start as
 * zero. There is no manifest file and manifest_json is NULL: hosts derive the manifest from this. */

static const sp_config_field path_field = {
    .struct_size = sizeof(sp_config_field), .type = SP_CONFIG_PATH, .flags = SP_CONFIG_REQUIRED, .key = "path",
    .label = "Output file", .description = "The file to append JSON lines to; created (mode 0600) if missing."};
static const sp_config_field fsync_field = {
    .struct_size = sizeof(sp_config_field), .type = SP_CONFIG_BOOLEAN, .key = "fsync", .label = "fsync on flush",
    .default_value = "true",
    .description = "Whether flush waits until the lines are on disk (fsync); false only flushes to the OS."};
static const sp_config_field *const config_fields[] = {&path_field, &fsync_field};

/* Suggestions only (SP_FEATURE_OPEN_FIELDS): any destination field name is accepted. */
#define SUGGESTED_FIELD(field_name, field_type, text)                                                   \
    {.struct_size = sizeof(sp_destination_field), .type = field_type, .flags = SP_FIELD_DEFAULT,         \
     .name = field_name, .description = text, .group_name = "record"}
static const sp_destination_field id_field = SUGGESTED_FIELD("id", SP_FIELD_STRING, "The record's identifier.");
static const sp_destination_field email_field = SUGGESTED_FIELD("email", SP_FIELD_STRING, "An email address, as is.");
static const sp_destination_field value_field = SUGGESTED_FIELD("value", SP_FIELD_DECIMAL, "A number, e.g. a total.");
static const sp_destination_field *const destination_fields[] = {&id_field, &email_field, &value_field};

static const sp_descriptor descriptor = {
    .struct_size = sizeof(sp_descriptor),
    .sync_modes = SP_SYNC_INSERT | SP_SYNC_UPDATE | SP_SYNC_UPSERT | SP_SYNC_MIRROR,
    .audience_modes = SP_AUDIENCE_ADD | SP_AUDIENCE_REMOVE | SP_AUDIENCE_MIRROR | SP_AUDIENCE_UPSERT,
    .features = SP_FEATURE_FIELD_MAPPING | SP_FEATURE_OPEN_FIELDS | SP_FEATURE_TEST_EVENTS,
    .id = PLUGIN_ID,
    .name = "JSON lines file",
    .version = "0.1.0",
    .description = "Appends one JSON line per record to a file and fsyncs it on flush: a debugging "
                   "destination, and the template for new plugins.",
    .auth = NULL, /* no credentials */
    .config_field_count = sizeof config_fields / sizeof *config_fields,
    .config_fields = config_fields,
    .destination_field_count = sizeof destination_fields / sizeof *destination_fields,
    .destination_fields = destination_fields,
    .max_batch_records = 0,            /* no limit */
    .recommended_batch_records = 1000, /* one flush (fsync) per batch: larger is cheaper */
    .manifest_json = NULL,
};

/* ---- An instance: one open output file ------------------------------------------------------- */

struct sp_instance {
    int closed;
    uint32_t target_kind; /* SP_TARGET_SYNC or SP_TARGET_AUDIENCE */
    uint32_t mode;        /* the one SP_SYNC_* or SP_AUDIENCE_* bit it was opened in */
    int dry_run;          /* SP_OPEN_DRY_RUN: no file; the lines are kept for sp.dry_run/1 */
    int test_events;      /* SP_OPEN_TEST_EVENTS: validate only, no file */
    int fsync_on_flush;
    FILE *file;              /* NULL unless really writing */
    jl_buffer sync_id_json;  /* the "sync" value, as JSON */
    spu_columns columns;     /* the mapping, and where its columns are in the batch */
    spu_results results;     /* results of the last write */
    jl_buffer line;          /* the line being built */
    jl_buffer dry_lines;     /* dry run: the last batch's lines, each NUL-terminated */
    uint32_t dry_count;
    const char **dry_pointers; /* what sp.dry_run/1's requests() returns */
};

/* The message for errno `code` (strerror is not thread-safe; this is the POSIX strerror_r). */
static const char *errno_text(int code, char *buf, size_t size) {
    if (strerror_r(code, buf, size) != 0) snprintf(buf, size, "error %d", code);
    return buf;
}

/* Reads the config (check() and open() alike). Keys it does not know are ignored, as the header
 * requires; messages name keys, never values. *path is borrowed from config. */
static sp_status read_config(const sp_config *config, const char **path, int *fsync_on_flush, sp_error **out_error) {
    if (spu_config_valid(config, out_error) != SP_OK) return SP_FAILED;
    if (spu_config_string(config, "path", 1, NULL, path, out_error) != SP_OK) return SP_FAILED;
    return spu_config_bool(config, "fsync", 1, fsync_on_flush, out_error);
}

static sp_status check(const sp_config *config, const sp_host *host, sp_error **out_error) {
    const char *path;
    int fsync_on_flush;
    (void)host; /* nothing to verify online: open() reports a file that cannot be created */
    return read_config(config, &path, &fsync_on_flush, out_error);
}

/* Debug log through the host, if it has a log slot (every slot may be NULL, and an older host's
 * vtable may be shorter: SP_HAS_FIELD). */
static void log_debug(const sp_host *host, const char *message) {
    if (host != NULL && SP_HAS_FIELD(host, sp_host, log) && host->log != NULL) host->log(host->ctx, SP_LOG_DEBUG, message);
}

static void close_instance(sp_instance *inst) {
    if (inst == NULL) return;
    if (inst->file != NULL) fclose(inst->file); /* what flush did not make durable may be lost */
    inst->file = NULL;
    inst->closed = 1;
}

static void destroy(sp_instance *inst) {
    if (inst == NULL) return;
    close_instance(inst);
    jl_buffer_free(&inst->sync_id_json);
    spu_columns_free(&inst->columns);
    spu_results_free(&inst->results);
    jl_buffer_free(&inst->line);
    jl_buffer_free(&inst->dry_lines);
    free(inst->dry_pointers);
    free(inst);
}

/* Checks what the lines will carry: UTF-8 names, each destination field once. */
static sp_status check_names(const sp_instance *inst, const char *sync_id, sp_error **out_error) {
    if (sync_id != NULL && !spu_utf8_valid(sync_id, strlen(sync_id)))
        return spu_fail(out_error, SP_ERR_CONFIG, 0, "the sync id is not valid UTF-8");
    for (uint32_t k = 0; k < inst->columns.count; ++k) {
        const char *name = inst->columns.fields[k];
        if (!spu_utf8_valid(name, strlen(name)))
            return spu_fail(out_error, SP_ERR_CONFIG, 0, "mapping entry %u: destination field is not valid UTF-8",
                            (unsigned)k);
        for (uint32_t j = 0; j < k; ++j)
            if (strcmp(inst->columns.fields[j], name) == 0)
                return spu_fail(out_error, SP_ERR_CONFIG, 0, "destination field \"%s\" is mapped twice", name);
    }
    return SP_OK;
}

/* Opens `path` for appending, created with mode 0600 (the lines may hold personal data). */
static sp_status open_file(sp_instance *inst, const char *path, sp_error **out_error) {
    char why[128];
    const int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && (inst->file = fdopen(fd, "a")) != NULL) return SP_OK;
    const int code = errno;
    if (fd >= 0) close(fd);
    return spu_fail(out_error, SP_ERR_CONFIG, 0, "cannot open the file of config key \"path\" for appending: %s",
                    errno_text(code, why, sizeof why));
}

static sp_status open_instance(const sp_open_params *params, const sp_host *host, sp_instance **out_instance,
                               sp_error **out_error) {
    const char *path = NULL;
    if (out_instance == NULL) return spu_fail(out_error, SP_ERR_INTERNAL, 0, "open: out_instance is NULL");
    *out_instance = NULL; /* the header's rule: a failed open leaves it NULL */
    if (params == NULL || !SP_HAS_FIELD(params, sp_open_params, flags))
        return spu_fail(out_error, SP_ERR_INTERNAL, 0, "open: params are NULL or smaller than ABI 1.0's");
    if (spu_check_mode(params, &descriptor, out_error) != SP_OK) return SP_FAILED;
    sp_instance *inst = calloc(1, sizeof *inst);
    if (inst == NULL) return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory");
    inst->target_kind = params->target_kind;
    inst->mode = params->target_kind == SP_TARGET_AUDIENCE ? params->audience_mode : params->sync_mode;
    inst->dry_run = (params->flags & SP_OPEN_DRY_RUN) != 0;
    inst->test_events = (params->flags & SP_OPEN_TEST_EVENTS) != 0;
    if (read_config(params->config, &path, &inst->fsync_on_flush, out_error) != SP_OK ||
        spu_columns_init(&inst->columns, params->mapping, out_error) != SP_OK ||
        check_names(inst, params->sync_id, out_error) != SP_OK ||
        (!inst->dry_run && !inst->test_events && open_file(inst, path, out_error) != SP_OK)) {
        destroy(inst);
        return SP_FAILED;
    }
    if (params->sync_id != NULL) jl_append_string(&inst->sync_id_json, params->sync_id, strlen(params->sync_id));
    else jl_append_text(&inst->sync_id_json, "null");
    if (inst->sync_id_json.oom) {
        destroy(inst);
        return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory");
    }
    log_debug(host, inst->dry_run ? PLUGIN_ID ": dry run, nothing is written"
                    : inst->test_events ? PLUGIN_ID ": test run, records are validated and not written"
                                        : PLUGIN_ID ": appending to the file of config key \"path\"");
    *out_instance = inst;
    return SP_OK;
}

/* ---- Writing ----------------------------------------------------------------------------------- */

/* Builds the line of record i (operation op) in inst->line, without its newline. Returns
 * JL_VALUE_OK, or what was wrong with the cell of mapping entry *bad_entry. */
static jl_value_status build_line(sp_instance *inst, const sp_batch *batch, uint32_t i, uint32_t op,
                                  uint32_t *bad_entry) {
    jl_buffer *b = &inst->line;
    const char *key = batch->record_keys != NULL ? batch->record_keys[i] : NULL;
    const uint64_t previous = SP_HAS_FIELD(batch, sp_batch, previous_hashes) && batch->previous_hashes != NULL
                                  ? batch->previous_hashes[i]
                                  : 0;
    b->len = 0;
    jl_append_text(b, "{\"sync\":");
    jl_append(b, inst->sync_id_json.data, inst->sync_id_json.len);
    jl_append_text(b, ",\"op\":\"");
    jl_append_text(b, spu_operation_name(op));
    jl_append_text(b, "\",\"key\":");
    if (key != NULL) jl_append_string(b, key, strlen(key)); /* validated by the caller */
    else jl_append_text(b, "null");
    jl_append_text(b, ",\"previous_hash\":");
    if (previous != 0) {
        char hex[24];
        snprintf(hex, sizeof hex, "\"%016" PRIx64 "\"", previous);
        jl_append_text(b, hex);
    } else {
        jl_append_text(b, "null");
    }
    jl_append_text(b, ",\"fields\":{");
    /* A DELETE or REMOVE carries no fields: its key says what goes. */
    for (uint32_t k = 0; (op == SP_OP_UPSERT || op == SP_OP_ADD) && k < inst->columns.count; ++k) {
        if (k > 0) jl_append(b, ",", 1);
        jl_append_string(b, inst->columns.fields[k], strlen(inst->columns.fields[k]));
        jl_append(b, ":", 1);
        const jl_value_status s = jl_append_value(b, spu_columns_value(&inst->columns, batch, i, k));
        if (s != JL_VALUE_OK) {
            *bad_entry = k;
            return s;
        }
    }
    jl_append_text(b, "}}");
    return JL_VALUE_OK;
}

/* Writes (or, in a dry or test run, only prepares) every record of a well-formed batch and sets
 * its result. SP_FAILED only when the file cannot be written: the rest of the batch stays RETRY. */
static sp_status write_records(sp_instance *inst, const sp_batch *batch, sp_error **out_error) {
    spu_results *r = &inst->results;
    const int audience = inst->target_kind == SP_TARGET_AUDIENCE;
    const char *mode_name = audience ? spu_audience_mode_name(inst->mode) : spu_sync_mode_name(inst->mode);
    for (uint32_t i = 0; i < batch->record_count; ++i) {
        const uint32_t op = sp_operation_at(batch, i, audience);
        const char *key = batch->record_keys != NULL ? batch->record_keys[i] : NULL;
        uint32_t k = 0;
        if (!spu_mode_allows(inst->target_kind, inst->mode, op)) {
            if (spu_operation_name(op) == NULL)
                spu_results_set(r, i, SP_RECORD_REJECTED, SP_ERR_UNSUPPORTED, NULL, "unknown operation %u", (unsigned)op);
            else
                spu_results_set(r, i, SP_RECORD_REJECTED, SP_ERR_UNSUPPORTED, NULL, "operation %s is not part of %s mode %s",
                                spu_operation_name(op), audience ? "audience sync" : "sync", mode_name);
            continue;
        }
        if (key != NULL && !spu_utf8_valid(key, strlen(key))) {
            spu_results_set(r, i, SP_RECORD_REJECTED, SP_ERR_DATA, NULL, "the record key is not valid UTF-8");
            continue;
        }
        const jl_value_status s = build_line(inst, batch, i, op, &k);
        const char *field = inst->columns.fields != NULL ? inst->columns.fields[k] : NULL;
        if (s == JL_VALUE_BAD_UTF8) {
            spu_results_set(r, i, SP_RECORD_REJECTED, SP_ERR_DATA, field, "field \"%s\" is not valid UTF-8", field);
            continue;
        }
        if (s != JL_VALUE_OK) {
            spu_results_set(r, i, SP_RECORD_REJECTED, SP_ERR_DATA, field, "field \"%s\" has a malformed value", field);
            continue;
        }
        if (inst->line.oom) return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory");
        if (inst->dry_run) {
            jl_append(&inst->dry_lines, inst->line.data, inst->line.len + 1); /* with its NUL */
            if (inst->dry_lines.oom) return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory");
            ++inst->dry_count;
        } else if (inst->file != NULL) {
            inst->line.data[inst->line.len] = '\n'; /* jl_buffer keeps a byte for its NUL */
            if (fwrite(inst->line.data, 1, inst->line.len + 1, inst->file) != inst->line.len + 1) {
                char why[128];
                const int code = errno;
                spu_results_set(r, i, SP_RECORD_RETRY, SP_ERR_TRANSIENT, NULL, "writing the file failed: %s",
                                errno_text(code, why, sizeof why));
                return spu_fail(out_error, SP_ERR_TRANSIENT, 0, "writing the file failed: %s", why);
            }
        }
        spu_results_set(r, i, SP_RECORD_OK, SP_ERR_NONE, NULL, NULL);
    }
    return SP_OK;
}

/* [instance-thread] Exactly batch->record_count results, whatever happens: every record starts as
 * RETRY and becomes OK once its line is in the stdio buffer (durable after flush). */
static sp_status write_batch(sp_instance *inst, const sp_batch *batch, sp_write_result *out, sp_error **out_error) {
    sp_status s = SP_FAILED;
    if (inst == NULL) return spu_fail(out_error, SP_ERR_INTERNAL, 0, "write_batch: instance is NULL");
    const uint32_t n = batch != NULL ? batch->record_count : 0;
    if (!spu_results_begin(&inst->results, n, SP_RECORD_RETRY, SP_ERR_INTERNAL))
        return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory");
    inst->dry_lines.len = 0;
    inst->dry_count = 0;
    if (inst->closed) spu_fail(out_error, SP_ERR_INTERNAL, 0, "write_batch after close");
    else if (batch == NULL || out == NULL) spu_fail(out_error, SP_ERR_INTERNAL, 0, "write_batch: batch or out is NULL");
    else if (n > 0 && batch->values == NULL && batch->column_count > 0)
        spu_fail(out_error, SP_ERR_INTERNAL, 0, "malformed batch: %u records without values", (unsigned)n);
    else if (spu_columns_resolve(&inst->columns, batch, out_error) != SP_OK)
        spu_results_begin(&inst->results, n, SP_RECORD_RETRY, SP_ERR_CONFIG); /* the header's rule */
    else s = write_records(inst, batch, out_error);
    spu_results_finish(&inst->results, out);
    return s;
}

/* [instance-thread] Durability barrier: the stdio buffer to the OS, then to disk (fsync). A file
 * that cannot be synced (EINVAL: a pipe, a terminal, /dev/stdout) has nothing to make durable. */
static sp_status flush(sp_instance *inst, sp_error **out_error) {
    char why[128];
    if (inst == NULL || inst->closed)
        return spu_fail(out_error, SP_ERR_INTERNAL, 0, "flush on a NULL or closed instance");
    if (inst->file == NULL) return SP_OK; /* dry or test run: nothing written */
    if (fflush(inst->file) != 0 || (inst->fsync_on_flush && fsync(fileno(inst->file)) != 0 && errno != EINVAL))
        return spu_fail(out_error, SP_ERR_TRANSIENT, 0, "flushing the file failed: %s",
                        errno_text(errno, why, sizeof why));
    return SP_OK;
}

/* ---- sp.dry_run/1: one request per record, the line without its newline ------------------------- */

static const char *const *dry_run_requests(sp_instance *inst, uint32_t *out_count) {
    uint32_t count = 0;
    if (inst != NULL && inst->dry_run && inst->dry_count > 0) {
        const char **pointers = realloc(inst->dry_pointers, inst->dry_count * sizeof *pointers);
        if (pointers != NULL) {
            const char *line = inst->dry_lines.data;
            inst->dry_pointers = pointers;
            for (count = 0; count < inst->dry_count; ++count, line += strlen(line) + 1) pointers[count] = line;
        }
    }
    if (out_count != NULL) *out_count = count;
    return count > 0 ? inst->dry_pointers : NULL;
}

static const sp_ext_dry_run dry_run_extension = {.struct_size = sizeof(sp_ext_dry_run), .requests = dry_run_requests};

static const void *get_extension(const char *id) {
    if (id != NULL && strcmp(id, SP_EXT_DRY_RUN) == 0) return &dry_run_extension;
    return NULL;
}

static const sp_descriptor *describe(void) { return &descriptor; }

static const sp_entry entry = {
    .struct_size = sizeof(sp_entry), .abi_major = SP_ABI_MAJOR, .abi_minor = SP_ABI_MINOR, .plugin_id = PLUGIN_ID,
    .describe = describe, .get_extension = get_extension, .check = check, .open = open_instance,
    .write_batch = write_batch, .flush = flush, .close = close_instance, .destroy = destroy, SPU_ERROR_FUNCTIONS};

SP_EXPORT const sp_entry *sp_get_entry(uint32_t host_abi_major) {
    return host_abi_major == SP_ABI_MAJOR ? &entry : NULL;
}
