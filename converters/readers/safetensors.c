/* safetensors.c — the safetensors reader: u64 header length, JSON header, every dtype,
 * __metadata__, and the validation of huggingface/safetensors src/tensor.rs (validate). */
#include "ck_internal.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER 100000000u /* the reference's MAX_HEADER_SIZE */

static const struct { const char *name; ck_dtype dt; } st_dtypes[] = {
    {"F64", CK_F64}, {"F32", CK_F32}, {"F16", CK_F16}, {"BF16", CK_BF16},
    {"I64", CK_I64}, {"I32", CK_I32}, {"I16", CK_I16}, {"I8", CK_I8},
    {"U8", CK_U8}, {"BOOL", CK_BOOL}, {"F8_E4M3", CK_F8E4M3}, {"F8_E5M2", CK_F8E5M2},
    {"U16", CK_U16}, {"U32", CK_U32}, {"U64", CK_U64}, {"C64", CK_C64},
};

typedef struct st_entry {
    const char *name;
    ck_dtype dt;
    int ndim;
    int64_t shape[CK_MAX_DIMS];
    uint64_t begin, end;
} st_entry;

static int cmp_entry(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int get_u64(const json_value *v, uint64_t *out) {
    if (!v || v->type != JSON_NUMBER || !v->is_integer || v->integer < 0) return -1;
    *out = (uint64_t)v->integer;
    return 0;
}

static int parse_entry(const char *name, const json_value *v, st_entry *e, char *err, size_t errlen) {
    e->name = name;
    if (v->type != JSON_OBJECT) {
        ck__err(err, errlen, "tensor '%.200s': header entry is not an object", name);
        return -1;
    }
    const json_value *dt = json_get(v, "dtype");
    const json_value *sh = json_get(v, "shape");
    const json_value *off = json_get(v, "data_offsets");
    if (!dt || dt->type != JSON_STRING) {
        ck__err(err, errlen, "tensor '%.200s': missing or non-string \"dtype\"", name);
        return -1;
    }
    size_t i;
    for (i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dt->string, st_dtypes[i].name) == 0) break;
    if (i == sizeof st_dtypes / sizeof st_dtypes[0]) {
        ck__err(err, errlen, "tensor '%.200s': unsupported dtype \"%.32s\"", name, dt->string);
        return -1;
    }
    e->dt = st_dtypes[i].dt;
    if (!sh || sh->type != JSON_ARRAY) {
        ck__err(err, errlen, "tensor '%.200s': missing or non-array \"shape\"", name);
        return -1;
    }
    if (sh->len > CK_MAX_DIMS) {
        ck__err(err, errlen, "tensor '%.200s': %zu dimensions (at most %d)", name, sh->len, CK_MAX_DIMS);
        return -1;
    }
    e->ndim = (int)sh->len;
    for (size_t k = 0; k < sh->len; k++) {
        uint64_t d;
        if (get_u64(&sh->items[k], &d)) {
            ck__err(err, errlen, "tensor '%.200s': shape[%zu] is not a non-negative integer", name, k);
            return -1;
        }
        e->shape[k] = (int64_t)d;
    }
    if (!off || off->type != JSON_ARRAY || off->len != 2 || get_u64(&off->items[0], &e->begin) ||
        get_u64(&off->items[1], &e->end)) {
        ck__err(err, errlen, "tensor '%.200s': \"data_offsets\" must be two non-negative integers", name);
        return -1;
    }
    return 0;
}

