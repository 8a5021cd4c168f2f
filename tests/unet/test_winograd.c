/* test_winograd.c — the Winograd F(2x2,3x3) and F(4x4,3x3) convolutions (ops/winograd.h;
 * every shape runs with each tile forced) against the scalar oracle conv2d_ref over edge
 * shapes, on every GEMM kernel path this machine can run (native ones the CPU supports and,
 * under UNET_TEST_EMU, the SIMDe-emulated avx512/neon/avx2 kernels, as test_ops.c); the
 * weight transforms against a double-precision G g G^T, layout included, their ISA paths
 * (AVX2 natively, AVX-512 natively or SIMDe-emulated) bit for bit against the portable one;
 * the ISA input/output transforms bit for bit against the portable ones (in the conv; the
 * 16-tile AVX-512 F(4x4) ones also directly, SIMDe-emulated, and in the conv against the
 * 8-tile AVX2 ones where the CPU has AVX-512F); bit-identical results for any thread count
 * and any split of the batch, and between the precomputed-U path and the fused one
 * (conv2d_winograd_run_w, U made inside the GEMM tasks); wino_tile's choice by shape.
 * The checks can fail: in winograd.c, one 0.5f of G changed to 0.5001f failed 196 checks (U
 * and conv on every path); one sign flipped in the input transform, 170; in the output
 * transform, 175; the edge tiles' zero padding set to 1e-3, 185. F(4x4): a sign in the AVX2
 * input transform, 115; A^T's 2 as 2.001 in the portable output, 185; its edge padding 1e-3,
 * 215; G's -1/6 off by 1e-4, 7 (the U checks); the cut tile's rows crossed, 115; the column
 * the AVX2 input takes from the next tile off by one lane, 24 to 140 (before the 40- and
 * 72-wide shapes were added it failed none); the rows of the AVX2 output's second half
 * swapped, 95; the shared column block skipped when the halves are split, 55. AVX-512
 * F(4x4) (emulated): the quarters' last tiles' sixth column taken as their fifth, 4; two
 * output quarters' rows swapped, 1 (the direct check). */
#include <math.h>
#include <stdint.h>

#include "ops/kernels.h"
#include "ops/ops.h"
#include "ops/winograd.h"
#include "ops/winograd_int.h"
#include "sculpt.h"
#include "test.h"

#include "emu_kernels.h"

#define MAX_PATHS 8
/* rel L2 bound of F(4x4,3x3) against conv2d_ref (F(2x2): 3e-6): its transforms scale by up to
 * 5 and 8 where F(2x2)'s only add, so rounding grows; the worst measured over these shapes on
 * every path was 3.7e-6 (F(2x2): 1.25e-6) */
#define WINO4_TOL 1e-5
static const gemm_kernel *paths[MAX_PATHS];
static double worst[2][MAX_PATHS]; /* [m == 4][path] */
static int n_paths;

static uint32_t rng = 2024;
static float frand(void) { /* uniform in [-1, 1) */
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 8388608.0)) - 1.0f;
}
static float *rand_buf(size_t n, float scale) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = scale * frand();
    return p;
}

/* ---- weight transform vs G g G^T in double ---- */

/* G of F(2x2,3x3) and of F(4x4,3x3) (points 0, 1, -1, 2, -2), written out from the papers'
 * matrices, not from winograd*.c */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {{1 / 4., 0, 0},           {-1 / 6., -1 / 6., -1 / 6.},
                                {-1 / 6., 1 / 6., -1 / 6.}, {1 / 24., 1 / 12., 1 / 6.},
                                {1 / 24., -1 / 12., 1 / 6.}, {0, 0, 1}};

