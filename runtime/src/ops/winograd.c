/* winograd.c — 3x3, stride-1, pad-1 convolution by Winograd F(m x m, 3x3) (Lavin & Gray 2015,
 * "Fast Algorithms for Convolutional Neural Networks"), on the packed GEMM micro-kernel, for
 * the tile m = 2 (F(2x2,3x3), winograd2.c) or 4 (F(4x4,3x3), winograd4.c), chosen per
 * shape by wino_tile. With a = m + 2 and P = a * a transform points:
 *
 *   U_xi = (G g G^T)[xi]   [oc][ic]    weights, P packed-A matrices (wino_transform_weights)
 *   V_xi = (B^T d B)[xi]   [ic][tiles] input tiles, P sets of [kc][nr] B panels per KC block
 *   M_xi = U_xi V_xi       [oc][tiles] P GEMMs, accumulated over KC blocks in per-thread M
 *   y    = A^T M A + epilogue           per m x m output tile, only the outputs inside the image
 *
 * Tile (ty, tx) covers outputs rows m*ty .. m*ty+m-1, cols m*tx .. m*tx+m-1; its patch d is
 * input rows m*ty-1 .. m*ty+m, the same columns widened by one, zero outside the image. Tiles
 * are numbered over the whole batch (item-major, raster order inside an item) and cut into
 * blocks of NT, so a block may span items (the small maps fill whole panels at batch > 1).
 * Tasks run over (tile block, M block). Every tile's arithmetic — the transforms (F(2x2):
 * adds and exact halvings; F(4x4): adds, exact power-of-two scalings, G's rounded 1/6 and
 * 1/24, with no multiply-add a compiler could fuse) and the GEMM sums over the fixed WINO_KC
 * blocks — depends on nothing but its own data, so the output is the same for any thread
 * count, task split or batch split. Where one tile block is all there is (every Winograd
 * conv of the CIFAR-10 net at batch 1), the fused path (conv2d_winograd_run_w) makes each
 * task's U panels from w right before their GEMMs, WINO_PG panels at a time (L2-resident),
 * with the same weights_panel and so the same bits; with more blocks one U in memory is
 * shared. The ISA transforms (winograd_avx2.c, winograd4_avx2.c) run where they can. */
#include <string.h>
#include <time.h>

#include "pack.h"
#include "sculpt.h"
#include "winograd.h"
#include "winograd_int.h"

/* Blocking, fixed for every thread count. WINO_KC: input channels per B-panel set (the sum
 * over ic runs in these blocks, so it fixes the result); WINO_NT: tiles per block, rounded up
 * to nr. Per transform point the GEMM works on one B-panel set (KC x NT, 64 KiB) and one M
 * matrix (oc x NT, 64 KiB at oc 256), which stay in L2; U_xi streams from L3 or memory, and
 * each of its micro-panels serves NT / nr kernel calls. Measured on the 2-core EPYC (Zen 3,
 * AVX2, 512 KiB L2) over KC in {64, 128, 256, 512} x NT in {16 .. 256} on the UNet's shapes:
 * KC 128 was ~10-20% slower than 256 on the 256-channel layers; NT 32 and 64 tie where U fits
 * in cache, and NT 64 is ~20% faster on the 512 -> 256 layers at batch >= 8 (U 8.4 MB streams
 * from memory; NT 128 gains ~5% more for twice the scratch). */
#define WINO_KC 256
#ifndef WINO_NT
#define WINO_NT 64
#endif
/* runs of at least this many tiles take the AVX2 input transform where there is one */
#ifndef WINO_IN_MIN
#define WINO_IN_MIN 4
#endif
/* Fused path: output-channel panels whose U (P x WINO_KC x mr each: 98 KiB for F(2x2), 221
 * KiB for F(4x4) at mr 6) is made at once inside a task, so it stays in L2 for the P GEMMs
 * that use it. 1 and 2 measured alike with F(2x2) only; with F(4x4), 1 took ~1.5 ms less
 * weight transform per evaluation at batch 1 (three alternating A/B runs on the EPYC, the
 * GEMMs alike), two panels' U (442 KiB) no longer fitting the 512 KiB L2 beside V. A kernel
 * with a two-panel form (AVX-512: CPUs with 1-2 MiB L2) takes two (wino_pg): batch 1 on the
 * Xeon 0.87 of the time on 1 thread, 0.94 on 2, alternating A/B with the 12x32 kernel. */
#ifndef WINO_PG
#define WINO_PG 1
#endif
/* M blocks per thread where the input is transformed once for all of them (one tile block:
 * every Winograd conv at batch 1), taken dynamically, so that a core running slower for a
 * while (big.LITTLE and hybrid CPUs; the EPYC guest's vCPUs, where in one run thread 0 was
 * busy 357 ms on the same work that took thread 1 263 ms) does fewer of them, and the last
 * tasks are short enough to leave little idle tail (a 256-channel conv's 43 panels in tasks
 * of 2, not 6). Each task keeps a whole number of wino_pg groups. On the EPYC (batch 1, 2
 * threads, 100 alternating evaluations a set): 16 against 4, time ratios 0.967, 0.982,
 * 0.988, 0.986; 8: 0.985, 0.983; 32: 0.994, 0.992 (4 against 1: from 2 % slower to 7 %
 * faster). */
