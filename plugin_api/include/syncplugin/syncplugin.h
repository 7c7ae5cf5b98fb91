/*
 * syncplugin.h: the stable C ABI between a sync engine (the host) and a destination plugin.
 *
 * This header is the whole contract. It is C99, has no dependencies beyond <stdint.h> and
 * <stddef.h>, and is shared unchanged by hosts and plugins written in any language.
 *
 * Shape (hourglass): C++ (or anything) inside the plugin, this C waist, anything in the host.
 *
 * Versioning
 *   - SP_ABI_MAJOR changes only on a breaking change. Host and plugin refuse each other when the
 *     majors differ: the plugin's sp_get_entry() returns NULL, and a host that still receives an
 *     entry of another major must not use it.
 *   - SP_ABI_MINOR grows when fields are appended to structs or functions to tables. Nothing is ever
 *     removed or reordered within a major.
 *   - Every versioned struct begins with `uint32_t struct_size`, set by whoever fills the struct to
 *     sizeof() of the struct as *it* knows it. A reader uses only fields that lie entirely within
 *     struct_size (see SP_HAS_FIELD) and treats missing trailing fields as zero/NULL.
 *   - Optional features are extensions, found by string id with a version suffix ("sp.foo/1").
 *   - Minor 1 appended per-record operations (sp_batch.operations, .previous_hashes), plugin-named
 *     field groups (sp_destination_field.group_name), SP_FEATURE_TEST_EVENTS and
 *     SP_FEATURE_OPEN_FIELDS. A host reads a plugin's minor from its entry (abi_minor) and never
 *     sends a minor-0 plugin anything but inserts and audience adds; a plugin reads the batch's
 *     struct_size, and a batch from a minor-0 host holds only those.
 *   - Minor 2 appended the values a destination field knows (sp_destination_field.values, with
 *     SP_FIELD_CLOSED_VALUES when no others are accepted). Older hosts and plugins simply do not
 *     see them.
 *   - Minor 3 appended routing fields (sp_destination_field.config_key): a field whose value in a
 *     row takes the place of a config key for that row (one sync, many ad accounts). Older hosts
 *     treat it as an ordinary field, which is all the plugin needs.
 *
 * Threading tags used below
 *   [any-thread]      may be called from any thread, concurrently.
 *   [instance-thread] called on one instance by one thread at a time (the host serialises calls on
 *                     an instance); different instances may be used in parallel from different threads.
 *   [plugin-thread]   a host service the plugin may call from any of its own threads, and from the
 *                     host's own thread inside a call the host made into the plugin (a token for a
 *                     batch, asked inside write_batch); the host implementation must be thread-safe
 *                     and must not hold, across a call into an instance, a lock its services take.
 *
 * Many instances in one process
 *   An engine loads a plugin once and opens an instance per tenant, hundreds at a time. A plugin
 *   may share threads, TLS contexts and connection pools among its instances, and should keep its
 *   thread count bounded by the core count, not the instance count. It never shares what belongs
 *   to one instance: the `host` it was opened with (credentials, cancellation, logs, metrics), call
 *   budgets and pacing, retry state, results. A plugin calls an instance's host services only for
 *   that instance's work, so one tenant's token never authorises another tenant's request. A
 *   connection shared among instances carries nothing of one (credentials travel with each
 *   request), and only instances that trust the same CA configuration share it.
 *   get_access_token may block while the host refreshes the token over the network: a plugin that
 *   shares threads among instances calls it where a wait stalls no other instance.
 *   close() and destroy() return only once no plugin thread will touch the instance or its host
 *   again; a host therefore must not call them from inside a host service callback.
 *
 * Memory
 *   - Inputs are borrowed: pointers passed into a call are valid only for the duration of the call.
 *   - Outputs owned by the plugin (result arrays, messages) stay valid until the next call on the
 *     same instance, or until the instance is destroyed, whichever comes first.
 *   - Static data (entry, descriptor, manifest) is valid until the library is unloaded.
 *   - Whoever allocates frees: sp_error objects are created by the plugin and released by the host
 *     with entry->error_destroy().
 *
 * Rules every plugin follows (syncplugin-harness checks each; "MUST" is a harness failure)
 *   - sp_get_entry, describe, get_extension and the error accessors do no I/O and are fast.
 *   - A failed open() MUST leave *out_instance NULL; a failed call MUST give an error object when
 *     out_error is not NULL, and no error object on SP_OK.
 *   - check() and open() MUST tolerate config keys they do not know (hosts may pass keys of a
 *     newer version) and MUST NOT echo config values in messages.
 *   - A record whose operation the instance's mode does not allow (table above sp_operation) MUST
 *     be SP_RECORD_REJECTED with SP_ERR_UNSUPPORTED; a DELETE or REMOVE of an unknown key is OK.
 *   - write_batch MUST fill exactly record_count results in input order, whatever it returns.
 *   - A mapped source column missing from the batch is an SP_ERR_CONFIG failure of write_batch,
 *     with every record SP_RECORD_RETRY (nothing was delivered; the definition must be fixed).
 *   - An instance opened with SP_OPEN_DRY_RUN sends and writes nothing anywhere.
 *   - Only one symbol is exported: SP_ENTRY_SYMBOL. The library can be unloaded (dlclose).
 *
 * Errors
 *   No exception, longjmp or signal ever crosses this boundary. Fallible functions return
 *   sp_status; on anything but SP_OK they may store a new error object in *out_error (when
 *   out_error is not NULL), which the caller owns and must release with entry->error_destroy().
 *   Error messages never contain secrets or raw personal data.
 */