static void test_weights(int oc, int ic, int mr, int m) {
    float *w = rand_buf((size_t)oc * ic * 9, 1.0f);
    const int a = m + 2, np = a * a;
    const size_t nu = wino_u_floats(oc, ic, mr, m), xs = wino_u_stride(oc, ic, mr);
    const int panels = (oc + mr - 1) / mr;
    CHECK(nu == (size_t)np * xs && xs >= (size_t)panels * mr * ic);
    float *u = malloc(nu * sizeof(float)), *u3 = malloc(nu * sizeof(float));
    for (size_t i = 0; i < nu; i++) u[i] = u3[i] = NAN; /* every element must be written */
    wino_transform_weights(w, oc, ic, mr, m, u, 1);
    wino_transform_weights(w, oc, ic, mr, m, u3, 3);
    int same = 1; /* bit for bit, the padding between the matrices aside */
    for (int xi = 0; xi < np; xi++)
        same &= memcmp(u + xi * xs, u3 + xi * xs, (size_t)panels * mr * ic * sizeof(float)) == 0;
    CHECKF(same, "U m=%d oc=%d ic=%d mr=%d: 1 vs 3 threads", m, oc, ic, mr);
    wino_portable_weights = 1;
    for (size_t i = 0; i < nu; i++) u3[i] = NAN;
    wino_transform_weights(w, oc, ic, mr, m, u3, 2);
    wino_portable_weights = 0;
    same = 1;
    for (int xi = 0; xi < np; xi++)
        same &= memcmp(u + xi * xs, u3 + xi * xs, (size_t)panels * mr * ic * sizeof(float)) == 0;
    CHECKF(same, "U m=%d oc=%d ic=%d mr=%d: ISA vs portable transform", m, oc, ic, mr);
    double err = 0;
    int bad_pad = 0;
    for (int o = 0; o < panels * mr; o++)
        for (int c = 0; c < ic; c++) {
            const float *g = w + ((size_t)o * ic + c) * 9;
            for (int i = 0; i < a; i++)
                for (int j = 0; j < a; j++) {
                    /* panel o / mr, row c, lane o % mr of matrix xi = a i + j */
                    const size_t at = ((size_t)(o / mr) * ic + c) * mr + o % mr;
                    const float got = u[(a * i + j) * xs + at];
                    if (o >= oc) {
                        bad_pad += got != 0.0f;
                        continue;
                    }
                    double want = 0, mag = 1e-30;
                    for (int p = 0; p < 3; p++)
                        for (int q = 0; q < 3; q++) {
                            const double gi = m == 4 ? G4[i][p] : G2[i][p];
                            const double gj = m == 4 ? G4[j][q] : G2[j][q];
                            want += gi * g[p * 3 + q] * gj;
                            mag += fabs(gi * g[p * 3 + q] * gj);
                        }
                    const double e = fabs(got - want) / mag; /* NaN fails the check below */
                    if (!(e <= err)) err = e;
                }
        }
    /* m 2: at most 4 roundings of partial sums bounded by mag, 4 * 2^-24; m 4: 3 roundings
     * and the rounded constant (1/6 or 1/24) per axis, 8 * 2^-24 */
    const double tol = m == 4 ? 4.8e-7 : 2.5e-7;
    CHECKF(err <= tol, "U m=%d oc=%d ic=%d mr=%d: error %.3g x sum|terms|", m, oc, ic, mr, err);
    CHECKF(bad_pad == 0, "U m=%d oc=%d ic=%d mr=%d: %d padding rows not zero", m, oc, ic, mr,
           bad_pad);
    free(w); free(u); free(u3);
}

#if defined(UNET_TEST_EMU)
/* winograd_avx512.c's 16-lane weight transform, SIMDe-emulated (this CPU may lack AVX-512),
 * against the portable transform bit for bit, per panel over all of ic and over a k range
 * (as the fused path calls it: lanes (c - k0) * 6 + i). */
