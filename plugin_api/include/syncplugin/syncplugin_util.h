/*
 * syncplugin_util.h: optional single-header C99 helpers for *plugin authors* writing in C.
 *
 * Nothing here is part of the ABI; a plugin may ignore this file and implement syncplugin.h
 * directly. plugins/jsonl_file uses every part of it. Include it in each .c file that needs it;
 * there is no implementation macro: every function is `static inline`, so unused ones cost
 * nothing and give no warning (-Wall -Wextra -pedantic). Hosts must not include it: it defines
 * `struct sp_error`, which belongs to the plugin.
 *
 * It gives:
 *   - Errors:  a concrete `struct sp_error`, constructors with a printf-style message, and the
 *              four functions an entry table needs (SPU_ERROR_FUNCTIONS fills those slots).
 *   - Config:  lookup of string, boolean and integer values; errors are SP_ERR_CONFIG and name
 *              the key, never the value (the header's rule).
 *   - Modes:   open-time mode validation naming what is supported, and the operation-per-mode
 *              table of the header (the comment above sp_operation).
 *   - Results: a growable result array that fills sp_write_result (stride, counts), with
 *              formatted per-record messages it owns.
 *   - Columns: the mapping copied at open, and each mapping entry resolved to a batch column index
 *              (or its constant) once per batch shape, with the missing-column CONFIG error.
 *   - Text:    UTF-8 validation (TEXT cells are "meant to be UTF-8 (the plugin validates)").
 *
 * Threading: nothing here has global state; an object (spu_results, spu_columns) is used by one
 * thread at a time, like the instance that holds it. Memory: on allocation failure the functions
 * report SP_ERR_INTERNAL "out of memory" (or return 0 where documented); they never abort.
 */
#ifndef SYNCPLUGIN_UTIL_H
#define SYNCPLUGIN_UTIL_H

#include "syncplugin.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SPU_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define SPU_PRINTF(fmt_index, first_arg)
#endif

/* ------------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------------- */

/* The plugin's error object. Created by spu_error_new / spu_fail, released by the host through
 * the entry's error_destroy (spu_error_destroy). */
struct sp_error {
    sp_error_category category;
    int32_t code;
    int is_static;       /* the preallocated "out of memory" error: never freed */
    const char *message; /* NUL-terminated; points at `text` (or a literal for is_static) */
    char text[];         /* the formatted message */
};

/* The error given when an error cannot be allocated: a static object, so that a failed call still
 * hands the host an error. Shared by every caller; error_destroy leaves it alone. */
static inline sp_error *spu_error_out_of_memory(void) {
    static struct sp_error oom = {SP_ERR_INTERNAL, 0, 1, "out of memory"};
    return &oom;
}

/* A new error whose message is `format` applied to `args` (vsnprintf). The caller owns it and
 * passes it to the host (which releases it with error_destroy). Never returns NULL. Messages must
 * not contain secrets, config values or personal data. [any-thread] */
static inline sp_error *spu_error_vnew(sp_error_category category, int32_t code, const char *format,
                                       va_list args) {
    va_list again;
    va_copy(again, args);
    const int n = vsnprintf(NULL, 0, format, again);
    va_end(again);
    sp_error *e = n < 0 ? NULL : (sp_error *)malloc(sizeof(sp_error) + (size_t)n + 1);
    if (e == NULL) return spu_error_out_of_memory();
    e->category = category;
    e->code = code;
    e->is_static = 0;
    vsnprintf(e->text, (size_t)n + 1, format, args);
    e->message = e->text;
    return e;
}

/* spu_error_vnew with the arguments given directly. */
static inline SPU_PRINTF(3, 4) sp_error *spu_error_new(sp_error_category category, int32_t code,
                                                       const char *format, ...) {
    va_list args;
    va_start(args, format);
    sp_error *e = spu_error_vnew(category, code, format, args);
    va_end(args);
    return e;
}

/* Stores a new error in *out_error (when out_error is not NULL) and returns SP_FAILED, so that a
 * function can `return spu_fail(out_error, SP_ERR_CONFIG, 0, "config key \"%s\" ...", key);`. */
static inline SPU_PRINTF(4, 5) sp_status spu_fail(sp_error **out_error, sp_error_category category,
                                                  int32_t code, const char *format, ...) {
    if (out_error != NULL) {
        va_list args;
        va_start(args, format);
        *out_error = spu_error_vnew(category, code, format, args);
        va_end(args);
    }
    return SP_FAILED;
}

