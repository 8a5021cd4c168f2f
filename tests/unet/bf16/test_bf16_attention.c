/* test_bf16_attention.c — attention_bf16_run on every bf16 kernel this machine can run
 * (bf16_test.h): token counts below, at and past the kernels' 32-wide tiles and query
 * blocks (16, 64, 100, 256), heads of 32, 48 and 256 channels, 1 to 3 items. Against an
 * oracle in double that rounds q, k, v and the softmax's probabilities to bf16 where the
 * kernel does (then only f32 sums and the f32 softmax differ: rel L2 < 1e-5), against
 * attention_ref on the unrounded data (bf16's own error: < 2e-2, and > 1e-5 so the bf16
 * path really ran), and bit-identical at 1, 2 and 3 threads, with each thread's scratch
 * exactly attention_bf16_scratch_bytes long. */
#include <math.h>

#include "bf16_test.h"

typedef struct ashape { int n, c, hw, heads; float qs; } ashape;

static const ashape shapes[] = {
    {1, 32, 16, 1, 1.0f},  {2, 96, 64, 2, 2.0f},  {1, 64, 100, 2, 3.0f},
    {3, 32, 33, 1, 1.0f},  {1, 256, 256, 1, 1.0f}, {2, 64, 200, 1, 4.0f},
};

/* o = softmax(bf(q)^T bf(k) * scale) with each probability rounded to bf16, times bf(v):
 * sums and exp in double. */
static void oracle(const ashape *a, const float *q0, const float *k0, const float *v0, float *o) {
    const int dh = a->c / a->heads, hw = a->hw;
    const float scale = (float)(1.0 / sqrt((double)dh));
    const size_t nx = (size_t)a->n * a->c * hw;
    float *q = malloc(nx * sizeof(float)), *k = malloc(nx * sizeof(float)), *v = malloc(nx * sizeof(float));
    for (size_t i = 0; i < nx; i++) {
        q[i] = bf16_round_f32(q0[i]);
        k[i] = bf16_round_f32(k0[i]);
        v[i] = bf16_round_f32(v0[i]);
    }
    double *s = malloc((size_t)hw * sizeof(double));
    for (int b = 0; b < a->n; b++)
        for (int h = 0; h < a->heads; h++) {
            const int64_t base = ((int64_t)b * a->c + (int64_t)h * dh) * hw;
            for (int i = 0; i < hw; i++) {
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j < hw; j++) {
                    double d = 0.0;
                    for (int cc = 0; cc < dh; cc++)
                        d += (double)q[base + (int64_t)cc * hw + i] * (double)k[base + (int64_t)cc * hw + j];
                    s[j] = d;
                    if (d > mx) mx = d;
                }
                for (int j = 0; j < hw; j++) sum += s[j] = exp((s[j] - mx) * scale);
                for (int j = 0; j < hw; j++) s[j] = bf16_round_f32((float)(s[j] / sum));
                for (int cc = 0; cc < dh; cc++) {
                    double acc = 0.0;
                    for (int j = 0; j < hw; j++) acc += s[j] * (double)v[base + (int64_t)cc * hw + j];
                    o[base + (int64_t)cc * hw + i] = (float)acc;
                }
            }
        }
    free(s); free(q); free(k); free(v);
}

static double worst_same = 0, worst_f32 = 0;

static void test_shape(const ashape *a, size_t t, const bf16_kernel *ks, int nk) {
    const size_t nx = (size_t)a->n * a->c * a->hw;
    float *q = rand_buf(nx), *kk = rand_buf(nx), *v = rand_buf(nx);
    for (size_t i = 0; i < nx; i++) q[i] *= a->qs; /* sharper softmax rows */
    float *y_same = malloc(nx * sizeof(float)), *y_f32 = malloc(nx * sizeof(float));
    oracle(a, q, kk, v, y_same);
    attention_ref(a->n, a->c, a->hw, a->heads, q, kk, v, y_f32);
    for (int ki = 0; ki < nk; ki++) {
        const bf16_kernel *k = &ks[ki];
        const size_t stride = attention_bf16_scratch_bytes(k, a->hw, a->c / a->heads);
        float *y[3];
        for (int th = 0; th < 3; th++) {
            void *scratch = malloc(stride * (size_t)(th + 1));
            y[th] = malloc(nx * sizeof(float));
            for (size_t i = 0; i < nx; i++) y[th][i] = NAN; /* every output must be written */
            attention_bf16_run(k, a->n, a->c, a->hw, a->heads, q, kk, v, y[th], scratch, stride, th + 1);
            free(scratch);
        }
        /* the kernel's probabilities come from f32 scores and an f32 softmax: now and then
         * one rounds to the other neighbouring bf16 than the oracle's (2^-8 apart) */
        const double es = test_rel_l2(y[0], y_same, nx), ef = test_rel_l2(y[0], y_f32, nx);
        CHECKF(es < 2e-4, "%s attention %zu (n=%d c=%d hw=%d heads=%d): rel L2 %.3g vs the bf16 oracle",
               k->name, t, a->n, a->c, a->hw, a->heads, es);
        CHECKF(ef < 2e-2 && ef > 1e-5, "%s attention %zu: rel L2 %.3g vs f32", k->name, t, ef);
        CHECKF(memcmp(y[0], y[1], nx * sizeof(float)) == 0, "%s attention %zu: 1 vs 2 threads differ", k->name, t);
        CHECKF(memcmp(y[0], y[2], nx * sizeof(float)) == 0, "%s attention %zu: 1 vs 3 threads differ", k->name, t);
        if (es > worst_same) worst_same = es;
        if (ef > worst_f32) worst_f32 = ef;
        for (int th = 0; th < 3; th++) free(y[th]);
    }
    free(q); free(kk); free(v); free(y_same); free(y_f32);
}

int main(void) {
    bf16_kernel ks[BF16_TEST_MAX_KERNELS];
    const int nk = bf16_test_kernels(ks);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) test_shape(&shapes[t], t, ks, nk);
    printf("worst rel L2: %.3g vs the bf16 oracle, %.3g vs f32\n", worst_same, worst_f32);
#if defined(BF16_TEST_EMU)
    CHECKF(bf16_amx_emu_faults() == 0, "the AMX kernel did %d things the hardware faults on",
           bf16_amx_emu_faults());
#endif
    TEST_DONE();
}