static void test_weights_avx512_emu(int oc, int ic, int m) {
    const int mr = 6, np = (m + 2) * (m + 2), panels = (oc + mr - 1) / mr;
    float *w = rand_buf((size_t)oc * ic * 9, 1.0f);
    const size_t nu = wino_u_floats(oc, ic, mr, m), xs = wino_u_stride(oc, ic, mr);
    float *u = malloc(nu * sizeof(float)), *u2 = malloc(nu * sizeof(float));
    wino_portable_weights = 1;
    wino_transform_weights(w, oc, ic, mr, m, u, 1);
    wino_portable_weights = 0;
    for (size_t i = 0; i < nu; i++) u2[i] = NAN;
    for (int r = 0; r < panels; r++)
        test_wino_weights_avx512_emu(w, oc, ic, r, 0, ic, m, u2 + (size_t)r * mr * ic, xs);
    int same = 1;
    for (int xi = 0; xi < np; xi++)
        same &= memcmp(u + xi * xs, u2 + xi * xs, (size_t)panels * mr * ic * sizeof(float)) == 0;
    CHECKF(same, "U m=%d oc=%d ic=%d: avx512 (emulated) vs portable transform", m, oc, ic);
    const int k0 = ic / 3, kc = ic - k0; /* the last panel, channels k0 .. ic-1 */
    if (kc > 0) {
        for (size_t i = 0; i < nu; i++) u2[i] = NAN;
        test_wino_weights_avx512_emu(w, oc, ic, panels - 1, k0, kc, m, u2, xs);
        same = 1;
        for (int xi = 0; xi < np; xi++)
            same &= memcmp(u + xi * xs + (size_t)(panels - 1) * mr * ic + (size_t)k0 * mr,
                           u2 + xi * xs, (size_t)kc * mr * sizeof(float)) == 0;
        CHECKF(same, "U m=%d oc=%d ic=%d k %d..: avx512 (emulated) vs portable", m, oc, ic, k0);
    }
    /* from wino_wpack's layout: every panel over all of ic, and the last one from a k0 on a
     * chunk boundary (as the fused path calls it: k0 a multiple of 256) */
    float *wp = NULL;
    CHECK(posix_memalign((void **)&wp, 64, wino_wpack_floats(oc, ic) * sizeof(float)) == 0);
    wino_wpack(w, SCULPT_DT_F32, oc, ic, wp);
    const size_t pf = wino_wpack_floats(mr, ic); /* one panel */
    for (size_t i = 0; i < nu; i++) u2[i] = NAN;
    for (int r = 0; r < panels; r++)
        test_wino_weights_pre_avx512_emu(wp + (size_t)r * pf, 0, ic, m, u2 + (size_t)r * mr * ic, xs);
    same = 1;
    for (int xi = 0; xi < np; xi++)
        same &= memcmp(u + xi * xs, u2 + xi * xs, (size_t)panels * mr * ic * sizeof(float)) == 0;
    CHECKF(same, "U m=%d oc=%d ic=%d: avx512 (emulated) from wino_wpack vs portable", m, oc, ic);
    const int p0 = ic / 3 / 8 * 8, pc = ic - p0;
    for (size_t i = 0; i < nu; i++) u2[i] = NAN;
    test_wino_weights_pre_avx512_emu(wp + (size_t)(panels - 1) * pf, p0, pc, m, u2, xs);
    same = 1;
    for (int xi = 0; xi < np; xi++)
        same &= memcmp(u + xi * xs + (size_t)(panels - 1) * mr * ic + (size_t)p0 * mr,
                       u2 + xi * xs, (size_t)pc * mr * sizeof(float)) == 0;
    CHECKF(same, "U m=%d oc=%d ic=%d k %d..: avx512 (emulated) from wino_wpack vs portable", m, oc, ic, p0);
    free(wp);
    free(w); free(u); free(u2);
}
#endif

#if defined(__x86_64__)
/* winograd4_avx512.c's F(4x4) transforms, SIMDe-emulated (and native where the CPU has
 * AVX-512F), against the portable ones bit for bit. Input: tile runs of maps 16 to 40 wide
 * and 7 to 19 high — whole tile rows and halves of rows (quarters that continue each
 * other), rows starting and ending at the image's edges (cut columns, rows below the image),
 * groups whose quarters straddle two runs and a last group of fewer than 16 tiles (both
 * taken by the AVX2 transform). Output: 16 tiles of random M into four quarters' rows. */
typedef void (*in16_fn)(const wino_run *, int, int, size_t, int, int, float *, size_t, size_t);
typedef void (*out16_fn)(const float *, size_t, float *const[4][4]);