#ifndef SYNCPLUGIN_H
#define SYNCPLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_ABI_MAJOR 1u
#define SP_ABI_MINOR 3u

/* Name of the one function a plugin library exports. */
#define SP_ENTRY_SYMBOL "sp_get_entry"

/* Marks the entry function for export from the plugin's shared library. Build the rest of the
 * plugin with hidden visibility (-fvisibility=hidden) so that this is its only export. */
#if defined(_WIN32)
#define SP_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define SP_EXPORT __attribute__((visibility("default")))
#else
#define SP_EXPORT
#endif

/* True when a struct filled by the other side (whose first field is struct_size) is large enough
 * to contain FIELD. Use it before reading any field that a later minor version appended. */
#define SP_HAS_FIELD(ptr, type, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* ------------------------------------------------------------------------------------------------
 * Status and errors
 * ---------------------------------------------------------------------------------------------- */

typedef enum sp_status {
    SP_OK = 0,
    SP_FAILED = 1 /* see the error object for the category and message */
} sp_status;

/* What kind of failure an error is; hosts use it to choose an exit code and whether to retry. */
typedef enum sp_error_category {
    SP_ERR_NONE = 0,
    SP_ERR_CONFIG = 1,     /* configuration or mapping is wrong; fix the sync definition */
    SP_ERR_AUTH = 2,       /* credentials missing, expired or revoked; reconnect */
    SP_ERR_PERMISSION = 3, /* credentials valid but not allowed to do this */
    SP_ERR_RATE_LIMIT = 4, /* the destination throttled us beyond the retry budget */
    SP_ERR_TRANSIENT = 5,  /* network or server trouble; the same input may succeed later */
    SP_ERR_DATA = 6,       /* the record itself is invalid; retrying it unchanged will not help */
    SP_ERR_INTERNAL = 7,   /* a bug or an unexpected condition inside the plugin */
    SP_ERR_UNSUPPORTED = 8 /* the host asked for something the plugin does not declare */
} sp_error_category;

/* Opaque error object, created by the plugin. Read it with the entry's error_* functions. */
typedef struct sp_error sp_error;

/* ------------------------------------------------------------------------------------------------
 * Values and records
 * ---------------------------------------------------------------------------------------------- */

typedef enum sp_value_type {
    SP_VALUE_NULL = 0,
    SP_VALUE_INT = 1,  /* as.i */
    SP_VALUE_REAL = 2, /* as.r */
    SP_VALUE_TEXT = 3, /* as.text, `len` bytes, meant to be UTF-8 (the plugin validates); not
                          necessarily NUL-terminated */
    SP_VALUE_BLOB = 4, /* as.blob, `len` bytes */
    SP_VALUE_BOOL = 5  /* as.i, 0 or 1 */
} sp_value_type;

/* One typed cell. Array element, so it has no struct_size: its layout is frozen for ABI major 1. */
typedef struct sp_value {
    uint32_t type; /* sp_value_type */
    uint32_t len;  /* byte length for TEXT and BLOB, else 0 */
    union {
        int64_t i;
        double r;
        const char *text;
        const void *blob;
    } as;
} sp_value;

