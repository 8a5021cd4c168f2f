/* conv2d.c — 2-D convolution (torch.nn.Conv2d cross-correlation, zero padding): the scalar
 * reference and the fast path, a packed GEMM y[oc][p] = W[oc][K] * patches[K][p] in the
 * BLIS loop order (NC -> KC -> pack B -> MR panels -> NR panels -> micro-kernel).
 * Tasks (ops_parallel_for) run over (item, NC block, M block); each output tile is
 * computed by one thread in a fixed order, so the result is the same for any thread count. */
#include <string.h>

#include "ops.h"
#include "pack.h"

/* Blocking (multiples of every kernel's mr and nr). The speed issue tunes these. */
#define GEMM_KC 256
/* M blocks per thread where B is packed once for all of them (conv2d_run) */
#ifndef CONV_DYN_TASKS
#define CONV_DYN_TASKS 4
#endif
#ifndef GEMM_NC
#define GEMM_NC 256
#endif

int conv_shape_init(conv_shape *s, int ic, int oc, int k, int stride, int pad_t, int pad_l,
                    int pad_b, int pad_r, int h, int w) {
    s->ic = ic; s->oc = oc; s->kh = k; s->kw = k; s->stride = stride;
    s->pad_t = pad_t; s->pad_l = pad_l; s->pad_b = pad_b; s->pad_r = pad_r;
    s->h = h; s->w = w;
    int eh = h + pad_t + pad_b - k, ew = w + pad_l + pad_r - k;
    if (eh < 0 || ew < 0 || stride < 1) { s->oh = s->ow = 0; return -1; }
    s->oh = eh / stride + 1;
    s->ow = ew / stride + 1;
    return 0;
}

static void epilogue_at(const conv_epilogue *e, int b, int o, int64_t p, int64_t N, float *y) {
    float v = *y;
    if (e->bias) v = v + e->bias[o];
    if (e->chan_add) v = v + e->chan_add[(int64_t)b * e->chan_add_stride + o];
    if (e->residual) v = v + e->residual[(int64_t)o * N + p];
    *y = v;
}

void conv2d_ref(const conv_shape *s, int n, const float *x, const float *w,
                const conv_epilogue *e, float *y) {
    const int64_t hw = (int64_t)s->h * s->w, N = (int64_t)s->oh * s->ow;
    for (int b = 0; b < n; b++) {
        const float *xb = x + (int64_t)b * s->ic * hw;
        float *yb = y + (int64_t)b * s->oc * N;
        conv_epilogue eb = e ? *e : (conv_epilogue){0};
        if (eb.residual) eb.residual += (int64_t)b * s->oc * N;
        for (int o = 0; o < s->oc; o++)
            for (int oy = 0; oy < s->oh; oy++)
                for (int ox = 0; ox < s->ow; ox++) {
                    float acc = 0.0f;
                    for (int c = 0; c < s->ic; c++)
                        for (int ky = 0; ky < s->kh; ky++)
                            for (int kx = 0; kx < s->kw; kx++) {
                                int iy = oy * s->stride + ky - s->pad_t;
                                int ix = ox * s->stride + kx - s->pad_l;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                acc += w[(((int64_t)o * s->ic + c) * s->kh + ky) * s->kw + kx] *
                                       xb[(int64_t)c * hw + (int64_t)iy * s->w + ix];
                            }
                    int64_t p = (int64_t)oy * s->ow + ox;
                    yb[(int64_t)o * N + p] = acc;
                    epilogue_at(&eb, b, o, p, N, &yb[(int64_t)o * N + p]);
                }
    }
}

size_t conv2d_scratch_floats(const gemm_kernel *kr) {
    return (size_t)GEMM_KC * GEMM_NC + (size_t)kr->mr * kr->nr + 16;
}

/* Column block width and row blocks per (item, column block): all of M in one task (B
 * packed once) and NC columns, narrowed (in nr steps) when that leaves threads idle, and M
 * split only when even nr-wide column blocks are too few. Every M block packs the same B
 * again, so M is cut into as few blocks as balance the threads (not two per thread). Any
 * split gives the same bits: a tile's arithmetic depends only on the KC blocking, never on
 * which task computes it. */
