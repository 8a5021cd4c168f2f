/* test_corrupt.c — every single-field corruption of a valid weight file (header, sections,
 * config, schedule, metadata, tensor table, tensor set, checksums) gives the status and the
 * one-line message weights/FORMAT.md promises, naming the file. Run under ASan/UBSan in CI. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sculpt.h"
#include "test.h"
#include "wt_writer.h"

#define NAME "corrupt.bin"
enum { T_STEPS = 100 };

static unsigned char *good;   /* the valid file */
static size_t good_size;
static wt_spec spec;
static uint64_t data_off, meta_off, meta_size, sched_off;

/* A fresh copy of the valid file in an exact-size buffer (so ASan sees any over-read). */
static unsigned char *fresh(size_t size) {
    void *p = NULL;
    if (posix_memalign(&p, 64, size ? size : 1)) abort();
    memcpy(p, good, size < good_size ? size : good_size);
    return p;
}

/* Recompute only the header checksum (keep a deliberately wrong data checksum). */
static void reseal_header(unsigned char *b) {
    uint64_t d = wt_get64(b + 64);
    wt_put64(b + 88, 0);
    wt_put64(b + 88, wt_checksum(b, (size_t)d));
}

/* Open b[0, size) and check the status and that the message names the file, is one line,
 * and contains `what`. Frees b. */
static void expect_at(int line, unsigned char *b, size_t size, unsigned flags, sculpt_status want,
                      const char *what) {
    char err[1024];
    memset(err, 'z', sizeof err);
    err[sizeof err - 1] = 0;
    sculpt_model *m = NULL;
    sculpt_status st = sculpt_model_open_memory(b, size, NAME, flags, &m, err, sizeof err);
    if (getenv("WF_VERBOSE")) fprintf(stderr, "line %d: status %d: %s\n", line, (int)st, st ? err : "ok");
    if (want == SCULPT_OK) {
        if (st != SCULPT_OK || !m) {
            fprintf(stderr, "line %d: expected OK, got %d: %s\n", line, (int)st, err);
            test_failures++;
        }
        sculpt_model_close(m);
    } else {
        int ok = st == want && m == NULL && strncmp(err, NAME ": ", strlen(NAME) + 2) == 0 &&
                 strchr(err, '\n') == NULL && (!what || strstr(err, what));
        if (!ok) {
            fprintf(stderr, "line %d: expected status %d with '%s', got %d: %s\n", line, (int)want,
                    what ? what : "", (int)st, err);
            test_failures++;
        }
        sculpt_model_close(m);
    }
    free(b);
}
#define EXPECT(b, size, want, what) expect_at(__LINE__, b, size, 0, want, what)

/* Set a 32/64-bit field (optionally re-sealing both checksums) and expect a failure. */
static void field32(int line, size_t off, uint32_t v, int reseal, sculpt_status want, const char *what) {
    unsigned char *b = fresh(good_size);
    wt_put32(b + off, v);
    if (reseal) wt_reseal(b, good_size);
    expect_at(line, b, good_size, 0, want, what);
}
static void field64(int line, size_t off, uint64_t v, int reseal, sculpt_status want, const char *what) {
    unsigned char *b = fresh(good_size);
    wt_put64(b + off, v);
    if (reseal) wt_reseal(b, good_size);
    expect_at(line, b, good_size, 0, want, what);
}
static void fieldf(int line, size_t off, float f, sculpt_status want, const char *what) {
    uint32_t u;
    memcpy(&u, &f, 4);
    field32(line, off, u, 1, want, what);
}
#define F32(off, v, want, what) field32(__LINE__, off, v, 1, want, what)
#define F64(off, v, want, what) field64(__LINE__, off, v, 1, want, what)
#define FF(off, v, want, what) fieldf(__LINE__, off, v, want, what)