static void test_io_avx512(const char *name, in16_fn in, out16_fn out) {
    /* each case: h, w, then runs (ty, tx, len) ending at len 0; channels 3 */
    static const int cases[][1 + 2 * 1 + 3 * 6] = {
        {16, 16, 0, 0, 4, 1, 0, 4, 2, 0, 4, 3, 0, 4, 0, 0, 0},                  /* 16x16, one item */
        {32, 32, 1, 0, 8, 2, 0, 8, 3, 0, 8, 4, 0, 8, 0, 0, 0},                  /* 32x32, 32 tiles */
        {19, 40, 2, 2, 8, 4, 0, 8, 3, 6, 4, 0, 0, 0},                           /* right edge, bottom */
        {17, 20, 0, 0, 5, 1, 0, 5, 2, 0, 5, 3, 0, 5, 4, 0, 5, 0, 0, 0},         /* quarters across runs */
        {16, 24, 0, 0, 6, 1, 0, 6, 2, 0, 6, 3, 0, 4, 0, 0, 0},                  /* 22 tiles: a short group */
        {7, 16, 0, 0, 4, 1, 0, 4, 0, 0, 4, 1, 0, 4, 0, 0, 0},                   /* 2 tile rows, twice */
    };
    const int nc = 3;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const int h = cases[t][0], w = cases[t][1];
        wino_run runs[8];
        int nrun = 0, total = 0;
        const size_t cs = (size_t)h * w + 3; /* channels a few floats apart */
        float *x = rand_buf(cs * nc + 64, 1.0f);
        for (const int *r = &cases[t][2]; r[2] > 0; r += 3) {
            runs[nrun] = (wino_run){x, r[0], r[1], r[2]};
            total += runs[nrun++].len;
        }
        const size_t xs = 40 * 3 + 5, os = (size_t)total; /* xi apart, channels apart */
        const size_t n = os * nc + 36 * xs;
        float *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) want[i] = got[i] = -7.0f;
        for (int c = 0; c < nc; c++)
            for (int r = 0, t0 = 0; r < nrun; t0 += runs[r++].len)
                wino4_input_run(x + c * cs, h, w, runs[r].ty, runs[r].tx, runs[r].len,
                                want + c * os + t0, xs);
        in(runs, nrun, nc, cs, h, w, got, os, xs);
        CHECKF(memcmp(want, got, n * sizeof(float)) == 0, "%s F(4x4) input case %zu (%dx%d, %d tiles): "
               "differs from the portable transform", name, t, h, w, total);
        free(x); free(want); free(got);
    }
    const size_t xs = 21;
    float *m = rand_buf(36 * xs, 1.0f), want[4][4][16], got[4][4][16];
    float *dw[4], *const dg[4][4] = {{got[0][0], got[0][1], got[0][2], got[0][3]},
                                     {got[1][0], got[1][1], got[1][2], got[1][3]},
                                     {got[2][0], got[2][1], got[2][2], got[2][3]},
                                     {got[3][0], got[3][1], got[3][2], got[3][3]}};
    for (int q = 0; q < 4; q++) {
        for (int r = 0; r < 4; r++) dw[r] = want[q][r];
        wino4_output_run(m + 4 * q, xs, 4, dw);
    }
    out(m, xs, dg);
    CHECKF(memcmp(want, got, sizeof want) == 0, "%s F(4x4) output: differs from the portable transform", name);
    free(m);
}

#endif

/* ---- the convolution vs conv2d_ref ---- */

/* epi: 1 bias, 2 chan_add, 4 residual */
typedef struct wshape { int ic, oc, h, w, n, epi; } wshape;