static void task_split(int n, int M, int N, int mr, int nr, int n_threads, int *nc_out,
                       int *nb_m_out) {
    int nc = GEMM_NC;
    const int want = 2 * n_threads; /* two tasks per thread balance uneven shapes */
    if (n_threads > 1 && n * ((N + nc - 1) / nc) < want) {
        const int per_item = (want + n - 1) / n;
        int c = (N + per_item - 1) / per_item;
        c = (c + nr - 1) / nr * nr;
        nc = c < nr ? nr : c;
    }
    const int base = n * ((N + nc - 1) / nc), panels = (M + mr - 1) / mr;
    int nb_m = 1;
    while (n_threads > 1 && base * nb_m < want && (base * nb_m) % n_threads != 0 && nb_m < panels)
        nb_m++;
    *nc_out = nc;
    *nb_m_out = nb_m;
}

typedef struct conv_job {
    const gemm_kernel *kr;
    const conv_shape *s;
    const float *x, *packed_a;
    conv_epilogue e0;
    float *y, *scratch;
    size_t scratch_stride;
    int M, K, N, nc, nb_n, nb_m, mc_panels;
    float *bs; /* NULL, or the one (item, column block)'s B, every KC block, packed once */
    size_t bs_ncr;
} conv_job;

/* One mr x nr output tile's KC block: the kernel, with on the last block the epilogue in
 * the reference's order added in its registers; edge tiles go through tmp and take the
 * epilogue row by row. */
static void conv_tile(const conv_job *J, int b, int i0, int mh, int j0, int nw, int kc,
                      const float *ap, const float *bq, int acc, int last, float *tmp) {
    const gemm_kernel *kr = J->kr;
    const conv_epilogue e0 = J->e0;
    const int M = J->M, N = J->N, mr = kr->mr, nr = kr->nr;
    float *c = J->y + (int64_t)b * M * N + (int64_t)i0 * N + j0;
    int width = nr; /* narrow panels (4x4 maps) take the half-width kernel where there is one */
    const gemm_ukr_fn ukr = nw == nr ? kr->ukr : gemm_ukr_cols(kr, nw, &width);
    const int epi = last && (e0.bias || e0.chan_add || e0.residual);
    if (mh == mr && (nw == nr || nw == width)) {
        gemm_epi ep;
        if (epi) {
            ep.row[0] = e0.bias ? e0.bias + i0 : NULL;
            ep.row[1] = e0.chan_add ? e0.chan_add + (int64_t)b * e0.chan_add_stride + i0 : NULL;
            ep.res = e0.residual ? e0.residual + ((int64_t)b * M + i0) * N + j0 : NULL;
            ep.ldr = N;
        }
        ukr(kc, ap, bq, c, N, acc, epi ? &ep : NULL);
        return;
    }
    ukr(kc, ap, bq, tmp, nr, 0, NULL);
    for (int i = 0; i < mh; i++)
        for (int j = 0; j < nw; j++)
            c[(int64_t)i * N + j] = acc ? c[(int64_t)i * N + j] + tmp[i * nr + j] : tmp[i * nr + j];
    if (!epi) return;
    for (int i = 0; i < mh; i++) {
        const int o = i0 + i;
        float *ci = c + (int64_t)i * N;
        if (e0.bias) {
            const float bo = e0.bias[o];
            for (int j = 0; j < nw; j++) ci[j] = ci[j] + bo;
        }
        if (e0.chan_add) {
            const float ca = e0.chan_add[(int64_t)b * e0.chan_add_stride + o];
            for (int j = 0; j < nw; j++) ci[j] = ci[j] + ca;
        }
        if (e0.residual) {
            const float *rr = e0.residual + ((int64_t)b * M + o) * N + j0;
            for (int j = 0; j < nw; j++) ci[j] = ci[j] + rr[j];
        }
    }
}

/* Output-channel panels i0 and i0 + mr (the next A panel a2 floats on) of one column tile,
 * both full: in one call of the kernel's two-panel form where it has one for the tile's
 * width (ukr2: nr columns; ukr_half2: the half kernel's), the epilogue's rows running on
 * through 2mr; else conv_tile on each. The same bits either way. */