static void header_fields(void) {
    const uint64_t n = good_size;
    /* magic, version */
    for (int i = 0; i < 8; i++) {
        unsigned char *b = fresh(n);
        b[i] ^= 0x20;
        EXPECT(b, n, SCULPT_E_FORMAT, "magic");
    }
    F32(8, 2, SCULPT_E_UNSUPPORTED, "version 2 is newer");
    field32(__LINE__, 8, 2, 0, SCULPT_E_UNSUPPORTED, "version 2"); /* before any checksum */
    F32(8, 0xffffffffu, SCULPT_E_UNSUPPORTED, "version 4294967295");
    F32(8, 0, SCULPT_E_FORMAT, "version 0");
    F32(12, 256, SCULPT_E_FORMAT, "header_size 256");
    F32(12, 0, SCULPT_E_FORMAT, "header_size 0");
    F64(16, n + 1, SCULPT_E_FORMAT, "truncated");
    F64(16, n - 1, SCULPT_E_FORMAT, "file size");
    F64(16, UINT64_MAX, SCULPT_E_FORMAT, "file size");
    F64(24, 576, SCULPT_E_FORMAT, "table_offset 576");
    F64(24, 0, SCULPT_E_FORMAT, "table_offset 0");
    F32(32, 0, SCULPT_E_FORMAT, "n_tensors 0");
    F32(32, 0xffffffffu, SCULPT_E_FORMAT, "n_tensors 4294967295");
    F32(32, 65536, SCULPT_E_FORMAT, "tensor table"); /* fits the limit, not the file */
    F32(32, (uint32_t)spec.n_tensors + 1, SCULPT_E_FORMAT, "schedule_offset");
    F32(32, (uint32_t)spec.n_tensors - 1, SCULPT_E_FORMAT, "schedule_offset");
    F32(36, 64, SCULPT_E_FORMAT, "entry_size 64");
    F64(40, sched_off + 8, SCULPT_E_FORMAT, "schedule_offset");
    F64(40, UINT64_MAX - 7, SCULPT_E_FORMAT, "schedule_offset");
    F64(48, meta_off + 8, SCULPT_E_FORMAT, "metadata_offset");
    F64(48, UINT64_MAX, SCULPT_E_FORMAT, "metadata_offset");
    F64(56, UINT64_MAX, SCULPT_E_FORMAT, "metadata_size");
    F64(56, 1u << 20, SCULPT_E_FORMAT, "metadata: offset");
    F64(56, meta_size + 100, SCULPT_E_FORMAT, "data_offset");
    F64(56, 0, SCULPT_E_FORMAT, "data_offset");
    F64(64, data_off + 64, SCULPT_E_FORMAT, "data_offset");
    F64(64, data_off - 64, SCULPT_E_FORMAT, "data_offset");
    F64(64, UINT64_MAX - 63, SCULPT_E_FORMAT, "data_offset");
    F64(72, n - data_off - 64, SCULPT_E_FORMAT, "data_size");
    F64(72, n - data_off + 64, SCULPT_E_FORMAT, "data_size");
    F64(72, UINT64_MAX, SCULPT_E_FORMAT, "data_size");
    /* checksums */
    {
        unsigned char *b = fresh(n);
        b[80] ^= 1;
        reseal_header(b);
        EXPECT(b, n, SCULPT_E_FORMAT, "data checksum");
        b = fresh(n);
        b[80] ^= 1;
        reseal_header(b);
        expect_at(__LINE__, b, n, SCULPT_OPEN_NO_CHECKSUM, SCULPT_OK, NULL);
        b = fresh(n);
        b[88] ^= 0x80;
        EXPECT(b, n, SCULPT_E_FORMAT, "header checksum");
        b = fresh(n);
        b[80] ^= 1; /* data checksum field is covered by the header checksum */
        EXPECT(b, n, SCULPT_E_FORMAT, "header checksum");
        b = fresh(n);
        b[n - 1] ^= 1; /* last data byte (padding) */
        EXPECT(b, n, SCULPT_E_FORMAT, "data checksum");
        b = fresh(n);
        b[data_off] ^= 4; /* first tensor byte */
        EXPECT(b, n, SCULPT_E_FORMAT, "data checksum");
        b = fresh(n);
        b[data_off] ^= 4;
        expect_at(__LINE__, b, n, SCULPT_OPEN_NO_CHECKSUM, SCULPT_OK, NULL);
        b = fresh(n);
        b[meta_off] ^= 1; /* metadata is covered by the header checksum */
        EXPECT(b, n, SCULPT_E_FORMAT, "header checksum");
        b = fresh(n);
        b[sched_off + 4] ^= 1;
        EXPECT(b, n, SCULPT_E_FORMAT, "header checksum");
    }
    F32(96, 2, SCULPT_E_UNSUPPORTED, "arch 2");
    F32(96, 0, SCULPT_E_UNSUPPORTED, "arch 0");
    /* reserved bytes, each one */
    for (size_t i = 260; i < 288; i++) {
        unsigned char *b = fresh(n);
        b[i] = 1;
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "reserved header byte");
    }
    for (size_t i = 320; i < 512; i++) {
        unsigned char *b = fresh(n);
        b[i] = 0x80;
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "reserved header byte");
    }
    /* padding before the data section */
    if (meta_off + meta_size < data_off) {
        unsigned char *b = fresh(n);
        b[data_off - 1] = 1;
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "padding byte");
    }
}