/* What a record asks the destination to do (minor 1). Which operations an instance receives
 * follows from the mode it was opened in:
 *   SP_SYNC_INSERT   UPSERT of keys never delivered (previous hash 0)
 *   SP_SYNC_UPDATE   UPSERT of new and changed keys, applied only to records the destination
 *                    already holds: a host cannot know which those are, the plugin can. An UPSERT
 *                    of a key the destination does not hold is SP_RECORD_OK and changes nothing.
 *   SP_SYNC_UPSERT   UPSERT of new and changed keys
 *   SP_SYNC_MIRROR   UPSERT of new and changed keys, DELETE of delivered keys gone from the model
 *   SP_AUDIENCE_ADD     ADD of members who joined
 *   SP_AUDIENCE_REMOVE  REMOVE of members who left
 *   SP_AUDIENCE_MIRROR  ADD of members who joined, REMOVE of members who left
 *   SP_AUDIENCE_UPSERT  ADD of members who joined or whose row changed (previous hash tells which)
 * A record whose operation the instance's mode does not allow gets SP_RECORD_REJECTED with
 * category SP_ERR_UNSUPPORTED; the other records of the batch are written normally. A DELETE or
 * REMOVE of a key the destination does not hold is SP_RECORD_OK (deletes are idempotent). */
typedef enum sp_operation {
    SP_OP_UPSERT = 0, /* row sync: write the record (new, or changed) */
    SP_OP_DELETE = 1, /* row sync: the key left the model; delete it at the destination */
    SP_OP_ADD = 2,    /* audience: the member joined (or, in upsert mode, changed) */
    SP_OP_REMOVE = 3  /* audience: the member left */
} sp_operation;

/* A batch of records: a row-major matrix of values, with column names given once per batch.
 * Everything is borrowed for the call (see Memory). */
typedef struct sp_batch {
    uint32_t struct_size;
    uint32_t column_count;
    const char *const *column_names; /* column_count NUL-terminated names */
    uint32_t record_count;
    const sp_value *values; /* record_count * column_count cells, row-major */
    /* Stable identity of each record, which plugins use to derive deterministic idempotency ids:
     * a record sent again (after a crash, a retry) has the same key. Opaque to the plugin. The
     * reference host uses the sync's primary key as text for row syncs, and "KEY#N" for audience
     * syncs, N counting the member's memberships, so a member who returns is a new event. May be
     * NULL; an element may be NULL. */
    const char *const *record_keys;
    /* Minor 1. record_count sp_operation values; NULL (or absent, from a minor-0 host) means every
     * record is SP_OP_UPSERT in a row sync and SP_OP_ADD in an audience sync. The cells of a
     * DELETE or REMOVE record are all SP_VALUE_NULL unless the host kept the values it last
     * delivered; the record key names what to delete. */
    const uint32_t *operations;
    /* Minor 1. record_count content hashes the host recorded when it last delivered each record,
     * 0 for a record never delivered: an update-only destination tells new from changed with it.
     * The values are the host's own (compare them with 0 only). May be NULL (none known). */
    const uint64_t *previous_hashes;
} sp_batch;

/* The operation of record i: the batch's, or the minor-0 default. `audience` is non-zero for an
 * instance opened with SP_TARGET_AUDIENCE. */
static inline uint32_t sp_operation_at(const sp_batch *b, uint32_t i, int audience) {
    if (SP_HAS_FIELD(b, sp_batch, operations) && b->operations != NULL) return b->operations[i];
    return audience ? (uint32_t)SP_OP_ADD : (uint32_t)SP_OP_UPSERT;
}

typedef enum sp_record_status {
    SP_RECORD_OK = 0,       /* delivered and acknowledged by the destination */
    SP_RECORD_REJECTED = 1, /* permanently refused; `message` says why; do not resend unchanged */
    SP_RECORD_RETRY = 2     /* not delivered this time; send the same record again later */
} sp_record_status;

/* The outcome of one record. Plugin-owned; element of an array walked with sp_result_at(). */
typedef struct sp_record_result {
    uint32_t struct_size;
    uint32_t status;   /* sp_record_status */
    uint32_t category; /* sp_error_category when status != OK, else SP_ERR_NONE */
    int32_t code;      /* destination or plugin code, 0 if none */
    const char *message;  /* reason for REJECTED/RETRY, or a warning for OK; NULL if none. No PII. */
    const char *field;    /* destination field the message is about, or NULL */
    const char *event_id; /* idempotency id the record was sent with, or NULL */
} sp_record_result;

/* Filled by write_batch. The host allocates this struct and sets struct_size; the plugin fills the
 * rest. `results` points at plugin-owned memory (see Memory above). */
typedef struct sp_write_result {
    uint32_t struct_size;
    uint32_t record_count; /* always equals the batch's record_count */
    uint32_t result_stride; /* bytes between consecutive results */
    const sp_record_result *results;
    uint32_t ok_count;
    uint32_t rejected_count;
    uint32_t retry_count;
    uint32_t reserved;
    uint64_t retry_after_ms; /* when retry_count > 0: a hint for when to try again, 0 if none */
} sp_write_result;