/* The four entry-table functions, [any-thread]. `error` must be non-NULL (the header's rule);
 * spu_error_destroy ignores NULL. The message is owned by the error object. */
static inline sp_error_category spu_error_category(const sp_error *error) { return error->category; }
static inline int32_t spu_error_code(const sp_error *error) { return error->code; }
static inline const char *spu_error_message(const sp_error *error) { return error->message; }
static inline void spu_error_destroy(sp_error *error) {
    if (error != NULL && !error->is_static) free(error);
}

/* Designated initializers for the four error slots of an sp_entry. */
#define SPU_ERROR_FUNCTIONS                                                                         \
    .error_category = spu_error_category, .error_code = spu_error_code,                            \
    .error_message = spu_error_message, .error_destroy = spu_error_destroy

/* A copy of `text` in malloc'ed memory (strdup is POSIX, not C99), or NULL when out of memory. */
static inline char *spu_strdup(const char *text) {
    const size_t n = strlen(text) + 1;
    char *copy = (char *)malloc(n);
    return copy != NULL ? (char *)memcpy(copy, text, n) : NULL;
}

/* ------------------------------------------------------------------------------------------------
 * Config lookup. `config` is the host's (borrowed for the call); returned strings are borrowed
 * from it. NULL entries and entries without a key are skipped; when a key appears twice the last
 * one wins. Keys the plugin does not know are simply never looked up: that is how unknown keys are
 * tolerated.
 * ---------------------------------------------------------------------------------------------- */

/* SP_OK when `config` can be read (NULL counts as empty); an SP_ERR_CONFIG error when it claims
 * entries but has no entry array. Call it first in check() and open(). */
static inline sp_status spu_config_valid(const sp_config *config, sp_error **out_error) {
    if (config != NULL && config->entry_count > 0 && config->entries == NULL)
        return spu_fail(out_error, SP_ERR_CONFIG, 0, "config has %u entries but no entry array",
                        (unsigned)config->entry_count);
    return SP_OK;
}

/* The value of `key`, or NULL when the config does not have it (or config is NULL). */
static inline const char *spu_config_get(const sp_config *config, const char *key) {
    const char *found = NULL;
    if (config == NULL || config->entries == NULL) return NULL;
    for (uint32_t i = 0; i < config->entry_count; ++i) {
        const sp_config_entry *e = config->entries[i];
        if (e != NULL && e->key != NULL && e->value != NULL && strcmp(e->key, key) == 0) found = e->value;
    }
    return found;
}

/* A string value. *out is the value, else `fallback` (may be NULL). When `required` is non-zero,
 * an absent or empty value is an SP_ERR_CONFIG error naming the key. */
static inline sp_status spu_config_string(const sp_config *config, const char *key, int required,
                                          const char *fallback, const char **out, sp_error **out_error) {
    const char *v = spu_config_get(config, key);
    if (required && (v == NULL || v[0] == '\0'))
        return spu_fail(out_error, SP_ERR_CONFIG, 0, "config key \"%s\" is required", key);
    *out = v != NULL ? v : fallback;
    return SP_OK;
}

/* A boolean value: exactly "true" or "false" (the header's form), else an SP_ERR_CONFIG error
 * naming the key. Absent: *out = fallback. */
static inline sp_status spu_config_bool(const sp_config *config, const char *key, int fallback, int *out,
                                        sp_error **out_error) {
    const char *v = spu_config_get(config, key);
    if (v == NULL) *out = fallback;
    else if (strcmp(v, "true") == 0) *out = 1;
    else if (strcmp(v, "false") == 0) *out = 0;
    else return spu_fail(out_error, SP_ERR_CONFIG, 0, "config key \"%s\" must be true or false", key);
    return SP_OK;
}

/* A decimal integer within [min, max] (inclusive), else an SP_ERR_CONFIG error naming the key and
 * the bounds. Absent: *out = fallback. */