static void config_fields(void) {
    const size_t c = 100;
    F32(c + 0, 0, SCULPT_E_UNSUPPORTED, "config: in_channels = 0");
    F32(c + 0, 4, SCULPT_E_FORMAT, "mis-shaped ('conv_in.weight' [16,3,3,3], expected [16,4,3,3])");
    F32(c + 4, 1, SCULPT_E_FORMAT, "mis-shaped");
    F32(c + 4, 0x80000000u, SCULPT_E_UNSUPPORTED, "out_channels");
    F32(c + 8, 7, SCULPT_E_UNSUPPORTED, "sample_size = 7 is not divisible"); /* 2 levels need even */
    F32(c + 8, 16, SCULPT_OK, NULL); /* sample size does not change any tensor */
    F32(c + 12, 9, SCULPT_E_UNSUPPORTED, "n_levels = 9");
    F32(c + 12, 1, SCULPT_E_UNSUPPORTED, "level 1 is set");
    F32(c + 12, 3, SCULPT_E_UNSUPPORTED, "block_out_channels[2] = 0");
    F32(c + 16 + 4, 48, SCULPT_E_FORMAT, "mis-shaped");
    F32(c + 16 + 4, 0, SCULPT_E_UNSUPPORTED, "block_out_channels[1] = 0");
    F32(c + 16 + 4 * 5, 16, SCULPT_E_UNSUPPORTED, "level 5 is set");
    F32(c + 48, 1, SCULPT_E_FORMAT, "missing ('down_blocks.0.attentions.0.group_norm.weight'");
    F32(c + 48 + 4, 0, SCULPT_E_FORMAT, "unexpected");
    F32(c + 48 + 4, 2, SCULPT_E_UNSUPPORTED, "attention flags");
    F32(c + 80, 0, SCULPT_E_FORMAT, "unexpected ('up_blocks.0.attentions.0");
    F32(c + 112, 2, SCULPT_E_FORMAT, "missing");
    F32(c + 112, 0, SCULPT_E_UNSUPPORTED, "layers_per_block = 0");
    F32(c + 116, 3, SCULPT_E_UNSUPPORTED, "norm_num_groups = 3");
    F32(c + 120, 0, SCULPT_E_UNSUPPORTED, "attn_norm_num_groups");
    FF(c + 124, NAN, SCULPT_E_UNSUPPORTED, "norm_eps");
    FF(c + 124, 0.0f, SCULPT_E_UNSUPPORTED, "norm_eps");
    FF(c + 124, 1e-5f, SCULPT_OK, NULL);
    F32(c + 128, 5, SCULPT_E_UNSUPPORTED, "attention_head_dim = 5");
    F32(c + 128, 0xffffffffu, SCULPT_E_UNSUPPORTED, "attention_head_dim = -1");
    F32(c + 132, 0, SCULPT_E_FORMAT, "unexpected ('mid_block.attentions.0");
    F32(c + 132, 7, SCULPT_E_UNSUPPORTED, "boolean");
    F32(c + 136, 2, SCULPT_E_UNSUPPORTED, "boolean");
    FF(c + 140, INFINITY, SCULPT_E_UNSUPPORTED, "freq_shift");
    F32(c + 144, 128, SCULPT_E_FORMAT, "mis-shaped ('time_embedding.linear_1.weight' [64,16], expected [128,16]");
    F32(c + 144, 0, SCULPT_E_UNSUPPORTED, "time_embed_dim");
    F32(c + 148, 1, SCULPT_E_FORMAT, "unexpected ('down_blocks.0.downsamplers.0.conv.weight'");
    F32(c + 148, 2, SCULPT_E_UNSUPPORTED, "downsample_type = 2");
    F32(c + 152, 2, SCULPT_E_UNSUPPORTED, "downsample_padding = 2");
    F32(c + 156, 3, SCULPT_E_UNSUPPORTED, "boolean");
}

