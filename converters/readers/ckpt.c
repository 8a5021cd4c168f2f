/* ckpt.c — dtype tables, the shared tensor-list helpers, format sniffing and file loading
 * (mmap read-only, or read into memory) for every checkpoint reader. */
#include "ck_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct { size_t size; const char *name; } dtypes[CK_DTYPE_COUNT] = {
    [CK_F32] = {4, "f32"},   [CK_F16] = {2, "f16"},   [CK_BF16] = {2, "bf16"},
    [CK_F64] = {8, "f64"},   [CK_U8] = {1, "u8"},     [CK_I8] = {1, "i8"},
    [CK_I16] = {2, "i16"},   [CK_I32] = {4, "i32"},   [CK_I64] = {8, "i64"},
    [CK_BOOL] = {1, "bool"}, [CK_C64] = {8, "c64"},   [CK_C128] = {16, "c128"},
    [CK_F8E4M3] = {1, "f8e4m3"}, [CK_F8E5M2] = {1, "f8e5m2"},
    [CK_U16] = {2, "u16"},   [CK_U32] = {4, "u32"},   [CK_U64] = {8, "u64"},
};

size_t ck_dtype_size(ck_dtype d) {
    return (unsigned)d < CK_DTYPE_COUNT ? dtypes[d].size : 0;
}

const char *ck_dtype_name(ck_dtype d) {
    return (unsigned)d < CK_DTYPE_COUNT ? dtypes[d].name : "?";
}

void ck__err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void priv_free(void *p) {
    ck_priv *pv = p;
    if (!pv) return;
    for (size_t i = 0; i < pv->nblocks; i++) free(pv->blocks[i]);
    free(pv->blocks);
    if (pv->map) {
        if (pv->mapped) munmap(pv->map, pv->maplen);
        else free(pv->map);
    }
    free(pv);
}

int ck__begin(ck_file *f, const char *format, size_t len, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    ck_priv *pv = calloc(1, sizeof *pv);
    if (!pv) { ck__err(err, errlen, "out of memory"); return -1; }
    size_t lim = len > (SIZE_MAX - CK_ALLOC_SLACK) / CK_ALLOC_FACTOR
                     ? SIZE_MAX
                     : len * CK_ALLOC_FACTOR + CK_ALLOC_SLACK;
    pv->limit = lim;
    f->format = format;
    f->priv = pv;
    f->priv_free = priv_free;
    return 0;
}

void *ck__alloc(ck_file *f, size_t n, const char *what, char *err, size_t errlen) {
    ck_priv *pv = f->priv;
    if (n > pv->limit - pv->allocated) {
        ck__err(err, errlen, "%s: %zu bytes would exceed the memory bound (%zu bytes for this input)",
                what, n, pv->limit);
        return NULL;
    }
    if (pv->nblocks == pv->capblocks) {
        size_t nc = pv->capblocks ? pv->capblocks * 2 : 16;
        void **nb = realloc(pv->blocks, nc * sizeof *nb);
        if (!nb) { ck__err(err, errlen, "%s: out of memory", what); return NULL; }
        pv->blocks = nb;
        pv->capblocks = nc;
    }
    /* 64-byte aligned so any dtype can be read in place. */
    size_t rounded = (n + 63) & ~(size_t)63;
    void *p = NULL;
    if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0) p = NULL;
    if (!p) { ck__err(err, errlen, "%s: out of memory (%zu bytes)", what, n); return NULL; }
    pv->blocks[pv->nblocks++] = p;
    pv->allocated += n;
    return p;
}

int ck__numel(int ndim, const int64_t *shape, uint64_t *numel) {
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return -1;
        if (ck__mul(n, (uint64_t)shape[i], &n)) return -1;
    }
    if (n > (uint64_t)INT64_MAX) return -1;
    *numel = n;
    return 0;
}

