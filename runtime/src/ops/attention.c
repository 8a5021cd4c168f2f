/* attention.c — the core of diffusers' AttnProcessor over H*W tokens (attention_processor.py):
 * per head, o = softmax(q^T k * dh^-0.5) v with the row max subtracted before exp. Inputs
 * are the projected q, k, v in channel-major [n][c][hw]; heads split c into equal slices.
 * Reference and fast path: two packed GEMMs on the micro-kernel with the softmax fused
 * between them, OpenMP over (item, head, run of query blocks); no cross-thread sums. */
#include <math.h>

#include "ops.h"
#include "vexp.h"

/* One scaled score in double (the reference recomputes instead of buffering a row). */
static double score(const float *q, const float *k, int64_t base, int dh, int hw, int i, int j,
                    double scale) {
    double d = 0.0;
    for (int cc = 0; cc < dh; cc++)
        d += (double)q[base + (int64_t)cc * hw + i] * (double)k[base + (int64_t)cc * hw + j];
    return d * scale;
}

void attention_ref(int n, int c, int hw, int heads, const float *q, const float *k,
                   const float *v, float *o) {
    const int dh = c / heads;
    const double scale = 1.0 / sqrt((double)dh);
    for (int b = 0; b < n; b++)
        for (int h = 0; h < heads; h++) {
            const int64_t base = ((int64_t)b * c + (int64_t)h * dh) * hw;
            for (int i = 0; i < hw; i++) {
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j < hw; j++) {
                    double sj = score(q, k, base, dh, hw, i, j, scale);
                    if (sj > mx) mx = sj;
                }
                for (int j = 0; j < hw; j++) sum += exp(score(q, k, base, dh, hw, i, j, scale) - mx);
                for (int cc = 0; cc < dh; cc++) {
                    double acc = 0.0;
                    for (int j = 0; j < hw; j++)
                        acc += exp(score(q, k, base, dh, hw, i, j, scale) - mx) / sum *
                               (double)v[base + (int64_t)cc * hw + j];
                    o[base + (int64_t)cc * hw + i] = (float)acc;
                }
            }
        }
}

/* The fast path works on transposes, so that every operand packs by plain copies or
 * short gathers and the softmax runs across contiguous columns:
 *   S^T [hw keys][rows]  = K^T Q_blk      (A = K^T: panels of mr keys, B = Q_blk: nr queries)
 *   P^T = softmax over each column of S^T * dh^-0.5
 *   O_blk [dh][rows]     = V P^T          (A = V: panels of mr channels, B = P^T)
 * GEMM 1 writes S^T straight into GEMM 2's B-panel layout ([hw][nr] per panel of nr query
 * columns) and GEMM 2 writes O into o, so nothing is re-packed or transposed per block.
 * Each product is the same q*k (v*p), summed over k in the same order, as in the untransposed
 * S = Q^T K and O^T = P V^T: transposing changes no bit of either GEMM.
 * A task is an (item, head, run of query blocks); K^T and V are packed once per task. */

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* Per-thread scratch layout (floats):
 *   ka  [ceil(hw/mr) panels][dh][mr]   K^T packed as A
 *   va  [ceil(dh/mr) panels][hw][mr]   V packed as A
 *   qb  [br/nr panels][dh][nr]         queries of this block packed as B
 *   st  [br/nr panels][hw][nr]         S^T, then P^T in place (B panels for GEMM 2)
 *   tmp [mr][nr]                       edge tiles */
typedef struct att_layout {
    size_t ka, va, qb, st, tmp, total;
    int br; /* query rows per block: two B panels */
} att_layout;