static void schedule_fields(void) {
    const size_t s = 288;
    F32(s, 0, SCULPT_E_FORMAT, "num_train_timesteps 0");
    F32(s, 100001, SCULPT_E_FORMAT, "num_train_timesteps 100001");
    F32(s, 0x80000000u, SCULPT_E_FORMAT, "num_train_timesteps -2147483648");
    F32(s, T_STEPS - 1, SCULPT_E_FORMAT, "metadata_offset");
    F32(s, 5000, SCULPT_E_FORMAT, "metadata_offset");
    F32(s, 90000, SCULPT_E_FORMAT, "schedule tables");
    F32(s + 4, 4, SCULPT_E_FORMAT, "beta_schedule 4");
    F32(s + 4, 3, SCULPT_OK, NULL);
    FF(s + 8, -1.0f, SCULPT_E_FORMAT, "beta_start");
    FF(s + 8, NAN, SCULPT_E_FORMAT, "beta_start");
    FF(s + 12, 1.0f, SCULPT_E_FORMAT, "beta_end");
    FF(s + 12, INFINITY, SCULPT_E_FORMAT, "beta_end");
    F32(s + 16, 4, SCULPT_E_FORMAT, "variance_type 4");
    F32(s + 16, 0xffffffffu, SCULPT_E_FORMAT, "variance_type -1");
    F32(s + 20, 2, SCULPT_E_FORMAT, "clip_sample 2");
    FF(s + 24, 0.0f, SCULPT_E_FORMAT, "clip_sample_range");
    FF(s + 24, -1.0f, SCULPT_E_FORMAT, "clip_sample_range");
    FF(s + 24, NAN, SCULPT_E_FORMAT, "clip_sample_range");
    FF(s + 24, INFINITY, SCULPT_E_FORMAT, "clip_sample_range");
    F32(s + 28, 3, SCULPT_E_FORMAT, "prediction_type 3");
    F32(s + 28, 2, SCULPT_OK, NULL);
    /* the tables */
    const size_t betas = sched_off, ac = sched_off + 4 * T_STEPS;
    FF(betas + 4 * 5, 0.0f, SCULPT_E_FORMAT, "betas[5] = 0");
    FF(betas + 4 * 5, 1.0f, SCULPT_E_FORMAT, "betas[5] = 1");
    FF(betas + 4 * 5, NAN, SCULPT_E_FORMAT, "betas[5]");
    FF(betas + 4 * 10, 0.5f, SCULPT_E_FORMAT, "product");
    FF(ac + 4 * 3, 0.0f, SCULPT_E_FORMAT, "alphas_cumprod[3] = 0");
    FF(ac + 4 * 3, 1.5f, SCULPT_E_FORMAT, "alphas_cumprod[3] = 1.5");
    FF(ac + 4 * 0, -0.0f, SCULPT_E_FORMAT, "alphas_cumprod[0]");
    FF(ac + 4 * 7, 0.9999f, SCULPT_E_FORMAT, "non-increasing");
    FF(ac + 4 * (T_STEPS - 1), 0.5f, SCULPT_E_FORMAT, "alphas_cumprod[99]");
}

/* Rebuild the file with other metadata (same everything else). */
static void meta_case(int line, const char *text, sculpt_status want, const char *what) {
    wt_spec s = spec;
    s.metadata = text;
    size_t n;
    unsigned char *b = wt_build(&s, &n);
    expect_at(line, b, n, 0, want, what);
}
#define META(text, want, what) meta_case(__LINE__, text, want, what)