int ck__add_tensor(ck_file *f, const char *name, ck_dtype dt, int ndim, const int64_t *shape,
                   const void *data, size_t nbytes, char *err, size_t errlen) {
    ck_priv *pv = f->priv;
    if (ndim < 0 || ndim > CK_MAX_DIMS) {
        ck__err(err, errlen, "tensor '%.200s': %d dimensions (at most %d)", name, ndim, CK_MAX_DIMS);
        return -1;
    }
    if (f->n >= CK_MAX_TENSORS) {
        ck__err(err, errlen, "more than %d tensors", CK_MAX_TENSORS);
        return -1;
    }
    /* the name and the list entry count against the bound too: a pickle whose shared dicts
     * reach one tensor through many long paths would otherwise make gigabytes of names */
    size_t nl = strlen(name), cost = nl + 1 + sizeof(ck_tensor);
    if (cost > pv->limit - pv->allocated) {
        ck__err(err, errlen, "tensor %d ('%.100s'): names and entries would exceed the memory bound (%zu bytes "
                "for this input)", f->n, name, pv->limit);
        return -1;
    }
    pv->allocated += cost;
    size_t es = ck_dtype_size(dt);
    if (es > 1 && ((uintptr_t)data % (es > 8 ? 8 : es)) != 0) {
        void *c = ck__alloc(f, nbytes, name, err, errlen);
        if (!c) return -1;
        if (nbytes) memcpy(c, data, nbytes);
        data = c;
    }
    if (f->n == pv->tcap) {
        int nc = pv->tcap ? pv->tcap * 2 : 16;
        ck_tensor *nt = realloc(f->tensors, (size_t)nc * sizeof *nt);
        if (!nt) { ck__err(err, errlen, "out of memory"); return -1; }
        f->tensors = nt;
        pv->tcap = nc;
    }
    ck_tensor *t = &f->tensors[f->n];
    memset(t, 0, sizeof *t);
    t->name = malloc(nl + 1);
    if (!t->name) { ck__err(err, errlen, "out of memory"); return -1; }
    memcpy(t->name, name, nl + 1);
    t->dtype = dt;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->data = data;
    t->nbytes = nbytes;
    f->n++;
    return 0;
}

void ck_file_free(ck_file *f) {
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->tensors[i].name);
    free(f->tensors);
    free(f->metadata);
    if (f->priv_free) f->priv_free(f->priv);
    memset(f, 0, sizeof *f);
}

int ck_read_any(const void *buf, size_t len, ck_file *out, char *err, size_t errlen) {
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    if (!b || len == 0) {
        ck__err(err, errlen, "empty input");
        return -1;
    }
    if (len >= 4 && b[0] == 'P' && b[1] == 'K' && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6)))
        return ck_read_torch_zip(buf, len, out, err, errlen);
    if (len >= 9 && b[8] == '{') /* u64 header length, then the JSON header */
        return ck_read_safetensors(buf, len, out, err, errlen);
    /* legacy torch.save starts with a pickle (PROTO 2..5) of its magic number */
    if (len >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        return ck_read_torch_legacy(buf, len, out, err, errlen);
    ck__err(err, errlen,
            "unrecognised format (first bytes %02x %02x %02x %02x): expected a torch zip, a legacy "
            "torch file or safetensors",
            b[0], len > 1 ? b[1] : 0, len > 2 ? b[2] : 0, len > 3 ? b[3] : 0);
    return -1;
}

int ck_load_file(const char *path, ck_file *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    char msg[512] = "";
    void *map = NULL;
    size_t len = 0;
    int mapped = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        ck__err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ck__err(err, errlen, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_size <= 0) {
        ck__err(err, errlen, "%s: empty file", path);
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        ck__err(err, errlen, "%s: too large (%lld bytes)", path, (long long)st.st_size);
        close(fd);
        return -1;
    }
    len = (size_t)st.st_size;
    map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
        mapped = 1;
    } else {
        map = malloc(len);
        size_t got = 0;
        while (map && got < len) {
            ssize_t r = read(fd, (char *)map + got, len - got);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                break;
            }
            got += (size_t)r;
        }
        if (!map || got != len) {
            ck__err(err, errlen, "%s: %s", path, map ? "read failed" : "out of memory");
            free(map);
            close(fd);
            return -1;
        }
    }
    close(fd);
    if (ck_read_any(map, len, out, msg, sizeof msg) != 0) {
        ck__err(err, errlen, "%s: %s", path, msg);
        ck_file_free(out);
        if (mapped) munmap(map, len);
        else free(map);
        return -1;
    }
    ck_priv *pv = out->priv;
    pv->map = map;
    pv->maplen = len;
    pv->mapped = mapped;
    return 0;
}