static att_layout layout(const gemm_kernel *kr, int hw, int dh) {
    att_layout l;
    const size_t mr = (size_t)kr->mr, nr = (size_t)kr->nr;
    l.br = 2 * kr->nr;
    l.ka = 0;
    l.va = l.ka + round_up(round_up((size_t)hw, mr) * (size_t)dh, 16);
    l.qb = l.va + round_up(round_up((size_t)dh, mr) * (size_t)hw, 16);
    l.st = l.qb + round_up((size_t)l.br * (size_t)dh, 16);
    l.tmp = l.st + round_up((size_t)l.br * (size_t)hw, 16);
    l.total = l.tmp + round_up(mr * nr, 16);
    return l;
}

size_t attention_scratch_floats(const gemm_kernel *kr, int hw, int dh) {
    return layout(kr, hw, dh).total;
}

/* A panels of mr rows from src [m][k] read along its rows (row stride rs): the transpose
 * V -> dst[panel][p][r] = src[(i0 + r)*rs + p], rows >= m zero. Row by row, so loads
 * are contiguous and only the stores stride (every kernel has mr = 6: a constant here). */
VEC_INLINE void pack_a_rows_mr(const float *src, int64_t rs, int m, int k, int MR, float *dst) {
    for (int i0 = 0; i0 < m; i0 += MR) {
        float *d = dst + (size_t)(i0 / MR) * MR * k;
        const int mh = m - i0 < MR ? m - i0 : MR;
        for (int r = 0; r < MR; r++) {
            const float *s = src + (int64_t)(i0 + r) * rs;
            if (r < mh)
                for (int p = 0; p < k; p++) d[(size_t)p * MR + r] = s[p];
            else
                for (int p = 0; p < k; p++) d[(size_t)p * MR + r] = 0.0f;
        }
    }
}

VEC_INLINE void pack_a_rows(const float *src, int64_t rs, int m, int k, int mr, float *dst) {
    if (mr == 6) pack_a_rows_mr(src, rs, m, k, 6, dst);
    else pack_a_rows_mr(src, rs, m, k, mr, dst);
}

/* Panels of W consecutive floats from each of k rows of src (row stride rs), columns
 * >= n zero: dst[panel][p][j] = src[p*rs + j0 + j]. This packs both A panels of K^T (src
 * [k][m] read down its columns, W = mr) and B panels of the query block (W = nr). */
VEC_INLINE void pack_strided_w(const float *src, int64_t rs, int n, int k, int W, float *dst) {
    for (int j0 = 0; j0 < n; j0 += W) {
        float *d = dst + (size_t)(j0 / W) * W * k;
        const int nw = n - j0 < W ? n - j0 : W;
        for (int p = 0; p < k; p++) {
            const float *s = src + (int64_t)p * rs + j0;
            if (nw == W) {
                for (int j = 0; j < W; j++) d[(size_t)p * W + j] = s[j];
            } else {
                for (int j = 0; j < nw; j++) d[(size_t)p * W + j] = s[j];
                for (int j = nw; j < W; j++) d[(size_t)p * W + j] = 0.0f;
            }
        }
    }
}

/* The widths the kernels use, as constants so the copies unroll. */
VEC_INLINE void pack_a_cols(const float *src, int64_t cs, int m, int k, int mr, float *dst) {
    if (mr == 6) pack_strided_w(src, cs, m, k, 6, dst);
    else pack_strided_w(src, cs, m, k, mr, dst);
}

VEC_INLINE void pack_b_rows(const float *src, int64_t rs, int n, int k, int nr, float *dst) {
    if (nr == 16) pack_strided_w(src, rs, n, k, 16, dst);
    else if (nr == 32) pack_strided_w(src, rs, n, k, 32, dst);
    else pack_strided_w(src, rs, n, k, nr, dst);
}

/* Softmax down each of the NR columns of one panel p [k][NR] (k = keys), in place:
 * e = exp((s - column max) * scale) (scale > 0, so the max of s is the max of s * scale),
 * then e / (the column's sum of e, summed in key order). NR is a constant where this is
 * inlined, so each row of the panel is one or a few vectors. */
