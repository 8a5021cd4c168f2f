/* test_ops.c — every UNet op's fast path against its scalar reference (ops.h) over edge
 * shapes, on every GEMM kernel path this machine can run: the native ones the CPU supports
 * and, for ISAs it lacks, the same kernel source compiled with SIMDe emulation. Also checks
 * that results do not depend on the thread count. */
#include <math.h>
#include <stdint.h>

#include "ops/kernels.h"
#include "ops/ops.h"
#include "ops/pack.h"
#include "ops/vexp.h"
#include "sculpt.h"
#include "test.h"

#include "conv_shapes.h"
#include "emu_kernels.h"

static uint32_t rng = 12345;
static float frand(void) { /* uniform in [-1, 1) */
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 8388608.0)) - 1.0f;
}
static float *rand_buf(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

static void test_ukr(const gemm_kernel *kr) {
    const int kcs[] = {1, 7, 256};
    for (int t = 0; t < 3; t++) {
        const int kc = kcs[t], mr = kr->mr, nr = kr->nr, ldc = nr + 3;
        float *a = rand_buf((size_t)kc * mr), *b = rand_buf((size_t)kc * nr);
        float *c = rand_buf((size_t)mr * ldc), *c0 = malloc(sizeof(float) * mr * ldc);
        memcpy(c0, c, sizeof(float) * mr * ldc);
        for (int acc = 0; acc < 2; acc++) {
            memcpy(c, c0, sizeof(float) * mr * ldc);
            kr->ukr(kc, a, b, c, ldc, acc, NULL);
            double worst = 0;
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < ldc; j++) {
                    double want = acc || j >= nr ? c0[i * ldc + j] : 0.0, mag = 1.0;
                    if (j < nr)
                        for (int p = 0; p < kc; p++) {
                            want += (double)a[p * mr + i] * b[p * nr + j];
                            mag += fabs((double)a[p * mr + i] * b[p * nr + j]);
                        }
                    double e = fabs(c[i * ldc + j] - want) / mag;
                    if (e > worst) worst = e;
                }
            CHECKF(worst < 1e-6, "%s ukr kc=%d acc=%d: error %.3g", kr->name, kc, acc, worst);
            if (kr->ukr_half) { /* the same bits in its nr/2 columns, nothing past them */
                float *h = malloc(sizeof(float) * mr * ldc);
                memcpy(h, c0, sizeof(float) * mr * ldc);
                kr->ukr_half(kc, a, b, h, ldc, acc, NULL);
                int same = 1, kept = 1;
                for (int i = 0; i < mr; i++)
                    for (int j = 0; j < ldc; j++) {
                        if (j < nr / 2) same &= memcmp(&h[i * ldc + j], &c[i * ldc + j], 4) == 0;
                        else kept &= memcmp(&h[i * ldc + j], &c0[i * ldc + j], 4) == 0;
                    }
                CHECKF(same && kept, "%s half kernel kc=%d acc=%d: %s", kr->name, kc, acc,
                       !same ? "differs from the full kernel" : "wrote past nr/2 columns");
                free(h);
            }
        }
        for (int two = 0; two < 2; two++) { /* two A panels (ukr_half2, ukr2): each panel's
            * rows as the one-panel kernel's, bit for bit, with and without the epilogue (its
            * rows running on), nothing past 2mr rows or the kernel's columns written */
            const gemm_ukr2_fn f2 = two ? kr->ukr2 : kr->ukr_half2;
            const gemm_ukr_fn f1 = two ? kr->ukr : kr->ukr_half;
            if (!f2) continue;
            const int64_t a2 = (int64_t)kc * mr + 5; /* an odd gap between the panels */
            float *a12 = rand_buf((size_t)a2 + (size_t)kc * mr);
            const int rows2 = 2 * mr + 1;
            float *g = rand_buf((size_t)rows2 * ldc), *h = malloc(sizeof(float) * rows2 * ldc);
            float *r2 = rand_buf(4 * (size_t)mr), *res2 = rand_buf((size_t)rows2 * ldc);
            for (int terms = 0; terms < 8; terms++)
                for (int acc = 0; acc < 2; acc++) {
                    gemm_epi ep = {{terms & 1 ? r2 : NULL, terms & 2 ? r2 + 2 * mr : NULL},
                                   terms & 4 ? res2 : NULL, ldc};
                    gemm_epi ep1 = ep;
                    ep1.row[0] = ep.row[0] ? ep.row[0] + mr : NULL;
                    ep1.row[1] = ep.row[1] ? ep.row[1] + mr : NULL;
                    ep1.res = ep.res ? ep.res + (size_t)mr * ldc : NULL;
                    memcpy(h, g, sizeof(float) * rows2 * ldc);
                    f1(kc, a12, b, h, ldc, acc, terms ? &ep : NULL);
                    f1(kc, a12 + a2, b, h + (size_t)mr * ldc, ldc, acc, terms ? &ep1 : NULL);
                    float *c2 = malloc(sizeof(float) * rows2 * ldc);
                    memcpy(c2, g, sizeof(float) * rows2 * ldc);
                    f2(kc, a12, a2, b, c2, ldc, acc, terms ? &ep : NULL);
                    CHECKF(memcmp(c2, h, sizeof(float) * rows2 * ldc) == 0,
                           "%s two-panel %s kernel kc=%d acc=%d terms %d: differs from two "
                           "one-panel calls", kr->name, two ? "full" : "half", kc, acc, terms);
                    free(c2);
                }
            free(a12); free(g); free(h); free(r2); free(res2);
        }
        /* the epilogue in registers: the same bits as the terms added after the store, one
         * pass per term, for each subset of the terms */
        float *rows = rand_buf(2 * (size_t)mr);
        float *res = rand_buf((size_t)mr * ldc), *want = malloc(sizeof(float) * mr * ldc);
        for (int terms = 1; terms < 8; terms++)
            for (int acc = 0; acc < 2; acc++)
                for (int half = 0; half < (kr->ukr_half ? 2 : 1); half++) {
                    const gemm_ukr_fn f = half ? kr->ukr_half : kr->ukr;
                    const int w = half ? nr / 2 : nr;
                    gemm_epi ep = {{terms & 1 ? rows : NULL, terms & 2 ? rows + mr : NULL},
                                   terms & 4 ? res : NULL, ldc};
                    memcpy(want, c0, sizeof(float) * mr * ldc);
                    f(kc, a, b, want, ldc, acc, NULL);
                    for (int i = 0; i < mr; i++)
                        for (int j = 0; j < w; j++) {
                            float *v = &want[i * ldc + j];
                            if (terms & 1) *v = *v + rows[i];
                            if (terms & 2) *v = *v + rows[mr + i];
                            if (terms & 4) *v = *v + res[i * ldc + j];
                        }
                    memcpy(c, c0, sizeof(float) * mr * ldc);
                    f(kc, a, b, c, ldc, acc, &ep);
                    CHECKF(memcmp(c, want, sizeof(float) * mr * ldc) == 0,
                           "%s%s kernel kc=%d acc=%d: epilogue terms %d differ from the terms "
                           "added after the store", kr->name, half ? " half" : "", kc, acc, terms);
                }
        free(rows); free(res); free(want);
        free(a); free(b); free(c); free(c0);
    }
}