static void metadata(void) {
    META("", SCULPT_OK, NULL);
    META("a=\n", SCULPT_OK, NULL);
    META("a=b=c\n", SCULPT_OK, NULL);
    META("k=tab\there\n", SCULPT_OK, NULL);
    META("a=1\nb=2", SCULPT_E_FORMAT, "no '\\n'");
    META("a=1\nb2\n", SCULPT_E_FORMAT, "line 2 (offset");
    META("a=1\n\n", SCULPT_E_FORMAT, "no '='");
    META("=1\n", SCULPT_E_FORMAT, "empty key");
    META("a b=1\n", SCULPT_E_FORMAT, "byte 0x20");
    META("a=x\ra\n", SCULPT_E_FORMAT, "control byte 0x0d");
    META("a=\xff\n", SCULPT_E_FORMAT, "invalid UTF-8");
    META("a=\xc0\x80\n", SCULPT_E_FORMAT, "invalid UTF-8"); /* overlong NUL */
    META("a=\xed\xa0\x80\n", SCULPT_E_FORMAT, "invalid UTF-8"); /* surrogate */
    META("a=\xe2\x82\n", SCULPT_E_FORMAT, "invalid UTF-8"); /* cut sequence */
    META("a=\xf4\x90\x80\x80\n", SCULPT_E_FORMAT, "invalid UTF-8"); /* > U+10FFFF */
    META("a=\xe2\x82\xac \xf0\x9f\x98\x80\n", SCULPT_OK, NULL);
    META("a=1\nb=2\na=3\n", SCULPT_E_FORMAT, "key 'a' appears twice (lines 1 and 3)");
    {
        char key[80], val[4200];
        memset(key, 'k', 65);
        snprintf(key + 65, sizeof key - 65, "=v\n");
        META(key, SCULPT_E_FORMAT, "key of 65 bytes exceeds 64");
        memset(key, 'k', 64);
        snprintf(key + 64, sizeof key - 64, "=v\n");
        META(key, SCULPT_OK, NULL);
        val[0] = 'v';
        val[1] = '=';
        memset(val + 2, 'x', 4097);
        snprintf(val + 2 + 4097, sizeof val - 4099, "\n");
        META(val, SCULPT_E_FORMAT, "value of 4097 bytes exceeds 4096");
        val[2 + 4096] = '\n';
        val[2 + 4097] = 0;
        META(val, SCULPT_OK, NULL);
    }
    {
        /* Too many lines. */
        size_t cap = 1025 * 8 + 1;
        char *t = malloc(cap);
        size_t used = 0;
        for (int i = 0; i < 1025; i++) used += (size_t)snprintf(t + used, cap - used, "k%d=1\n", i);
        META(t, SCULPT_E_FORMAT, "more than 1024 lines");
        free(t);
    }
    /* A NUL inside the section: same size, edited in place. */
    {
        unsigned char *b = fresh(good_size);
        b[meta_off + 9] = 0; /* inside the first value */
        wt_reseal(b, good_size);
        EXPECT(b, good_size, SCULPT_E_FORMAT, "(NUL)");
    }
}

/* Edit table entry k of a fresh copy. */
static unsigned char *entry(unsigned char *b, int k) { return b + 512 + 128 * (size_t)k; }

static void entry32(int line, int k, size_t off, uint32_t v, sculpt_status want, const char *what) {
    field32(line, 512 + 128 * (size_t)k + off, v, 1, want, what);
}
static void entry64(int line, int k, size_t off, uint64_t v, sculpt_status want, const char *what) {
    field64(line, 512 + 128 * (size_t)k + off, v, 1, want, what);
}
#define E32(k, off, v, want, what) entry32(__LINE__, k, off, v, want, what)
#define E64(k, off, v, want, what) entry64(__LINE__, k, off, v, want, what)