#ifndef WINO_DYN_TASKS
#define WINO_DYN_TASKS 16
#endif
/* Fused path when the conv has at most this many tile blocks (more share one precomputed U) */
#ifndef WINO_FUSE_BLOCKS
#define WINO_FUSE_BLOCKS 1
#endif

static int round_up(int v, int m) { return (v + m - 1) / m * m; }
static int block_tiles(const gemm_kernel *kr) { return round_up(WINO_NT, kr->nr); }
/* Distance between the 16 per-xi matrices (U, the B-panel sets, M): the transforms touch all
 * 16 at once, and with a stride that is a multiple of 4 KiB all 16 lines share one L1 set
 * (8 ways; it made the weight transform 5x slower). An odd number of cache lines puts the
 * 16 in 16 different sets. */
static size_t skewed(size_t floats) { return (floats + 31) / 32 * 32 + 16; }
static size_t v_stride(int nt) { return skewed((size_t)WINO_KC * nt); }
static size_t m_stride(int rows, int nt) { return skewed((size_t)rows * nt); }
/* Fused path: panels per weight transform. A kernel with a two-panel form (AVX-512) takes
 * two, so one load of each V row serves both (its CPUs' L2 holds the two panels' U). */
static int wino_pg(const gemm_kernel *kr) { return kr->ukr2 ? 2 : WINO_PG; }
static size_t ub_stride(const gemm_kernel *kr) {
    return skewed((size_t)wino_pg(kr) * WINO_KC * kr->mr);
}

int conv_winograd_fits(const conv_shape *s) {
    return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->pad_t == 1 && s->pad_l == 1 &&
           s->pad_b == 1 && s->pad_r == 1 && s->ic >= 1 && s->oc >= 1 && s->h >= 1 &&
           s->w >= 1 && s->oh == s->h && s->ow == s->w;
}

/* ---- weights: U = G g G^T (winograd2.c, winograd4.c and their ISA versions) ---- */

size_t wino_u_stride(int oc, int ic, int mr) { return skewed((size_t)round_up(oc, mr) * ic); }

size_t wino_u_floats(int oc, int ic, int mr, int m) {
    return (size_t)wino_points(m) * wino_u_stride(oc, ic, mr);
}

int wino_force_tile;

int wino_tile(const conv_shape *s) {
    if (wino_force_tile == 2 || wino_force_tile == 4) return wino_force_tile;
    return s->h >= WINO4_MIN && s->w >= WINO4_MIN ? 4 : 2;
}

#if defined(__x86_64__) || defined(__i386__)
static int cpu_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
static int cpu_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

int wino_portable_weights; /* tests: 1 runs the portable weight transform only */
int wino_phase_on;         /* SCULPT_PROFILE: time the phases on thread 0 */
double wino_phase_sec[WINO_PHASES];

static double phase_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* adds the time since *t to phase ph (thread 0 only) and restarts *t */
static void phase_mark(int on, int ph, double *t) {
    if (!on) return;
    const double now = phase_now();
    wino_phase_sec[ph] += now - *t;
    *t = now;
}
int wino_portable_io;      /* tests: 1 runs the portable input and output transforms only */
int wino_narrow_io;        /* tests, benchmarks: 1 keeps F(4x4)'s at 8 tiles (AVX2) */

/* ---- wino_wpack: the weights in the transform's own lane order ---- */

#define WP_CHUNK (9 * WINO_WPACK_CB * 6) /* floats per chunk: [9][48] */

static size_t wpack_panel_floats(int ic) {
    return (size_t)((ic + WINO_WPACK_CB - 1) / WINO_WPACK_CB) * WP_CHUNK;
}

size_t wino_wpack_floats(int oc, int ic) { return (size_t)((oc + 5) / 6) * wpack_panel_floats(ic); }

void wino_wpack(const void *w, int dtype, int oc, int ic, float *dst) {
    memset(dst, 0, wino_wpack_floats(oc, ic) * sizeof(float)); /* rows past oc, channels past ic */
    for (int o = 0; o < oc; o++)
        for (int ch = 0; ch < ic; ch++) { /* the 9 values of w[o][ch] to lane 6 c + i of rows j */
            float g[9];
            const size_t at = ((size_t)o * ic + ch) * 9;
            if (dtype == SCULPT_DT_F32) memcpy(g, (const float *)w + at, sizeof g);
            else for (int j = 0; j < 9; j++) g[j] = pack_load(w, dtype, at + j);
            float *t = dst + (size_t)(o / 6) * wpack_panel_floats(ic) +
                       (size_t)(ch / WINO_WPACK_CB) * WP_CHUNK + (ch % WINO_WPACK_CB) * 6 + o % 6;
            for (int j = 0; j < 9; j++) t[j * WINO_WPACK_CB * 6] = g[j];
        }
}

