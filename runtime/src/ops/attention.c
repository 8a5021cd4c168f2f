/* attention.c — the core of diffusers' AttnProcessor over H*W tokens (attention_processor.py):
 * per head, o = softmax(q^T k * dh^-0.5) v with the row max subtracted before exp. Inputs
 * are the projected q, k, v in channel-major [n][c][hw]; heads split c into equal slices.
 * Reference and fast path: two packed GEMMs on the micro-kernel with the softmax fused
 * between them, OpenMP over (item, head, block of query rows); no cross-thread sums. */
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

/* Rows of queries per task: a multiple of every kernel's mr. */
#define ATT_ROWS 48

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* Per-thread scratch layout (floats):
 *   qa  [ATT_ROWS/mr panels][dh][mr]   Q^T rows of this block, packed as A
 *   kb  [hw/nr panels][dh][nr]         K of this head, packed as B
 *   s   [ATT_ROWS][hw_pad]             scores, then probabilities in place
 *   pa  [ATT_ROWS/mr panels][hw][mr]   P packed as A
 *   vb  [dh/nr panels][hw][nr]         V^T packed as B
 *   ot  [ATT_ROWS][dh_pad]             O^T of this block
 *   tmp [mr][nr]                       edge tiles */
typedef struct att_layout {
    size_t qa, kb, s, pa, vb, ot, tmp, total;
    int hw_pad, dh_pad;
} att_layout;

static att_layout layout(const gemm_kernel *kr, int hw, int dh) {
    att_layout l;
    const size_t rows = round_up(ATT_ROWS, (size_t)kr->mr);
    l.hw_pad = (int)round_up((size_t)hw, (size_t)kr->nr);
    l.dh_pad = (int)round_up((size_t)dh, (size_t)kr->nr);
    l.qa = 0;
    l.kb = l.qa + round_up(rows * dh, 16);
    l.s = l.kb + round_up((size_t)l.hw_pad * dh, 16);
    l.pa = l.s + round_up(rows * l.hw_pad, 16);
    l.vb = l.pa + round_up(rows * hw, 16);
    l.ot = l.vb + round_up((size_t)l.dh_pad * hw, 16);
    l.tmp = l.ot + round_up(rows * l.dh_pad, 16);
    l.total = l.tmp + round_up((size_t)kr->mr * kr->nr, 16);
    return l;
}

size_t attention_scratch_floats(const gemm_kernel *kr, int hw, int dh) {
    return layout(kr, hw, dh).total;
}

/* dst panels of mr rows: dst[panel][p][r] = src[r*rs + p*cs], rows >= m zero. */
static void pack_a_strided(const float *src, int64_t rs, int64_t cs, int m, int k, int mr, float *dst) {
    for (int i0 = 0; i0 < m; i0 += mr) {
        float *d = dst + (size_t)(i0 / mr) * mr * k;
        const int mh = m - i0 < mr ? m - i0 : mr;
        for (int p = 0; p < k; p++) {
            for (int r = 0; r < mh; r++) d[(size_t)p * mr + r] = src[(int64_t)(i0 + r) * rs + (int64_t)p * cs];
            for (int r = mh; r < mr; r++) d[(size_t)p * mr + r] = 0.0f;
        }
    }
}

/* dst panels of nr columns: dst[panel][p][j] = src[p*rs + j*cs], columns >= n zero. */
static void pack_b_strided(const float *src, int64_t rs, int64_t cs, int n, int k, int nr, float *dst) {
    for (int j0 = 0; j0 < n; j0 += nr) {
        float *d = dst + (size_t)(j0 / nr) * nr * k;
        const int nw = n - j0 < nr ? n - j0 : nr;
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < nw; j++) d[(size_t)p * nr + j] = src[(int64_t)p * rs + (int64_t)(j0 + j) * cs];
            for (int j = nw; j < nr; j++) d[(size_t)p * nr + j] = 0.0f;
        }
    }
}

/* C[m][n] (ldc) = A B from packed panels, k deep; edge tiles through tmp. */
static void gemm_packed(const gemm_kernel *kr, int m, int n, int k, const float *pa,
                        const float *pb, float *c, int64_t ldc, float *tmp) {
    const int mr = kr->mr, nr = kr->nr;
    for (int i0 = 0; i0 < m; i0 += mr) {
        const int mh = m - i0 < mr ? m - i0 : mr;
        const float *a = pa + (size_t)(i0 / mr) * mr * k;
        for (int j0 = 0; j0 < n; j0 += nr) {
            const int nw = n - j0 < nr ? n - j0 : nr;
            const float *b = pb + (size_t)(j0 / nr) * nr * k;
            if (mh == mr && nw == nr) {
                kr->ukr(k, a, b, c + (int64_t)i0 * ldc + j0, ldc, 0);
            } else {
                kr->ukr(k, a, b, tmp, nr, 0);
                for (int i = 0; i < mh; i++)
                    for (int j = 0; j < nw; j++) c[(int64_t)(i0 + i) * ldc + j0 + j] = tmp[i * nr + j];
            }
        }
    }
}