/* Result i of a write. i must be < wr->record_count. */
static inline const sp_record_result *sp_result_at(const sp_write_result *wr, uint32_t i) {
    return (const sp_record_result *)(const void *)((const char *)wr->results +
                                                    (size_t)i * wr->result_stride);
}

/* ------------------------------------------------------------------------------------------------
 * Capabilities: a static descriptor, pure data
 * ---------------------------------------------------------------------------------------------- */

/* Sync modes, as a bit set. */
#define SP_SYNC_INSERT (1u << 0)
#define SP_SYNC_UPDATE (1u << 1)
#define SP_SYNC_UPSERT (1u << 2)
#define SP_SYNC_MIRROR (1u << 3)

/* Audience sync modes, as a bit set. */
#define SP_AUDIENCE_ADD (1u << 0)
#define SP_AUDIENCE_REMOVE (1u << 1)
#define SP_AUDIENCE_MIRROR (1u << 2)
#define SP_AUDIENCE_UPSERT (1u << 3)

/* Feature flags. A host never asks a plugin for a feature it does not declare. */
#define SP_FEATURE_FIELD_MAPPING (1u << 0)
#define SP_FEATURE_SCHEMA_INTROSPECTION (1u << 1)
/* Minor 1: the destination can validate records without keeping them (SP_OPEN_TEST_EVENTS).
 * Hosts refuse test runs of plugins without it. */
#define SP_FEATURE_TEST_EVENTS (1u << 2)
/* Minor 1: any destination field name is accepted (files, webhooks, warehouses); the declared
 * destination fields are suggestions. */
#define SP_FEATURE_OPEN_FIELDS (1u << 3)

/* Auth kinds, as a bit set. */
#define SP_AUTH_NONE 0u
#define SP_AUTH_OAUTH2 (1u << 0)       /* OAuth 2.0 authorization-code grant with refresh */
#define SP_AUTH_STATIC_TOKEN (1u << 1) /* a long-lived bearer token supplied by the user */

typedef struct sp_auth_descriptor {
    uint32_t struct_size;
    uint32_t kinds;             /* SP_AUTH_* bit set */
    const char *authorize_url;  /* OAuth 2.0 authorization endpoint, or NULL */
    const char *token_url;      /* OAuth 2.0 token endpoint, or NULL */
    uint32_t scope_count;
    const char *const *scopes;  /* required scopes */
    const char *scope_separator;   /* how the authorize URL joins scopes, e.g. "," */
    const char *client_auth;       /* token endpoint client auth: "basic" or "body" */
    const char *static_token_help; /* how a user obtains a static token, or NULL */
} sp_auth_descriptor;

typedef enum sp_config_type {
    SP_CONFIG_STRING = 1,
    SP_CONFIG_INTEGER = 2,
    SP_CONFIG_BOOLEAN = 3,
    SP_CONFIG_ENUM = 4,
    SP_CONFIG_SECRET = 5, /* a string that must never be logged or echoed */
    SP_CONFIG_PATH = 6    /* a file path; hosts resolve it relative to the sync definition */
} sp_config_type;

#define SP_CONFIG_REQUIRED (1u << 0)
#define SP_CONFIG_ADVANCED (1u << 1) /* a transport/tuning knob with a safe default */

typedef struct sp_config_field {
    uint32_t struct_size;
    uint32_t type;  /* sp_config_type */
    uint32_t flags; /* SP_CONFIG_* */
    uint32_t enum_count;
    const char *key;
    const char *label;
    const char *description;
    const char *default_value; /* textual default, or NULL when none */
    const char *pattern;       /* ECMAScript regular expression the text must match, or NULL */
    const char *const *enum_values;
    int64_t min_value; /* INTEGER bounds, inclusive; both 0 when unbounded */
    int64_t max_value;
} sp_config_field;

/* Groups of the first minor, kept for minor-0 plugins; minor-1 plugins name their own groups
 * (sp_destination_field.group_name) and may leave `group` 0. */
typedef enum sp_field_group {
    SP_GROUP_EVENT = 1,
    SP_GROUP_USER_DATA = 2,
    SP_GROUP_CUSTOM_DATA = 3,
    SP_GROUP_APP_DATA = 4,
    SP_GROUP_DEVICE_DATA = 5
} sp_field_group;

typedef enum sp_field_type {
    SP_FIELD_STRING = 1,
    SP_FIELD_INTEGER = 2,
    SP_FIELD_DECIMAL = 3,
    SP_FIELD_BOOLEAN = 4,
    SP_FIELD_TIMESTAMP = 5,
    SP_FIELD_STRING_LIST = 6,
    SP_FIELD_JSON = 7
} sp_field_type;

