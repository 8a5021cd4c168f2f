/* test_model.c — properties of the public UNet API on the tiny fixtures: bit-identical
 * output for 1, 2 and 3 threads and for any batch split, no allocation during eval, and
 * every refusal path (bad options, bad arguments, unsupported configs) as a status code
 * with a message. */
#include <stdint.h>
#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h>
#endif

#include "format.h"
#include "ops/bf16/bf16.h"
#include "ops/kernels.h"
#include "unet_fixture.h"

static int cur_algo = SCULPT_CONV_AUTO; /* conv algorithm make_ctx asks for */

static sculpt_ctx *make_ctx(sculpt_model *m, int batch, int threads, const char *isa) {
    sculpt_ctx_options o = {batch, threads, SCULPT_PRECISION_F32, isa, cur_algo};
    sculpt_ctx *c = NULL;
    sculpt_status st = sculpt_ctx_create(m, &o, &c);
    CHECKF(st == SCULPT_OK, "ctx create: %s", sculpt_ctx_errmsg(NULL));
    return c;
}

/* 1 vs 2 vs 3 threads, and batch 3 vs items one at a time: the same bits. */
static void test_determinism(const char *dir, const char *weights, const char *input, int n) {
    sculpt_model *m = uopen(dir, weights);
    CHECK(m != NULL);
    if (!m) return;
    float *x = ufloats(dir, input, uimage_floats(m, n, 0));
    const size_t ny = uimage_floats(m, n, 1), per = ny / (size_t)n, perx = uimage_floats(m, 1, 0);
    float *ref = malloc(ny * sizeof(float)), *y = malloc(ny * sizeof(float));
    const float t[3] = {3.0f, 500.5f, 999.0f};
    for (int run = 0; run < 3 * gemm_kernel_count() && x; run++) {
        int ok = 0;
        const gemm_kernel *kr = gemm_kernel_at(run / 3, &ok);
        if (!ok) continue;
        cur_algo = run % 3; /* auto, direct, winograd */
        for (int th = 1; th <= 3; th++) {
            sculpt_ctx *c = make_ctx(m, n, th, kr->name);
            if (!c) continue;
            CHECK(sculpt_ctx_eval(c, n, x, t, th == 1 ? ref : y) == SCULPT_OK);
            if (th > 1)
                CHECKF(memcmp(ref, y, ny * sizeof(float)) == 0, "%s %s conv %d: %d threads differ from 1", weights, kr->name, cur_algo, th);
            sculpt_ctx_destroy(c);
        }
        sculpt_ctx *c = make_ctx(m, n, 2, kr->name);
        for (int i = 0; c && i < n; i++) {
            CHECK(sculpt_ctx_eval(c, 1, x + i * perx, t + i, y) == SCULPT_OK);
            CHECKF(memcmp(ref + i * per, y, per * sizeof(float)) == 0, "%s %s conv %d: item %d alone differs from batched", weights, kr->name, cur_algo, i);
        }
        sculpt_ctx_destroy(c);
    }
    cur_algo = SCULPT_CONV_AUTO;
    free(x); free(ref); free(y);
    sculpt_model_close(m);
}

static void test_no_alloc(const char *dir) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    sculpt_model *m = uopen(dir, "tiny.bin");
    if (!m) { CHECK(0); return; }
    float *x = ufloats(dir, "tiny_b2.in.f32", uimage_floats(m, 2, 0));
    float *y = malloc(uimage_floats(m, 2, 1) * sizeof(float));
    const float t[2] = {1.0f, 2.0f};
    sculpt_ctx *c = make_ctx(m, 2, 1, NULL);
    if (c && x) {
        CHECK(sculpt_ctx_eval(c, 2, x, t, y) == SCULPT_OK); /* warm-up */
        struct mallinfo2 a = mallinfo2();
        CHECK(sculpt_ctx_eval(c, 2, x, t, y) == SCULPT_OK);
        struct mallinfo2 b = mallinfo2();
        CHECKF(a.uordblks == b.uordblks && a.hblkhd == b.hblkhd, "eval allocated %zu bytes",
               (size_t)(b.uordblks - a.uordblks));
    }
    sculpt_ctx_destroy(c);
    free(x); free(y);
    sculpt_model_close(m);
#else
    (void)dir;
    printf("SKIP no-allocation check: needs glibc mallinfo2\n");
#endif
}

