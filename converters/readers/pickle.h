/* pickle.h — a non-executing interpreter for Python pickles (protocols 0-5, CPython
 * Lib/pickle.py and pickletools.py): values are plain data or opaque objects; torch tensors
 * and storages (torch/serialization.py, torch/_utils.py) are recognised and flattened. */
#ifndef SCULPT_PICKLE_H
#define SCULPT_PICKLE_H

#include "ck_internal.h"

#include <stddef.h>
#include <stdint.h>

typedef enum pk_type {
    PK_NONE, PK_BOOL, PK_INT, PK_BIGINT, PK_BIGDEC, PK_FLOAT, PK_STR, PK_BYTES, PK_BYTEARRAY,
    PK_LIST, PK_TUPLE, PK_DICT, PK_SET, PK_FROZENSET, PK_GLOBAL, PK_OBJECT, PK_TENSOR, PK_STORAGE
} pk_type;

typedef struct pk_value pk_value;

/* A storage named by a persistent id ('storage', type, key, location, numel[, view]). */
typedef struct pk_storage {
    char *key;                  /* record key ("0", "1", ... or a pointer value in legacy files) */
    ck_dtype dtype;             /* element type of a typed storage */
    int untyped;                /* torch.UntypedStorage: numel counts bytes */
    uint64_t numel;             /* declared elements (bytes when untyped) */
    const unsigned char *data;  /* bound by the container reader; NULL until then */
    uint64_t nbytes;            /* bytes at data */
    struct pk_storage *root;    /* legacy view: the storage it views, or NULL */
    uint64_t view_offset;       /* legacy view: offset in root elements */
} pk_storage;

typedef struct pk_tensor {
    pk_storage *storage;
    ck_dtype dtype;
    int64_t offset;             /* storage offset, elements */
    int ndim;
    int64_t size[CK_MAX_DIMS];  /* elements per dim */
    int64_t stride[CK_MAX_DIMS];/* elements */
} pk_tensor;

struct pk_value {
    pk_type type;
    union {
        int64_t i;                                     /* BOOL, INT */
        double f;                                      /* FLOAT */
        struct { unsigned char *p; size_t n; } s;      /* STR (UTF-8), BYTES, BYTEARRAY,
                                                          BIGINT (minimal LE two's complement),
                                                          BIGDEC (decimal text); NUL-terminated */
        struct { pk_value **v; size_t n, cap; pk_value *state; int norm; } c;
                                                       /* LIST TUPLE SET FROZENSET DICT (v[2k] key,
                                                          v[2k+1] value; state = BUILD state) */
        struct { char *module, *name; } g;             /* GLOBAL */
        struct { pk_value *cls, *args, *state, *dict, *list; } o; /* OBJECT */
        pk_tensor *t;                                  /* TENSOR */
        pk_storage *st;                                /* STORAGE */
    } u;
};

typedef struct pk_vm pk_vm;

/* A VM whose allocations (values, stack, memo) total at most `budget` bytes. */
pk_vm *pk_new(size_t budget);
/* The budget the container readers give a pickle of n bytes: 128 n + 16 MiB, saturating. */
size_t pk_budget_for(size_t n);
void pk_free(pk_vm *vm); /* frees every value it made; NULL is fine */

/* Run one pickle from buf[0..len) until STOP. *used gets the bytes consumed, *out the
 * result (owned by vm). Each call starts with an empty stack and memo. 0 or -1 + message. */
int pk_load(pk_vm *vm, const unsigned char *buf, size_t len, size_t *used, pk_value **out, char *err,
            size_t errlen);

/* Storages named so far, in first-seen order. */
size_t pk_storage_count(const pk_vm *vm);
pk_storage *pk_storage_at(pk_vm *vm, size_t i);
pk_storage *pk_storage_find(pk_vm *vm, const char *key);

/* How many value visits a walk over this VM's values may make (DAGs that share values
 * could otherwise take exponential time). */
size_t pk_walk_budget(const pk_vm *vm);

/* Flatten v into f's tensor list (ckpt.h path rules) once every storage is bound. */
int pk_flatten(pk_vm *vm, const pk_value *v, ck_file *f, char *err, size_t errlen);

/* The value as canonical text (tests compare it with Python's rendering):
 * None True False 12 L<hex LE two's complement> D<decimal> f<%.17g> s"<utf8 hex>" b"<hex>"
 * ba"<hex>" [a,b] (a,b) {k:v} set{..} fset{..} G(mod.name) O(cls,args,state) T(dtype,[shape])
 * S(key). Returns malloc'd text or NULL + message. */
char *pk_dump(pk_vm *vm, const pk_value *v, size_t max_len, char *err, size_t errlen);

#endif