#define SP_FIELD_DEFAULT (1u << 0)   /* shown by default in a mapping UI */
#define SP_FIELD_HASHED (1u << 1)    /* raw value; the plugin normalizes and hashes it */
#define SP_FIELD_PREHASHED (1u << 2) /* must arrive already hashed; passed through */
#define SP_FIELD_MULTI (1u << 3)     /* accepts several values (array or delimited list) */
#define SP_FIELD_RECOMMENDED (1u << 4)
#define SP_FIELD_CLOSED_VALUES (1u << 5) /* minor 2: only the listed `values` are accepted */

/* Minor 3. Config entries whose keys begin with "sp." are hints from the host, not settings:
 * plugins ignore the ones they do not know and never report them as unknown keys.
 * SP_CONFIG_ROUTED_CHECK = "true" marks a check() of one value of a routing field (config_key):
 * the plugin then skips what holds only for the configured value (Pinterest: the conversion tag,
 * which belongs to the configured ad account). */
#define SP_CONFIG_ROUTED_CHECK "sp.routed_check"

typedef struct sp_destination_field {
    uint32_t struct_size;
    uint32_t group; /* sp_field_group */
    uint32_t type;  /* sp_field_type */
    uint32_t flags; /* SP_FIELD_* */
    const char *name;
    const char *description;
    const char *hash_algorithm; /* e.g. "sha256" for HASHED/PREHASHED fields, else NULL */
    /* Minor 1. The group hosts show the field under (e.g. "user_data"), or NULL for none. Hosts
     * fall back to the enum's name for `group` when this is absent. */
    const char *group_name;
    /* Minor 2. Values the destination knows for the field (standard event names, the members of
     * an enumeration), spelled as it sends them; 0 and NULL when it lists none. Other values are
     * accepted too, unless flags has SP_FIELD_CLOSED_VALUES. */
    uint32_t value_count;
    uint32_t reserved;
    const char *const *values;
    /* Minor 3. The key of a config field (sp_config_field.key) whose value this field replaces,
     * row by row: a row with a value goes where that value points (an ad account of its own), a
     * row without one uses the config. NULL for ordinary fields. The plugin keeps each value's
     * failures to that value's rows. A host may check every distinct value of the mapped column
     * by passing it to check() under `config_key`, with the entry SP_CONFIG_ROUTED_CHECK = "true"
     * beside it, and may break its results down by it. Host and plugin read a cell alike: an
     * integer in decimal; text without the ASCII white space and U+00A0 at either end and a
     * byte-order mark at the start; NULL or blank text is no value (the config's). A real, a
     * boolean or bytes is never a value: the plugin rejects the row. A plugin may still treat
     * two spellings as one (Pinterest: leading zeros); hosts show values as the model spells them. */
    const char *config_key;
} sp_destination_field;

/* A required-field rule: at least one of `any_of` must be mapped. All rules must hold. */
typedef struct sp_required_rule {
    uint32_t struct_size;
    uint32_t field_count;
    const char *const *any_of;
    const char *description;
} sp_required_rule;

typedef struct sp_descriptor {
    uint32_t struct_size;
    uint32_t sync_modes;     /* SP_SYNC_* */
    uint32_t audience_modes; /* SP_AUDIENCE_* */
    uint32_t features;       /* SP_FEATURE_* */
    const char *id;          /* stable machine id, e.g. "pinterest_conversions": [a-z0-9_]+ */
    const char *name;        /* human name */
    const char *version;     /* plugin version, semver */
    const char *description;
    const sp_auth_descriptor *auth; /* NULL: the destination needs no credentials */
    uint32_t config_field_count;
    uint32_t destination_field_count;
    const sp_config_field *const *config_fields;
    const sp_destination_field *const *destination_fields;
    uint32_t required_rule_count;
    /* The most records one destination request carries; the plugin splits larger batches itself.
     * 0: no limit. Informational: a host may send batches of any size. */
    uint32_t max_batch_records;
    const sp_required_rule *const *required_rules;
    uint32_t recommended_batch_records; /* records per write_batch the host should aim for; 0: any */
    uint32_t reserved;
    uint64_t max_batch_bytes; /* request byte cap the plugin enforces, 0 if none */
    /* The manifest this descriptor was built from (UTF-8 JSON), or NULL: hosts and the harness
     * derive it from the descriptor. A manifest file beside the library lets hosts list plugins
     * without loading them. */
    const char *manifest_json;
} sp_descriptor;

/* ------------------------------------------------------------------------------------------------
 * Host services: a vtable the host passes to check() and open(). Every slot may be NULL.
 * ---------------------------------------------------------------------------------------------- */