/* One shape on every path: rel L2 vs the oracle, 1 = 2 = 3 threads, batch n = n calls of 1. */
static void test_conv(const wshape *c, float scale) {
    conv_shape s;
    CHECK(conv_shape_init(&s, c->ic, c->oc, 3, 1, 1, 1, 1, 1, c->h, c->w) == 0);
    CHECK(conv_winograd_fits(&s));
    const int m = wino_tile(&s);
    const size_t hw = (size_t)c->h * c->w, nx = (size_t)c->n * c->ic * hw;
    const size_t ny = (size_t)c->n * c->oc * hw;
    float *x = rand_buf(nx, scale), *w = rand_buf((size_t)c->oc * c->ic * 9, scale);
    float *bias = rand_buf((size_t)c->oc, scale);
    float *add = rand_buf((size_t)c->n * (c->oc + 3), scale);
    float *res = rand_buf(ny, scale);
    const conv_epilogue e = {(c->epi & 1) ? bias : NULL, (c->epi & 2) ? add : NULL, c->oc + 3,
                             (c->epi & 4) ? res : NULL};
    float *y0 = malloc(ny * sizeof(float)), *y[3], *ys = malloc(ny * sizeof(float));
    for (int t = 0; t < 3; t++) y[t] = malloc(ny * sizeof(float));
    conv2d_ref(&s, c->n, x, w, &e, y0);
    for (int k = 0; k < n_paths; k++) {
        const gemm_kernel *kr = paths[k];
        const size_t un = wino_u_floats(c->oc, c->ic, kr->mr, wino_tile(&s));
        float *u = malloc(un * sizeof(float));
        /* run_w's work buffer: room for U, or for a single tile block's shared input
         * transform */
        size_t ucap = wino_work_floats(kr, &s, c->n);
        if (ucap < un) ucap = un;
        float *uw = malloc(ucap * sizeof(float));
        wino_transform_weights(w, c->oc, c->ic, kr->mr, wino_tile(&s), u, 2);
        const size_t stride = wino_scratch_floats(kr, &s);
        float *scratch = malloc(stride * 3 * sizeof(float));
        for (size_t i = 0; i < stride * 3; i++) scratch[i] = NAN; /* no stale scratch is read */
        for (int t = 0; t < 3; t++) {
            for (size_t i = 0; i < ny; i++) y[t][i] = NAN; /* every output must be written */
            conv2d_winograd_run(kr, &s, c->n, x, u, &e, y[t], scratch, stride, t + 1);
        }
        const double err = test_rel_l2(y[0], y0, ny);
        if (!(err <= worst[m == 4][k])) worst[m == 4][k] = err;
        CHECKF(err <= (m == 4 ? WINO4_TOL : 3e-6), "%s wino m=%d ic=%d oc=%d %dx%d n=%d epi=%d "
               "scale=%g: rel L2 %.3g", kr->name, m, c->ic, c->oc, c->h, c->w, c->n, c->epi, scale, err);
        for (int t = 1; t < 3; t++)
            CHECKF(memcmp(y[0], y[t], ny * sizeof(float)) == 0, "%s wino ic=%d oc=%d %dx%d n=%d: "
                   "1 vs %d threads differ", kr->name, c->ic, c->oc, c->h, c->w, c->n, t + 1);
        /* the portable input/output transforms give the ISA paths' bits */
        wino_portable_io = 1;
        for (size_t i = 0; i < ny; i++) ys[i] = NAN;
        conv2d_winograd_run(kr, &s, c->n, x, u, &e, ys, scratch, stride, 2);
        wino_portable_io = 0;
        CHECKF(memcmp(y[0], ys, ny * sizeof(float)) == 0, "%s wino ic=%d oc=%d %dx%d n=%d: "
               "ISA vs portable input/output transforms differ", kr->name, c->ic, c->oc, c->h,
               c->w, c->n);
        /* and the AVX2 ones the AVX-512 ones' (where the CPU has AVX-512F: else the same run) */
        wino_narrow_io = 1;
        for (size_t i = 0; i < ny; i++) ys[i] = NAN;
        conv2d_winograd_run(kr, &s, c->n, x, u, &e, ys, scratch, stride, 3);
        wino_narrow_io = 0;
        CHECKF(memcmp(y[0], ys, ny * sizeof(float)) == 0, "%s wino ic=%d oc=%d %dx%d n=%d: "
               "8-tile (AVX2) vs 16-tile (AVX-512) input/output transforms differ", kr->name, c->ic,
               c->oc, c->h, c->w, c->n);
        /* raw weights: fused (u NULL: each task transforms its input), or as run_w picks
         * (a single tile block split over 2-3 threads: the input transformed once, in u) */
        for (int f = 0; f < 2; f++)
            for (int t = 0; t < 3; t++) {
                for (size_t i = 0; i < ny; i++) ys[i] = NAN;
                if (f) for (size_t i = 0; i < ucap; i++) uw[i] = NAN; /* nothing stale is read */
                conv2d_winograd_run_w(kr, &s, c->n, x, w, 0, f ? uw : NULL, f ? ucap : 0, &e, ys,
                                      scratch, stride, t + 1);
                CHECKF(memcmp(y[0], ys, ny * sizeof(float)) == 0, "%s wino_w%s ic=%d oc=%d "
                       "%dx%d n=%d, %d threads: differs from U + run", kr->name, f ? "" : " fused",
                       c->ic, c->oc, c->h, c->w, c->n, t + 1);
            }
        /* the weights in wino_wpack's layout (the model's copy): the same bits, fused or
         * through u, on this CPU's widest transform and on the SSE/NEON one */
        float *wp = NULL;
        CHECK(posix_memalign((void **)&wp, 64, wino_wpack_floats(c->oc, c->ic) * sizeof(float)) == 0);
        wino_wpack(w, SCULPT_DT_F32, c->oc, c->ic, wp);
        for (int v = 0; v < 4; v++) {
            const int f = v & 1;
            wino_portable_weights = v >> 1;
            for (size_t i = 0; i < ny; i++) ys[i] = NAN;
            if (f) for (size_t i = 0; i < ucap; i++) uw[i] = NAN;
            conv2d_winograd_run_w(kr, &s, c->n, x, wp, 1, f ? uw : NULL, f ? ucap : 0, &e, ys,
                                  scratch, stride, 2);
            CHECKF(memcmp(y[0], ys, ny * sizeof(float)) == 0, "%s wino_w%s packed weights%s ic=%d "
                   "oc=%d %dx%d n=%d: differs from U + run", kr->name, f ? "" : " fused",
                   v >> 1 ? " (SSE/NEON transform)" : "", c->ic, c->oc, c->h, c->w, c->n);
        }
        wino_portable_weights = 0;
        free(wp);
        if (c->n > 1) { /* the batch one item per call */
            for (int b = 0; b < c->n; b++) {
                conv_epilogue eb = e;
                if (eb.chan_add) eb.chan_add += (size_t)b * eb.chan_add_stride;
                if (eb.residual) eb.residual += (size_t)b * c->oc * hw;
                conv2d_winograd_run(kr, &s, 1, x + (size_t)b * c->ic * hw, u, &eb,
                                    ys + (size_t)b * c->oc * hw, scratch, stride, 2);
            }
            CHECKF(memcmp(y[0], ys, ny * sizeof(float)) == 0, "%s wino ic=%d oc=%d %dx%d n=%d: "
                   "batch vs per-item calls differ", kr->name, c->ic, c->oc, c->h, c->w, c->n);
        }
        free(u); free(uw); free(scratch);
    }
    free(x); free(w); free(bias); free(add); free(res); free(y0); free(ys);
    for (int t = 0; t < 3; t++) free(y[t]);
}

