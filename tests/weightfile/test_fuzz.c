/* test_fuzz.c — hostile weight files: truncation at many offsets (memory and path), every
 * bit flip of the header, sampled flips elsewhere, and random mutations re-sealed with valid
 * checksums so they reach the deep checks. Must never crash (ASan/UBSan in CI). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sculpt.h"
#include "test.h"
#include "wt_writer.h"

#define NAME "fuzz.bin"

static unsigned char *good;
static size_t good_size;
static uint64_t data_off;

static unsigned char *copy_of(const unsigned char *src, size_t size) {
    void *p = NULL;
    if (posix_memalign(&p, 64, size ? size : 1)) abort();
    memcpy(p, src, size);
    return p;
}

/* Open b[0, size) (an allocation of exactly size bytes, so ASan sees any over-read);
 * return the status. A success must describe a sane model. */
static sculpt_status open_in_place(const unsigned char *b, size_t size, unsigned flags) {
    char err[512] = "";
    sculpt_model *m = NULL;
    sculpt_status st = sculpt_model_open_memory(b, size, NAME, flags, &m, err, sizeof err);
    if (getenv("WF_VERBOSE")) fprintf(stderr, "%d %s\n", (int)st, err);
    if (st == SCULPT_OK) {
        CHECK(m != NULL);
        int n = sculpt_model_tensor_count(m);
        for (int i = 0; i < n; i++) {
            sculpt_tensor_info t;
            CHECK(sculpt_model_tensor(m, i, &t) == 0);
            const unsigned char *d = t.data;
            CHECK(d >= b && d <= b + size && t.nbytes <= (uint64_t)(b + size - d));
            CHECK(sculpt_model_find_tensor(m, t.name, NULL) == 0);
        }
        const sculpt_schedule *s = sculpt_model_schedule(m);
        for (int i = 0; i < s->num_train_timesteps; i++) CHECK(s->betas[i] > 0 && s->alphas_cumprod[i] > 0);
        sculpt_model_close(m);
    } else {
        CHECKF(m == NULL && strncmp(err, NAME ": ", strlen(NAME) + 2) == 0 && !strchr(err, '\n'), "%s", err);
    }
    return st;
}

/* The same on an exact-size copy of src[0, size). */
static sculpt_status try_open(const unsigned char *src, size_t size, unsigned flags) {
    unsigned char *b = copy_of(src, size);
    sculpt_status st = open_in_place(b, size, flags);
    free(b);
    return st;
}

/* Re-seal only the header checksum (the data and its checksum are unchanged). */
static void reseal_header(unsigned char *b) {
    uint64_t d = wt_get64(b + 64);
    if (d < 96 || d > good_size) return;
    wt_put64(b + 88, 0);
    wt_put64(b + 88, wt_checksum(b, (size_t)d));
}

static void truncation(const char *dir) {
    /* Every length through the header, table, schedule and metadata; then strided. */
    for (size_t n = 0; n < good_size; n += (n < 1024 ? 1 : n < data_off + 256 ? 7 : 4093)) {
        sculpt_status st = try_open(good, n, 0);
        CHECKF(st == SCULPT_E_FORMAT, "truncated to %zu: status %d", n, (int)st);
    }
    /* Truncated but with file_size / data_size patched and checksums re-sealed. */
    unsigned char *b = copy_of(good, good_size);
    for (size_t n = data_off; n < good_size; n += 64 * 37) {
        memcpy(b, good, 512);
        wt_put64(b + 16, n);
        wt_put64(b + 72, n - data_off);
        wt_reseal(b, n);
        sculpt_status st = try_open(b, n, 0);
        CHECKF(st == SCULPT_E_FORMAT, "truncated+resealed to %zu: status %d", n, (int)st);
    }
    free(b);
    /* Through the path API, including empty and tiny files. */
    char path[128];
    snprintf(path, sizeof path, "%s/" NAME, dir);
    const size_t cuts[] = {0, 1, 7, 8, 11, 12, 100, 511, 512, 513, 4096, (size_t)data_off - 1, (size_t)data_off,
                           (size_t)data_off + 1, good_size - 64, good_size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        CHECK(wt_write_file(path, good, cuts[i]) == 0);
        char err[512] = "";
        sculpt_model *m = NULL;
        sculpt_status st = sculpt_model_open(path, 0, &m, err, sizeof err);
        CHECKF(st == SCULPT_E_FORMAT && m == NULL && strncmp(err, path, strlen(path)) == 0, "cut %zu: %d %s",
               cuts[i], (int)st, err);
    }
    CHECK(wt_write_file(path, good, good_size) == 0);
    sculpt_model *m = NULL;
    CHECK(sculpt_model_open(path, 0, &m, NULL, 0) == SCULPT_OK);
    sculpt_model_close(m);
    unlink(path);
}

static void bit_flips(void) {
    unsigned char *b = copy_of(good, good_size);
    /* Every bit of the fixed header and the first table entries. */
    for (size_t bit = 0; bit < 8 * 1024; bit++) {
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        sculpt_status st = open_in_place(b, good_size, 0);
        CHECKF(st == SCULPT_E_FORMAT || (st == SCULPT_E_UNSUPPORTED && bit / 8 >= 8 && bit / 8 < 12),
               "flip bit %zu: status %d", bit, (int)st);
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* Sampled bits of the rest of the header region and of the data. */
    for (size_t byte = 1024; byte < good_size; byte += (byte < data_off ? 13 : 4093)) {
        b[byte] ^= 0x10;
        sculpt_status st = open_in_place(b, good_size, 0);
        CHECKF(st == SCULPT_E_FORMAT, "flip byte %zu: status %d", byte, (int)st);
        if (byte >= data_off) CHECK(open_in_place(b, good_size, SCULPT_OPEN_NO_CHECKSUM) == SCULPT_OK);
        b[byte] ^= 0x10;
    }
    free(b);
}

/* Random edits of the header region with both checksums re-sealed: the structural checks
 * alone must keep the reader safe. */
static void resealed_mutations(void) {
    unsigned char *b = copy_of(good, good_size);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int opened = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(b, good, (size_t)data_off);
        int edits = 1 + iter % 4;
        for (int e = 0; e < edits; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % (iter % 2 ? 512 : data_off));
            switch ((x >> 40) % 4) {
            case 0: b[at] ^= (unsigned char)(1u << ((x >> 50) % 8)); break;
            case 1: b[at] = (unsigned char)(x >> 32); break;
            case 2: if (at + 4 <= data_off) wt_put32(b + (at & ~(size_t)3), (uint32_t)(x >> 20)); break;
            default: if (at + 8 <= data_off) wt_put64(b + (at & ~(size_t)7), ~(uint64_t)0 - (x >> 60)); break;
            }
        }
        reseal_header(b);
        if (open_in_place(b, good_size, 0) == SCULPT_OK) opened++;
    }
    CHECK(opened < 3000); /* the mutations do reach failures */
    free(b);
}

int main(void) {
    char dir[] = "/tmp/wftest-fuzz-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    wt_spec spec;
    if (wt_spec_tiny(&spec, 64)) return 1;
    good = wt_build(&spec, &good_size);
    if (!good) return 1;
    data_off = wt_get64(good + 64);
    CHECK(try_open(good, good_size, 0) == SCULPT_OK);
    truncation(dir);
    bit_flips();
    resealed_mutations();
    rmdir(dir);
    free(good);
    wt_spec_free(&spec);
    TEST_DONE();
}