static void expect_create(sculpt_model *m, sculpt_ctx_options o, sculpt_status want, const char *word) {
    sculpt_ctx *c = NULL;
    sculpt_status st = sculpt_ctx_create(m, &o, &c);
    const char *msg = sculpt_ctx_errmsg(NULL);
    CHECKF(st == want, "create: got %d want %d (%s)", st, want, msg);
    CHECK(c == NULL);
    CHECKF(msg && strstr(msg, word), "message '%s' lacks '%s'", msg ? msg : "(null)", word);
    if (st == SCULPT_OK) sculpt_ctx_destroy(c);
}

static void test_refusals(const char *dir) {
    sculpt_model *m = uopen(dir, "tiny.bin");
    if (!m) { CHECK(0); return; }
    if (!bf16_kernel_select(NULL, NULL, NULL, 0)) /* this CPU has no AMX/AVX512-BF16 */
        expect_create(m, (sculpt_ctx_options){1, 1, SCULPT_PRECISION_BF16, NULL, 0}, SCULPT_E_CPU, "bf16");
    setenv("SCULPT_BF16_KERNEL", "bogus", 1);
    expect_create(m, (sculpt_ctx_options){1, 1, SCULPT_PRECISION_BF16, NULL, 0}, SCULPT_E_ARG, "SCULPT_BF16_KERNEL");
    unsetenv("SCULPT_BF16_KERNEL");
    expect_create(m, (sculpt_ctx_options){1, 1, SCULPT_PRECISION_F16, NULL, 0}, SCULPT_E_UNSUPPORTED, "precision");
    expect_create(m, (sculpt_ctx_options){1, 1, 77, NULL, 0}, SCULPT_E_ARG, "precision");
    expect_create(m, (sculpt_ctx_options){0, 1, 0, NULL, 0}, SCULPT_E_ARG, "max_batch");
    expect_create(m, (sculpt_ctx_options){1, -1, 0, NULL, 0}, SCULPT_E_ARG, "n_threads");
    expect_create(m, (sculpt_ctx_options){1, 1, 0, "sse9", 0}, SCULPT_E_ARG, "sse9");
    for (int i = 0; i < gemm_kernel_count(); i++) {
        int ok = 0;
        const gemm_kernel *kr = gemm_kernel_at(i, &ok);
        if (!ok) expect_create(m, (sculpt_ctx_options){1, 1, 0, kr->name, 0}, SCULPT_E_CPU, kr->name);
    }
#if defined(__x86_64__)
    expect_create(m, (sculpt_ctx_options){1, 1, 0, "neon", 0}, SCULPT_E_CPU, "neon");
#endif
    CHECK(sculpt_ctx_create(NULL, NULL, NULL) == SCULPT_E_ARG);
    /* SCULPT_ISA picks the path unless the options name one */
    setenv("SCULPT_ISA", "scalar", 1);
    sculpt_ctx *c = make_ctx(m, 2, 1, NULL);
    CHECK(c && strcmp(sculpt_ctx_isa(c), "scalar") == 0);
    sculpt_ctx_destroy(c);
    setenv("SCULPT_ISA", "bogus", 1);
    expect_create(m, (sculpt_ctx_options){1, 1, 0, NULL, 0}, SCULPT_E_ARG, "SCULPT_ISA");
    c = make_ctx(m, 2, 1, "scalar");
    CHECK(c && strcmp(sculpt_ctx_isa(c), "scalar") == 0);
    unsetenv("SCULPT_ISA");
    /* conv algorithm: option range, SCULPT_CONV picks only when the option is auto */
    expect_create(m, (sculpt_ctx_options){1, 1, 0, NULL, 3}, SCULPT_E_ARG, "conv_algo");
    expect_create(m, (sculpt_ctx_options){1, 1, 0, NULL, -1}, SCULPT_E_ARG, "conv_algo");
    setenv("SCULPT_CONV", "bogus", 1);
    expect_create(m, (sculpt_ctx_options){1, 1, 0, NULL, 0}, SCULPT_E_ARG, "SCULPT_CONV");
    setenv("SCULPT_CONV", "winograd", 1);
    {
        sculpt_ctx *cw = make_ctx(m, 1, 1, NULL);
        CHECK(cw && strcmp(sculpt_ctx_conv(cw), "winograd") == 0);
        sculpt_ctx_destroy(cw);
        cur_algo = SCULPT_CONV_DIRECT;
        cw = make_ctx(m, 1, 1, NULL);
        CHECK(cw && strcmp(sculpt_ctx_conv(cw), "direct") == 0);
        sculpt_ctx_destroy(cw);
        cur_algo = SCULPT_CONV_AUTO;
    }
    unsetenv("SCULPT_CONV");
    /* eval arguments */
    float x[2 * 3 * 16 * 16] = {0}, y[2 * 3 * 16 * 16], t[3] = {1, 2, 3};
    if (c) {
        CHECK(sculpt_ctx_arena_bytes(c) > 0);
        CHECK(sculpt_ctx_model(c) == m);
        CHECK(sculpt_ctx_intermediate(c, "conv_in", NULL, 0) == -1); /* nothing evaluated yet */
        CHECK(sculpt_ctx_eval(c, 3, x, t, y) == SCULPT_E_ARG);
        CHECK(strstr(sculpt_ctx_errmsg(c), "max_batch") != NULL);
        CHECK(sculpt_ctx_eval(c, 0, x, t, y) == SCULPT_E_ARG);
        CHECK(sculpt_ctx_eval(c, 1, NULL, t, y) == SCULPT_E_ARG);
        float bad[1] = {NAN};
        CHECK(sculpt_ctx_eval(c, 1, x, bad, y) == SCULPT_E_ARG);
        CHECK(strstr(sculpt_ctx_errmsg(c), "not finite") != NULL);
        CHECK(sculpt_ctx_eval(c, 2, x, t, y) == SCULPT_OK);
        CHECK(sculpt_ctx_intermediate(c, "no_such_block", NULL, 0) == -1);
        CHECK(sculpt_ctx_intermediate(c, "down_blocks.9", NULL, 0) == -1);
        CHECK(sculpt_ctx_intermediate(c, "up_blocks.0x", NULL, 0) == -1);
        CHECK(sculpt_ctx_intermediate(c, "mid_block", NULL, 0) == 2 * 16 * 4 * 4);
    }
    sculpt_ctx_destroy(c);
    sculpt_ctx_destroy(NULL);
    CHECK(sculpt_ctx_eval(NULL, 1, x, t, y) == SCULPT_E_ARG);
    CHECK(sculpt_ctx_isa(NULL) == NULL && sculpt_ctx_arena_bytes(NULL) == 0);
    sculpt_model_close(m);
}