typedef enum sp_log_level {
    SP_LOG_DEBUG = 0,
    SP_LOG_INFO = 1,
    SP_LOG_WARN = 2,
    SP_LOG_ERROR = 3
} sp_log_level;

typedef enum sp_credential_status {
    SP_CRED_OK = 0,
    SP_CRED_NONE = 1,            /* no credential configured for this sync */
    SP_CRED_REAUTH_REQUIRED = 2, /* refresh was refused (e.g. invalid_grant); user must reconnect */
    SP_CRED_TRANSIENT = 3,       /* the token service could not be reached; retry later */
    SP_CRED_BUFFER_TOO_SMALL = 4 /* *out_len holds the size needed, including the NUL */
} sp_credential_status;

#define SP_CRED_FORCE_REFRESH (1u << 0)

typedef struct sp_host {
    uint32_t struct_size;
    void *ctx; /* passed back as the first argument of every slot */

    /* [plugin-thread] A log line. `message` is borrowed for the call; never contains secrets. */
    void (*log)(void *ctx, sp_log_level level, const char *message);

    /* [plugin-thread] Wall clock, milliseconds since the Unix epoch. Plugins use it for
     * time-window rules so hosts and tests can control "now". */
    int64_t (*now_unix_ms)(void *ctx);

    /* [plugin-thread] Non-zero once the user asked the run to stop (Ctrl-C, a deadline). Plugins
     * poll it while waiting (backoff, rate pacing) and return RETRY results for unsent records. */
    int (*is_cancelled)(void *ctx);

    /* [plugin-thread] The current access token, written NUL-terminated into out[0..out_cap).
     * With SP_CRED_FORCE_REFRESH the host refreshes first, unless `rejected_token` (the token the
     * destination just refused, may be NULL) is no longer the current one, in which case it just
     * returns the current token: concurrent 401s cause one refresh. The host writes a short
     * human message (no secrets) into message[0..message_cap) when the status is not OK. */
    sp_credential_status (*get_access_token)(void *ctx, uint32_t flags, const char *rejected_token,
                                             char *out, uint32_t out_cap, uint32_t *out_len,
                                             char *message, uint32_t message_cap);

    /* [plugin-thread] Add `value` to the counter or gauge `name` (e.g. "http.requests"). A name
     * ending in ".le_B", B a number or "inf", is a cumulative histogram bucket (the Prometheus
     * convention): hosts may show NAME's buckets together. */
    void (*metric_add)(void *ctx, const char *name, double value);

    /* [plugin-thread] Host extension by id, or NULL. */
    const void *(*get_extension)(void *ctx, const char *id);
} sp_host;

/* ------------------------------------------------------------------------------------------------
 * Configuration and opening
 * ---------------------------------------------------------------------------------------------- */

typedef struct sp_config_entry {
    uint32_t struct_size;
    const char *key;
    const char *value; /* textual value; booleans "true"/"false"; paths already resolved */
} sp_config_entry;

typedef struct sp_config {
    uint32_t struct_size;
    uint32_t entry_count;
    const sp_config_entry *const *entries;
} sp_config;

/* One mapping: a destination field fed from a source column or a constant. */
typedef struct sp_mapping_entry {
    uint32_t struct_size;
    const char *destination_field;
    const char *source_column; /* column name, or NULL when `constant` is used */
    const sp_value *constant;  /* constant value, or NULL when `source_column` is used */
} sp_mapping_entry;

typedef struct sp_mapping {
    uint32_t struct_size;
    uint32_t entry_count;
    const sp_mapping_entry *const *entries;
} sp_mapping;

typedef enum sp_target_kind {
    SP_TARGET_SYNC = 1,    /* a row sync in `sync_mode` */
    SP_TARGET_AUDIENCE = 2 /* an audience sync in `audience_mode` */
} sp_target_kind;

typedef struct sp_open_params {
    uint32_t struct_size;
    uint32_t target_kind;   /* sp_target_kind */
    uint32_t sync_mode;     /* exactly one SP_SYNC_* bit, for SP_TARGET_SYNC */
    uint32_t audience_mode; /* exactly one SP_AUDIENCE_* bit, for SP_TARGET_AUDIENCE */
    const sp_config *config;
    const sp_mapping *mapping;
    const char *sync_id; /* stable identity of the sync (e.g. its name); seeds idempotency ids */
    uint32_t flags;      /* SP_OPEN_* */
    uint32_t reserved;
} sp_open_params;

#define SP_OPEN_DRY_RUN (1u << 0)     /* prepare requests but send nothing (see sp.dry_run/1) */
/* Ask the destination to validate without recording; only for plugins declaring
 * SP_FEATURE_TEST_EVENTS. Hosts record nothing of such a run as delivered. */