static void test_fits(void) {
    conv_shape s;
    conv_shape_init(&s, 4, 4, 3, 1, 1, 1, 1, 1, 8, 8);
    CHECK(conv_winograd_fits(&s));
    conv_shape_init(&s, 4, 4, 3, 2, 1, 1, 1, 1, 8, 8);
    CHECK(!conv_winograd_fits(&s));
    conv_shape_init(&s, 4, 4, 3, 2, 0, 0, 1, 1, 8, 8);
    CHECK(!conv_winograd_fits(&s));
    conv_shape_init(&s, 4, 4, 3, 1, 0, 0, 0, 0, 8, 8);
    CHECK(!conv_winograd_fits(&s));
    conv_shape_init(&s, 4, 4, 1, 1, 0, 0, 0, 0, 8, 8);
    CHECK(!conv_winograd_fits(&s));
    /* the tile: 4 from 16x16 up, by the shape alone */
    static const int hw_tile[][3] = {{16, 16, 4}, {32, 32, 4}, {17, 40, 4}, {8, 8, 2},
                                     {15, 16, 2}, {16, 15, 2}, {1, 64, 2}};
    for (int i = 0; i < 7; i++) {
        conv_shape_init(&s, 4, 4, 3, 1, 1, 1, 1, 1, hw_tile[i][0], hw_tile[i][1]);
        CHECKF(wino_tile(&s) == hw_tile[i][2], "tile of %dx%d: %d", hw_tile[i][0], hw_tile[i][1],
               wino_tile(&s));
    }
    wino_force_tile = 4;
    conv_shape_init(&s, 4, 4, 3, 1, 1, 1, 1, 1, 2, 2);
    CHECK(wino_tile(&s) == 4);
    wino_force_tile = 0;
}