/* U of panel r for input channels k0..k0+kc-1, tile m: lane (c - k0) * mr + i of matrix xi
 * at d + xi * xs. w: [oc][ic][3][3], or wino_wpack's layout where wpacked (mr 6). */
static void weights_panel(const float *w, int wpacked, int oc, int ic, int mr, int m, int r,
                          int k0, int kc, float *d, size_t xs) {
    if (wpacked) { /* no transpose: every ISA reads the chunks in place */
        const float *wp = w + (size_t)r * wpack_panel_floats(ic);
#if defined(__x86_64__) || defined(__i386__)
        if (!wino_portable_weights && cpu_avx512()) {
            sculpt_wino_weights_6p__avx512(wp, k0, kc, m, d, xs);
            return;
        }
        if (!wino_portable_weights && cpu_avx2()) {
            sculpt_wino_weights_6p__avx2(wp, k0, kc, m, d, xs);
            return;
        }
#endif
        sculpt_wino_weights_6p__sse(wp, k0, kc, m, d, xs);
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    if (mr == 6 && !wino_portable_weights && cpu_avx512()) {
        sculpt_wino_weights_6__avx512(w, oc, ic, r, k0, kc, m, d, xs);
        return;
    }
    if (mr == 6 && !wino_portable_weights && cpu_avx2()) {
        sculpt_wino_weights_6__avx2(w, oc, ic, r, k0, kc, m, d, xs);
        return;
    }
#endif
    if (m == 4) {
        wino4_weights_panel(w, oc, ic, mr, r, k0, kc, d, xs);
        return;
    }
    wino2_weights_panel(w, oc, ic, mr, r, k0, kc, d, xs);
}

typedef struct wt_job {
    const float *w;
    float *u;
    int wpacked, oc, ic, mr, m;
} wt_job;

static void weights_task(void *arg, int r) {
    const wt_job *J = arg;
    weights_panel(J->w, J->wpacked, J->oc, J->ic, J->mr, J->m, r, 0, J->ic,
                  J->u + (size_t)r * J->mr * J->ic, wino_u_stride(J->oc, J->ic, J->mr));
}

static void transform_weights(const float *w, int wpacked, int oc, int ic, int mr, int m,
                              float *u, int n_threads) {
    wt_job J = {w, u, wpacked, oc, ic, mr, m};
    const int panels = (oc + mr - 1) / mr;
    const int par = (double)oc * ic >= 16384.0;
    ops_parallel_for(n_threads, par, panels, weights_task, &J);
}

void wino_transform_weights(const float *w, int oc, int ic, int mr, int m, float *u,
                            int n_threads) {
    transform_weights(w, 0, oc, ic, mr, m, u, n_threads);
}

/* ---- input: V = B^T d B ---- */

/* V = B^T d B for tiles tx0..tx0+len-1 (len <= GEMM_MAX_NR) of tile row ty of one channel
 * plane xc [h][w]: rows combined first (B^T d), then along x. V[xi] of tile t goes to
 * out[xi * xs + t]. */
static void input_run(int m, const float *xc, int h, int w, int ty, int tx0, int len,
                      float *out, size_t xs) {
#if defined(__x86_64__) || defined(__i386__)
    if (m == 2 && len >= WINO_IN_MIN && !wino_portable_io && cpu_avx2()) {
        sculpt_wino_input__avx2(xc, h, w, ty, tx0, len, out, xs);
        return;
    }
#endif
    if (m == 4) { /* the AVX2 one takes whole panels: input_channels */
        wino4_input_run(xc, h, w, ty, tx0, len, out, xs);
        return;
    }
    wino2_input_run(xc, h, w, ty, tx0, len, out, xs);
}

/* ---- output: Y = A^T M A, then the epilogue ---- */

/* Tiles 0..len-1 (len <= GEMM_MAX_NR) of one output channel, M[xi] of tile t at
 * m[xi * xs + t]: rows first, then columns. d0 and d1 get the tiles' two output rows,
 * interleaved (d0[2t], d0[2t+1] = tile t's top row). */
static void output_run(const float *m, size_t xs, int len, float *restrict d0,
                       float *restrict d1) {
    int t = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (len >= 8 && !wino_portable_io && cpu_avx2()) {
        t = len / 8 * 8;
        sculpt_wino_output__avx2(m, xs, t, d0, d1);
    }
#endif
    if (t < len) wino2_output_run(m + t, xs, len - t, d0 + 2 * t, d1 + 2 * t);
}

/* d[x] = ((d[x] + bias) + chan_add) + res[x] for x < len, the terms present (NULL: absent):
 * one pass per term rounds exactly as conv2d_ref's single expression. */
static void epilogue_row(float *restrict d, int len, const float *bias, const float *chan_add,
                         const float *restrict res) {
    if (bias) {
        const float v = *bias;
        for (int x = 0; x < len; x++) d[x] = d[x] + v;
    }
    if (chan_add) {
        const float v = *chan_add;
        for (int x = 0; x < len; x++) d[x] = d[x] + v;
    }
    if (res)
        for (int x = 0; x < len; x++) d[x] = d[x] + res[x];
}

/* ---- the driver ---- */

size_t wino_scratch_floats(const gemm_kernel *kr, const conv_shape *s) {
    const int nt = block_tiles(kr), oc = s->oc > 0 ? s->oc : 1;
    return (size_t)wino_points(wino_tile(s)) *
           (v_stride(nt) + m_stride(round_up(oc, kr->mr), nt) + ub_stride(kr));
}

typedef struct wino_job {
    const gemm_kernel *kr;
    const conv_shape *s;
    const float *x, *w, *u; /* u NULL: fused (each task makes its U panels from w) */
    int wpacked;            /* w in wino_wpack's layout */
    float *vs;              /* NULL, or the one tile block's B panels for every k block,
                               transformed once before the GEMM tasks (v_shared_floats) */
    conv_epilogue e;
    float *y, *scratch;
    size_t scratch_stride;
    int64_t tiles; /* n * per_item */
    int m, np;        /* the tile (2 or 4) and its transform points, (m + 2)^2 */
    int tw, per_item; /* tiles per tile row, per item */
    int nt, panels, nb_m, mc_panels;
} wino_job;

/* The first tile g0 + j of a run and its length: one tile row of one item, at most max. */
static int run_at(const wino_job *J, int64_t g, int max, int *b, int *ty, int *tx) {
    *b = (int)(g / J->per_item);
    const int t = (int)(g % J->per_item);
    *ty = t / J->tw;
    *tx = t % J->tw;
    return J->tw - *tx < max ? J->tw - *tx : max;
}

/* B panels of the block's cnt tiles for input channels k0..k0+kc-1: transform point xi's
 * panel q at v + xi * v_stride(nt) + q * kc * nr; columns past cnt zero. */
/* the B panels' columns past the block's cnt tiles (k block of kc channels): zero, for
 * channels c0..c1-1 */
static void zero_tail(const wino_job *J, int cnt, int kc, int c0, int c1, float *v) {
    const int nr = J->kr->nr, z = cnt % nr;
    if (!z) return;
    const size_t xs = v_stride(J->nt);
    float *last = v + (size_t)(cnt / nr) * kc * nr;
    for (int xi = 0; xi < J->np; xi++)
        for (int c = c0; c < c1; c++)
            memset(last + xi * xs + (size_t)c * nr + z, 0, (size_t)(nr - z) * sizeof(float));
}

static void input_channels(const wino_job *J, int64_t g0, int cnt, int k0, int kc, int c0,
                           int c1, float *v) {
    const conv_shape *s = J->s;
    const int nr = J->kr->nr;
    const int64_t hw = (int64_t)s->h * s->w;
    const size_t xs = v_stride(J->nt);
#if defined(__x86_64__) || defined(__i386__)
    if (J->m == 4 && !wino_portable_io && cpu_avx2()) { /* panel by panel, 8 or 16 tiles at a time */
        const int wide = !wino_narrow_io && cpu_avx512();
        for (int q0 = 0; q0 < cnt; q0 += nr) {
            wino_run runs[GEMM_MAX_NR];
            int nrun = 0;
            for (int j = q0; j < cnt && j < q0 + nr;) {
                int b;
                wino_run *R = &runs[nrun++];
                R->len = run_at(J, g0 + j, q0 + nr - j < cnt - j ? q0 + nr - j : cnt - j, &b,
                                &R->ty, &R->tx);
                R->x = J->x + ((int64_t)b * s->ic + k0 + c0) * hw;
                j += R->len;
            }
            float *d = v + (size_t)(q0 / nr) * kc * nr + (size_t)c0 * nr;
            if (wide) sculpt_wino4_input__avx512(runs, nrun, c1 - c0, (size_t)hw, s->h, s->w, d, nr, xs);
            else sculpt_wino4_input__avx2(runs, nrun, c1 - c0, (size_t)hw, s->h, s->w, d, nr, xs);
        }
        zero_tail(J, cnt, kc, c0, c1, v);
        return;
    }
#endif
    for (int j = 0; j < cnt;) {
        int b, ty, tx;
        const int room = cnt - j < nr - j % nr ? cnt - j : nr - j % nr;
        const int len = run_at(J, g0 + j, room, &b, &ty, &tx);
        const float *xb = J->x + ((int64_t)b * s->ic + k0) * hw;
        float *d = v + (size_t)(j / nr) * kc * nr + j % nr;
        for (int c = c0; c < c1; c++)
            input_run(J->m, xb + c * hw, s->h, s->w, ty, tx, len, d + (size_t)c * nr, xs);
        j += len;
    }
    zero_tail(J, cnt, kc, c0, c1, v);
}

static void input_block(const wino_job *J, int64_t g0, int cnt, int k0, int kc, float *v) {
    input_channels(J, g0, cnt, k0, kc, 0, kc, v);
}

/* The shared B panels of the single tile block: k block kb's at vs + kb * np * v_stride.
 * Each task transforms VS_CHUNK input channels (ceil(ic / VS_CHUNK) tasks, none empty: with
 * 8 tasks per k block, the 4 of a 128-channel conv had all gone to thread 0). */
#define VS_CHUNK 16
_Static_assert(WINO_KC % VS_CHUNK == 0, "a chunk never straddles two k blocks");
static size_t v_shared_floats(int ic, int nt, int np) {
    return (size_t)((ic + WINO_KC - 1) / WINO_KC) * np * v_stride(nt);
}

static void vs_task(void *arg, int task) {
    const wino_job *J = arg;
    const int ic = J->s->ic, kb = task * VS_CHUNK / WINO_KC, c0 = task * VS_CHUNK % WINO_KC;
    const int k0 = kb * WINO_KC, kc = ic - k0 < WINO_KC ? ic - k0 : WINO_KC;
    const int c1 = c0 + VS_CHUNK < kc ? c0 + VS_CHUNK : kc;
    const int cnt = J->tiles < J->nt ? (int)J->tiles : J->nt;
    input_channels(J, 0, cnt, k0, kc, c0, c1, J->vs + (size_t)kb * J->np * v_stride(J->nt));
}

/* Outputs of the block's cnt tiles for channels o0..o1-1 from mbuf (np matrices [rows][nt],
 * xs floats apart), written straight into y; a tile's outputs outside the image go to junk.
 * Channel-major, so each of the np matrices is read row by row. F(2x2): */
static void output_block2(const wino_job *J, int64_t g0, int cnt, int o0, int o1,
                         const float *mbuf, size_t xs) {
    const conv_shape *s = J->s;
    const conv_epilogue *e = &J->e;
    const int64_t hw = (int64_t)s->h * s->w;
    float junk0[2], junk1[2 * GEMM_MAX_NR];
    for (int o = o0; o < o1; o++) {
        const float *bias = e->bias ? e->bias + o : NULL;
        for (int j = 0; j < cnt;) {
            int b, ty, tx;
            const int len = run_at(J, g0 + j, cnt - j < GEMM_MAX_NR ? cnt - j : GEMM_MAX_NR, &b,
                                   &ty, &tx);
            const int oy = 2 * ty, ox = 2 * tx, ow = s->w - ox < 2 * len ? s->w - ox : 2 * len;
            const int full = ow / 2, two = oy + 1 < s->h; /* tiles with both columns inside */
            const float *m = mbuf + (size_t)o * J->nt + j;
            const int64_t at = ((int64_t)b * s->oc + o) * hw + (int64_t)oy * s->w + ox;
            float *d0 = J->y + at, *d1 = two ? d0 + s->w : junk1;
            output_run(m, xs, full, d0, d1);
            if (full < len) { /* odd width: the last tile's left column only */
                output_run(m + full, xs, 1, junk0, junk1);
                d0[2 * full] = junk0[0];
                d1[2 * full] = junk1[0];
            }
            const float *ca =
                e->chan_add ? e->chan_add + (int64_t)b * e->chan_add_stride + o : NULL;
            const float *res = e->residual ? e->residual + at : NULL;
            epilogue_row(d0, ow, bias, ca, res);
            if (two) epilogue_row(d1, ow, bias, ca, res ? res + s->w : NULL);
            j += len;
        }
    }
}

/* F(4x4): as output_block2. The block's tiles go 8 at a time, each half of 8 from one run
 * (one tile row) with all 4 columns inside (so the 4-tile rows of 16x16 maps pair up), to
 * the AVX2 transform; the rest, and the last tile of a row cut by the right edge, tile run
 * by run to the portable one. Rows below the image go to junk. */
typedef struct orun {
    int j, len, full, rows; /* first tile in the block, tiles, tiles with 4 columns inside, rows */
    int ow;                 /* output columns inside the image */
    int64_t at;             /* output (item, oy, ox) offset at channel 0; + o * h * w */
    const float *ca;        /* chan_add of the item at channel 0, or NULL */
} orun;

/* output row r of the tiles a .. a+len-1 of run R for channel o, the tiles all inside
 * columns: portable */
static float *orow(const wino_job *J, const orun *R, int o, int r, int a, float *junk) {
    return r < R->rows ? J->y + R->at + (int64_t)o * J->s->h * J->s->w +
                             (int64_t)r * J->s->w + 4 * a
                       : junk;
}

static void output_block4(const wino_job *J, int64_t g0, int cnt, int o0, int o1,
                          const float *mbuf, size_t xs) {
    const conv_shape *s = J->s;
    const conv_epilogue *e = &J->e;
    const int64_t hw = (int64_t)s->h * s->w;
    orun runs[WINO_NT + GEMM_MAX_NR];
    unsigned short run_of[WINO_NT + GEMM_MAX_NR];
    int nrun = 0;
    for (int j = 0; j < cnt; nrun++) {
        int b, ty, tx;
        orun *R = &runs[nrun];
        R->j = j;
        R->len = run_at(J, g0 + j, cnt - j, &b, &ty, &tx);
        const int oy = 4 * ty, ox = 4 * tx;
        R->ow = s->w - ox < 4 * R->len ? s->w - ox : 4 * R->len;
        R->full = R->ow / 4;
        R->rows = s->h - oy < 4 ? s->h - oy : 4;
        R->at = (int64_t)b * s->oc * hw + (int64_t)oy * s->w + ox;
        R->ca = e->chan_add ? e->chan_add + (int64_t)b * e->chan_add_stride : NULL;
        for (int k = 0; k < R->len; k++) run_of[j + k] = (unsigned short)nrun;
        j += R->len;
    }
    float junk[4][64], edge[4][4];
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = !wino_portable_io && cpu_avx2(), avx512 = avx2 && !wino_narrow_io && cpu_avx512();
#endif
    for (int o = o0; o < o1; o++) {
        const float *m = mbuf + (size_t)o * J->nt;
        for (int k0 = 0; k0 < cnt; k0 += 8) {
            const int n = cnt - k0 < 8 ? cnt - k0 : 8;
#if defined(__x86_64__) || defined(__i386__)
            if (avx512 && k0 % 16 == 0 && cnt - k0 >= 16) { /* 16 tiles: four quarters inside */
                float *d[4][4];
                int ok = 1;
                for (int q = 0; q < 4 && ok; q++) {
                    const orun *R = &runs[run_of[k0 + 4 * q]];
                    const int a = k0 + 4 * q - R->j;
                    ok = a + 4 <= R->full;
                    for (int r = 0; r < 4; r++) d[q][r] = orow(J, R, o, r, a, junk[r] + 16 * q);
                }
                if (ok) {
                    sculpt_wino4_output__avx512(m + k0, xs, d);
                    k0 += 8; /* and the next 8 */
                    continue;
                }
            }
            if (n == 8 && avx2) {
                const orun *A = &runs[run_of[k0]], *B = &runs[run_of[k0 + 4]];
                const int a = k0 - A->j, b = k0 + 4 - B->j;
                if (a + 4 <= A->full && b + 4 <= B->full) {
                    float *da[4], *db[4];
                    for (int r = 0; r < 4; r++) {
                        da[r] = orow(J, A, o, r, a, junk[r]);
                        db[r] = orow(J, B, o, r, b, junk[r] + 16);
                    }
                    sculpt_wino4_output__avx2(m + k0, xs, da, db);
                    continue;
                }
            }
#endif
            for (int k = k0; k < k0 + n;) { /* run by run */
                const orun *R = &runs[run_of[k]];
                const int a = k - R->j;
                const int len = R->len - a < k0 + n - k ? R->len - a : k0 + n - k;
                const int in = R->full - a < len ? (R->full > a ? R->full - a : 0) : len;
                float *d[4];
                for (int r = 0; r < 4; r++) d[r] = orow(J, R, o, r, a, junk[r]);
                if (in) wino4_output_run(m + k, xs, in, d);
                if (in < len) { /* the last tile of the row, cut by the right edge */
                    wino4_output_run(m + k + in, xs, 1,
                                     (float *const[4]){edge[0], edge[1], edge[2], edge[3]});
                    for (int r = 0; r < R->rows; r++)
                        memcpy(d[r] + 4 * in, edge[r], (size_t)(R->ow - 4 * R->full) * sizeof(float));
                }
                k += len;
            }
        }
        const float *bias = e->bias ? e->bias + o : NULL;
        for (int i = 0; i < nrun; i++) {
            const orun *R = &runs[i];
            for (int r = 0; r < R->rows; r++) {
                const int64_t at = R->at + (int64_t)o * hw + (int64_t)r * s->w;
                epilogue_row(J->y + at, R->ow, bias, R->ca ? R->ca + o : NULL,
                             e->residual ? e->residual + at : NULL);
            }
        }
    }
}

/* Column panel q of the GEMM for output-channel panel ap (C rows at c, row stride nt), and
 * with two the next panel too (ap + pa, c + mr * nt): in one call of the kernel's two-panel
 * form where it has one for the panel's width (at most nr/2 tiles, 16 at batch 1 on 16x16
 * and 8x8 maps: the half-width kernel or its two-panel form). The same bits either way. */
static void gemm_q(const gemm_kernel *kr, int kc, const float *ap, size_t pa, int two,
                   const float *v, float *c, int nt, int cnt, int q, int acc) {
    const int nr = kr->nr, cols = cnt - q * nr < nr ? cnt - q * nr : nr;
    const float *bq = v + (size_t)q * kc * nr;
    float *cq = c + q * nr;
    const gemm_ukr2_fn f2 = !two ? NULL : 2 * cols <= nr ? kr->ukr_half2 : kr->ukr2;
    if (f2) {
        f2(kc, ap, (int64_t)pa, bq, cq, nt, acc, NULL);
        return;
    }
    int width;
    const gemm_ukr_fn ukr = gemm_ukr_cols(kr, cols, &width);
    ukr(kc, ap, bq, cq, nt, acc, NULL);
    if (two) ukr(kc, ap + pa, bq, cq + (size_t)kr->mr * nt, nt, acc, NULL);
}

static void wino_task(void *arg, int task) {
    const wino_job *J = arg;
    const gemm_kernel *kr = J->kr;
    const conv_shape *s = J->s;
    const int mr = kr->mr, nr = kr->nr, nt = J->nt, ic = s->ic;
    const int blk = task / J->nb_m, jm = task % J->nb_m;
    const int p0 = jm * J->mc_panels;
    const int p1 = p0 + J->mc_panels < J->panels ? p0 + J->mc_panels : J->panels;
    if (p0 >= p1) return;
    const int64_t g0 = (int64_t)blk * nt;
    const int cnt = J->tiles - g0 < nt ? (int)(J->tiles - g0) : nt, nq = (cnt + nr - 1) / nr;
    float *const base = J->scratch + (size_t)ops_thread_id() * J->scratch_stride;
    float *v = base;
    const int np = J->np;
    const size_t vxs = v_stride(nt), mxs = m_stride(J->panels * mr, nt);
    float *mbuf = base + np * vxs;
    const size_t uxs = J->u ? wino_u_stride(s->oc, ic, mr) : ub_stride(kr);
    float *ubuf = mbuf + np * mxs;
    const int timed = wino_phase_on && ops_thread_id() == 0;
    double t = timed ? phase_now() : 0;
    const int pg_n = wino_pg(kr), pstep = kr->ukr2 || kr->ukr_half2 ? 2 : 1;
    for (int k0 = 0; k0 < ic; k0 += WINO_KC) {
        const int kc = ic - k0 < WINO_KC ? ic - k0 : WINO_KC;
        if (J->vs) { /* transformed once for every task */
            v = J->vs + (size_t)(k0 / WINO_KC) * np * vxs;
        } else {
            input_block(J, g0, cnt, k0, kc, v);
            phase_mark(timed, WINO_PH_INPUT, &t);
        }
        for (int pg = p0; pg < p1; pg += J->u ? p1 - p0 : pg_n) {
            const int pe = J->u ? p1 : pg + pg_n < p1 ? pg + pg_n : p1;
            const float *ua; /* panel p's A panel of matrix xi: ua + xi * uxs + p * pa */
            size_t pa;
            if (J->u) {
                ua = J->u + (size_t)k0 * mr;
                pa = (size_t)mr * ic;
            } else {
                for (int p = pg; p < pe; p++)
                    weights_panel(J->w, J->wpacked, s->oc, ic, mr, J->m, p, k0, kc,
                                  ubuf + (size_t)(p - pg) * kc * mr, uxs);
                ua = ubuf - (size_t)pg * kc * mr;
                pa = (size_t)mr * kc;
                phase_mark(timed, WINO_PH_WEIGHTS, &t);
            }
            for (int xi = 0; xi < np; xi++) {
                const float *vx = v + xi * vxs;
                float *mx = mbuf + xi * mxs;
                /* panels p and p + 1 together where the kernel has two-panel forms */
                for (int p = pg; p < pe; p += pstep)
                    for (int q = 0; q < nq; q++)
                        gemm_q(kr, kc, ua + xi * uxs + p * pa, pa, pstep == 2 && p + 1 < pe, vx,
                               mx + (size_t)p * mr * nt, nt, cnt, q, k0 > 0);
            }
            phase_mark(timed, WINO_PH_GEMM, &t);
        }
    }
    const int o1 = p1 * mr < s->oc ? p1 * mr : s->oc;
    if (J->m == 4) output_block4(J, g0, cnt, p0 * mr, o1, mbuf, mxs);
    else output_block2(J, g0, cnt, p0 * mr, o1, mbuf, mxs);
    phase_mark(timed, WINO_PH_OUTPUT, &t);
}

static void run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                const float *w, int wpacked, const float *u, float *vs, size_t vs_floats,
                const conv_epilogue *e, float *y, float *scratch, size_t scratch_stride,
                int n_threads) {
    wino_job J;
    J.kr = kr; J.s = s; J.x = x; J.w = w; J.wpacked = wpacked; J.u = u; J.y = y; J.vs = NULL;
    J.e = e ? *e : (conv_epilogue){0};
    J.scratch = scratch; J.scratch_stride = scratch_stride;
    J.m = wino_tile(s);
    J.np = wino_points(J.m);
    J.tw = (s->w + J.m - 1) / J.m;
    J.per_item = J.tw * ((s->h + J.m - 1) / J.m);
    J.tiles = (int64_t)n * J.per_item;
    /* tiles per block; a conv with fewer tiles than a block (small maps at batch 1) is one
     * block just as wide as its tiles, so its scratch rows touch no more memory than they
     * use (the blocking, and so the bits, are the same) */
    J.nt = block_tiles(kr);
    if (J.tiles < J.nt) J.nt = round_up((int)J.tiles, kr->nr);
    J.panels = (s->oc + kr->mr - 1) / kr->mr;
    if (n_threads < 1) n_threads = 1;
    /* one block with fewer output-channel panels than threads (conv_out: 3 channels, one
     * panel) cannot be split by channels: split its tiles instead, into narrower blocks
     * (each task then makes its own few U panels; a tile's arithmetic is the same) */
    if (n_threads > 1 && J.panels < n_threads && J.tiles <= J.nt) {
        const int per = round_up((int)((J.tiles + n_threads - 1) / n_threads), kr->nr);
        if (per < J.nt) J.nt = per;
    }
    const int blocks = (int)((J.tiles + J.nt - 1) / J.nt);
    /* M blocks only to even out the threads: each costs one more input transform */
    int nb_m = 1;
    while (n_threads > 1 && nb_m < J.panels && (blocks * nb_m) % n_threads != 0 &&
           blocks * nb_m < 4 * n_threads)
        nb_m++;
    /* small problems run on one thread: same bits, no fork/join cost */
    const int big = 2.0 * J.np * s->oc * s->ic * (double)J.tiles >= 262144.0;
    const int shared_in = big && n_threads > 1 && blocks == 1 && vs &&
                          vs_floats >= v_shared_floats(s->ic, J.nt, J.np);
    /* with the input transformed once (below), M blocks cost nothing more: WINO_DYN_TASKS
     * per thread, taken dynamically, so a slower core does fewer of them */
    if (shared_in)
        nb_m = J.panels < WINO_DYN_TASKS * n_threads ? J.panels : WINO_DYN_TASKS * n_threads;
    J.mc_panels = (J.panels + nb_m - 1) / nb_m;
    if (shared_in) /* whole panel groups: the fused weight transform pairs panels (wino_pg) */
        J.mc_panels = round_up(J.mc_panels, wino_pg(kr));
    J.nb_m = (J.panels + J.mc_panels - 1) / J.mc_panels;
    const int tasks = blocks * J.nb_m;
    const int par = tasks > 1 && big;
    /* one tile block cut into M blocks (small maps at batch 1): each task would transform
     * the whole input again, so it is transformed once, split over the threads, into vs
     * (the same values: the GEMMs see the same bits) */
    if (par && shared_in && J.nb_m > 1) {
        J.vs = vs;
        const double t = wino_phase_on ? phase_now() : 0;
        ops_parallel_for_dyn(n_threads, 1, (s->ic + VS_CHUNK - 1) / VS_CHUNK, vs_task, &J);
        if (wino_phase_on) wino_phase_sec[WINO_PH_INPUT] += phase_now() - t;
    }
    ops_parallel_for_dyn(n_threads, par, tasks, wino_task, &J);
}