static void test_conv(const gemm_kernel *kr) {
    static const cshape cs[] = {CONV_EDGE_SHAPES};
    for (size_t t = 0; t < sizeof cs / sizeof cs[0]; t++) {
        const cshape *c = &cs[t];
        conv_shape s;
        CHECK(conv_shape_init(&s, c->ic, c->oc, c->k, c->stride, c->pt, c->pl, c->pb, c->pr, c->h, c->w) == 0);
        const int K = c->ic * c->k * c->k, N = s.oh * s.ow;
        float *x = rand_buf((size_t)c->n * c->ic * c->h * c->w), *w = rand_buf((size_t)c->oc * K);
        float *bias = rand_buf((size_t)c->oc), *add = rand_buf((size_t)c->n * (c->oc + 2));
        float *res = rand_buf((size_t)c->n * c->oc * N);
        const size_t ny = (size_t)c->n * c->oc * N;
        float *y0 = malloc(ny * sizeof(float)), *y1 = malloc(ny * sizeof(float)), *y3 = malloc(ny * sizeof(float));
        conv_epilogue e = {(c->epi & 1) ? bias : NULL, (c->epi & 2) ? add : NULL, c->oc + 2,
                           (c->epi & 4) ? res : NULL};
        conv2d_ref(&s, c->n, x, w, &e, y0);
        float *pa = malloc(gemm_packed_a_floats(c->oc, K, kr->mr) * sizeof(float));
        gemm_pack_a(w, SCULPT_DT_F32, c->oc, K, kr->mr, pa);
        const size_t stride = conv2d_scratch_floats(kr);
        float *scratch = malloc(stride * 3 * sizeof(float));
        conv2d_run(kr, &s, c->n, x, pa, &e, y1, scratch, stride, 1);
        conv2d_run(kr, &s, c->n, x, pa, &e, y3, scratch, stride, 3);
        double err = test_rel_l2(y1, y0, ny);
        CHECKF(err < 2e-6, "%s conv ic=%d oc=%d k=%d s=%d %dx%d n=%d: rel L2 %.3g", kr->name,
               c->ic, c->oc, c->k, c->stride, c->h, c->w, c->n, err);
        CHECKF(memcmp(y1, y3, ny * sizeof(float)) == 0, "%s conv %zu: 1 vs 3 threads differ", kr->name, t);
        /* scratch with room for a whole B past thread 0's area: one item's single column
         * block cut into M blocks packs B once for all of them (the same bits) */
        const size_t roomy = stride + (size_t)K * 256;
        float *big = malloc(roomy * 3 * sizeof(float));
        for (int th = 2; th <= 3; th++) {
            memset(y3, 0, ny * sizeof(float));
            conv2d_run(kr, &s, c->n, x, pa, &e, y3, big, roomy, th);
            CHECKF(memcmp(y1, y3, ny * sizeof(float)) == 0, "%s conv %zu: 1 vs %d threads (B "
                   "packed once) differ", kr->name, t, th);
        }
        free(big);
        if (c->n > 1) { /* one item per call: the same bits as the batch (items grouped or not) */
            const size_t nx1 = (size_t)c->ic * c->h * c->w, ny1 = (size_t)c->oc * N;
            for (int b = 0; b < c->n; b++) {
                conv_epilogue eb = e;
                if (eb.chan_add) eb.chan_add += (size_t)b * eb.chan_add_stride;
                if (eb.residual) eb.residual += (size_t)b * ny1;
                conv2d_run(kr, &s, 1, x + (size_t)b * nx1, pa, &eb, y3 + (size_t)b * ny1, scratch,
                           stride, 1);
            }
            CHECKF(memcmp(y1, y3, ny * sizeof(float)) == 0, "%s conv %zu: batch of %d vs one item "
                   "per call differ", kr->name, t, c->n);
        }
        free(x); free(w); free(bias); free(add); free(res); free(y0); free(y1); free(y3);
        free(pa); free(scratch);
    }
}

