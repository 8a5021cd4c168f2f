/* conv2d.c — 2-D convolution (torch.nn.Conv2d cross-correlation, zero padding): the scalar
 * reference and the fast path, a packed GEMM y[oc][p] = W[oc][K] * patches[K][p] in the
 * BLIS loop order (NC -> KC -> pack B -> MR panels -> NR panels -> micro-kernel).
 * OpenMP runs over (item, NC block, MC block) tasks; each output tile is computed by one
 * thread in a fixed order, so the result is the same for any thread count. */
#include <string.h>

#include "ops.h"
#include "pack.h"

/* Blocking (multiples of every kernel's mr and nr). The speed issue tunes these. */
#define GEMM_KC 256
#define GEMM_NC 64

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

/* Row blocks per (item, column block): all of M in one task (B packed once) unless that
 * leaves threads idle. Any split gives the same bits: a tile's arithmetic depends only on
 * the KC blocking, never on which task or thread computes it. */
static int m_blocks(int M, int mr, int base_tasks, int n_threads) {
    const int panels = (M + mr - 1) / mr;
    int want = base_tasks >= 2 * n_threads ? 1 : (2 * n_threads + base_tasks - 1) / base_tasks;
    return want > panels ? panels : want;
}

void conv2d_run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                const float *packed_a, const conv_epilogue *e, float *y, float *scratch,
                size_t scratch_stride, int n_threads) {
    const int M = s->oc, K = s->ic * s->kh * s->kw, N = s->oh * s->ow;
    const int mr = kr->mr, nr = kr->nr;
    const int64_t hw = (int64_t)s->h * s->w;
    if (n_threads < 1) n_threads = 1;
    const int nb_n = (N + GEMM_NC - 1) / GEMM_NC;
    const int nb_m = m_blocks(M, mr, n * nb_n, n_threads);
    const int panels = (M + mr - 1) / mr, mc_panels = (panels + nb_m - 1) / nb_m;
    const int tasks = n * nb_n * nb_m;
    const conv_epilogue e0 = e ? *e : (conv_epilogue){0};
    /* small problems run on one thread: same bits, no fork/join cost */
    const int par = tasks > 1 && (double)M * N * K * n >= 262144.0;
    (void)par;
    OPS_PARALLEL_FOR(n_threads, par)
    for (int task = 0; task < tasks; task++) {
        const int b = task / (nb_n * nb_m), rest = task % (nb_n * nb_m);
        const int jn = rest / nb_m, jm = rest % nb_m;
        float *bp = scratch + (size_t)ops_thread_id() * scratch_stride;
        float *tmp = bp + (size_t)GEMM_KC * GEMM_NC;
        const float *xb = x + (int64_t)b * s->ic * hw;
        float *yb = y + (int64_t)b * M * N;
        const int n0 = jn * GEMM_NC, nc = N - n0 < GEMM_NC ? N - n0 : GEMM_NC;
        const int m0 = jm * mc_panels * mr;
        if (m0 >= M) continue;
        const int mc = M - m0 < mc_panels * mr ? M - m0 : mc_panels * mr;
        for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
            const int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            const int acc = k0 > 0, last = k0 + kc >= K;
            pack_b(s, xb, k0, kc, n0, nc, nr, bp);
            for (int i0 = m0; i0 < m0 + mc; i0 += mr) {
                const int mh = m0 + mc - i0 < mr ? m0 + mc - i0 : mr;
                const float *ap = packed_a + (size_t)(i0 / mr) * mr * K + (size_t)k0 * mr;
                for (int j0 = n0; j0 < n0 + nc; j0 += nr) {
                    const int nw = n0 + nc - j0 < nr ? n0 + nc - j0 : nr;
                    const float *bq = bp + (size_t)((j0 - n0) / nr) * kc * nr;
                    float *c = yb + (int64_t)i0 * N + j0;
                    if (mh == mr && nw == nr) {
                        kr->ukr(kc, ap, bq, c, N, acc);
                    } else {
                        kr->ukr(kc, ap, bq, tmp, nr, 0);
                        for (int i = 0; i < mh; i++)
                            for (int j = 0; j < nw; j++)
                                c[(int64_t)i * N + j] = acc ? c[(int64_t)i * N + j] + tmp[i * nr + j]
                                                            : tmp[i * nr + j];
                    }
                    if (last && (e0.bias || e0.chan_add || e0.residual)) {
                        /* the reference's order, row by row so it vectorises */
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
                }
            }
        }
    }
}