/* A config the reader accepts but the UNet refuses: freq_shift equal to half the
 * embedding size (division by zero in the embedding), patched into tiny.bin. */
static void test_bad_config(const char *dir) {
    char path[1024];
    int pl = snprintf(path, sizeof path, "%s/tiny.bin", dir);
    if (pl < 0 || (size_t)pl >= sizeof path) { CHECK(0); return; }
    size_t len = 0;
    unsigned char *raw = test_read_file(path, &len);
    CHECK(raw != NULL && len > 512);
    if (!raw) return;
    unsigned char *buf = NULL;
    if (posix_memalign((void **)&buf, 64, len) != 0) { free(raw); CHECK(0); return; }
    memcpy(buf, raw, len);
    free(raw);
    const int c0 = (int)scw_rd32(buf + SCW_OFF_CONFIG + 4 * 4); /* block_out_channels[0] */
    scw_wrf32(buf + SCW_OFF_CONFIG + 35 * 4, (float)(c0 / 2));  /* freq_shift */
    scw_wr64(buf + SCW_OFF_HEADER_SUM, 0);
    uint64_t h = scw_sum_final(scw_sum_update(SCW_SUM_INIT, buf, scw_rd64(buf + SCW_OFF_DATA)));
    scw_wr64(buf + SCW_OFF_HEADER_SUM, h);
    sculpt_model *m = NULL;
    char err[512] = "";
    sculpt_status st = sculpt_model_open_memory(buf, len, "patched-tiny", 0, &m, err, sizeof err);
    CHECKF(st == SCULPT_OK, "open patched: %s", err);
    if (m) {
        expect_create(m, (sculpt_ctx_options){1, 1, 0, NULL, 0}, SCULPT_E_UNSUPPORTED, "freq_shift");
        sculpt_model_close(m);
    }
    free(buf);
}

/* precision bf16 through the whole network (convolutions and attention), against
 * PyTorch's f32 output, on tiny and on mha (heads of 4 channels): every bf16 kernel this
 * CPU runs, and the scalar oracle kernel (SCULPT_BF16_KERNEL=scalar) on any CPU. The error
 * must be bf16-sized (well above f32's ~1e-6: the bf16 path really ran) and below 2e-2;
 * 1, 2 and 3 threads give the same bits. */