static int read_metadata(ck_file *f, const json_value *m, char *err, size_t errlen) {
    if (m->type != JSON_OBJECT) {
        ck__err(err, errlen, "__metadata__ is not an object");
        return -1;
    }
    size_t total = 1;
    for (size_t i = 0; i < m->len; i++) {
        if (m->items[i].type != JSON_STRING) {
            ck__err(err, errlen, "__metadata__ value for '%.200s' is not a string", m->keys[i]);
            return -1;
        }
        total += strlen(m->keys[i]) + m->items[i].len + 2; /* bounded by the header size */
    }
    char *s = malloc(total), *p = s;
    if (!s) {
        ck__err(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m->len; i++) {
        size_t kl = strlen(m->keys[i]), vl = m->items[i].len;
        memcpy(p, m->keys[i], kl);
        p += kl;
        *p++ = '=';
        memcpy(p, m->items[i].string, vl);
        p += vl;
        *p++ = '\n';
    }
    *p = 0;
    f->metadata = s;
    return 0;
}

int ck_read_safetensors(const void *buf, size_t len, ck_file *out, char *err, size_t errlen) {
    const unsigned char *b = buf;
    json_value *root = NULL;
    st_entry *ents = NULL;
    char jerr[256];
    if (ck__begin(out, "safetensors", len, err, errlen)) return -1;
    if (len < 8) {
        ck__err(err, errlen, "safetensors: file is %zu bytes, shorter than the 8-byte header length", len);
        goto fail;
    }
    uint64_t n = ck__rd64(b);
    if (n > ST_MAX_HEADER) {
        ck__err(err, errlen, "safetensors: header length %llu exceeds %u", (unsigned long long)n, ST_MAX_HEADER);
        goto fail;
    }
    if (n > len - 8) {
        ck__err(err, errlen, "safetensors: header length %llu + 8 > file size %zu", (unsigned long long)n, len);
        goto fail;
    }
    if (n == 0 || b[8] != '{') {
        ck__err(err, errlen, "safetensors: header does not start with '{'");
        goto fail;
    }
    root = json_parse((const char *)b + 8, (size_t)n, 64, jerr, sizeof jerr);
    if (!root) {
        ck__err(err, errlen, "safetensors: header JSON: %s", jerr);
        goto fail;
    }
    if (root->type != JSON_OBJECT) {
        ck__err(err, errlen, "safetensors: header is not a JSON object");
        goto fail;
    }
    ents = calloc(root->len ? root->len : 1, sizeof *ents);
    if (!ents) {
        ck__err(err, errlen, "out of memory");
        goto fail;
    }
    size_t ne = 0;
    for (size_t i = 0; i < root->len; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) {
            if (read_metadata(out, &root->items[i], err, errlen)) goto fail;
            continue;
        }
        if (parse_entry(root->keys[i], &root->items[i], &ents[ne], err, errlen)) goto fail;
        ne++;
    }
    qsort(ents, ne, sizeof *ents, cmp_entry);
    uint64_t data_len = len - 8 - n, start = 0;
    for (size_t i = 0; i < ne; i++) {
        st_entry *e = &ents[i];
        if (e->begin != start || e->end < e->begin) {
            ck__err(err, errlen,
                    "tensor '%.200s': data_offsets [%llu, %llu] are not contiguous (expected start %llu)",
                    e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
                    (unsigned long long)start);
            goto fail;
        }
        start = e->end;
        uint64_t numel, size;
        if (ck__numel(e->ndim, e->shape, &numel) || ck__mul(numel, ck_dtype_size(e->dt), &size)) {
            ck__err(err, errlen, "tensor '%.200s': shape size overflows", e->name);
            goto fail;
        }
        if (e->end - e->begin != size) {
            ck__err(err, errlen, "tensor '%.200s': %llu bytes in data_offsets, but shape and dtype %s need %llu",
                    e->name, (unsigned long long)(e->end - e->begin), ck_dtype_name(e->dt),
                    (unsigned long long)size);
            goto fail;
        }
        if (e->end > data_len) {
            ck__err(err, errlen, "tensor '%.200s': data end %llu is past the data buffer (%llu bytes)", e->name,
                    (unsigned long long)e->end, (unsigned long long)data_len);
            goto fail;
        }
    }
    if (start != data_len) {
        ck__err(err, errlen, "safetensors: tensors cover %llu bytes but the data buffer has %llu",
                (unsigned long long)start, (unsigned long long)data_len);
        goto fail;
    }
    for (size_t i = 0; i < ne; i++) {
        st_entry *e = &ents[i];
        if (ck__add_tensor(out, e->name, e->dt, e->ndim, e->shape, b + 8 + n + e->begin,
                           (size_t)(e->end - e->begin), err, errlen))
            goto fail;
    }
    free(ents);
    json_free(root);
    return 0;
fail:
    free(ents);
    json_free(root);
    ck_file_free(out);
    return -1;
}
