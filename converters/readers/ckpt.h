/* ckpt.h — what every checkpoint reader (torch zip, legacy torch, safetensors) hands the
 * converter: a flat list of named, contiguous tensors. Nested containers are flattened
 * into paths joined with '/' between container levels (state-dict keys keep their dots):
 * {"ema": {"conv_in.weight": T}} -> "ema/conv_in.weight"; list/tuple items use their index;
 * an opaque object's state (pickle BUILD) is walked like a dict. */
#ifndef SCULPT_CKPT_H
#define SCULPT_CKPT_H

#include <stddef.h>
#include <stdint.h>

typedef enum ck_dtype {
    CK_F32 = 0, CK_F16, CK_BF16, CK_F64, CK_U8, CK_I8, CK_I16, CK_I32, CK_I64, CK_BOOL,
    CK_C64, CK_C128, CK_F8E4M3, CK_F8E5M2, CK_U16, CK_U32, CK_U64, CK_DTYPE_COUNT
} ck_dtype;

size_t ck_dtype_size(ck_dtype d);     /* bytes per element */
const char *ck_dtype_name(ck_dtype d); /* "f32", "f16", ... */

#define CK_MAX_DIMS 8

typedef struct ck_tensor {
    char *name;              /* owned, NUL-terminated path */
    ck_dtype dtype;
    int ndim;                /* 0..CK_MAX_DIMS */
    int64_t shape[CK_MAX_DIMS];
    const void *data;        /* contiguous row-major, little-endian; owned by the ck_file */
    size_t nbytes;           /* = numel * dtype size */
} ck_tensor;

typedef struct ck_file {
    const char *format;      /* "torch-zip", "torch-legacy", "safetensors" (static string) */
    ck_tensor *tensors;      /* [n], owned */
    int n;
    char *metadata;          /* safetensors __metadata__ as "key=value\n" lines, or NULL */
    void *priv;              /* reader-owned buffers (mapping, copies) */
    void (*priv_free)(void *);
} ck_file;

/* Each reader: 0 on success; on failure -1 with one line in err (no file name: the caller
 * prefixes it) and *out left empty. Tensor data may point into buf (aligned, contiguous
 * tensors are not copied): buf must outlive *out; ck_load_file's ck_file owns its buffer. Readers never trust sizes from the file: memory stays
 * bounded by a small multiple of the input's size; nesting depth is bounded. */
int ck_read_torch_zip(const void *buf, size_t len, ck_file *out, char *err, size_t errlen);
int ck_read_torch_legacy(const void *buf, size_t len, ck_file *out, char *err, size_t errlen);
int ck_read_safetensors(const void *buf, size_t len, ck_file *out, char *err, size_t errlen);

/* Sniff the format from the first bytes and dispatch: 0 / -1 as above. */
int ck_read_any(const void *buf, size_t len, ck_file *out, char *err, size_t errlen);

/* Load a whole file into memory (or mmap) and call ck_read_any; err is prefixed with path. */
int ck_load_file(const char *path, ck_file *out, char *err, size_t errlen);

void ck_file_free(ck_file *f); /* zero-initialised or NULL is fine */

#endif
