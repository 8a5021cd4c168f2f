/* test_ckpt.c — every reader fixture (torch zip, deflated, ZIP64, BytesIO, legacy, v3
 * untyped storages, safetensors) read through ck_load_file and ck_read_any: each tensor's
 * name, dtype, shape and bytes must equal what PyTorch wrote (<set>.expect / <set>.raw). */
#include "ckpt.h"
#include "test.h"

static const char *dir;

typedef struct expect {
    char name[256], dtype[16];
    int ndim;
    int64_t shape[CK_MAX_DIMS];
    size_t off, nbytes;
} expect;

static expect *load_expect(const char *set, int *n, unsigned char **raw) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s.expect", dir, set);
    FILE *f = fopen(p, "r");
    if (!f) return NULL;
    expect *e = NULL;
    int cap = 0;
    *n = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n') continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            e = realloc(e, (size_t)cap * sizeof *e);
        }
        expect *x = &e[*n];
        char shape[256];
        if (sscanf(line, "%255[^\t]\t%15[^\t]\t%255[^\t]\t%zu\t%zu", x->name, x->dtype, shape, &x->off, &x->nbytes) != 5)
            continue;
        x->ndim = 0;
        if (strcmp(shape, "-") != 0) {
            char *s = shape;
            while (*s && x->ndim < CK_MAX_DIMS) {
                x->shape[x->ndim++] = strtoll(s, &s, 10);
                if (*s == ',') s++;
            }
        }
        (*n)++;
    }
    fclose(f);
    snprintf(p, sizeof p, "%s/%s.raw", dir, set);
    *raw = test_read_file(p, NULL);
    return e;
}

static void compare(const char *file, const ck_file *ck, const expect *e, int n, const unsigned char *raw) {
    CHECKF(ck->n == n, "%s: %d tensors, expected %d", file, ck->n, n);
    for (int i = 0; i < n; i++) {
        const ck_tensor *t = NULL;
        for (int j = 0; j < ck->n; j++)
            if (strcmp(ck->tensors[j].name, e[i].name) == 0) t = &ck->tensors[j];
        CHECKF(t != NULL, "%s: tensor '%s' missing", file, e[i].name);
        if (!t) continue;
        CHECKF(strcmp(ck_dtype_name(t->dtype), e[i].dtype) == 0, "%s: '%s' dtype %s, expected %s", file, e[i].name,
               ck_dtype_name(t->dtype), e[i].dtype);
        int shape_ok = t->ndim == e[i].ndim;
        for (int d = 0; shape_ok && d < t->ndim; d++) shape_ok = t->shape[d] == e[i].shape[d];
        CHECKF(shape_ok, "%s: '%s' shape differs (ndim %d vs %d)", file, e[i].name, t->ndim, e[i].ndim);
        CHECKF(t->nbytes == e[i].nbytes, "%s: '%s' %zu bytes, expected %zu", file, e[i].name, t->nbytes, e[i].nbytes);
        if (t->nbytes == e[i].nbytes && e[i].nbytes)
            CHECKF(memcmp(t->data, raw + e[i].off, e[i].nbytes) == 0, "%s: '%s' bytes differ", file, e[i].name);
        size_t es = ck_dtype_size(t->dtype), al = es > 8 ? 8 : es;
        CHECKF(((uintptr_t)t->data % al) == 0, "%s: '%s' data not aligned to %zu", file, e[i].name, al);
    }
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : "tests/fixtures/readers";
    char p[1024], err[512];
    snprintf(p, sizeof p, "%s/fixtures.txt", dir);
    FILE *f = fopen(p, "r");
    CHECKF(f != NULL, "cannot open %s", p);
    if (!f) TEST_DONE();
    char line[1024];
    int nfix = 0;
    while (fgets(line, sizeof line, f)) {
        char file[256], set[64], format[32];
        if (sscanf(line, "%255s %63s %31s", file, set, format) != 3) continue;
        nfix++;
        int n = 0;
        unsigned char *raw = NULL;
        expect *e = load_expect(set, &n, &raw);
        CHECKF(e && raw, "cannot read expected set %s", set);
        if (!e || !raw) {
            free(e);
            free(raw);
            continue;
        }
        snprintf(p, sizeof p, "%s/%s", dir, file);
        /* 1: ck_load_file (mmap) */
        ck_file ck;
        int rc = ck_load_file(p, &ck, err, sizeof err);
        CHECKF(rc == 0, "%s", err);
        if (rc == 0) {
            CHECKF(strcmp(ck.format, format) == 0, "%s: format %s, expected %s", file, ck.format, format);
            compare(file, &ck, e, n, raw);
            if (strcmp(set, "mixed") == 0) {
                snprintf(p, sizeof p, "%s/mixed.metadata", dir);
                size_t ml;
                char *md = test_read_file(p, &ml);
                if (md) md[ml] = 0;
                CHECKF(md && ck.metadata && strcmp(md, ck.metadata) == 0, "%s: metadata '%s'", file,
                       ck.metadata ? ck.metadata : "(null)");
                free(md);
            } else if (strcmp(format, "safetensors") == 0) {
                CHECK(ck.metadata && strcmp(ck.metadata, "format=pt\n") == 0);
            } else {
                CHECK(ck.metadata == NULL);
            }
            ck_file_free(&ck);
        }
        /* 2: ck_read_any over an exact-size heap buffer */
        size_t len = 0;
        snprintf(p, sizeof p, "%s/%s", dir, file);
        unsigned char *buf = test_read_file(p, &len);
        unsigned char *exact = malloc(len);
        memcpy(exact, buf, len);
        rc = ck_read_any(exact, len, &ck, err, sizeof err);
        CHECKF(rc == 0, "%s (memory): %s", file, err);
        if (rc == 0) {
            compare(file, &ck, e, n, raw);
            ck_file_free(&ck);
        }
        free(exact);
        free(buf);
        free(e);
        free(raw);
    }
    fclose(f);
    CHECKF(nfix >= 14, "only %d fixtures listed", nfix);

    /* the error path names the file */
    ck_file ck;
    int rc = ck_load_file("/nonexistent/x.pt", &ck, err, sizeof err);
    CHECK(rc == -1 && strstr(err, "/nonexistent/x.pt") != NULL);
    CHECK(ck.n == 0 && ck.tensors == NULL);
    snprintf(p, sizeof p, "%s/hostile/st_hole.safetensors", dir);
    rc = ck_load_file(p, &ck, err, sizeof err);
    CHECKF(rc == -1 && strstr(err, "st_hole.safetensors: ") != NULL, "message '%s'", err);
    ck_file_free(&ck);
    ck_file_free(NULL);

    /* dtype table */
    CHECK(ck_dtype_size(CK_F32) == 4 && ck_dtype_size(CK_BF16) == 2 && ck_dtype_size(CK_C128) == 16);
    CHECK(strcmp(ck_dtype_name(CK_F8E5M2), "f8e5m2") == 0);
    CHECK(ck_dtype_size(CK_DTYPE_COUNT) == 0);
    for (int d = 0; d < CK_DTYPE_COUNT; d++) CHECK(ck_dtype_size((ck_dtype)d) > 0);
    TEST_DONE();
}