static void test_groupnorm(void) {
    static const int gs[][4] = {{1, 1, 1, 1}, {3, 6, 4, 3}, {2, 12, 1, 4}, {1, 32, 49, 8},
                                {3, 10, 15, 5}, {2, 64, 256, 32}};
    for (size_t t = 0; t < sizeof gs / sizeof gs[0]; t++) {
        const int n = gs[t][0], c = gs[t][1], hw = gs[t][2], g = gs[t][3];
        const size_t len = (size_t)n * c * hw;
        float *x = rand_buf(len), *gam = rand_buf((size_t)c), *bet = rand_buf((size_t)c);
        for (size_t i = 0; i < len; i++) x[i] = 3.0f * x[i] + 0.5f; /* offset mean */
        float *y0 = malloc(len * sizeof(float)), *y1 = malloc(len * sizeof(float)), *y2 = malloc(len * sizeof(float));
        for (int silu = 0; silu < 2; silu++) {
            groupnorm_ref(n, c, hw, g, 1e-6f, gam, bet, silu, x, y0);
            groupnorm_run(n, c, hw, g, 1e-6f, gam, bet, silu, x, y1, 1);
            groupnorm_run(n, c, hw, g, 1e-6f, gam, bet, silu, x, y2, 2);
            double err = test_rel_l2(y1, y0, len);
            CHECKF(err < 1e-6, "groupnorm n=%d c=%d hw=%d g=%d silu=%d: rel L2 %.3g", n, c, hw, g, silu, err);
            CHECK(memcmp(y1, y2, len * sizeof(float)) == 0);
        }
        /* closed form: one group of hw=1, c=1 normalises to beta */
        free(x); free(gam); free(bet); free(y0); free(y1); free(y2);
    }
    float x1[4] = {1, 2, 3, 4}, g1[1] = {1}, b1[1] = {0}, y[4];
    groupnorm_run(1, 1, 4, 1, 0.0f + 1e-12f, g1, b1, 0, x1, y, 1);
    const double sd = sqrt(1.25);
    CHECK(fabs(y[0] + 1.5 / sd) < 1e-6 && fabs(y[3] - 1.5 / sd) < 1e-6);
}

/* GroupNorm on the UNet's own shapes and on hard inputs: a large mean (1e3 and -3e4 with
 * std ~1: one-pass moments or a float mean lose ~1e-5 here), a first element far from the
 * rest, huge gamma (SiLU's exp saturates both ways); results equal for 1, 2 and 3 threads. */
