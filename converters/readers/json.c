/* json.c — strict RFC 8259 JSON reader: bounded depth, validated UTF-8, \u escapes with
 * surrogate pairs, no embedded NUL, no duplicate keys, no trailing garbage. */
#include "json.h"
#include "ck_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    int max_depth;
    char *err;
    size_t errlen;
    int failed;
    size_t mem, mem_limit; /* bytes of parsed values (strings, element arrays) and their bound */
} parser;

/* Count n more bytes of parsed values against the bound: a document of tiny values (`[0,0,...`)
 * would otherwise take ~64 bytes of json_value per 2 bytes of text. Ordinary files need about
 * 8 bytes per byte of text; the bound is 16 per byte plus 1 MiB. */
static int charge(parser *p, size_t n);

static void fail(parser *p, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = 1;
    if (!p->err || !p->errlen) return;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n') { line++; col = 1; } else col++;
    }
    int n = snprintf(p->err, p->errlen, "line %zu, column %zu: ", line, col);
    if (n < 0 || (size_t)n >= p->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static int charge(parser *p, size_t n) {
    if (n > p->mem_limit - p->mem) {
        fail(p, "the parsed values would take more than %zu bytes for a %zu-byte document (too many tiny "
             "values)", p->mem_limit, p->len);
        return -1;
    }
    p->mem += n;
    return 0;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') p->pos++;
        else break;
    }
}

static void free_contents(json_value *v) {
    if (!v) return;
    free(v->string);
    if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->len; i++) {
            if (v->items) free_contents(&v->items[i]);
            if (v->keys) free(v->keys[i]);
        }
    }
    free(v->items);
    free(v->keys);
}

void json_free(json_value *v) {
    if (!v) return;
    free_contents(v);
    free(v);
}

static int hex4(parser *p, unsigned *out) {
    if (p->len - p->pos < 4) { fail(p, "truncated \\u escape"); return -1; }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p->s[p->pos + i];
        unsigned d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else { fail(p, "bad hex digit in \\u escape"); return -1; }
        v = v * 16 + d;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

/* Length of a valid UTF-8 sequence at s[0..n), or 0 if invalid (overlong, surrogate, >U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { k = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; cp = c & 0x07; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (k == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return k;
}

/* p->pos is at the opening quote. The decoded string is never longer than its source. */
static char *parse_string(parser *p, size_t *out_len) {
    p->pos++; /* '"' */
    size_t start = p->pos, end = start;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\') end++;
        end++;
    }
    if (end >= p->len) { fail(p, "unterminated string"); return NULL; }
    if (charge(p, end - start + 1)) return NULL;
    char *o = malloc(end - start + 1);
    if (!o) { fail(p, "out of memory"); return NULL; }
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        if (c < 0x20) { fail(p, "control character 0x%02x in string", c); goto bad; }
        if (c == '\\') {
            p->pos++;
            unsigned char e = p->s[p->pos++];
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                unsigned cp;
                if (hex4(p, &cp)) goto bad;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (p->pos + 2 > end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                        fail(p, "unpaired high surrogate \\u%04X", cp);
                        goto bad;
                    }
                    p->pos += 2;
                    if (hex4(p, &lo)) goto bad;
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        fail(p, "high surrogate \\u%04X not followed by a low one", cp);
                        goto bad;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(p, "unpaired low surrogate \\u%04X", cp);
                    goto bad;
                }
                if (cp == 0) { fail(p, "embedded NUL (\\u0000) in string"); goto bad; }
                n += (size_t)ck__utf8_put((unsigned char *)o + n, cp); /* <= 6 source bytes -> <= 4 output bytes */
                break;
            }
            default: p->pos--; fail(p, "bad escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?'); goto bad;
            }
            if (p->pos > end) { fail(p, "truncated escape"); goto bad; }
        } else {
            size_t k = utf8_len(p->s + p->pos, end - p->pos);
            if (!k) { fail(p, "invalid UTF-8 in string"); goto bad; }
            memcpy(o + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
        }
    }
    p->pos = end + 1;
    o[n] = 0;
    *out_len = n;
    return o;
bad:
    free(o);
    return NULL;
}

static int parse_number(parser *p, json_value *v) {
    size_t st = p->pos, i = p->pos;
    int neg = 0, frac = 0;
    if (i < p->len && p->s[i] == '-') { neg = 1; i++; }
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') { p->pos = i; fail(p, "bad number"); return -1; }
    size_t int_start = i;
    if (p->s[i] == '0') i++;
    else while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    size_t int_end = i;
    if (i < p->len && p->s[i] == '.') {
        frac = 1;
        i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') { p->pos = i; fail(p, "digit expected after '.'"); return -1; }
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        frac = 1;
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9') { p->pos = i; fail(p, "digit expected in exponent"); return -1; }
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    size_t n = i - st;
    char small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) { fail(p, "out of memory"); return -1; }
    memcpy(buf, p->s + st, n);
    buf[n] = 0;
    errno = 0;
    v->number = strtod(buf, NULL);
    if (buf != small) free(buf);
    v->type = JSON_NUMBER;
    v->is_integer = 0;
    if (!frac) {
        /* Accumulate as a negative value so INT64_MIN fits. */
        int64_t acc = 0;
        int ok = 1;
        for (size_t k = int_start; k < int_end; k++) {
            int d = p->s[k] - '0';
            if (acc < (INT64_MIN + d) / 10) { ok = 0; break; }
            acc = acc * 10 - d;
        }
        if (ok && !neg && acc == INT64_MIN) ok = 0;
        if (ok) {
            v->is_integer = 1;
            v->integer = neg ? acc : -acc;
        }
    }
    p->pos = i;
    return 0;
}