static inline sp_status spu_config_int(const sp_config *config, const char *key, int64_t fallback, int64_t min,
                                       int64_t max, int64_t *out, sp_error **out_error) {
    const char *v = spu_config_get(config, key);
    if (v == NULL) {
        *out = fallback;
        return SP_OK;
    }
    /* Parsed by hand: strtoll accepts leading spaces and depends on the locale. */
    const char *p = v;
    const int negative = *p == '-';
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t magnitude = 0;
    int overflow = 0;
    if (*p == '-' || *p == '+') ++p;
    const char *digits = p;
    for (; *p >= '0' && *p <= '9'; ++p) {
        const uint64_t d = (uint64_t)(*p - '0');
        if (magnitude > (limit - d) / 10) overflow = 1;
        else magnitude = magnitude * 10 + d;
    }
    if (p == digits || *p != '\0' || overflow)
        return spu_fail(out_error, SP_ERR_CONFIG, 0, "config key \"%s\" must be an integer", key);
    const int64_t n = negative ? (magnitude == limit ? INT64_MIN : -(int64_t)magnitude) : (int64_t)magnitude;
    if (n < min || n > max)
        return spu_fail(out_error, SP_ERR_CONFIG, 0, "config key \"%s\" must be between %lld and %lld", key,
                        (long long)min, (long long)max);
    *out = n;
    return SP_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Modes and operations
 * ---------------------------------------------------------------------------------------------- */

/* Names of mode bits and operations, as in manifests ("insert", "add", "delete"), or NULL. */
static inline const char *spu_sync_mode_name(uint32_t mode) {
    switch (mode) {
    case SP_SYNC_INSERT: return "insert";
    case SP_SYNC_UPDATE: return "update";
    case SP_SYNC_UPSERT: return "upsert";
    case SP_SYNC_MIRROR: return "mirror";
    default: return NULL;
    }
}
static inline const char *spu_audience_mode_name(uint32_t mode) {
    switch (mode) {
    case SP_AUDIENCE_ADD: return "add";
    case SP_AUDIENCE_REMOVE: return "remove";
    case SP_AUDIENCE_MIRROR: return "mirror";
    case SP_AUDIENCE_UPSERT: return "upsert";
    default: return NULL;
    }
}
static inline const char *spu_operation_name(uint32_t op) {
    switch (op) {
    case SP_OP_UPSERT: return "upsert";
    case SP_OP_DELETE: return "delete";
    case SP_OP_ADD: return "add";
    case SP_OP_REMOVE: return "remove";
    default: return NULL;
    }
}

/* Validates the target and mode of `params` against `descriptor`: SP_OK for a declared mode given
 * as exactly one bit, else an SP_ERR_UNSUPPORTED error naming the modes that are supported. */
static inline sp_status spu_check_mode(const sp_open_params *params, const sp_descriptor *descriptor,
                                       sp_error **out_error) {
    const int audience = params->target_kind == SP_TARGET_AUDIENCE;
    const uint32_t mode = audience ? params->audience_mode : params->sync_mode;
    const uint32_t declared = audience ? descriptor->audience_modes : descriptor->sync_modes;
    char names[64] = ""; /* "insert, update, upsert, mirror" at the most */
    size_t used = 0;
    if ((params->target_kind == SP_TARGET_SYNC || audience) && (mode & declared) != 0 && (mode & (mode - 1)) == 0)
        return SP_OK;
    for (uint32_t bit = 1; bit <= 8; bit <<= 1) {
        if (declared & bit)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "",
                                     audience ? spu_audience_mode_name(bit) : spu_sync_mode_name(bit));
    }
    if (params->target_kind != SP_TARGET_SYNC && !audience)
        return spu_fail(out_error, SP_ERR_UNSUPPORTED, 0, "%s: unknown target kind %u", descriptor->id,
                        (unsigned)params->target_kind);
    return spu_fail(out_error, SP_ERR_UNSUPPORTED, 0, "%s supports %s mode%s %s", descriptor->id,
                    audience ? "audience sync" : "sync", strchr(names, ',') ? "s" : "",
                    names[0] ? names : "none");
}

/* Non-zero when an instance opened for `target_kind` in `mode` (one bit) may receive `op`: the
 * table in the header's comment above sp_operation. */