static void test_groupnorm_hard(void) {
    static const int gs[][5] = {/* n, c, hw, groups, kind */
                                {1, 128, 1024, 32, 0}, {2, 512, 16, 32, 0}, {1, 384, 64, 32, 0},
                                {2, 64, 256, 32, 1},   {1, 96, 49, 32, 2},  {3, 64, 9, 32, 3},
                                {1, 32, 300, 4, 4},    {2, 256, 4, 32, 1}};
    double worst = 0.0;
    for (size_t t = 0; t < sizeof gs / sizeof gs[0]; t++) {
        const int n = gs[t][0], c = gs[t][1], hw = gs[t][2], g = gs[t][3], kind = gs[t][4];
        const size_t len = (size_t)n * c * hw;
        float *x = rand_buf(len), *gam = rand_buf((size_t)c), *bet = rand_buf((size_t)c);
        for (size_t i = 0; i < len; i++) {
            if (kind == 1) x[i] = 1000.0f + 1.7f * x[i];
            if (kind == 2) x[i] = -30000.0f + 2.0f * x[i];
            if (kind == 4) x[i] = 5e-3f * x[i] + 250.0f; /* std << |mean|, var near eps */
        }
        if (kind == 3) /* an outlier first in every group, and gammas that push |v| to ~500 */
            for (int i = 0; i < c; i++) gam[i] *= 200.0f;
        if (kind == 3)
            for (int b = 0; b < n; b++)
                for (int gi = 0; gi < g; gi++) x[((size_t)b * c + (size_t)gi * (c / g)) * hw] = 1e4f;
        float *y0 = malloc(len * sizeof(float)), *y1 = malloc(len * sizeof(float));
        float *y2 = malloc(len * sizeof(float)), *y3 = malloc(len * sizeof(float));
        for (int silu = 0; silu < 2; silu++) {
            groupnorm_ref(n, c, hw, g, 1e-6f, gam, bet, silu, x, y0);
            groupnorm_run(n, c, hw, g, 1e-6f, gam, bet, silu, x, y1, 1);
            groupnorm_run(n, c, hw, g, 1e-6f, gam, bet, silu, x, y2, 2);
            groupnorm_run(n, c, hw, g, 1e-6f, gam, bet, silu, x, y3, 3);
            const double err = test_rel_l2(y1, y0, len);
            worst = err > worst ? err : worst;
            CHECKF(err < 1e-6, "groupnorm n=%d c=%d hw=%d g=%d kind=%d silu=%d: rel L2 %.3g", n, c,
                   hw, g, kind, silu, err);
            int finite = 1;
            for (size_t i = 0; i < len; i++) finite &= isfinite(y1[i]) != 0;
            CHECKF(finite, "groupnorm kind=%d silu=%d: non-finite output", kind, silu);
            CHECK(memcmp(y1, y2, len * sizeof(float)) == 0);
            CHECK(memcmp(y1, y3, len * sizeof(float)) == 0);
        }
        free(x); free(gam); free(bet); free(y0); free(y1); free(y2); free(y3);
    }
    printf("groupnorm: worst rel L2 on hard inputs %.3g\n", worst);
}

/* The vectorisable SiLU and exp (vexp.h) against libm, over the whole float range that
 * matters: a few ulp where the value is normal, tiny (not NaN, not huge) where it is not. */
