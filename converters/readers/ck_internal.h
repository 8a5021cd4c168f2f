/* ck_internal.h — helpers shared by the checkpoint readers (not part of ckpt.h): error
 * formatting, the tensor list, and owned buffers whose total size is bounded by the input. */
#ifndef SCULPT_CK_INTERNAL_H
#define SCULPT_CK_INTERNAL_H

#include "ckpt.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Copies and inflated data may total at most CK_ALLOC_FACTOR * input + CK_ALLOC_SLACK. */
#define CK_ALLOC_FACTOR 8
#define CK_ALLOC_SLACK ((size_t)64 << 20)
#define CK_MAX_TENSORS 1000000

typedef struct ck_priv {
    void **blocks;        /* owned allocations */
    size_t nblocks, capblocks;
    size_t allocated;     /* bytes handed out by ck__alloc */
    size_t limit;         /* bound on allocated */
    int tcap;             /* capacity of ck_file.tensors */
    void *map;            /* ck_load_file's buffer (mmap or malloc) */
    size_t maplen;
    int mapped;
} ck_priv;

void ck__err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Start an empty ck_file for an input of len bytes. -1 on out of memory. */
int ck__begin(ck_file *f, const char *format, size_t len, char *err, size_t errlen);
/* Bounded, tracked allocation (freed with the file); NULL + message when over budget. */
void *ck__alloc(ck_file *f, size_t n, const char *what, char *err, size_t errlen);
/* Append a tensor; name is copied. data must stay valid for the file's lifetime; it is
 * copied into an owned aligned block when not aligned to the element size. */
int ck__add_tensor(ck_file *f, const char *name, ck_dtype dt, int ndim, const int64_t *shape,
                   const void *data, size_t nbytes, char *err, size_t errlen);
/* numel of a shape with overflow checks; -1 on negative dims or overflow of limit. */
int ck__numel(int ndim, const int64_t *shape, uint64_t *numel);
/* a*b and a+b without overflow: 0 on success. */
static inline int ck__mul(uint64_t a, uint64_t b, uint64_t *r) {
    if (a && b > UINT64_MAX / a) return -1;
    *r = a * b;
    return 0;
}
static inline int ck__add(uint64_t a, uint64_t b, uint64_t *r) {
    if (b > UINT64_MAX - a) return -1;
    *r = a + b;
    return 0;
}
static inline uint64_t ck__rd64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static inline uint32_t ck__rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t ck__rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* UTF-8 encoding of a code point <= U+10FFFF (callers exclude surrogates where it matters):
 * 1..4 bytes written to o, count returned. Shared by the JSON and pickle string decoders. */
static inline int ck__utf8_put(unsigned char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 63));
    o[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

#endif