int main(void) {
    for (int i = 0; i < gemm_kernel_count() && n_paths < MAX_PATHS; i++) {
        int ok = 0;
        const gemm_kernel *kr = gemm_kernel_at(i, &ok);
        if (ok) paths[n_paths++] = kr;
        else printf("SKIP native %s kernel: this CPU does not support it\n", kr->name);
    }
#if defined(UNET_TEST_EMU)
    for (size_t i = 0; i < sizeof emu / sizeof emu[0] && n_paths < MAX_PATHS; i++)
        paths[n_paths++] = &emu[i];
#endif
    CHECK(n_paths >= 1);
    test_fits();

    /* U against G g G^T: oc, ic, mr (oc not a multiple of mr: padding rows) */
    static const int wt[][3] = {{1, 1, 6},   {7, 5, 6},   {13, 33, 6},
                                {6, 17, 6},  {20, 9, 16}, {5, 3, 4},  {17, 301, 6}};
    for (int m = 2; m <= 4; m += 2)
        for (size_t t = 0; t < sizeof wt / sizeof wt[0]; t++)
            test_weights(wt[t][0], wt[t][1], wt[t][2], m);
#if defined(UNET_TEST_EMU)
    for (int m = 2; m <= 4; m += 2)
        for (size_t t = 0; t < sizeof wt / sizeof wt[0]; t++)
            if (wt[t][2] == 6) test_weights_avx512_emu(wt[t][0], wt[t][1], m);
    /* the 16-lane F(4x4) input falls back to the AVX2 transform: only where that runs */
    if (__builtin_cpu_supports("avx2"))
        test_io_avx512("avx512(simde-emulated)", test_wino4_input_avx512_emu, test_wino4_output_avx512_emu);
#endif
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f"))
        test_io_avx512("avx512", sculpt_wino4_input__avx512, sculpt_wino4_output__avx512);
#endif

    /* every size in {1,2,3,4,5,7,8,16,17,32}, square, with each epilogue combination */
    static const int sizes[] = {1, 2, 3, 4, 5, 7, 8, 16, 17, 32};
    static const wshape cs[] = {
        /* non-square, odd edges */
        {5, 6, 1, 5, 1, 7}, {5, 6, 5, 1, 3, 1}, {5, 6, 2, 7, 2, 2}, {5, 6, 7, 3, 1, 4},
        {5, 6, 17, 4, 3, 3}, {5, 6, 3, 32, 1, 5}, {5, 6, 16, 17, 2, 6}, {5, 6, 32, 5, 1, 0},
        /* channels in {1,3,5,6,7,16,33,128}, oc not a multiple of mr */
        {1, 1, 5, 7, 1, 7}, {1, 128, 4, 4, 2, 1}, {128, 1, 7, 5, 1, 7}, {6, 6, 8, 8, 3, 3},
        {16, 33, 5, 4, 2, 5}, {33, 16, 3, 3, 3, 6}, {7, 128, 2, 2, 3, 2}, {128, 7, 16, 16, 1, 4},
        {3, 5, 8, 16, 1, 1}, {33, 33, 17, 17, 2, 7},
        /* input-channel block boundaries (WINO_KC is 256; 128 and 512 covered too): ic just
         * past a block, not a multiple, exact multiples */
        {129, 13, 5, 5, 2, 7}, {257, 7, 9, 9, 2, 1}, {300, 7, 6, 7, 1, 6}, {513, 9, 3, 5, 2, 3},
        {256, 20, 4, 8, 1, 2}, {512, 6, 2, 3, 3, 5}, {200, 35, 16, 16, 1, 0},
        /* tile blocks across items and many blocks per item */
        {16, 33, 8, 8, 3, 7}, {8, 12, 32, 32, 2, 7},
        /* tile rows of 10 and 18 tiles at m 4: full 8-tile groups that read columns inside
         * the image up to their last tile's sixth column */
        {5, 6, 3, 40, 1, 5}, {4, 8, 6, 72, 2, 7},
        /* one tile block, 17 output-channel panels: run_w's input transformed once and the
         * panels taken dynamically, one per block (pairs, 9 blocks, for the two-panel
         * AVX-512 kernels: the last block one panel) */
        {64, 100, 16, 16, 1, 7},
    };
    /* every shape with each tile forced (the edge cases of F(4x4) are on small maps, where it
     * would not be chosen) */
    for (wino_force_tile = 2; wino_force_tile <= 4; wino_force_tile += 2) {
        for (int i = 0; i < 10; i++)
            test_conv(&(wshape){3, 7, sizes[i], sizes[i], 2, i % 8}, 1.0f);
        for (size_t t = 0; t < sizeof cs / sizeof cs[0]; t++) test_conv(&cs[t], 1.0f);
        test_conv(&(wshape){40, 24, 9, 10, 2, 7}, 1e3f); /* magnitudes ~1e3 */
    }
    wino_force_tile = 0;

    for (int k = 0; k < n_paths; k++)
        printf("%-24s (%dx%d): worst rel L2 vs conv2d_ref %.3g (F(2x2)), %.3g (F(4x4))\n",
               paths[k]->name, paths[k]->mr, paths[k]->nr, worst[0][k], worst[1][k]);
    TEST_DONE();
}