static void test_bf16(const char *dir, const char *bin, const char *name, float t0, float t1) {
    sculpt_model *m = uopen(dir, bin);
    if (!m) { CHECK(0); return; }
    char in[64], out[64];
    snprintf(in, sizeof in, "%s.in.f32", name);
    snprintf(out, sizeof out, "%s.out.f32", name);
    float *x = ufloats(dir, in, uimage_floats(m, 2, 0));
    const size_t ny = uimage_floats(m, 2, 1);
    float *want = ufloats(dir, out, ny);
    float *y0 = malloc(ny * sizeof(float)), *y = malloc(ny * sizeof(float));
    const float t[2] = {t0, t1};
    for (int i = 0; i < bf16_kernel_count() && x && want; i++) {
        int ok = 0;
        const bf16_kernel *k = bf16_kernel_at(i, &ok);
        if (!ok) { printf("SKIP bf16 kernel %s: not supported by this CPU\n", bf16_kernel_name(k)); continue; }
        /* an open model packs its weights for one bf16 kernel: a fresh model per kernel */
        sculpt_model_close(m);
        m = uopen(dir, bin);
        if (!m) { CHECK(0); break; }
        setenv("SCULPT_BF16_KERNEL", bf16_kernel_name(k), 1);
        for (int th = 1; th <= 3; th++) {
            sculpt_ctx_options o = {2, th, SCULPT_PRECISION_BF16, NULL, 0};
            sculpt_ctx *c = NULL;
            sculpt_status st = sculpt_ctx_create(m, &o, &c);
            CHECKF(st == SCULPT_OK, "bf16 %s: %s", bf16_kernel_name(k), sculpt_ctx_errmsg(NULL));
            if (!c) continue;
            CHECK(strcmp(sculpt_ctx_isa(c), bf16_kernel_name(k)) == 0);
            CHECK(sculpt_ctx_eval(c, 2, x, t, th == 1 ? y0 : y) == SCULPT_OK);
            if (th == 1) {
                double e = test_rel_l2(y0, want, ny);
                printf("bf16 %-10s %s rel L2 vs torch f32 %.3g\n", bf16_kernel_name(k), name, e);
                CHECKF(e > 1e-5 && e < 2e-2, "bf16 %s: rel L2 %.3g vs f32 outside (1e-5, 2e-2)", bf16_kernel_name(k), e);
            } else {
                CHECKF(memcmp(y0, y, ny * sizeof(float)) == 0, "bf16 %s: %d threads differ from 1", bf16_kernel_name(k), th);
            }
            sculpt_ctx_destroy(c);
        }
    }
    /* a second bf16 kernel on a model already packed for another is refused, by name */
    char pk[64] = "";
    const char *packed = getenv("SCULPT_BF16_KERNEL"); /* m is packed for the last one run */
    if (packed) snprintf(pk, sizeof pk, "%s", packed);
    packed = packed ? pk : NULL;
    for (int i = 0; i < bf16_kernel_count() && m && packed; i++) {
        int ok = 0;
        const bf16_kernel *k = bf16_kernel_at(i, &ok);
        if (!ok || strcmp(bf16_kernel_name(k), packed) == 0) continue;
        setenv("SCULPT_BF16_KERNEL", bf16_kernel_name(k), 1);
        sculpt_ctx_options o = {1, 1, SCULPT_PRECISION_BF16, NULL, 0};
        sculpt_ctx *c = NULL;
        CHECK(sculpt_ctx_create(m, &o, &c) == SCULPT_E_UNSUPPORTED && c == NULL);
        CHECK(strstr(sculpt_ctx_errmsg(NULL), "already packed") != NULL);
        break;
    }
    unsetenv("SCULPT_BF16_KERNEL");
    free(x); free(want); free(y0); free(y);
    sculpt_model_close(m);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]); return 2; }
    test_bf16(argv[1], "tiny.bin", "tiny_b2", 10.0f, 765.25f);
    test_bf16(argv[1], "mha.bin", "mha_b2", 3.0f, 611.5f); /* heads of 4 channels */
    test_determinism(argv[1], "tiny.bin", "tiny_b3.in.f32", 3);
    test_determinism(argv[1], "mha.bin", "mha_b2.in.f32", 2);
    for (cur_algo = SCULPT_CONV_AUTO; cur_algo <= SCULPT_CONV_WINOGRAD; cur_algo++) test_no_alloc(argv[1]);
    cur_algo = SCULPT_CONV_AUTO;
    test_refusals(argv[1]);
    test_bad_config(argv[1]);
    TEST_DONE();
}
