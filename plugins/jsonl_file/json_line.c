/* json_line.c: JSON text for jsonl_file (see json_line.h). */
#include "json_line.h"

#include <syncplugin/syncplugin_util.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jl_buffer_free(jl_buffer *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->capacity = 0;
    b->oom = 0;
}

void jl_append(jl_buffer *b, const char *bytes, size_t len) {
    if (b->oom) return;
    if (b->capacity - b->len < len + 1) { /* always room for a closing NUL */
        size_t capacity = b->capacity ? b->capacity : 256;
        while (capacity - b->len < len + 1) capacity *= 2;
        char *grown = realloc(b->data, capacity);
        if (grown == NULL) {
            b->oom = 1;
            return;
        }
        b->data = grown;
        b->capacity = capacity;
    }
    if (len > 0) memcpy(b->data + b->len, bytes, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void jl_append_text(jl_buffer *b, const char *nul_terminated) { jl_append(b, nul_terminated, strlen(nul_terminated)); }

void jl_append_string(jl_buffer *b, const char *bytes, size_t len) {
    static const char hex[] = "0123456789abcdef";
    size_t plain = 0; /* start of the run of bytes that need no escaping */
    jl_append(b, "\"", 1);
    for (size_t i = 0; i < len; ++i) {
        const unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        jl_append(b, bytes + plain, i - plain);
        plain = i + 1;
        if (c == '"' || c == '\\') {
            const char escaped[2] = {'\\', (char)c};
            jl_append(b, escaped, 2);
        } else {
            const char escaped[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            jl_append(b, escaped, 6);
        }
    }
    jl_append(b, bytes + plain, len - plain);
    jl_append(b, "\"", 1);
}

/* A finite double in the fewest significant digits (15 to 17) that read back to the same value.
 * printf follows the C locale's decimal point, which a host may have changed: anything that is
 * not part of a JSON number becomes '.'. */
static void append_real(jl_buffer *b, double r) {
    char text[40];
    for (int digits = 15; digits <= 17; ++digits) {
        snprintf(text, sizeof text, "%.*g", digits, r);
        for (char *p = text; *p != '\0'; ++p)
            if (!strchr("0123456789-+eE", *p)) *p = '.';
        if (strtod(text, NULL) == r) break; /* under a ',' locale this never holds: 17 digits */
    }
    jl_append_text(b, text);
}

jl_value_status jl_append_value(jl_buffer *b, const sp_value *v) {
    char text[32];
    switch (v->type) {
    case SP_VALUE_NULL:
        jl_append_text(b, "null");
        return JL_VALUE_OK;
    case SP_VALUE_INT:
        snprintf(text, sizeof text, "%" PRId64, v->as.i);
        jl_append_text(b, text);
        return JL_VALUE_OK;
    case SP_VALUE_REAL:
        if (isfinite(v->as.r)) append_real(b, v->as.r);
        else jl_append_text(b, "null");
        return JL_VALUE_OK;
    case SP_VALUE_BOOL:
        jl_append_text(b, v->as.i ? "true" : "false");
        return JL_VALUE_OK;
    case SP_VALUE_TEXT:
        if (v->len > 0 && v->as.text == NULL) return JL_VALUE_BAD_TYPE;
        if (!spu_utf8_valid(v->as.text, v->len)) return JL_VALUE_BAD_UTF8;
        jl_append_string(b, v->as.text, v->len);
        return JL_VALUE_OK;
    case SP_VALUE_BLOB: {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *bytes = v->as.blob;
        if (v->len > 0 && bytes == NULL) return JL_VALUE_BAD_TYPE;
        jl_append(b, "\"", 1);
        for (uint32_t i = 0; i < v->len; ++i) {
            const char pair[2] = {hex[bytes[i] >> 4], hex[bytes[i] & 15]};
            jl_append(b, pair, 2);
        }
        jl_append(b, "\"", 1);
        return JL_VALUE_OK;
    }
    default:
        return JL_VALUE_BAD_TYPE;
    }
}
