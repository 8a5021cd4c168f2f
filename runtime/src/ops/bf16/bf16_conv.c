/* bf16_conv.c — conv2d in bf16 precision: the loops of conv2d.c (BLIS order: tasks over
 * (item, NC block, M block) -> k blocks -> B -> mr panels -> nr panels -> micro-kernel)
 * around a bf16 kernel (bf16_kernels.h), with B from one of two places:
 *
 * direct path (ic a multiple of 32, stride 1 or 2, at most 16 taps: every UNet conv but
 *   conv_in): the k order is (channel block, tap, channel). Per k block the task rounds
 *   its input once per (row phase ry, column offset kx) into channel-pair rows laid out on
 *   the output grid, covering its output positions plus the halo rows (shift_pairs):
 *
 *     copy[ry][kx][pair q][i] = ( x[2q][s*j + ry][s*c + kx - pad_l], same for 2q+1 )
 *         for f = f0 + i = j*ow + c (rows/columns outside the image: 0)
 *
 *   Tap (ky, kx) with ky - pad_t = s*dj + ry of output positions p..p+nr-1 is then the
 *   window at f = p + dj*ow of copy[ry][kx]: the micro-kernel reads its B rows there
 *   (bstride = the copy's row length). Each input value is rounded kw times (stride 1)
 *   instead of being gathered kh*kw times, and AMX loads B tiles straight from the copies.
 * general path (anything else, e.g. conv_in's 3 channels): conv2d_ref's k order; pack.c's
 *   pack_b gathers up to GATHER rows of an nr-column panel as f32 (no im2col buffer) and
 *   cvt_pairs rounds them into [kc/2][nr][2] panels.
 *
 * Small images (8x8, 4x4) go several to a task, so a weight panel serves all their tiles.
 * K is padded with zeros to the kernel's kg. A tile's sum depends only on the k blocking
 * (fixed per kernel and shape), so any thread count, task split or item grouping gives the
 * same bits. */
#include <string.h>

#include "ops/bf16/bf16_kernels.h"
#include "ops/pack.h"

#define GATHER 64      /* f32 rows gathered per cvt_pairs call: 8 KiB at nr = 32 */
#define MAX_STEPS 64   /* B pointers (32 k each) per micro-kernel call */
#define MAX_TAPS 16    /* the direct path's kh*kw limit */

_Static_assert(BF16_PAIR_NR <= GEMM_MAX_NR && BF16_AMX_NR <= GEMM_MAX_NR,
               "pack_b gathers at most GEMM_MAX_NR columns");
_Static_assert(BF16_PAIR_KC / 32 + MAX_TAPS <= MAX_STEPS && BF16_AMX_KC / 32 + MAX_TAPS <= MAX_STEPS,
               "a k block's B pointers fit MAX_STEPS");

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

static unsigned char *align64(unsigned char *p) {
    return p + ((64 - (uintptr_t)p % 64) % 64);
}

static int64_t floor_div(int64_t a, int64_t b) { return (a >= 0 ? a : a - b + 1) / b; }

int bf16_conv_direct_block(const bf16_kernel *k, const conv_shape *s) {
    const int taps = s->kh * s->kw;
    if (!k->shift_pairs || s->stride < 1 || s->stride > 2 || s->ic % 32 || taps > MAX_TAPS)
        return 0;
    /* about kc/32 tile steps per block: 3x3 -> 32 or 64 channels, 1x1 -> kc channels */
    const int steps = k->kc / 32, per = (steps + taps / 2) / taps;
    return 32 * (per < 1 ? 1 : per);
}

/* Output rows between tap ky's input rows and the copy's: dj = floor((ky - pad_t) / s). */
static int tap_dj(const conv_shape *s, int ky) { return (int)floor_div(ky - s->pad_t, s->stride); }

/* The direct path's copy row length (pairs) for a task of at most nc columns. */
static int copy_len(const bf16_kernel *k, const conv_shape *s, int nc) {
    return round_up(round_up(nc, k->nr) + (tap_dj(s, s->kh - 1) - tap_dj(s, 0)) * s->ow, 16);
}

/* uint16 of one item's B for a task of at most nc columns: the copies (direct path) or the
 * packed panels of one k block (general path). */
static size_t b_elems(const bf16_kernel *k, const conv_shape *s, int cb, int nc) {
    return cb ? (size_t)s->stride * s->kw * (cb / 2) * copy_len(k, s, nc) * 2
              : (size_t)k->kc * round_up(nc, k->nr);
}