static void test_vexp(void) {
    double worst_silu = 0.0, worst_exp = 0.0;
    for (int i = -200000; i <= 200000; i++) {
        const float v = (float)i * 5e-4f; /* [-100, 100] */
        const double want = (double)v / (1.0 + exp(-(double)v));
        const float got = vsilu_f32(v);
        if (v > -87.0f) {
            const double e = fabs(got - want) / fabs(want);
            if (v != 0.0f && e > worst_silu) worst_silu = e;
        } else if (!(got <= 0.0f && got >= -1.5e-36f)) {
            CHECKF(0, "vsilu(%g) = %g: want 0 > y > -1.5e-36", (double)v, (double)got);
            break;
        }
        if (v <= 0.0f) {
            const double we = exp((double)v), ge = vexp_nonpos_f32(v);
            if (v > -87.0f && fabs(ge - we) / we > worst_exp) worst_exp = fabs(ge - we) / we;
            if (v <= -87.0f) CHECK(ge > 0.0 && ge < 2e-38);
        }
    }
    printf("vexp.h: worst relative error silu %.3g, exp %.3g\n", worst_silu, worst_exp);
    CHECKF(worst_silu < 6e-7, "vsilu_f32: worst relative error %.3g", worst_silu);
    CHECKF(worst_exp < 3e-7, "vexp_nonpos_f32: worst relative error %.3g", worst_exp);
    const float big[4] = {-1e30f, -INFINITY, 1e30f, INFINITY};
    CHECK(vsilu_f32(big[0]) <= 0.0f && vsilu_f32(big[0]) >= -1.5e-36f);
    CHECK(vsilu_f32(big[1]) <= 0.0f && vsilu_f32(big[1]) >= -1.5e-36f);
    CHECK(vsilu_f32(big[2]) == 1e30f && vsilu_f32(big[3]) == INFINITY);
    CHECK(vexp_nonpos_f32(big[1]) >= 0.0f && vexp_nonpos_f32(big[1]) < 2e-38f);
    CHECK(isnan(vsilu_f32(NAN)));
    CHECK(vsilu_f32(0.0f) == 0.0f && vexp_nonpos_f32(0.0f) == 1.0f);
    /* the block form (GroupNorm+SiLU) gives vsilu_f32's bits in every lane: the sweep
     * above, the specials and random values of every magnitude */
    float in[VSILU_BLK], out[VSILU_BLK];
    int differ = 0, blocks = 0;
    for (int i = -200000; i <= 200000; i += VSILU_BLK, blocks++) {
        for (int j = 0; j < VSILU_BLK; j++) in[j] = (float)(i + j) * 5e-4f;
        if (blocks % 7 == 0) { /* specials in some blocks */
            const float sp[10] = {NAN, -NAN, INFINITY, -INFINITY, -0.0f, 1e-40f, -1e-40f, -87.0f, -87.00001f, 88.7f};
            for (int j = 0; j < 10; j++) in[(blocks / 7 + 3 * j) % VSILU_BLK] = sp[j];
        }
        if (blocks % 5 == 0)
            for (int j = 0; j < VSILU_BLK; j += 2) in[j] = ldexpf(frand(), (int)(frand() * 40.0f));
        vsilu_block(in, out);
        for (int j = 0; j < VSILU_BLK; j++) {
            const float w = vsilu_f32(in[j]);
            differ += memcmp(&w, &out[j], sizeof w) != 0;
        }
    }
    CHECKF(differ == 0, "vsilu_block: %d of %d values differ from vsilu_f32", differ, blocks * VSILU_BLK);
}

static void test_linear(void) {
    static const int ls[][3] = {{1, 1, 1},   {3, 7, 13},    {2, 64, 33},   {1, 513, 17},
                                {3, 512, 512}, {16, 512, 256}, {5, 128, 9}, {16, 17, 700}};
    for (size_t t = 0; t < sizeof ls / sizeof ls[0]; t++) {
        const int n = ls[t][0], in = ls[t][1], out = ls[t][2];
        float *x = rand_buf((size_t)n * in), *w = rand_buf((size_t)out * in), *b = rand_buf((size_t)out);
        float *y0 = malloc(sizeof(float) * n * out), *y1 = malloc(sizeof(float) * n * out), *y2 = malloc(sizeof(float) * n * out);
        float *y3 = malloc(sizeof(float) * n * out);
        linear_ref(n, in, out, x, w, b, y0);
        linear_run(n, in, out, x, w, b, y1, 1);
        linear_run(n, in, out, x, w, b, y2, 2);
        linear_run(n, in, out, x, w, t % 2 ? NULL : b, y3, 3);
        double err = test_rel_l2(y1, y0, (size_t)n * out);
        CHECKF(err < 1e-6, "linear n=%d in=%d out=%d: rel L2 %.3g", n, in, out, err);
        CHECK(memcmp(y1, y2, sizeof(float) * n * out) == 0);
        if (t % 2 == 0) CHECK(memcmp(y1, y3, sizeof(float) * n * out) == 0);
        else {
            linear_ref(n, in, out, x, w, NULL, y0); /* no bias */
            err = test_rel_l2(y3, y0, (size_t)n * out);
            CHECKF(err < 1e-6, "linear n=%d in=%d out=%d no bias: rel L2 %.3g", n, in, out, err);
        }
        free(x); free(w); free(b); free(y0); free(y1); free(y2); free(y3);
    }
}