VEC_INLINE void softmax_panel(float *p, int k, int NR, float scale) {
    float mx[GEMM_MAX_NR], sum[GEMM_MAX_NR];
    for (int r = 0; r < NR; r++) { mx[r] = p[r]; sum[r] = 0.0f; }
    for (int j = 1; j < k; j++) {
        const float *pj = p + (size_t)j * NR;
        for (int r = 0; r < NR; r++) mx[r] = pj[r] > mx[r] ? pj[r] : mx[r];
    }
    for (int j = 0; j < k; j++) {
        float *pj = p + (size_t)j * NR;
        for (int r = 0; r < NR; r++) {
            pj[r] = vexp_nonpos_f32((pj[r] - mx[r]) * scale);
            sum[r] += pj[r];
        }
    }
    for (int r = 0; r < NR; r++) sum[r] = 1.0f / sum[r];
    for (int j = 0; j < k; j++) {
        float *pj = p + (size_t)j * NR;
        for (int r = 0; r < NR; r++) pj[r] *= sum[r];
    }
}

VEC_INLINE void softmax_panels(float *st, int panels, int k, int nr, float scale) {
    for (int q = 0; q < panels; q++) {
        float *p = st + (size_t)q * k * nr;
        if (nr == 16) softmax_panel(p, k, 16, scale);
        else if (nr == 32) softmax_panel(p, k, 32, scale);
        else softmax_panel(p, k, nr, scale);
    }
}

static void softmax_task(float *st, int panels, int k, int nr, float scale) {
    softmax_panels(st, panels, k, nr, scale);
}

#ifdef VEC_HAVE_AVX2
VEC_TARGET_AVX2 static void softmax_task_avx2(float *st, int panels, int k, int nr, float scale) {
    softmax_panels(st, panels, k, nr, scale);
}
#endif

void attention_softmax_panels(float *st, int panels, int k, int nr, float scale) {
#ifdef VEC_HAVE_AVX2
    if (vec_cpu_avx2()) {
        softmax_task_avx2(st, panels, k, nr, scale);
        return;
    }
#endif
    softmax_task(st, panels, k, nr, scale);
}

typedef struct att_job {
    const gemm_kernel *kr;
    att_plan P;
    att_layout L;
    const float *q, *k, *v;
    float *o, *scratch;
    size_t scratch_stride;
} att_job;

VEC_INLINE void att_block_run(const att_job *J, int t) {
    const gemm_kernel *kr = J->kr;
    const int hw = J->P.hw, dh = J->P.dh, mr = kr->mr, nr = kr->nr, br = J->L.br;
    const att_layout L = J->L;
    int blk0, blk1;
    const int64_t base = attention_task(&J->P, t, &blk0, &blk1);
    float *w = J->scratch + (size_t)ops_thread_id() * J->scratch_stride;
    float *ka = w + L.ka, *va = w + L.va, *qb = w + L.qb, *st = w + L.st, *tmp = w + L.tmp;
    float *o = J->o + base;
    /* A = K^T: a[p = channel][r = key] = k[p][key];  A = V: a[p = key][r = channel] */
    pack_a_cols(J->k + base, hw, hw, dh, mr, ka);
    pack_a_rows(J->v + base, hw, dh, hw, mr, va);
    for (int blk = blk0; blk < blk1; blk++) {
        const int i0 = blk * br, rows = hw - i0 < br ? hw - i0 : br;
        const int panels = (rows + nr - 1) / nr;
        /* B = Q block: b[p = channel][j = query] */
        pack_b_rows(J->q + base + i0, hw, rows, dh, nr, qb);
        /* S^T = K^T Q, each tile stored straight into its B panel of st (ldc = nr) */
        for (int j0 = 0; j0 < hw; j0 += mr) {
            const int mh = hw - j0 < mr ? hw - j0 : mr;
            const float *a = ka + (size_t)(j0 / mr) * mr * dh;
            for (int q = 0; q < panels; q++) {
                float *c = st + (size_t)q * hw * nr + (size_t)j0 * nr;
                if (mh == mr) {
                    kr->ukr(dh, a, qb + (size_t)q * nr * dh, c, nr, 0, NULL);
                } else {
                    kr->ukr(dh, a, qb + (size_t)q * nr * dh, tmp, nr, 0, NULL);
                    for (int i = 0; i < mh * nr; i++) c[i] = tmp[i];
                }
            }
        }
        softmax_panels(st, panels, hw, nr, J->P.scale);
        /* O[:, i0 .. i0 + rows) = V P^T, written into o (row stride hw) */
        for (int c0 = 0; c0 < dh; c0 += mr) {
            const int mh = dh - c0 < mr ? dh - c0 : mr;
            const float *a = va + (size_t)(c0 / mr) * mr * hw;
            for (int q = 0; q < panels; q++) {
                const int nw = rows - q * nr < nr ? rows - q * nr : nr;
                float *c = o + (int64_t)c0 * hw + i0 + q * nr;
                if (mh == mr && nw == nr) {
                    kr->ukr(hw, a, st + (size_t)q * hw * nr, c, hw, 0, NULL);
                } else {
                    kr->ukr(hw, a, st + (size_t)q * hw * nr, tmp, nr, 0, NULL);
                    for (int i = 0; i < mh; i++)
                        for (int j = 0; j < nw; j++) c[(int64_t)i * hw + j] = tmp[i * nr + j];
                }
            }
        }
    }
}

