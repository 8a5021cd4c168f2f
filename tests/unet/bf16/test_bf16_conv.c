/* test_bf16_conv.c — conv2d_bf16_run on every bf16 kernel this machine can run (bf16_test.h)
 * over edge shapes on both paths (direct: ic a multiple of 32, 3x3 and 1x1 at stride 1
 * and 2, pad 1, (0,1,0,1), (0,2), 0 and 2, widths multiple of 16 and not, down to 1,
 * several channel blocks; general: odd channel counts), n 1..3, channels not multiples of mr, K not a multiple of the k group,
 * K and N over several k and column blocks, every epilogue term: against conv2d_ref in f32 on the same
 * bf16-rounded x and w (then only the summation order differs: rel L2 < 1e-5), against
 * conv2d_ref on the unrounded data (bf16's own error, about 2^-8: < 1e-2), and
 * bit-identical at 1, 2 and 3 threads. */
#include "bf16_test.h"
#include "../conv_shapes.h"

static const cshape shapes[] = {
    CONV_EDGE_SHAPES,
    {4, 6, 3, 1, 0, 0, 0, 0, 5, 7, 1, 2},     {8, 9, 1, 2, 0, 0, 0, 0, 6, 6, 1, 4},
    {48, 40, 3, 1, 1, 1, 1, 1, 24, 24, 2, 7}, {64, 33, 3, 2, 0, 0, 1, 1, 16, 16, 3, 5},
    /* direct path */
    {32, 40, 3, 1, 1, 1, 1, 1, 16, 16, 2, 7},  {64, 33, 3, 1, 1, 1, 1, 1, 32, 32, 1, 1},
    {96, 64, 3, 1, 1, 1, 1, 1, 8, 8, 3, 3},    {32, 16, 3, 1, 1, 1, 1, 1, 4, 4, 2, 5},
    {64, 48, 3, 1, 1, 1, 1, 1, 13, 7, 1, 7},   {32, 8, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {32, 8, 3, 1, 0, 2, 2, 0, 6, 9, 1, 2},     {288, 35, 1, 1, 0, 0, 0, 0, 16, 16, 2, 7},
    {64, 40, 1, 1, 0, 0, 0, 0, 5, 11, 3, 4},   {160, 64, 3, 1, 1, 1, 1, 1, 24, 40, 1, 0},
    {64, 40, 3, 2, 0, 0, 1, 1, 32, 32, 2, 7},  {96, 33, 3, 2, 0, 0, 1, 1, 16, 16, 1, 1},
    {32, 16, 3, 2, 1, 1, 1, 1, 9, 7, 3, 2},    {64, 24, 3, 2, 0, 0, 1, 1, 4, 4, 2, 5},
    {32, 20, 1, 2, 0, 0, 0, 0, 8, 10, 1, 4},   {32, 12, 3, 1, 0, 0, 0, 0, 10, 9, 1, 6},
    {32, 12, 3, 1, 2, 2, 2, 2, 5, 6, 2, 1},
};

static double worst_same = 0, worst_f32 = 0;
static int direct_seen = 0;

static void test_conv(const bf16_kernel *k) {
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const cshape *c = &shapes[t];
        conv_shape s;
        CHECK(conv_shape_init(&s, c->ic, c->oc, c->k, c->stride, c->pt, c->pl, c->pb, c->pr, c->h, c->w) == 0);
        const int K = c->ic * c->k * c->k, N = s.oh * s.ow;
        const size_t nx = (size_t)c->n * c->ic * c->h * c->w, nw = (size_t)c->oc * K;
        const size_t ny = (size_t)c->n * c->oc * N;
        float *x = rand_buf(nx), *w = rand_buf(nw), *xr = malloc(nx * sizeof(float)), *wr = malloc(nw * sizeof(float));
        for (size_t i = 0; i < nx; i++) xr[i] = bf16_round_f32(x[i]);
        for (size_t i = 0; i < nw; i++) wr[i] = bf16_round_f32(w[i]);
        float *bias = rand_buf((size_t)c->oc), *add = rand_buf((size_t)c->n * (c->oc + 2));
        float *res = rand_buf(ny);
        const conv_epilogue e = {(c->epi & 1) ? bias : NULL, (c->epi & 2) ? add : NULL, c->oc + 2,
                                 (c->epi & 4) ? res : NULL};
        float *y_same = malloc(ny * sizeof(float)), *y_f32 = malloc(ny * sizeof(float));
        conv2d_ref(&s, c->n, xr, wr, &e, y_same);
        conv2d_ref(&s, c->n, x, w, &e, y_f32);
        void *pa = malloc(bf16_conv_packed_bytes(k, &s));
        bf16_conv_pack(k, &s, w, SCULPT_DT_F32, pa);
        const size_t stride = conv2d_bf16_scratch_bytes(k, &s);
        direct_seen += bf16_conv_direct_block(k, &s) > 0;
        void *scratch = malloc(stride * 3);
        float *y[3];
        for (int th = 0; th < 3; th++) {
            y[th] = malloc(ny * sizeof(float));
            for (size_t i = 0; i < ny; i++) y[th][i] = NAN; /* every output must be written */
            conv2d_bf16_run(k, &s, c->n, x, pa, &e, y[th], scratch, stride, th + 1);
        }
        const double es = test_rel_l2(y[0], y_same, ny), ef = test_rel_l2(y[0], y_f32, ny);
        CHECKF(es < 1e-5, "%s conv %zu (ic=%d oc=%d k=%d s=%d %dx%d n=%d): rel L2 %.3g vs f32 on bf16 inputs",
               k->name, t, c->ic, c->oc, c->k, c->stride, c->h, c->w, c->n, es);
        CHECKF(ef < 1e-2, "%s conv %zu: rel L2 %.3g vs f32", k->name, t, ef);
        CHECKF(memcmp(y[0], y[1], ny * sizeof(float)) == 0, "%s conv %zu: 1 vs 2 threads differ", k->name, t);
        CHECKF(memcmp(y[0], y[2], ny * sizeof(float)) == 0, "%s conv %zu: 1 vs 3 threads differ", k->name, t);
        if (es > worst_same) worst_same = es;
        if (ef > worst_f32) worst_f32 = ef;
        free(x); free(w); free(xr); free(wr); free(bias); free(add); free(res);
        free(y_same); free(y_f32); free(pa); free(scratch);
        for (int th = 0; th < 3; th++) free(y[th]);
    }
}

int main(void) {
    bf16_kernel ks[BF16_TEST_MAX_KERNELS];
    const int nk = bf16_test_kernels(ks);
    for (int i = 0; i < nk; i++) test_conv(&ks[i]);
    printf("worst rel L2: %.3g vs f32 on the same bf16 inputs, %.3g vs f32 (%d direct-path cases)\n",
           worst_same, worst_f32, direct_seen);
    CHECK(direct_seen >= 18 * nk);
#if defined(BF16_TEST_EMU)
    CHECKF(bf16_amx_emu_faults() == 0, "the AMX kernel did %d things the hardware faults on",
           bf16_amx_emu_faults());
#endif
    TEST_DONE();
}