static void conv_tiles2(const conv_job *J, int b, int i0, int j0, int nw, int kc,
                        const float *ap, int64_t a2, const float *bq, int acc, int last,
                        float *tmp) {
    const gemm_kernel *kr = J->kr;
    const gemm_ukr2_fn f = nw == kr->nr ? kr->ukr2 : 2 * nw == kr->nr ? kr->ukr_half2 : NULL;
    if (!f) {
        conv_tile(J, b, i0, kr->mr, j0, nw, kc, ap, bq, acc, last, tmp);
        conv_tile(J, b, i0 + kr->mr, kr->mr, j0, nw, kc, ap + a2, bq, acc, last, tmp);
        return;
    }
    const conv_epilogue e0 = J->e0;
    const int M = J->M, N = J->N;
    float *c = J->y + (int64_t)b * M * N + (int64_t)i0 * N + j0;
    gemm_epi ep;
    const int epi = last && (e0.bias || e0.chan_add || e0.residual);
    if (epi) {
        ep.row[0] = e0.bias ? e0.bias + i0 : NULL;
        ep.row[1] = e0.chan_add ? e0.chan_add + (int64_t)b * e0.chan_add_stride + i0 : NULL;
        ep.res = e0.residual ? e0.residual + ((int64_t)b * M + i0) * N + j0 : NULL;
        ep.ldr = N;
    }
    f(kc, ap, a2, bq, c, N, acc, epi ? &ep : NULL);
}

/* One KC block (k0, kc) of the output panel at i0 (mh rows; with two, also the next, full
 * panel, A ap + mr * K) over columns n0..n0+nc-1, B panels [kc][nr] from bk on. */
static void block_row(const conv_job *J, int b, int i0, int mh, int two, int n0, int nc,
                      int k0, int kc, const float *ap, const float *bk, float *tmp) {
    const int nr = J->kr->nr, K = J->K, acc = k0 > 0, last = k0 + kc >= K;
    for (int j0 = n0; j0 < n0 + nc; j0 += nr) {
        const int nw = n0 + nc - j0 < nr ? n0 + nc - j0 : nr;
        const float *bq = bk + (size_t)((j0 - n0) / nr) * kc * nr;
        if (two)
            conv_tiles2(J, b, i0, j0, nw, kc, ap, (int64_t)J->kr->mr * K, bq, acc, last, tmp);
        else
            conv_tile(J, b, i0, mh, j0, nw, kc, ap, bq, acc, last, tmp);
    }
}

static void conv_task(void *arg, int task) {
    const conv_job *J = arg;
    const gemm_kernel *kr = J->kr;
    const conv_shape *s = J->s;
    const int M = J->M, K = J->K, N = J->N, mr = kr->mr, nr = kr->nr;
    const int64_t hw = (int64_t)s->h * s->w;
    const int b = task / (J->nb_n * J->nb_m), rest = task % (J->nb_n * J->nb_m);
    const int jn = rest / J->nb_m, jm = rest % J->nb_m;
    float *bp = J->scratch + (size_t)ops_thread_id() * J->scratch_stride;
    float *tmp = bp + (size_t)GEMM_KC * GEMM_NC;
    const float *xb = J->x + (int64_t)b * s->ic * hw;
    const int n0 = jn * J->nc, nc = N - n0 < J->nc ? N - n0 : J->nc;
    const int m0 = jm * J->mc_panels * mr;
    if (m0 >= M) return;
    const int mc = M - m0 < J->mc_panels * mr ? M - m0 : J->mc_panels * mr;
    const size_t ncr = (size_t)(nc + nr - 1) / nr * nr; /* floats per k row of the B block */
    if (J->bs) /* packed once for every task (bs_task) */
        bp = J->bs;
    if (J->bs || ((size_t)K * ncr <= (size_t)GEMM_KC * GEMM_NC && K > GEMM_KC)) {
        /* Narrow outputs (4x4 maps): all of B fits the scratch, so pack every KC block
         * first and walk each weight panel once, front to back, over all of K. The sums
         * run over the same KC blocks in the same order as below: the same bits. */
        for (int k0 = 0; k0 < K && !J->bs; k0 += GEMM_KC) {
            const int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            pack_b(s, xb, k0, kc, n0, nc, nr, bp + (size_t)k0 * ncr);
        }
        for (int i0 = m0; i0 < m0 + mc; i0 += mr) {
            const int mh = m0 + mc - i0 < mr ? m0 + mc - i0 : mr;
            /* two full output-channel panels at a time where the kernel has that form */
            const int two = (kr->ukr2 || kr->ukr_half2) && m0 + mc - i0 >= 2 * mr;
            for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
                const int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
                const float *ap = J->packed_a + (size_t)(i0 / mr) * mr * K + (size_t)k0 * mr;
                block_row(J, b, i0, mh, two, n0, nc, k0, kc, ap, bp + (size_t)k0 * ncr, tmp);
            }
            if (two) i0 += mr;
        }
        return;
    }
    for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
        const int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
        pack_b(s, xb, k0, kc, n0, nc, nr, bp);
        for (int i0 = m0; i0 < m0 + mc; i0 += mr) {
            const int mh = m0 + mc - i0 < mr ? m0 + mc - i0 : mr;
            const int two = (kr->ukr2 || kr->ukr_half2) && m0 + mc - i0 >= 2 * mr;
            const float *ap = J->packed_a + (size_t)(i0 / mr) * mr * K + (size_t)k0 * mr;
            block_row(J, b, i0, mh, two, n0, nc, k0, kc, ap, bp, tmp);
            if (two) i0 += mr;
        }
    }
}