typedef struct att_job {
    const gemm_kernel *kr;
    int c, hw, heads, dh, blocks;
    float scale;
    att_layout L;
    const float *q, *k, *v;
    float *o, *scratch;
    size_t scratch_stride;
} att_job;

static void att_task(void *arg, int t) {
    const att_job *J = arg;
    const gemm_kernel *kr = J->kr;
    const int c = J->c, hw = J->hw, heads = J->heads, dh = J->dh, blocks = J->blocks;
    const float scale = J->scale;
    const att_layout L = J->L;
    const float *q = J->q, *k = J->k, *v = J->v;
    float *o = J->o, *scratch = J->scratch;
    const size_t scratch_stride = J->scratch_stride;
    const int b = t / (heads * blocks), h = (t / blocks) % heads, blk = t % blocks;
    const int i0 = blk * ATT_ROWS, rows = hw - i0 < ATT_ROWS ? hw - i0 : ATT_ROWS;
    const int64_t base = ((int64_t)b * c + (int64_t)h * dh) * hw;
    float *w = scratch + (size_t)ops_thread_id() * scratch_stride;
    float *qa = w + L.qa, *kb = w + L.kb, *s = w + L.s, *pa = w + L.pa, *vb = w + L.vb;
    float *ot = w + L.ot, *tmp = w + L.tmp;
    /* A = Q^T rows i0.., k = channel: a[p][r] = q[p][i0 + r] */
    pack_a_strided(q + base + i0, 1, hw, rows, dh, kr->mr, qa);
    /* B = K: b[p][j] = k[p][j] */
    pack_b_strided(k + base, hw, 1, hw, dh, kr->nr, kb);
    gemm_packed(kr, rows, hw, dh, qa, kb, s, L.hw_pad, tmp);
    for (int r = 0; r < rows; r++) {
        float *sr = s + (size_t)r * L.hw_pad;
        float mx = -INFINITY;
        for (int j = 0; j < hw; j++) {
            sr[j] *= scale;
            mx = sr[j] > mx ? sr[j] : mx;
        }
        float sum = 0.0f;
        for (int j = 0; j < hw; j++) sr[j] = vexp_f32(sr[j] - mx);
        for (int j = 0; j < hw; j++) sum += sr[j];
        const float inv = 1.0f / sum;
        for (int j = 0; j < hw; j++) sr[j] *= inv;
    }
    /* A = P: a[p = j][r] = s[r][j];  B = V^T: b[p = j][cc] = v[cc][j] */
    pack_a_strided(s, L.hw_pad, 1, rows, hw, kr->mr, pa);
    pack_b_strided(v + base, 1, hw, dh, hw, kr->nr, vb);
    gemm_packed(kr, rows, dh, hw, pa, vb, ot, L.dh_pad, tmp);
    for (int cc = 0; cc < dh; cc++)
        for (int r = 0; r < rows; r++) o[base + (int64_t)cc * hw + i0 + r] = ot[(size_t)r * L.dh_pad + cc];
}

/* Two GEMMs per block of query rows with the softmax between them:
 * S = Q^T K (rows i, columns j), P = softmax(S * dh^-0.5) row-wise, O^T = P V^T. */
void attention_run(const gemm_kernel *kr, int n, int c, int hw, int heads, const float *q,
                   const float *k, const float *v, float *o, float *scratch,
                   size_t scratch_stride, int n_threads) {
    att_job J;
    J.kr = kr; J.c = c; J.hw = hw; J.heads = heads; J.dh = c / heads;
    J.scale = (float)(1.0 / sqrt((double)J.dh));
    J.L = layout(kr, hw, J.dh);
    J.blocks = (hw + ATT_ROWS - 1) / ATT_ROWS;
    J.q = q; J.k = k; J.v = v; J.o = o; J.scratch = scratch; J.scratch_stride = scratch_stride;
    const int tasks = n * heads * J.blocks;
    const int par = tasks > 1 && (double)n * c * hw * hw >= 262144.0;
    ops_parallel_for(n_threads, par, tasks, att_task, &J);
}