void conv2d_winograd_run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                         const float *u, const conv_epilogue *e, float *y, float *scratch,
                         size_t scratch_stride, int n_threads) {
    run(kr, s, n, x, NULL, 0, u, NULL, 0, e, y, scratch, scratch_stride, n_threads);
}

size_t wino_work_floats(const gemm_kernel *kr, const conv_shape *s, int max_batch) {
    const int m = wino_tile(s);
    const size_t v = v_shared_floats(s->ic, block_tiles(kr), wino_points(m));
    if (wino_fused(kr, s, max_batch)) return v;
    const size_t u = wino_u_floats(s->oc, s->ic, kr->mr, m);
    return u > v ? u : v;
}

int wino_fused(const gemm_kernel *kr, const conv_shape *s, int n) {
    const int m = wino_tile(s);
    const int64_t tiles = (int64_t)n * ((s->w + m - 1) / m) * ((s->h + m - 1) / m);
    const int nt = block_tiles(kr);
    return (tiles + nt - 1) / nt <= WINO_FUSE_BLOCKS;
}

void conv2d_winograd_run_w(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                           const float *w, int wpacked, float *u, size_t u_floats,
                           const conv_epilogue *e, float *y, float *scratch,
                           size_t scratch_stride, int n_threads) {
    if (!u || wino_fused(kr, s, n)) { /* u, if there, may hold the shared input transform */
        run(kr, s, n, x, w, wpacked, NULL, u, u ? u_floats : 0, e, y, scratch, scratch_stride,
            n_threads);
        return;
    }
    double t = wino_phase_on ? phase_now() : 0;
    transform_weights(w, wpacked, s->oc, s->ic, kr->mr, wino_tile(s), u, n_threads);
    phase_mark(wino_phase_on, WINO_PH_U, &t);
    run(kr, s, n, x, NULL, 0, u, NULL, 0, e, y, scratch, scratch_stride, n_threads);
}