/* KC block `task` of the shared B (conv_job.bs) */
static void bs_task(void *arg, int task) {
    const conv_job *J = arg;
    const int k0 = task * GEMM_KC, kc = J->K - k0 < GEMM_KC ? J->K - k0 : GEMM_KC;
    pack_b(J->s, J->x, k0, kc, 0, J->nc, J->kr->nr, J->bs + (size_t)k0 * J->bs_ncr);
}

void conv2d_run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                const float *packed_a, const conv_epilogue *e, float *y, float *scratch,
                size_t scratch_stride, int n_threads) {
    conv_job J;
    J.kr = kr; J.s = s; J.x = x; J.packed_a = packed_a; J.y = y;
    J.scratch = scratch; J.scratch_stride = scratch_stride;
    J.e0 = e ? *e : (conv_epilogue){0};
    J.M = s->oc; J.K = s->ic * s->kh * s->kw; J.N = s->oh * s->ow;
    if (n_threads < 1) n_threads = 1;
    task_split(n, J.M, J.N, kr->mr, kr->nr, n_threads, &J.nc, &J.nb_m);
    J.nb_n = (J.N + J.nc - 1) / J.nc;
    const int panels = (J.M + kr->mr - 1) / kr->mr;
    /* One item, one column block, cut into M blocks (4x4 output maps at batch 1): each M
     * block would pack the same B again. Where the scratch has room past thread 0's own
     * area, B is packed once, its KC blocks split over the threads, and the M blocks,
     * CONV_DYN_TASKS per thread, are taken dynamically (the same values and sums: the
     * same bits). */
    J.bs = NULL;
    J.bs_ncr = (size_t)(J.nc + kr->nr - 1) / kr->nr * kr->nr;
    const size_t own = conv2d_scratch_floats(kr);
    /* small problems run on one thread: same bits, no fork/join cost */
    const int big = (double)J.M * J.N * J.K * n >= 262144.0;
    if (big && n * J.nb_n == 1 && J.nb_m > 1 && scratch_stride >= own + (size_t)J.K * J.bs_ncr) {
        J.bs = scratch + own;
        J.nb_m = panels < CONV_DYN_TASKS * n_threads ? panels : CONV_DYN_TASKS * n_threads;
    }
    J.mc_panels = (panels + J.nb_m - 1) / J.nb_m;
    J.nb_m = (panels + J.mc_panels - 1) / J.mc_panels;
    const int tasks = n * J.nb_n * J.nb_m;
    const int par = tasks > 1 && big;
    if (J.bs) {
        ops_parallel_for_dyn(n_threads, 1, (J.K + GEMM_KC - 1) / GEMM_KC, bs_task, &J);
        ops_parallel_for_dyn(n_threads, par, tasks, conv_task, &J);
        return;
    }
    ops_parallel_for(n_threads, par, tasks, conv_task, &J);
}