static void table_fields(void) {
    const size_t n = good_size;
    const int last = spec.n_tensors - 1;
    /* k = 0 is conv_in.weight [16,3,3,3] f32; k = 1 conv_in.bias [16] f32 */
    unsigned char *g = good;
    const uint64_t off0 = wt_get64(entry(g, 0) + 104);
    const uint64_t offl = wt_get64(entry(g, last) + 104);
    char msg[200];
    {
        unsigned char *b = fresh(n);
        memset(entry(b, 3), 'a', 80);
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "entry 3 (offset 896): name is not NUL-terminated");
        b = fresh(n);
        memset(entry(b, 3), 0, 80);
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "entry 3 (offset 896): empty name");
        b = fresh(n);
        entry(b, 3)[2] = 0x01;
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "name byte 2 is 0x01");
        b = fresh(n);
        entry(b, 3)[2] = ' ';
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "name byte 2 is 0x20");
        b = fresh(n);
        entry(b, 3)[4] = 0xc3;
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "not printable");
        b = fresh(n);
        entry(b, 3)[79] = 'x';
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "name padding byte 79");
        /* a renamed tensor: one missing, one unexpected */
        b = fresh(n);
        entry(b, 1)[0] = 'k';
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "1 missing ('conv_in.bias'), 1 unexpected ('konv_in.bias'), 0 mis-shaped");
        /* a duplicate name */
        b = fresh(n);
        memcpy(entry(b, 1), entry(b, 0), 80);
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "'conv_in.weight' appears twice");
    }
    E32(0, 80, 3, SCULPT_E_FORMAT, "tensor 'conv_in.weight': dtype 3 is unknown");
    E32(0, 80, 0xffffffffu, SCULPT_E_FORMAT, "dtype 4294967295 is unknown");
    E32(0, 80, 1, SCULPT_E_FORMAT, "tensor 'conv_in.weight': nbytes 1728 != 432 elements * 2 bytes");
    E32(0, 84, 0, SCULPT_E_FORMAT, "ndim 0");
    E32(0, 84, 5, SCULPT_E_FORMAT, "ndim 5");
    E32(0, 84, 3, SCULPT_E_FORMAT, "shape[3] = 3 beyond ndim 3");
    E32(1, 84, 2, SCULPT_E_FORMAT, "tensor 'conv_in.bias': shape[1] is 0");
    E32(0, 88 + 4, 0, SCULPT_E_FORMAT, "shape[1] is 0");
    E32(1, 88 + 12, 7, SCULPT_E_FORMAT, "shape[3] = 7 beyond ndim 1");
    {
        unsigned char *b = fresh(n);
        for (int d = 0; d < 4; d++) wt_put32(entry(b, 0) + 88 + 4 * d, 0xffffffffu);
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "element count overflows");
        b = fresh(n);
        for (int d = 0; d < 4; d++) wt_put32(entry(b, 0) + 88 + 4 * d, d < 2 ? 0xffffffffu : 1);
        wt_put64(entry(b, 0) + 112, 0); /* product * 4 wraps past 2^64 */
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "nbytes 0");
        /* a shape whose byte count is consistent but does not match the config */
        b = fresh(n);
        wt_put32(entry(b, 0) + 88 + 12, 1);
        wt_put64(entry(b, 0) + 112, 16 * 3 * 3 * 4);
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "0 missing, 0 unexpected, 1 mis-shaped ('conv_in.weight' [16,3,3,1], expected [16,3,3,3])");
    }
    E64(0, 112, 1728 + 2, SCULPT_E_FORMAT, "nbytes 1730 != 432 elements * 4 bytes");
    E64(0, 112, 0, SCULPT_E_FORMAT, "nbytes 0");
    E64(0, 120, 1, SCULPT_E_FORMAT, "reserved field is 0x1");
    E64(5, 120, 1ull << 63, SCULPT_E_FORMAT, "reserved field");
    E64(0, 104, off0 + 4, SCULPT_E_FORMAT, "is not a multiple of 64");
    E64(0, 104, off0 - 64, SCULPT_E_FORMAT, "is before the data section");
    E64(0, 104, 0, SCULPT_E_FORMAT, "is before the data section");
    snprintf(msg, sizeof msg, "tensor 'conv_out.bias': offset %llu + %llu > file size %llu", (unsigned long long)n,
             (unsigned long long)wt_get64(entry(g, last) + 112), (unsigned long long)n);
    E64(last, 104, n, SCULPT_E_FORMAT, msg);
    E64(last, 104, UINT64_MAX - 63, SCULPT_E_FORMAT, "> file size");
    E64(last, 112, UINT64_MAX - 1, SCULPT_E_FORMAT, "nbytes");
    snprintf(msg, sizeof msg, "tensor 'conv_in.bias': offset %llu overlaps 'conv_in.weight' which ends at %llu",
             (unsigned long long)(off0 + 64), (unsigned long long)(off0 + 1728));
    E64(1, 104, off0 + 64, SCULPT_E_FORMAT, msg);
    E64(1, 104, off0, SCULPT_E_FORMAT, "overlaps");
    E64(2, 104, off0, SCULPT_E_FORMAT, "sorted by offset");
    E64(last, 104, offl - 64, SCULPT_E_FORMAT, "overlaps");
    {
        /* Entries swapped: each one is fine alone, the order is not. */
        unsigned char *b = fresh(n);
        unsigned char tmp[128];
        memcpy(tmp, entry(b, 4), 128);
        memcpy(entry(b, 4), entry(b, 5), 128);
        memcpy(entry(b, 5), tmp, 128);
        wt_reseal(b, n);
        EXPECT(b, n, SCULPT_E_FORMAT, "sorted by offset");
    }
}

