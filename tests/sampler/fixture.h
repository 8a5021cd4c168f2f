/* fixture.h — reads the named-array fixture files that tests/reference/make_samplers.py
 * writes (format in tests/reference/sampler_ref.py): magic SFX1, then name/dtype/shape/data. */
#ifndef SAMPLER_FIXTURE_H
#define SAMPLER_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

enum { FX_F32 = 0, FX_F64 = 1, FX_I64 = 2, FX_I32 = 3 };

typedef struct fx_array {
    char name[128];
    uint32_t dtype, ndim;
    uint64_t shape[8];
    uint64_t count; /* elements */
    const void *data;
} fx_array;

typedef struct fx_file {
    unsigned char *buf;
    size_t len;
    uint32_t n;
    fx_array *arr;
} fx_file;

static inline void fx_close(fx_file *f) {
    free(f->buf);
    free(f->arr);
    memset(f, 0, sizeof *f);
}

/* Load dir/name; returns 0 on success, prints why and returns -1 otherwise. */
static inline int fx_open(fx_file *f, const char *dir, const char *name) {
    char path[1024];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f->buf = test_read_file(path, &f->len);
    if (!f->buf || f->len < 8 || memcmp(f->buf, "SFX1", 4) != 0) {
        fprintf(stderr, "%s: cannot read or not a fixture file\n", path);
        fx_close(f);
        return -1;
    }
    uint32_t n;
    memcpy(&n, f->buf + 4, 4);
    f->arr = calloc(n ? n : 1, sizeof *f->arr);
    if (!f->arr) { fx_close(f); return -1; }
    size_t off = 8;
    static const size_t esz[4] = {4, 8, 8, 4};
    for (uint32_t i = 0; i < n; i++) {
        fx_array *a = &f->arr[i];
        uint32_t ln;
        if (off + 4 > f->len) goto bad;
        memcpy(&ln, f->buf + off, 4);
        off += 4;
        if (ln >= sizeof a->name || off + ln + 8 > f->len) goto bad;
        memcpy(a->name, f->buf + off, ln);
        a->name[ln] = 0;
        off += ln;
        memcpy(&a->dtype, f->buf + off, 4);
        memcpy(&a->ndim, f->buf + off + 4, 4);
        off += 8;
        if (a->dtype > 3 || a->ndim > 8 || off + 8 * (size_t)a->ndim > f->len) goto bad;
        a->count = 1;
        for (uint32_t d = 0; d < a->ndim; d++) {
            memcpy(&a->shape[d], f->buf + off + 8 * d, 8);
            if (a->shape[d] > (1u << 30)) goto bad;
            a->count *= a->shape[d];
            if (a->count > (1u << 30)) goto bad;
        }
        off += 8 * (size_t)a->ndim;
        size_t nb = (size_t)a->count * esz[a->dtype];
        if (off + nb > f->len) goto bad;
        a->data = f->buf + off;
        off += nb;
    }
    f->n = n;
    return 0;
bad:
    fprintf(stderr, "%s: malformed fixture file\n", path);
    fx_close(f);
    return -1;
}

static inline const fx_array *fx_get(const fx_file *f, const char *name) {
    for (uint32_t i = 0; i < f->n; i++)
        if (strcmp(f->arr[i].name, name) == 0) return &f->arr[i];
    fprintf(stderr, "fixture array '%s' missing\n", name);
    return NULL;
}

/* Copies of an array as float / double / int64 (malloc'd; NULL when missing). Data in the
 * file may be unaligned, so values are always copied out. */
static inline double fx_value(const fx_array *a, uint64_t i) {
    const unsigned char *p = a->data;
    switch (a->dtype) {
    case FX_F32: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case FX_F64: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    case FX_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    default: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
    }
}

static inline float *fx_f32(const fx_file *f, const char *name, size_t *count) {
    const fx_array *a = fx_get(f, name);
    if (!a) return NULL;
    float *r = malloc((a->count ? a->count : 1) * sizeof *r);
    if (!r) return NULL;
    if (a->dtype == FX_F32) memcpy(r, a->data, a->count * 4);
    else for (uint64_t i = 0; i < a->count; i++) r[i] = (float)fx_value(a, i);
    if (count) *count = a->count;
    return r;
}

static inline double *fx_f64(const fx_file *f, const char *name, size_t *count) {
    const fx_array *a = fx_get(f, name);
    if (!a) return NULL;
    double *r = malloc((a->count ? a->count : 1) * sizeof *r);
    if (!r) return NULL;
    for (uint64_t i = 0; i < a->count; i++) r[i] = fx_value(a, i);
    if (count) *count = a->count;
    return r;
}

static inline int64_t *fx_i64(const fx_file *f, const char *name, size_t *count) {
    const fx_array *a = fx_get(f, name);
    if (!a) return NULL;
    int64_t *r = malloc((a->count ? a->count : 1) * sizeof *r);
    if (!r) return NULL;
    for (uint64_t i = 0; i < a->count; i++) {
        if (a->dtype == FX_I64) memcpy(&r[i], (const unsigned char *)a->data + 8 * i, 8);
        else r[i] = (int64_t)fx_value(a, i);
    }
    if (count) *count = a->count;
    return r;
}

/* Scalar helper: element 0 as double (NAN when missing). */
static inline double fx_scalar(const fx_file *f, const char *name) {
    const fx_array *a = fx_get(f, name);
    return a && a->count ? fx_value(a, 0) : NAN;
}

#endif