#define SP_OPEN_TEST_EVENTS (1u << 1)

/* Opaque plugin instance: one configured destination connection. */
typedef struct sp_instance sp_instance;

/* ------------------------------------------------------------------------------------------------
 * The entry table
 * ---------------------------------------------------------------------------------------------- */

typedef struct sp_entry {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t reserved;
    const char *plugin_id;

    /* [any-thread] The capability descriptor. Fast, no I/O, same pointer on every call; valid until
     * unload. Never NULL for a working plugin. */
    const sp_descriptor *(*describe)(void);

    /* [any-thread] Plugin extension by versioned id ("sp.dry_run/1"), or NULL. Unknown ids, and
     * ids with trailing characters, give NULL. */
    const void *(*get_extension)(const char *id);

    /* [any-thread] Validate `config` against the descriptor and, where it can, against the
     * destination (read-only calls). Sends no data and changes nothing anywhere. `host` may be
     * NULL (then only offline checks run). */
    sp_status (*check)(const sp_config *config, const sp_host *host, sp_error **out_error);

    /* [any-thread] Create an instance. Refuses (SP_ERR_UNSUPPORTED) a mode the descriptor does not
     * declare, and (SP_ERR_CONFIG) a bad config or mapping. `params` is borrowed for the call;
     * `host` must stay valid until destroy(). On success *out_instance is set. */
    sp_status (*open)(const sp_open_params *params, const sp_host *host,
                      sp_instance **out_instance, sp_error **out_error);

    /* [instance-thread] Deliver a batch. Always fills `out` with exactly batch->record_count
     * results, in input order, whatever the return value. Returns SP_FAILED (with an error) when
     * the run should stop (auth, permission, config): records not delivered are then RETRY.
     * May block for up to the plugin's retry budget; honours host->is_cancelled. */
    sp_status (*write_batch)(sp_instance *instance, const sp_batch *batch, sp_write_result *out,
                             sp_error **out_error);

    /* [instance-thread] Durability barrier: returns once everything accepted so far is delivered
     * or reported. Hosts checkpoint only after it returns SP_OK. */
    sp_status (*flush)(sp_instance *instance, sp_error **out_error);

    /* [instance-thread] Stop the instance: join plugin threads, release connections, cleanse
     * secrets. Idempotent. After close, write_batch and flush fail with SP_ERR_INTERNAL. */
    void (*close)(sp_instance *instance);

    /* [instance-thread] Free the instance (closing it first if needed). `instance` is invalid
     * afterwards. NULL is ignored. */
    void (*destroy)(sp_instance *instance);

    /* [any-thread] Error accessors. `error` must be non-NULL and not yet destroyed. The message is
     * owned by the error object. */
    sp_error_category (*error_category)(const sp_error *error);
    int32_t (*error_code)(const sp_error *error);
    const char *(*error_message)(const sp_error *error);
    /* [any-thread] Release an error. NULL is ignored. */
    void (*error_destroy)(sp_error *error);
} sp_entry;

/* The one exported function. Returns the plugin's entry table when `host_abi_major` equals the
 * plugin's SP_ABI_MAJOR, else NULL. [any-thread], idempotent, no I/O. The table is static. */
typedef const sp_entry *(*sp_get_entry_fn)(uint32_t host_abi_major);

/* A plugin defines it (and nothing else exported): SP_EXPORT const sp_entry *sp_get_entry(...). */
SP_EXPORT const sp_entry *sp_get_entry(uint32_t host_abi_major);

/* For hosts: the entry function from the address dlsym(handle, SP_ENTRY_SYMBOL) returned. ISO C
 * has no cast from an object pointer to a function pointer; POSIX guarantees the two have the
 * same representation, which this reads through a union (accepted by -pedantic). */
static inline sp_get_entry_fn sp_entry_function(void *symbol) {
    union {
        void *object;
        sp_get_entry_fn function;
    } u;
    u.object = symbol;
    return u.function;
}

/* ------------------------------------------------------------------------------------------------
 * Extensions
 * ---------------------------------------------------------------------------------------------- */

/* "sp.dry_run/1": lets a host see what would be sent. After write_batch (or collect) on an
 * instance opened with SP_OPEN_DRY_RUN, requests(instance, &count) returns `count` request bodies
 * of that batch (plugin-owned, valid like write results) that would have been sent; each is
 * NUL-terminated UTF-8. */
#define SP_EXT_DRY_RUN "sp.dry_run/1"
typedef struct sp_ext_dry_run {
    uint32_t struct_size;
    const char *const *(*requests)(sp_instance *instance, uint32_t *out_count);
} sp_ext_dry_run;

