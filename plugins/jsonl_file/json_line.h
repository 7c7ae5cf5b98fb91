/* json_line.h: a growable text buffer and the JSON pieces jsonl_file writes (strings, values). */
#ifndef JSONL_FILE_JSON_LINE_H
#define JSONL_FILE_JSON_LINE_H

#include <syncplugin/syncplugin.h>

#include <stddef.h>

/* A growable byte buffer. Zero-initialise it; free it with jl_buffer_free. Appends never fail
 * visibly: running out of memory sets `oom`, which the caller checks once per line. */
typedef struct jl_buffer {
    char *data;
    size_t len, capacity;
    int oom;
} jl_buffer;

void jl_buffer_free(jl_buffer *b);
void jl_append(jl_buffer *b, const char *bytes, size_t len);
void jl_append_text(jl_buffer *b, const char *nul_terminated);

/* Appends `bytes` as a JSON string: quoted, with " and \ escaped and control characters as
 * \u00XX. The bytes must be valid UTF-8 (see spu_utf8_valid); they are copied as they are. */
void jl_append_string(jl_buffer *b, const char *bytes, size_t len);

/* What jl_append_value made of a cell. */
typedef enum jl_value_status {
    JL_VALUE_OK = 0,
    JL_VALUE_BAD_UTF8 = 1, /* TEXT that is not UTF-8: nothing was appended */
    JL_VALUE_BAD_TYPE = 2  /* an unknown sp_value_type, or TEXT/BLOB bytes missing: nothing appended */
} jl_value_status;

/* Appends one cell as a JSON value: INT and REAL as numbers (REAL in the fewest digits that read
 * back to the same double; NaN and infinities as null), TEXT as a string, BOOL as true/false, NULL
 * as null, BLOB as a string of lowercase hex digits. */
jl_value_status jl_append_value(jl_buffer *b, const sp_value *v);

#endif /* JSONL_FILE_JSON_LINE_H */