static inline int spu_mode_allows(uint32_t target_kind, uint32_t mode, uint32_t op) {
    if (target_kind == SP_TARGET_AUDIENCE) {
        if (op == SP_OP_ADD) return mode != SP_AUDIENCE_REMOVE;
        if (op == SP_OP_REMOVE) return mode == SP_AUDIENCE_REMOVE || mode == SP_AUDIENCE_MIRROR;
        return 0;
    }
    if (op == SP_OP_UPSERT) return 1;
    if (op == SP_OP_DELETE) return mode == SP_SYNC_MIRROR;
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Results: one per record, in order, owned by the instance (the header's Memory rule: valid until
 * the next call on the instance). Zero-initialise an spu_results, then per write_batch:
 *     spu_results_begin(&r, n, SP_RECORD_RETRY, SP_ERR_INTERNAL)   every record starts as given
 *     spu_results_set(&r, i, ...)                                  the outcome of record i
 *     spu_results_finish(&r, out)                                  fills sp_write_result
 * and spu_results_free(&r) in destroy(). An early failure simply finishes with what begin set.
 * ---------------------------------------------------------------------------------------------- */

/* Storage for formatted messages: blocks that never move, so messages keep their address. */
typedef struct spu_text_block {
    struct spu_text_block *next;
    size_t used, capacity;
    char data[];
} spu_text_block;

typedef struct spu_results {
    sp_record_result *items; /* `count` results of the current write */
    uint32_t count;
    uint32_t capacity;
    spu_text_block *text; /* messages of the current results */
} spu_results;

static inline void spu_results_free_text(spu_results *r) {
    while (r->text != NULL) {
        spu_text_block *next = r->text->next;
        free(r->text);
        r->text = next;
    }
}

/* Makes room for n results and sets each to `status` / `category` (use SP_ERR_NONE with
 * SP_RECORD_OK), no message. Releases the messages of the previous write. Returns 0 (and keeps
 * count 0) when out of memory. */
static inline int spu_results_begin(spu_results *r, uint32_t n, sp_record_status status,
                                    sp_error_category category) {
    spu_results_free_text(r);
    r->count = 0;
    if (n > r->capacity) {
        sp_record_result *grown = (sp_record_result *)realloc(r->items, (size_t)n * sizeof *grown);
        if (grown == NULL) return 0;
        r->items = grown;
        r->capacity = n;
    }
    for (uint32_t i = 0; i < n; ++i) {
        sp_record_result x = {sizeof(sp_record_result), 0, 0, 0, NULL, NULL, NULL};
        x.status = (uint32_t)status;
        x.category = (uint32_t)category;
        r->items[i] = x;
    }
    r->count = n;
    return 1;
}

/* Copies a formatted message into the result storage; NULL when out of memory. */
static inline const char *spu_results_vprintf(spu_results *r, const char *format, va_list args) {
    va_list again;
    va_copy(again, args);
    const int n = vsnprintf(NULL, 0, format, again);
    va_end(again);
    if (n < 0) return NULL;
    spu_text_block *b = r->text;
    if (b == NULL || b->capacity - b->used < (size_t)n + 1) {
        const size_t capacity = (size_t)n + 1 > 4096 ? (size_t)n + 1 : 4096;
        b = (spu_text_block *)malloc(sizeof(spu_text_block) + capacity);
        if (b == NULL) return NULL;
        b->next = r->text;
        b->used = 0;
        b->capacity = capacity;
        r->text = b;
    }
    char *at = b->data + b->used;
    vsnprintf(at, (size_t)n + 1, format, args);
    b->used += (size_t)n + 1;
    return at;
}

/* Sets result i (< count): its status, category (SP_ERR_NONE for OK), the destination field it is
 * about (borrowed: must outlive the results, e.g. a name the instance owns; may be NULL) and a
 * message formatted with `format` (NULL: none; the results own the text). No PII in messages. */
static inline SPU_PRINTF(6, 7) void spu_results_set(spu_results *r, uint32_t i, sp_record_status status,
                                                    sp_error_category category, const char *field,
                                                    const char *format, ...) {
    sp_record_result *x = &r->items[i];
    x->status = (uint32_t)status;
    x->category = (uint32_t)category;
    x->field = field;
    x->message = NULL;
    if (format != NULL) {
        va_list args;
        va_start(args, format);
        x->message = spu_results_vprintf(r, format, args);
        va_end(args);
        if (x->message == NULL) x->message = "(message lost: out of memory)";
    }
}

/* Fills the host's sp_write_result (its struct_size is the host's and is left alone): count,
 * stride, the results pointer and the ok/rejected/retry counts. `out` may be NULL. */
static inline void spu_results_finish(const spu_results *r, sp_write_result *out) {
    if (out == NULL) return;
    out->record_count = r->count;
    out->result_stride = (uint32_t)sizeof(sp_record_result);
    out->results = r->items;
    out->ok_count = out->rejected_count = out->retry_count = 0;
    for (uint32_t i = 0; i < r->count; ++i) {
        const uint32_t s = r->items[i].status;
        if (s == SP_RECORD_OK) ++out->ok_count;
        else if (s == SP_RECORD_REJECTED) ++out->rejected_count;
        else ++out->retry_count;
    }
    out->retry_after_ms = 0;
}

/* Releases everything; the spu_results is empty (zeroed) afterwards and may be reused. */
static inline void spu_results_free(spu_results *r) {
    spu_results_free_text(r);
    free(r->items);
    r->items = NULL;
    r->count = r->capacity = 0;
}

/* ------------------------------------------------------------------------------------------------
 * Columns: the mapping, copied at open() (the host's mapping is borrowed for the call only), and
 * resolved against each batch's column names:
 *     spu_columns_init(&c, params->mapping, err)      in open(); SP_ERR_CONFIG for a bad entry
 *     spu_columns_resolve(&c, batch, err)             first thing in write_batch
 *     spu_columns_value(&c, batch, record, entry)     the cell (or constant) of a mapping entry
 *     spu_columns_free(&c)                            in destroy()
 * Resolving searches the names only when the batch's column_names pointer or column_count differ
 * from the last batch's; otherwise it just confirms, with one string comparison per mapped
 * column, that the cached indexes still name the right columns (a host may reuse memory).
 * ---------------------------------------------------------------------------------------------- */

#define SPU_CONSTANT UINT32_MAX /* index of a mapping entry fed by a constant */

typedef struct spu_columns {
    uint32_t count;    /* mapping entries */
    char **fields;     /* destination field of entry k (owned) */
    char **sources;    /* source column of entry k (owned), NULL for a constant */
    sp_value *constants; /* constant of entry k (bytes owned), type NULL for a column */
    uint32_t *index;   /* batch column of entry k, or SPU_CONSTANT */
    const char *const *resolved_names; /* the batch shape `index` was resolved for */
    uint32_t resolved_count;
} spu_columns;

/* Releases everything; the spu_columns is zeroed afterwards. */
static inline void spu_columns_free(spu_columns *c) {
    for (uint32_t k = 0; k < c->count; ++k) {
        free(c->fields[k]);
        free(c->sources[k]);
        if (c->constants[k].type == SP_VALUE_TEXT || c->constants[k].type == SP_VALUE_BLOB) {
            void *bytes; /* copied by spu_columns_init: ours, though the sp_value points to const */
            memcpy(&bytes, &c->constants[k].as.blob, sizeof bytes);
            free(bytes);
        }
    }
    free(c->fields);
    free(c->sources);
    free(c->constants);
    free(c->index);
    c->fields = c->sources = NULL;
    c->constants = NULL;
    c->index = NULL;
    c->count = c->resolved_count = 0;
    c->resolved_names = NULL;
}

/* Copies `mapping` (NULL: no entries). Every entry must name a non-empty destination field and
 * either a source column or a constant; anything else is an SP_ERR_CONFIG error naming the entry.
 * Constants of type TEXT/BLOB are copied (NUL-terminated for convenience); other fields of the
 * entries are read only within their struct_size. On failure `c` is left zeroed. */
static inline sp_status spu_columns_init(spu_columns *c, const sp_mapping *mapping, sp_error **out_error) {
    const uint32_t n = mapping != NULL ? mapping->entry_count : 0;
    const spu_columns empty = {0, NULL, NULL, NULL, NULL, NULL, 0};
    *c = empty;
    if (n > 0 && mapping->entries == NULL)
        return spu_fail(out_error, SP_ERR_CONFIG, 0, "mapping has %u entries but no entry array", (unsigned)n);
    if (n == 0) return SP_OK;
    c->fields = (char **)calloc(n, sizeof *c->fields);
    c->sources = (char **)calloc(n, sizeof *c->sources);
    c->constants = (sp_value *)calloc(n, sizeof *c->constants);
    c->index = (uint32_t *)calloc(n, sizeof *c->index);
    if (c->fields == NULL || c->sources == NULL || c->constants == NULL || c->index == NULL) {
        spu_columns_free(c);
        return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory");
    }
    c->count = n;
    for (uint32_t k = 0; k < n; ++k) {
        const sp_mapping_entry *e = mapping->entries[k];
        const char *source = e != NULL && SP_HAS_FIELD(e, sp_mapping_entry, source_column) ? e->source_column : NULL;
        const sp_value *constant = e != NULL && SP_HAS_FIELD(e, sp_mapping_entry, constant) ? e->constant : NULL;
        if (e == NULL || e->destination_field == NULL || e->destination_field[0] == '\0' ||
            (source == NULL) == (constant == NULL)) {
            spu_columns_free(c);
            return spu_fail(out_error, SP_ERR_CONFIG, 0,
                            "mapping entry %u needs a destination field and either a source column or a constant",
                            (unsigned)k);
        }
        int ok = (c->fields[k] = spu_strdup(e->destination_field)) != NULL;
        if (source != NULL) {
            ok = ok && (c->sources[k] = spu_strdup(source)) != NULL;
        } else {
            c->constants[k] = *constant;
            c->index[k] = SPU_CONSTANT;
            if (constant->type == SP_VALUE_TEXT || constant->type == SP_VALUE_BLOB) {
                char *bytes = constant->len > 0 && constant->as.blob == NULL ? NULL : (char *)malloc(constant->len + (size_t)1);
                if (bytes != NULL) {
                    if (constant->len > 0) memcpy(bytes, constant->as.blob, constant->len);
                    bytes[constant->len] = '\0';
                }
                c->constants[k].as.blob = bytes;
                ok = ok && bytes != NULL;
            }
        }
        if (!ok) {
            spu_columns_free(c);
            return spu_fail(out_error, SP_ERR_INTERNAL, 0, "out of memory, or a constant without its bytes");
        }
    }
    return SP_OK;
}

/* Maps every entry fed by a column to its index in `batch` (see above for when names are
 * searched). SP_OK, or the header's missing-column failure: an SP_ERR_CONFIG error naming the
 * first mapped column the batch lacks (the caller then reports every record SP_RECORD_RETRY). The
 * batch must have column names when it has columns (else SP_ERR_INTERNAL). */
static inline sp_status spu_columns_resolve(spu_columns *c, const sp_batch *batch, sp_error **out_error) {
    if (batch->column_count > 0 && batch->column_names == NULL)
        return spu_fail(out_error, SP_ERR_INTERNAL, 0, "malformed batch: %u columns without names",
                        (unsigned)batch->column_count);
    int same_shape = c->resolved_names != NULL && batch->column_names == c->resolved_names &&
                     batch->column_count == c->resolved_count;
    for (uint32_t k = 0; same_shape && k < c->count; ++k) {
        const char *name = c->index[k] == SPU_CONSTANT ? NULL : batch->column_names[c->index[k]];
        same_shape = c->index[k] == SPU_CONSTANT || (name != NULL && strcmp(name, c->sources[k]) == 0);
    }
    if (same_shape) return SP_OK;
    c->resolved_names = NULL; /* until every column is found */
    for (uint32_t k = 0; k < c->count; ++k) {
        if (c->sources[k] == NULL) continue;
        uint32_t i = 0;
        while (i < batch->column_count &&
               (batch->column_names[i] == NULL || strcmp(batch->column_names[i], c->sources[k]) != 0))
            ++i;
        if (i == batch->column_count)
            return spu_fail(out_error, SP_ERR_CONFIG, 0,
                            "mapped source column \"%s\" (for destination field \"%s\") is not in the batch",
                            c->sources[k], c->fields[k]);
        c->index[k] = i;
    }
    c->resolved_names = batch->column_names;
    c->resolved_count = batch->column_count;
    return SP_OK;
}

/* The value of mapping entry `entry` for record `record` of `batch`, after a successful
 * spu_columns_resolve of that batch: the batch's cell (borrowed for the write_batch call) or the
 * entry's constant (owned by `c`). */
static inline const sp_value *spu_columns_value(const spu_columns *c, const sp_batch *batch, uint32_t record,
                                                uint32_t entry) {
    if (c->index[entry] == SPU_CONSTANT) return &c->constants[entry];
    return &batch->values[(size_t)record * batch->column_count + c->index[entry]];
}

/* ------------------------------------------------------------------------------------------------
 * Text
 * ---------------------------------------------------------------------------------------------- */

/* Non-zero when bytes[0..len) are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). NUL bytes are valid characters. bytes may be NULL when len is 0. */
static inline int spu_utf8_valid(const char *bytes, size_t len) {
    const unsigned char *s = (const unsigned char *)bytes;
    size_t i = 0;
    while (i < len) {
        const unsigned c = s[i];
        size_t extra;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c < 0x80) extra = 0;
        else if (c >= 0xC2 && c <= 0xDF) extra = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2;
            if (c == 0xE0) lo = 0xA0;      /* overlong */
            else if (c == 0xED) hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3;
            if (c == 0xF0) lo = 0x90;      /* overlong */
            else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
        } else return 0;
        if (len - i <= extra) return 0;
        for (size_t k = 1; k <= extra; ++k) {
            const unsigned b = s[i + k];
            if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
        }
        i += extra + 1;
    }
    return 1;
}

#ifdef __cplusplus
}
#endif

#endif /* SYNCPLUGIN_UTIL_H */