static void test_attention(const gemm_kernel *kr) {
    /* n, c, hw, heads: hw past one or several blocks of 2*nr query rows, with a partial
     * last block, and key counts that are not a multiple of mr (edge tiles) */
    static const int as[][4] = {{1, 1, 1, 1},    {3, 4, 4, 2},   {2, 12, 9, 3},   {1, 16, 49, 1},
                                {2, 8, 64, 4},   {1, 24, 144, 2}, {1, 40, 50, 1},  {1, 7, 131, 1},
                                {1, 64, 16, 1},  {1, 12, 200, 3}, {2, 18, 97, 2}};
    for (size_t t = 0; t < sizeof as / sizeof as[0]; t++) {
        const int n = as[t][0], c = as[t][1], hw = as[t][2], heads = as[t][3];
        const size_t len = (size_t)n * c * hw;
        float *q = rand_buf(len), *k = rand_buf(len), *v = rand_buf(len);
        for (size_t i = 0; i < len; i++) q[i] *= 4.0f; /* peaky softmax: the max matters */
        float *o0 = malloc(len * sizeof(float)), *o1 = malloc(len * sizeof(float)), *o2 = malloc(len * sizeof(float));
        float *o3 = malloc(len * sizeof(float));
        const size_t stride = attention_scratch_floats(kr, hw, c / heads);
        float *scr = malloc(stride * 3 * sizeof(float));
        attention_ref(n, c, hw, heads, q, k, v, o0);
        attention_run(kr, n, c, hw, heads, q, k, v, o1, scr, stride, 1);
        attention_run(kr, n, c, hw, heads, q, k, v, o2, scr, stride, 2);
        attention_run(kr, n, c, hw, heads, q, k, v, o3, scr, stride, 3);
        double err = test_rel_l2(o1, o0, len);
        CHECKF(err < 1e-6, "%s attention n=%d c=%d hw=%d heads=%d: rel L2 %.3g", kr->name, n, c, hw, heads, err);
        CHECK(memcmp(o1, o2, len * sizeof(float)) == 0);
        CHECK(memcmp(o1, o3, len * sizeof(float)) == 0);
        free(q); free(k); free(v); free(o0); free(o1); free(o2); free(o3); free(scr);
    }
    /* huge logits: subtracting the max keeps exp finite */
    float q[2] = {100.0f, 100.0f}, k[2] = {100.0f, 99.0f}, v[2] = {1.0f, 3.0f}, o[2];
    const size_t stride = attention_scratch_floats(kr, 2, 1);
    float *scr = malloc(stride * sizeof(float));
    attention_run(kr, 1, 1, 2, 1, q, k, v, o, scr, stride, 1);
    CHECK(isfinite(o[0]) && fabs(o[0] - 1.0) < 1e-6);
    free(scr);
}