/* Items one task may take whole: small images share a task (and its weight panels) up to
 * an NC block's worth of columns. */
static int items_max(const bf16_kernel *k, const conv_shape *s) {
    const int per = k->nc / round_up(s->oh * s->ow, k->nr);
    return per > 1 ? per : 1;
}

size_t conv2d_bf16_scratch_bytes(const bf16_kernel *k, const conv_shape *s) {
    const int cb = bf16_conv_direct_block(k, s), im = items_max(k, s);
    return (size_t)im * b_elems(k, s, cb, im > 1 ? s->oh * s->ow : k->nc) * sizeof(uint16_t)
           + (size_t)GATHER * k->nr * sizeof(float)       /* f32 rows before rounding */
           + (size_t)k->mr * k->nr * sizeof(float)        /* edge tile */
           + 3 * 64;                                      /* each part 64-byte aligned */
}

/* B panels for k rows k0..k0+kc-1 (zero from K on) and columns n0..n0+nc-1 of item x:
 * ceil(nc/nr) panels of [kc/2][nr][2] at dst. */
static void pack_block(const bf16_kernel *k, const conv_shape *s, const float *x, int K,
                       int k0, int kc, int n0, int nc, uint16_t *dst, float *rows) {
    const int nr = k->nr;
    for (int q = 0; q * nr < nc; q++) {
        const int j0 = n0 + q * nr, jw = nc - q * nr < nr ? nc - q * nr : nr;
        uint16_t *dq = dst + (size_t)q * kc * nr;
        for (int kk = 0; kk < kc; kk += GATHER) {
            const int nrows = kc - kk < GATHER ? kc - kk : GATHER; /* even: kc, GATHER are */
            int real = K - (k0 + kk);
            real = real < 0 ? 0 : real > nrows ? nrows : real;
            if (real > 0) pack_b(s, x, k0 + kk, real, j0, jw, nr, rows);
            memset(rows + (size_t)real * nr, 0, (size_t)(nrows - real) * nr * sizeof(float));
            k->cvt_pairs(nrows / 2, nr, rows, dq + (size_t)kk * nr);
        }
    }
}

/* conv2d.c's split, plus item groups: small images go ipt to a task (as many as fit an NC
 * block, while that leaves two tasks per thread); otherwise all of M in one task and NC
 * columns, narrowed (in nr steps) when that leaves threads idle, M split only when
 * nr-wide column blocks are too few. */
static void task_split(int n, int M, int N, int mr, int nr, int nc0, int ipt_max,
                       int n_threads, int *nc_out, int *nb_m_out, int *ipt_out) {
    int nc = nc0, ipt = 1;
    const int want = 2 * n_threads;
    if (ipt_max > 1) {
        ipt = n_threads > 1 ? n / want : ipt_max;
        ipt = ipt < 1 ? 1 : ipt > ipt_max ? ipt_max : ipt;
        nc = round_up(N, nr);
    } else if (n_threads > 1 && n * ((N + nc - 1) / nc) < want) {
        const int per_item = (want + n - 1) / n;
        int c = (N + per_item - 1) / per_item;
        c = (c + nr - 1) / nr * nr;
        nc = c < nr ? nr : c;
    }
    const int base = (n + ipt - 1) / ipt * ((N + nc - 1) / nc), panels = (M + mr - 1) / mr;
    int nb_m = 1;
    if (n_threads > 1 && base < want) nb_m = (want + base - 1) / base;
    *nc_out = nc;
    *nb_m_out = nb_m > panels ? panels : nb_m;
    *ipt_out = ipt;
}

typedef struct job {
    const bf16_kernel *k;
    const conv_shape *s;
    const float *x;
    const uint16_t *packed;
    conv_epilogue e0;
    float *y;
    unsigned char *scratch;
    size_t scratch_stride;
    int n, M, K, Kp, N, nc, nb_n, nb_m, mc_panels, ipt;
    int cb; /* direct path: channels per k block; 0: general path */
} job;

