/* wf_meta.c — the weight file's metadata section: UTF-8 "key=value\n" lines, parsed once at
 * open into a small key/value table (weights/FORMAT.md "Metadata"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weightfile.h"

typedef unsigned long long ull;

static int key_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid (overlong forms,
 * surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned cp, min;
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

sculpt_status wf_parse_metadata(sculpt_model *m, const wf_err *e) {
    const unsigned char *p = m->base + m->meta_offset;
    const size_t n = (size_t)m->meta_size; /* <= WF_MAX_META_SIZE, inside the file */
    if (n == 0) return SCULPT_OK;
    if (p[n - 1] != '\n')
        return wf_fail(e, SCULPT_E_FORMAT, "metadata: the last line (ending at offset %llu) has no '\\n'",
                       (ull)(m->meta_offset + n));
    /* Pass 1: validate and count lines. */
    int lines = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i, eq = SIZE_MAX;
        while (p[i] != '\n') {
            unsigned char c = p[i];
            if (c == '=' && eq == SIZE_MAX) {
                eq = i;
                i++;
                continue;
            }
            if (eq == SIZE_MAX) {
                if (!key_char(c))
                    return wf_fail(e, SCULPT_E_FORMAT,
                                   "metadata line %d: byte 0x%02x at offset %llu is not allowed in a key "
                                   "(A-Z a-z 0-9 _ . -)", lines + 1, c, (ull)(m->meta_offset + i));
                i++;
                continue;
            }
            if (c < 0x20 || c == 0x7f) {
                if (c != '\t')
                    return wf_fail(e, SCULPT_E_FORMAT, "metadata line %d: control byte 0x%02x at offset %llu%s",
                                   lines + 1, c, (ull)(m->meta_offset + i), c == 0 ? " (NUL)" : "");
                i++;
                continue;
            }
            size_t l = utf8_len(p + i, n - i);
            if (!l)
                return wf_fail(e, SCULPT_E_FORMAT, "metadata line %d: invalid UTF-8 at offset %llu", lines + 1,
                               (ull)(m->meta_offset + i));
            i += l;
        }
        if (eq == SIZE_MAX)
            return wf_fail(e, SCULPT_E_FORMAT, "metadata line %d (offset %llu): no '=' in the line", lines + 1,
                           (ull)(m->meta_offset + start));
        if (eq == start)
            return wf_fail(e, SCULPT_E_FORMAT, "metadata line %d (offset %llu): empty key", lines + 1,
                           (ull)(m->meta_offset + start));
        if (eq - start > WF_MAX_META_KEY)
            return wf_fail(e, SCULPT_E_FORMAT, "metadata line %d: key of %zu bytes exceeds %d", lines + 1,
                           eq - start, WF_MAX_META_KEY);
        if (i - eq - 1 > WF_MAX_META_VALUE)
            return wf_fail(e, SCULPT_E_FORMAT, "metadata line %d: value of %zu bytes exceeds %d", lines + 1,
                           i - eq - 1, WF_MAX_META_VALUE);
        if (++lines > WF_MAX_META_ENTRIES)
            return wf_fail(e, SCULPT_E_FORMAT, "metadata: more than %d lines", WF_MAX_META_ENTRIES);
        i++; /* the '\n' */
    }
    /* Pass 2: copy, split at the first '=' and at '\n'. */
    m->meta_buf = malloc(n);
    m->meta_key = malloc((size_t)lines * sizeof *m->meta_key);
    m->meta_val = malloc((size_t)lines * sizeof *m->meta_val);
    if (!m->meta_buf || !m->meta_key || !m->meta_val)
        return wf_fail(e, SCULPT_E_NOMEM, "metadata: out of memory for %zu bytes", n);
    memcpy(m->meta_buf, p, n);
    char *q = m->meta_buf;
    for (int k = 0; k < lines; k++) {
        char *nl = memchr(q, '\n', n - (size_t)(q - m->meta_buf));
        char *eq = memchr(q, '=', (size_t)(nl - q));
        *nl = 0;
        *eq = 0;
        for (int j = 0; j < k; j++)
            if (strcmp(m->meta_key[j], q) == 0)
                return wf_fail(e, SCULPT_E_FORMAT, "metadata: key '%s' appears twice (lines %d and %d)", q, j + 1,
                               k + 1);
        m->meta_key[k] = q;
        m->meta_val[k] = eq + 1;
        m->n_meta = k + 1;
        q = nl + 1;
    }
    return SCULPT_OK;
}