static void att_task(void *arg, int t) { att_block_run(arg, t); }

#ifdef VEC_HAVE_AVX2
/* The same task with the packing and softmax loops 8 wide (vexp.h: same bits). */
VEC_TARGET_AVX2 static void att_task_avx2(void *arg, int t) { att_block_run(arg, t); }
#endif

/* Per (item, head) and block of query rows: S^T = K^T Q, P^T = column softmax, O = V P^T. */
void attention_run(const gemm_kernel *kr, int n, int c, int hw, int heads, const float *q,
                   const float *k, const float *v, float *o, float *scratch,
                   size_t scratch_stride, int n_threads) {
    att_job J;
    J.kr = kr;
    J.L = layout(kr, hw, c / heads);
    J.P = attention_plan(n, c, hw, heads, J.L.br, n_threads);
    J.q = q; J.k = k; J.v = v; J.o = o; J.scratch = scratch; J.scratch_stride = scratch_stride;
    ops_task_fn fn = att_task;
#ifdef VEC_HAVE_AVX2
    if (vec_cpu_avx2()) fn = att_task_avx2;
#endif
    ops_parallel_for(n_threads, J.P.par, J.P.tasks, fn, &J);
}

att_plan attention_plan(int n, int c, int hw, int heads, int br, int n_threads) {
    att_plan p;
    p.c = c; p.hw = hw; p.heads = heads; p.dh = c / heads; p.br = br;
    p.blocks = (hw + br - 1) / br;
    p.scale = (float)(1.0 / sqrt((double)p.dh));
    const int bh = n * heads, big = (double)n * c * hw * hw >= 262144.0;
    p.runs = 1;
    if (big && n_threads > bh) p.runs = (n_threads + bh - 1) / bh;
    if (p.runs > p.blocks) p.runs = p.blocks;
    p.tasks = bh * p.runs;
    p.par = big && p.tasks > 1;
    return p;
}

int64_t attention_task(const att_plan *p, int t, int *blk0, int *blk1) {
    const int bh = t / p->runs, run = t % p->runs, per = p->blocks / p->runs, extra = p->blocks % p->runs;
    *blk0 = run * per + (run < extra ? run : extra);
    *blk1 = *blk0 + per + (run < extra ? 1 : 0);
    return ((int64_t)(bh / p->heads) * p->c + (int64_t)(bh % p->heads) * p->dh) * p->hw;
}