/* Rebuild with an edited tensor list. */
static void set_case(int line, int drop, const char *extra, int reshape, sculpt_status want, const char *what) {
    wt_spec s = spec;
    s.tensors = calloc((size_t)spec.n_tensors + 1, sizeof *s.tensors);
    memcpy(s.tensors, spec.tensors, (size_t)spec.n_tensors * sizeof *s.tensors);
    if (drop >= 0) {
        memmove(&s.tensors[drop], &s.tensors[drop + 1], (size_t)(s.n_tensors - drop - 1) * sizeof *s.tensors);
        s.n_tensors--;
    }
    if (extra) {
        wt_tensor *t = &s.tensors[s.n_tensors++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", extra);
        t->ndim = 2;
        t->shape[0] = 4;
        t->shape[1] = 4;
    }
    if (reshape >= 0) {
        s.tensors[reshape].ndim = 2;
        s.tensors[reshape].shape[1] = 1;
    }
    size_t n;
    unsigned char *b = wt_build(&s, &n);
    free(s.tensors);
    expect_at(line, b, n, 0, want, what);
}

static void tensor_set(void) {
    const int last = spec.n_tensors - 1;
    set_case(__LINE__, last, NULL, -1, SCULPT_E_FORMAT, "1 missing ('conv_out.bias'), 0 unexpected, 0 mis-shaped");
    set_case(__LINE__, 0, NULL, -1, SCULPT_E_FORMAT, "1 missing ('conv_in.weight')");
    set_case(__LINE__, -1, "extra.weight", -1, SCULPT_E_FORMAT, "0 missing, 1 unexpected ('extra.weight'), 0 mis-shaped");
    set_case(__LINE__, 0, "extra.weight", -1, SCULPT_E_FORMAT, "1 missing ('conv_in.weight'), 1 unexpected ('extra.weight')");
    set_case(__LINE__, -1, NULL, 1, SCULPT_E_FORMAT, "1 mis-shaped ('conv_in.bias' [16,1], expected [16])");
    set_case(__LINE__, -1, "conv_in.bias", -1, SCULPT_E_FORMAT, "'conv_in.bias' appears twice");
    /* An 80-byte name leaves no NUL in the field. */
    char long_name[81];
    memset(long_name, 'n', 80);
    long_name[80] = 0;
    set_case(__LINE__, -1, long_name, -1, SCULPT_E_FORMAT, "not NUL-terminated within 80 bytes");
    long_name[79] = 0;
    set_case(__LINE__, -1, long_name, -1, SCULPT_E_FORMAT, "1 unexpected ('nnnnnnnn");
    {
        /* Many missing: the list is cut after four names. */
        wt_spec s = spec;
        s.n_tensors = 10;
        size_t n;
        unsigned char *b = wt_build(&s, &n);
        char missing[32];
        snprintf(missing, sizeof missing, "%d missing (", spec.n_tensors - 10);
        expect_at(__LINE__, b, n, 0, SCULPT_E_FORMAT, missing);
        b = wt_build(&s, &n);
        expect_at(__LINE__, b, n, 0, SCULPT_E_FORMAT, ", ...), 0 unexpected");
    }
}

int main(void) {
    if (wt_spec_tiny(&spec, T_STEPS)) return 1;
    good = wt_build(&spec, &good_size);
    if (!good) return 1;
    data_off = wt_get64(good + 64);
    meta_off = wt_get64(good + 48);
    meta_size = wt_get64(good + 56);
    sched_off = wt_get64(good + 40);
    expect_at(__LINE__, fresh(good_size), good_size, 0, SCULPT_OK, NULL); /* the base is valid */
    header_fields();
    config_fields();
    schedule_fields();
    metadata();
    table_fields();
    tensor_set();
    free(good);
    wt_spec_free(&spec);
    TEST_DONE();
}