static void epilogue_rows(const conv_epilogue *e, int b, int M, int N, int i0, int mh,
                          int j0, int nw, float *c) {
    for (int i = 0; i < mh; i++) { /* the reference's order, row by row so it vectorises */
        const int o = i0 + i;
        float *ci = c + (int64_t)i * N;
        if (e->bias) {
            const float bo = e->bias[o];
            for (int j = 0; j < nw; j++) ci[j] = ci[j] + bo;
        }
        if (e->chan_add) {
            const float ca = e->chan_add[(int64_t)b * e->chan_add_stride + o];
            for (int j = 0; j < nw; j++) ci[j] = ci[j] + ca;
        }
        if (e->residual) {
            const float *rr = e->residual + ((int64_t)b * M + o) * N + j0;
            for (int j = 0; j < nw; j++) ci[j] = ci[j] + rr[j];
        }
    }
}

/* The direct path's rounded copies for channels c0..c0+nch-1 of item x and the task's
 * positions from n0: copy[ry][kx][pair] rows of len pairs, for the row phases taps use. */
static void build_copies(const bf16_kernel *k, const conv_shape *s, const float *x, int c0,
                         int nch, int cb, int n0, int len, uint16_t *copy) {
    const int64_t hw = (int64_t)s->h * s->w, f0 = n0 + (int64_t)tap_dj(s, 0) * s->ow;
    for (int ry = 0; ry < s->stride; ry++) {
        int used = 0;
        for (int ky = 0; ky < s->kh; ky++) used |= (ky - s->pad_t) - s->stride * tap_dj(s, ky) == ry;
        if (!used) continue;
        for (int kx = 0; kx < s->kw; kx++)
            for (int q = 0; q < nch / 2; q++) {
                const float *x0 = x + (int64_t)(c0 + 2 * q) * hw;
                k->shift_pairs(x0, x0 + hw, s->h, s->w, s->ow, s->stride, ry, kx - s->pad_l, f0,
                               len, copy + (((size_t)ry * s->kw + kx) * (cb / 2) + q) * len * 2);
            }
    }
}

/* B pointers (32 k each) for the tile at column j0 of a task starting at n0: windows of
 * the copies (direct path, item region b) or rows of the packed panel. */
static void tile_b(const job *J, const uint16_t *b, int kc, int len, int n0, int j0,
                   const uint16_t **bs) {
    const conv_shape *s = J->s;
    const int cb = J->cb, nr = J->k->nr;
    if (!cb) {
        const uint16_t *panel = b + (size_t)((j0 - n0) / nr) * kc * nr;
        for (int q = 0; q < (kc + 31) / 32; q++) bs[q] = panel + (size_t)q * 16 * nr * 2;
        return;
    }
    /* step (tap t, 32-channel group g): copy[ry][kx] rows g*16.., window at j0 + dj*ow */
    const int taps = s->kh * s->kw, groups = kc / taps / 32, dj0 = tap_dj(s, 0);
    for (int t = 0; t < taps; t++) {
        const int ky = t / s->kw, kx = t % s->kw, dj = tap_dj(s, ky);
        const int ry = ky - s->pad_t - s->stride * dj;
        const size_t slot = (size_t)ry * s->kw + kx;
        const size_t at = (size_t)(j0 - n0) + (size_t)(dj - dj0) * s->ow;
        for (int g = 0; g < groups; g++)
            bs[t * groups + g] = b + ((slot * (cb / 2) + (size_t)g * 16) * len + at) * 2;
    }
}