static void test_resample(void) {
    const int n = 3, c = 2, h = 3, w = 5;
    float *x = rand_buf((size_t)n * c * h * w), *y = malloc(sizeof(float) * n * c * 4 * h * w);
    upsample_nearest2x(n, c, h, w, x, y, 1);
    int bad = 0;
    for (int p = 0; p < n * c; p++)
        for (int yy = 0; yy < 2 * h; yy++)
            for (int xx = 0; xx < 2 * w; xx++)
                bad += y[(p * 2 * h + yy) * 2 * w + xx] != x[(p * h + yy / 2) * w + xx / 2];
    CHECK(bad == 0);
    float *z = malloc(sizeof(float) * n * c * h * w);
    avgpool2x2(n, c, 2 * h, 2 * w, y, z); /* pooling the upsampled map gives x back */
    CHECK(memcmp(z, x, sizeof(float) * n * c * h * w) == 0);
    const float a[4] = {1, 2, 4, 8};
    float m;
    avgpool2x2(1, 1, 2, 2, a, &m);
    CHECK(m == 3.75f);
    float ab[6], cat[6] = {0};
    concat_channels(1, 2, 1, 2, (const float[]){1, 2, 3, 4}, (const float[]){5, 6}, cat, 2);
    memcpy(ab, (const float[]){1, 2, 3, 4, 5, 6}, sizeof ab);
    CHECK(memcmp(ab, cat, sizeof ab) == 0);
    /* maps big enough to be split over threads: the same copies for 1, 2 and 3 threads */
    for (int nt = 1; nt <= 3; nt++) {
        const int bn = 3, ca = 40, cb = 24, bhw = 1024, uh = 16, uw = 24;
        float *ba = rand_buf((size_t)bn * ca * bhw), *bb = rand_buf((size_t)bn * cb * bhw);
        float *bc = malloc(sizeof(float) * bn * (ca + cb) * bhw);
        concat_channels(bn, ca, cb, bhw, ba, bb, bc, nt);
        int wrong = 0;
        for (int i = 0; i < bn; i++)
            for (int ch = 0; ch < ca + cb; ch++)
                for (int p = 0; p < bhw; p++)
                    wrong += bc[((size_t)i * (ca + cb) + ch) * bhw + p] !=
                             (ch < ca ? ba[((size_t)i * ca + ch) * bhw + p] : bb[((size_t)i * cb + ch - ca) * bhw + p]);
        CHECKF(wrong == 0, "concat %d threads: %d values wrong", nt, wrong);
        float *ux = rand_buf((size_t)bn * ca * uh * uw), *uy = malloc(sizeof(float) * bn * ca * 4 * uh * uw);
        upsample_nearest2x(bn, ca, uh, uw, ux, uy, nt);
        wrong = 0;
        for (int p = 0; p < bn * ca; p++)
            for (int yy = 0; yy < 2 * uh; yy++)
                for (int xx = 0; xx < 2 * uw; xx++)
                    wrong += uy[((size_t)p * 2 * uh + yy) * 2 * uw + xx] != ux[((size_t)p * uh + yy / 2) * uw + xx / 2];
        CHECKF(wrong == 0, "upsample %d threads: %d values wrong", nt, wrong);
        free(ba); free(bb); free(bc); free(ux); free(uy);
    }
    float sum[3];
    add_f32(3, (const float[]){1, 2, 3}, (const float[]){0.5f, -2, 1e-8f}, sum);
    CHECK(sum[0] == 1.5f && sum[1] == 0.0f && sum[2] == 3.0f + 1e-8f);
    float sv[5] = {-100.0f, -1.0f, 0.0f, 1.0f, 30.0f};
    silu_inplace(5, sv);
    const double xs[5] = {-100, -1, 0, 1, 30};
    for (int i = 0; i < 5; i++) {
        const double want = xs[i] / (1.0 + exp(-xs[i]));
        CHECKF(fabs(sv[i] - want) <= 1e-6 * fabs(want) + 1e-30, "silu(%g) = %g, want %g", xs[i], sv[i], want);
        CHECK(silu_f32((float)xs[i]) == sv[i]);
    }
    free(x); free(y); free(z);
}

static void test_timestep(void) {
    const float t[4] = {0.0f, 1.0f, 250.37f, 999.0f};
    const int dim = 64, half = 32;
    float e0[4 * 64], e1[4 * 64];
    for (int shift = 0; shift < 2; shift++) {
        timestep_embedding(4, t, dim, 0, (float)shift, e0);
        timestep_embedding(4, t, dim, 1, (float)shift, e1);
        double worst = 0;
        for (int b = 0; b < 4; b++)
            for (int i = 0; i < half; i++) {
                double arg = t[b] * exp(-log(10000.0) * i / (half - shift));
                /* f32 rounding of t*freq allows |arg| * 2^-23 */
                double tol = 1e-6 + fabs(arg) * 2.4e-7;
                worst = fmax(worst, fabs(e0[b * dim + i] - sin(arg)) / tol);
                worst = fmax(worst, fabs(e0[b * dim + half + i] - cos(arg)) / tol);
                CHECK(e1[b * dim + i] == e0[b * dim + half + i]); /* flip_sin_to_cos */
                CHECK(e1[b * dim + half + i] == e0[b * dim + i]);
            }
        CHECKF(worst <= 4.0, "timestep embedding shift %d: error %.3g x tolerance", shift, worst);
    }
    CHECK(e0[0] == 0.0f && e0[half] == 1.0f); /* t = 0 */
}

static void test_dtypes(void) {
    const uint16_t h[5] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000};
    const float hf[5] = {1.0f, -2.0f, 5.9604644775390625e-08f, 65504.0f, -0.0f};
    const uint16_t bf[3] = {0x3f80, 0xc0a0, 0x0000};
    const float bff[3] = {1.0f, -5.0f, 0.0f};
    float out[5];
    pack_convert(h, SCULPT_DT_F16, 5, out);
    for (int i = 0; i < 5; i++) CHECKF(out[i] == hf[i] && signbit(out[i]) == signbit(hf[i]), "f16 %04x -> %g", h[i], out[i]);
    pack_convert(bf, SCULPT_DT_BF16, 3, out);
    for (int i = 0; i < 3; i++) CHECKF(out[i] == bff[i], "bf16 %04x -> %g", bf[i], out[i]);
    /* packing converts too: a 2x3 f16 matrix into mr = 6 panels */
    float pa[18];
    const uint16_t w[6] = {0x3c00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600}; /* 1..6 */
    gemm_pack_a(w, SCULPT_DT_F16, 2, 3, 6, pa);
    CHECK(pa[0] == 1.0f && pa[1] == 4.0f && pa[2] == 0.0f && pa[6] == 2.0f && pa[13] == 6.0f);
}