/* "sp.pipelined_write/1": keeps the destination busy while the host reads and prepares the next
 * rows. submit() takes a batch (borrowed for the call only: the plugin copies what it needs) and
 * returns as soon as delivery has started in the background; a batch refused by submit (SP_FAILED)
 * was not taken, and none of its records were delivered. collect() waits for the oldest submitted
 * batch not yet collected and fills `out` exactly as write_batch would (one result per record, in
 * order; results valid until the next call on the instance). Batches are collected in submission
 * order. Collected results are durable: a host may checkpoint them without calling flush (which
 * would have to wait for every submitted batch). At most `max_pending` batches may be submitted and
 * not collected; submit fails (SP_ERR_INTERNAL) beyond that, and after a collect reported
 * SP_FAILED. write_batch is submit followed by collect. [instance-thread] like write_batch. */
#define SP_EXT_PIPELINED_WRITE "sp.pipelined_write/1"
typedef struct sp_ext_pipelined_write {
    uint32_t struct_size;
    uint32_t max_pending;
    sp_status (*submit)(sp_instance *instance, const sp_batch *batch, sp_error **out_error);
    sp_status (*collect)(sp_instance *instance, sp_write_result *out, sp_error **out_error);
} sp_ext_pipelined_write;

/* "sp.quality/1": how likely what an instance sent is to be matched by the destination, and how
 * fresh it was. Counted while events are built, so it costs no second pass.
 *
 * A "component" is a match key the destination scores (e.g. "hashed_email"); a "group" is a kind
 * of event (e.g. "checkout"). coverage[g * component_count + c] counts the events of group g that
 * carried component c; group_events[g] counts the events of group g. Only events that reached
 * the destination count (delivered, or refused by it): not those the plugin rejected itself, nor
 * those waiting for a retry. Ages are measured when each event is encoded for its
 * request (at most a few batches before it is sent): now_unix_ms minus the event's own time,
 * never negative. Percentiles are within 2 % of the exact value; the maximum is exact. */
typedef struct sp_quality_report {
    uint32_t struct_size; /* the host sets it; the plugin fills the fields within it */
    uint32_t component_count;
    const char *const *components; /* component_count names */
    uint32_t group_count;
    uint32_t reserved;
    const char *const *groups;  /* group_count names */
    const uint64_t *group_events; /* group_count counts */
    const uint64_t *coverage;     /* group_count * component_count counts, row-major by group */
    uint64_t aged_events;         /* events whose age was measured */
    uint64_t age_p50_ms, age_p95_ms, age_max_ms; /* 0 when aged_events is 0 */
    /* The destination treats events older than late_after_ms differently (0: it does not);
     * late_events were that old when sent; late_meaning says what happens to them, in words a
     * user understands ("counted as offline conversions"), or NULL. */
    uint64_t late_after_ms;
    uint64_t late_events;
    const char *late_meaning;
    /* A histogram of the ages, for charts: age_bucket_events[i] events were older than bucket
     * i-1's bound and at most age_bucket_le_ms[i] old; the last bound is UINT64_MAX. */
    uint32_t age_bucket_count;
    uint32_t reserved2;
    const uint64_t *age_bucket_le_ms;
    const uint64_t *age_bucket_events;
} sp_quality_report;

typedef struct sp_ext_quality {
    uint32_t struct_size;
    /* [instance-thread] What the instance has sent since open(), collected batches only. `out` is
     * host-allocated with struct_size set; the arrays are plugin-owned and valid until the next
     * call on the instance. No I/O. */
    sp_status (*report)(sp_instance *instance, sp_quality_report *out, sp_error **out_error);
    /* [instance-thread] The destination's own score of what it received, fetched now (I/O, may
     * take the plugin's request timeout), as UTF-8 JSON valid like report's arrays:
     *   {"source": "who scored", "windows": [{"label": "1d", "status": "GOOD",
     *     "components": [{"name": "hashed_email", "groups": [{"name": "checkout",
     *       "coverage_percent": 92.5, "overlap_percent": null,
     *       "issues": [{"name": "…", "reason": "…"}]}]}]}]}
     * Component and group names are report()'s, so a host can show both side by side. Fails with
     * SP_ERR_PERMISSION when the credentials may not read it (the message says what would), and
     * SP_ERR_UNSUPPORTED in a dry run. May be NULL: the plugin reports local figures only. */
    sp_status (*destination_report)(sp_instance *instance, const char **out_json, sp_error **out_error);
} sp_ext_quality;
#define SP_EXT_QUALITY "sp.quality/1"

#ifdef __cplusplus
}
#endif

#endif /* SYNCPLUGIN_H */