static void conv_task(void *arg, int task) {
    const job *J = arg;
    const bf16_kernel *k = J->k;
    const conv_shape *s = J->s;
    const int M = J->M, N = J->N, Kp = J->Kp, mr = k->mr, nr = k->nr, cb = J->cb;
    const int per = J->nb_n * J->nb_m, rest = task % per;
    const int b0 = task / per * J->ipt, items = J->n - b0 < J->ipt ? J->n - b0 : J->ipt;
    const int jn = rest / J->nb_m, jm = rest % J->nb_m;
    const int n0 = jn * J->nc, nc = N - n0 < J->nc ? N - n0 : J->nc;
    const int m0 = jm * J->mc_panels * mr;
    if (m0 >= M) return;
    const int mc = M - m0 < J->mc_panels * mr ? M - m0 : J->mc_panels * mr;
    const int taps = s->kh * s->kw, len = cb ? copy_len(k, s, nc) : 0;
    const size_t bstep = b_elems(k, s, cb, nc); /* uint16 per item */
    const int64_t chw = (int64_t)s->ic * s->h * s->w;
    unsigned char *base = J->scratch + (size_t)ops_thread_id() * J->scratch_stride;
    uint16_t *bp = (uint16_t *)align64(base);
    float *rows = (float *)align64((unsigned char *)(bp + (size_t)items * bstep));
    float *tmp = (float *)align64((unsigned char *)(rows + (size_t)GATHER * nr));
    const int epi = J->e0.bias || J->e0.chan_add || J->e0.residual;
    const size_t panel_len = (size_t)mr * Kp;
    const uint16_t *bs[MAX_STEPS];
    if (k->begin) k->begin();
    for (int k0 = 0; k0 < Kp;) {
        int kc;
        int64_t bstride;
        if (cb) { /* one channel block, every tap */
            const int c0 = k0 / taps, nch = s->ic - c0 < cb ? s->ic - c0 : cb;
            kc = nch * taps;
            bstride = (int64_t)len * 2;
            for (int it = 0; it < items; it++)
                build_copies(k, s, J->x + (b0 + it) * chw, c0, nch, cb, n0, len, bp + it * bstep);
        } else {
            kc = Kp - k0 < k->kc ? Kp - k0 : k->kc;
            bstride = (int64_t)nr * 2;
            for (int it = 0; it < items; it++)
                pack_block(k, s, J->x + (b0 + it) * chw, J->K, k0, kc, n0, nc, bp + it * bstep, rows);
        }
        const int acc = k0 > 0, last = k0 + kc >= Kp;
        for (int i0 = m0; i0 < m0 + mc; i0 += mr) {
            const int mh = m0 + mc - i0 < mr ? m0 + mc - i0 : mr;
            const size_t a_at = (size_t)(i0 / mr) * panel_len + (size_t)k0 * mr;
            const uint16_t *ap = J->packed + a_at;
            for (int it = 0; it < items; it++) {
                float *yb = J->y + (int64_t)(b0 + it) * M * N;
                for (int j0 = n0; j0 < n0 + nc; j0 += nr) {
                    const int nw = n0 + nc - j0 < nr ? n0 + nc - j0 : nr;
                    tile_b(J, bp + it * bstep, kc, len, n0, j0, bs);
                    float *c = yb + (int64_t)i0 * N + j0;
                    if (mh == mr && nw == nr) {
                        k->ukr(kc, ap, bs, bstride, c, N, acc);
                    } else {
                        k->ukr(kc, ap, bs, bstride, tmp, nr, 0);
                        for (int i = 0; i < mh; i++)
                            for (int j = 0; j < nw; j++)
                                c[(int64_t)i * N + j] = acc ? c[(int64_t)i * N + j] + tmp[i * nr + j]
                                                            : tmp[i * nr + j];
                    }
                    if (last && epi) epilogue_rows(&J->e0, b0 + it, M, N, i0, mh, j0, nw, c);
                }
            }
        }
        k0 += kc;
    }
    if (k->end) k->end();
}

void conv2d_bf16_run(const bf16_kernel *k, const conv_shape *s, int n, const float *x,
                     const void *packed_w, const conv_epilogue *e, float *y, void *scratch,
                     size_t scratch_stride, int n_threads) {
    job J;
    J.k = k; J.s = s; J.x = x; J.packed = packed_w; J.y = y;
    J.scratch = scratch; J.scratch_stride = scratch_stride;
    J.e0 = e ? *e : (conv_epilogue){0};
    J.n = n; J.M = s->oc; J.K = s->ic * s->kh * s->kw; J.Kp = round_up(J.K, k->kg);
    J.N = s->oh * s->ow;
    J.cb = bf16_conv_direct_block(k, s);
    if (n_threads < 1) n_threads = 1;
    task_split(n, J.M, J.N, k->mr, k->nr, k->nc, items_max(k, s), n_threads, &J.nc, &J.nb_m, &J.ipt);
    J.nb_n = (J.N + J.nc - 1) / J.nc;
    const int panels = (J.M + k->mr - 1) / k->mr;
    J.mc_panels = (panels + J.nb_m - 1) / J.nb_m;
    const int tasks = (n + J.ipt - 1) / J.ipt * J.nb_n * J.nb_m;
    /* small problems run on one thread: same bits, no fork/join cost */
    const int par = tasks > 1 && (double)J.M * J.N * J.K * n >= 262144.0;
    ops_parallel_for(n_threads, par, tasks, conv_task, &J);
}