/* pack_b against the im2col matrix written out element by element: every conv shape, nr 8,
 * 16 and 32, column blocks that start and end inside an output row and k ranges that start
 * and end inside a channel; the columns past nc must be zero (junk there, NaN say, would
 * cost the kernels that multiply it). Covers both the plane path and the per-panel one. */
static void test_pack_b(void) {
    static const cshape cs[] = {CONV_EDGE_SHAPES};
    const int nrs[] = {8, 16, 32};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        const cshape *c = &cs[i];
        conv_shape s;
        CHECK(conv_shape_init(&s, c->ic, c->oc, c->k, c->stride, c->pt, c->pl, c->pb, c->pr, c->h, c->w) == 0);
        const int K = c->ic * c->k * c->k, N = s.oh * s.ow;
        float *x = rand_buf((size_t)c->ic * c->h * c->w);
        for (int t = 0; t < 3; t++) {
            const int nr = nrs[t];
            /* (k0, kc, n0, nc): everything, then a middle piece of each */
            const int k0s[2] = {0, K / 3}, kcs[2] = {K, K - K / 3 - K / 4 > 0 ? K - K / 3 - K / 4 : 1};
            const int n0s[2] = {0, N > 3 ? 3 : 0}, ncs[2] = {N < 256 ? N : 256, N - (N > 3 ? 3 : 0) > 37 ? 37 : N - (N > 3 ? 3 : 0)};
            for (int v = 0; v < 4; v++) {
                const int k0 = k0s[v & 1], kc = kcs[v & 1], n0 = n0s[v >> 1], nc = ncs[v >> 1];
                if (kc < 1 || nc < 1 || k0 + kc > K) continue;
                const int panels = (nc + nr - 1) / nr;
                float *d = malloc(sizeof(float) * (size_t)panels * kc * nr);
                for (size_t j = 0; j < (size_t)panels * kc * nr; j++) d[j] = NAN;
                pack_b(&s, x, k0, kc, n0, nc, nr, d);
                int bad = 0;
                for (int kk = 0; kk < kc; kk++) {
                    const int k = k0 + kk, ch = k / (c->k * c->k), ky = k % (c->k * c->k) / c->k, kx = k % c->k;
                    for (int j = 0; j < panels * nr; j++) {
                        float want = 0.0f;
                        if (j < nc) {
                            const int p = n0 + j, iy = p / s.ow * c->stride - c->pt + ky, ix = p % s.ow * c->stride - c->pl + kx;
                            if (iy >= 0 && iy < c->h && ix >= 0 && ix < c->w) want = x[((size_t)ch * c->h + iy) * c->w + ix];
                        }
                        const float got = d[(size_t)(j / nr) * kc * nr + (size_t)kk * nr + j % nr];
                        bad += !(got == want);
                    }
                }
                CHECKF(!bad, "pack_b shape %zu nr %d k0 %d kc %d n0 %d nc %d: %d values differ", i, nr, k0, kc, n0, nc, bad);
                free(d);
            }
        }
        free(x);
    }
}

int main(void) {
    int tested = 0;
    test_pack_b();
    for (int i = 0; i < gemm_kernel_count(); i++) {
        int ok = 0;
        const gemm_kernel *kr = gemm_kernel_at(i, &ok);
        if (!ok) {
            printf("SKIP native %s kernel: this CPU does not support it (its SIMDe-emulated build is tested below when available)\n", kr->name);
            continue;
        }
        printf("testing %s (%dx%d)\n", kr->name, kr->mr, kr->nr);
        test_ukr(kr);
        test_conv(kr);
        test_attention(kr);
        tested++;
    }
#if defined(UNET_TEST_EMU)
    for (size_t i = 0; i < sizeof emu / sizeof emu[0]; i++) {
        printf("testing %s (%dx%d)\n", emu[i].name, emu[i].mr, emu[i].nr);
        test_ukr(&emu[i]);
        test_conv(&emu[i]);
        test_attention(&emu[i]);
    }
#endif
    CHECK(tested >= 1);
    test_groupnorm();
    test_groupnorm_hard();
    test_vexp();
    test_linear();
    test_resample();
    test_timestep();
    test_dtypes();
    TEST_DONE();
}