static int match_lit(parser *p, const char *lit) {
    size_t n = strlen(lit);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0) {
        fail(p, "unexpected character");
        return -1;
    }
    p->pos += n;
    return 0;
}

static int cmp_keyp(const void *a, const void *b) {
    return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

static int check_dup_keys(parser *p, json_value *v) {
    if (v->len < 2) return 0;
    char ***order = malloc(v->len * sizeof *order);
    if (!order) { fail(p, "out of memory"); return -1; }
    for (size_t i = 0; i < v->len; i++) order[i] = &v->keys[i];
    qsort(order, v->len, sizeof *order, cmp_keyp);
    int rc = 0;
    for (size_t i = 1; i < v->len; i++) {
        if (strcmp(*order[i - 1], *order[i]) == 0) {
            fail(p, "duplicate key \"%.64s\"", *order[i]);
            rc = -1;
            break;
        }
    }
    free(order);
    return rc;
}

static int parse_value(parser *p, json_value *v, int depth);

/* Arrays and objects: elements collected in a growing buffer. */
static int parse_container(parser *p, json_value *v, int depth, int is_obj) {
    if (depth >= p->max_depth) { fail(p, "nesting deeper than %d", p->max_depth); return -1; }
    v->type = is_obj ? JSON_OBJECT : JSON_ARRAY;
    p->pos++;
    size_t cap = 0;
    skip_ws(p);
    char close = is_obj ? '}' : ']';
    if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) { p->pos++; return 0; }
    for (;;) {
        if (v->len == cap) {
            size_t nc = cap ? cap * 2 : 4;
            if (charge(p, (nc - cap) * (sizeof(json_value) + (is_obj ? sizeof(char *) : 0)))) return -1;
            json_value *ni = realloc(v->items, nc * sizeof *ni);
            if (!ni) { fail(p, "out of memory"); return -1; }
            v->items = ni;
            if (is_obj) {
                char **nk = realloc(v->keys, nc * sizeof *nk);
                if (!nk) { fail(p, "out of memory"); return -1; }
                v->keys = nk;
            }
            cap = nc;
        }
        json_value *it = &v->items[v->len];
        memset(it, 0, sizeof *it);
        if (is_obj) v->keys[v->len] = NULL;
        v->len++; /* counted now so that cleanup frees a partial element */
        skip_ws(p);
        if (is_obj) {
            if (p->pos >= p->len || p->s[p->pos] != '"') { fail(p, "expected a string key"); return -1; }
            size_t kl;
            v->keys[v->len - 1] = parse_string(p, &kl);
            if (!v->keys[v->len - 1]) return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') { fail(p, "expected ':'"); return -1; }
            p->pos++;
            skip_ws(p);
        }
        if (parse_value(p, it, depth + 1)) return -1;
        skip_ws(p);
        if (p->pos >= p->len) { fail(p, "unexpected end of input, expected ',' or '%c'", close); return -1; }
        unsigned char c = p->s[p->pos];
        if (c == ',') { p->pos++; continue; }
        if (c == (unsigned char)close) { p->pos++; break; }
        fail(p, "expected ',' or '%c'", close);
        return -1;
    }
    if (is_obj) return check_dup_keys(p, v);
    return 0;
}

static int parse_value(parser *p, json_value *v, int depth) {
    skip_ws(p);
    if (p->pos >= p->len) { fail(p, "unexpected end of input"); return -1; }
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"':
        v->type = JSON_STRING;
        v->string = parse_string(p, &v->len);
        return v->string ? 0 : -1;
    case 't': v->type = JSON_BOOL; v->boolean = 1; return match_lit(p, "true");
    case 'f': v->type = JSON_BOOL; v->boolean = 0; return match_lit(p, "false");
    case 'n': v->type = JSON_NULL; return match_lit(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
        fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
        return -1;
    }
}

json_value *json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen) {
    parser p = {(const unsigned char *)text, len, 0, max_depth, err, errlen, 0, 0, 0};
    p.mem_limit = len > (SIZE_MAX - ((size_t)1 << 20)) / 16 ? SIZE_MAX : len * 16 + ((size_t)1 << 20);
    if (p.max_depth < 1) p.max_depth = 1;
    if (p.max_depth > 1000) p.max_depth = 1000;
    if (err && errlen) err[0] = 0;
    if (!text && len) { fail(&p, "no input"); return NULL; }
    json_value *v = calloc(1, sizeof *v);
    if (!v) { fail(&p, "out of memory"); return NULL; }
    if (parse_value(&p, v, 0) == 0) {
        skip_ws(&p);
        if (p.pos != p.len) fail(&p, "trailing characters after the JSON value");
    }
    if (p.failed) { json_free(v); return NULL; }
    return v;
}

const json_value *json_get(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0) return &obj->items[i];
    return NULL;
}
