/* bf16_attention.c — attention.c's core (o = softmax(q^T k * dh^-0.5) v per head, inputs
 * channel-major [n][c][hw]) with both GEMMs on a bf16 kernel (bf16_kernels.h): q, k, v and
 * the softmax's probabilities are rounded to bf16 (round to nearest even) on their way into
 * the kernel, every sum runs in f32, and the softmax itself is attention.c's, in f32.
 *
 * The same transposed products as attention.c's fast path, per (item, head) and block of
 * br = 2 nr query rows:
 *   S^T [hw keys][rows] = K^T Q_blk   A = K^T: panels of mr keys x dh (k = channels),
 *                                     B = Q_blk: [dh/2][nr][2] pair rows per nr queries
 *   P^T = softmax down each column of S^T * dh^-0.5 (attention_softmax_panels, f32)
 *   O_blk [dh][rows]    = V P^T       A = V: panels of mr channels x hw (k = keys),
 *                                     B = P^T: [hw/2][nr][2] pair rows per nr queries
 * GEMM 1 writes S^T straight into the softmax's [hw][nr] panels (ldc = nr) and GEMM 2 writes
 * O into o (ldc = hw); K is padded with zeros to the kernel's k group. A task is an (item,
 * head, run of query blocks); K^T and V are packed once per task. Which task computes a
 * block never changes its bits, so any thread count gives the same result. */
#include <math.h>
#include <string.h>

#include "ops/bf16/bf16_kernels.h"

#define KB 2048 /* k per micro-kernel call: at most 64 B pointers */

static size_t round_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

/* Per-thread scratch, bytes from a 64-byte aligned start, each part 64-byte aligned:
 *   ka  [ceil(hw/mr)][mr][Kd] bf16    K^T as A panels (Kd = dh rounded up to kg)
 *   va  [ceil(dh/mr)][mr][Kh] bf16    V as A panels (Kh = hw rounded up to kg)
 *   qb  [br/nr][Kd/2][nr][2] bf16     the query block as B
 *   pb  [br/nr][Kh/2][nr][2] bf16     P^T as B
 *   st  [br/nr][hw][nr] f32           S^T, then P^T (f32)
 *   tmp [mr][nr] f32                  edge tiles */
typedef struct att16_layout {
    size_t ka, va, qb, pb, st, tmp, total;
    int kd, kh, br;
} att16_layout;

static att16_layout layout(const bf16_kernel *k, int hw, int dh) {
    att16_layout l;
    const size_t mr = (size_t)k->mr, nr = (size_t)k->nr;
    l.kd = (int)round_up((size_t)dh, (size_t)k->kg);
    l.kh = (int)round_up((size_t)hw, (size_t)k->kg);
    l.br = 2 * k->nr;
    l.ka = 0;
    l.va = l.ka + round_up(round_up((size_t)hw, mr) * (size_t)l.kd * 2, 64);
    l.qb = l.va + round_up(round_up((size_t)dh, mr) * (size_t)l.kh * 2, 64);
    l.pb = l.qb + round_up((size_t)l.br * (size_t)l.kd * 2, 64);
    l.st = l.pb + round_up((size_t)l.br * (size_t)l.kh * 2, 64);
    l.tmp = l.st + round_up((size_t)l.br * (size_t)hw * 4, 64);
    l.total = l.tmp + round_up(mr * nr * 4, 64) + 64; /* + 64: aligning the start */
    return l;
}

size_t attention_bf16_scratch_bytes(const bf16_kernel *k, int hw, int dh) {
    return layout(k, hw, dh).total;
}

/* A panels of mr rows, k group g, from a matrix read either along its rows (trans 0: row i
 * = src[i*ld + p]) or down its columns (trans 1: row i = src[p*ld + i]); rows >= m and k >=
 * kdim are zero. Element (i, p) of panel r sits at (p/g)*mr*g + (i%mr)*g + p%g. */
static void pack_a(const float *src, int64_t ld, int trans, int m, int kdim, int mr, int g,
                   int kp, uint16_t *dst) {
    for (int r = 0; r * mr < m; r++) {
        uint16_t *d = dst + (size_t)r * mr * kp;
        if (trans) { /* k outer: each row of src is read once, contiguously */
            for (int p = 0; p < kp; p++) {
                uint16_t *dp = d + (size_t)(p / g) * mr * g + p % g;
                const float *s = src + (int64_t)p * ld + (int64_t)r * mr;
                for (int i = 0; i < mr; i++)
                    dp[(size_t)i * g] = p < kdim && r * mr + i < m ? bf16_rne(s[i]) : 0;
            }
        } else {
            for (int i = 0; i < mr; i++) {
                const float *s = src + (int64_t)(r * mr + i) * ld;
                const int live = r * mr + i < m;
                for (int p = 0; p < kp; p++)
                    d[(size_t)(p / g) * mr * g + (size_t)i * g + p % g] = live && p < kdim ? bf16_rne(s[p]) : 0;
            }
        }
    }
}

/* B panels of nr columns from rows of src (row p = src[p*ld ..], columns j0 .. j0+n-1 of
 * them): pair row r of panel q = (src[2r][c], src[2r+1][c]) for its nr columns c; rows >=
 * kdim and columns >= n are zero. kp (even) pair rows x2 per panel. */
static void pack_b(const float *src, int64_t ld, int n, int kdim, int nr, int kp, uint16_t *dst) {
    for (int q = 0; q * nr < n; q++) {
        uint16_t *d = dst + (size_t)q * kp * nr;
        const int nw = n - q * nr < nr ? n - q * nr : nr;
        for (int p = 0; p < kp; p++) {
            uint16_t *dp = d + (size_t)(p / 2) * nr * 2 + p % 2;
            const float *s = src + (int64_t)p * ld + (int64_t)q * nr;
            for (int j = 0; j < nr; j++) dp[2 * j] = p < kdim && j < nw ? bf16_rne(s[j]) : 0;
        }
    }
}

/* c [mh][nw] (row stride ldc) = A panel . B panel over kp k, in calls of at most KB k;
 * straight into c when the tile is whole, else through tmp. */
static void gemm_tile(const bf16_kernel *k, int kp, const uint16_t *a, const uint16_t *b,
                      float *c, int64_t ldc, int mh, int nw, float *tmp) {
    const int mr = k->mr, nr = k->nr, whole = mh == mr && nw == nr;
    const uint16_t *bs[KB / 32];
    for (int k0 = 0; k0 < kp; k0 += KB) {
        const int kc = kp - k0 < KB ? kp - k0 : KB;
        for (int s = 0; s * 32 < kc; s++) bs[s] = b + (size_t)(k0 + 32 * s) * nr;
        k->ukr(kc, a + (size_t)k0 * mr, bs, 2 * nr, whole ? c : tmp, whole ? ldc : nr, k0 > 0);
    }
    if (!whole)
        for (int i = 0; i < mh; i++) memcpy(c + (int64_t)i * ldc, tmp + (size_t)i * nr, (size_t)nw * sizeof(float));
}

typedef struct att16_job {
    const bf16_kernel *k;
    int c, hw, heads, dh, blocks, runs;
    float scale;
    att16_layout L;
    const float *q, *kk, *v;
    float *o;
    unsigned char *scratch;
    size_t scratch_stride;
} att16_job;

static void att16_task(void *arg, int t) {
    const att16_job *J = arg;
    const bf16_kernel *k = J->k;
    const att16_layout L = J->L;
    const int hw = J->hw, dh = J->dh, mr = k->mr, nr = k->nr, br = L.br;
    const int bh = t / J->runs, run = t % J->runs;
    const int b = bh / J->heads, h = bh % J->heads;
    const int per = J->blocks / J->runs, extra = J->blocks % J->runs;
    const int blk0 = run * per + (run < extra ? run : extra);
    const int blk1 = blk0 + per + (run < extra ? 1 : 0);
    const int64_t base = ((int64_t)b * J->c + (int64_t)h * dh) * hw;
    unsigned char *w = J->scratch + (size_t)ops_thread_id() * J->scratch_stride;
    w += (64 - (uintptr_t)w % 64) % 64;
    uint16_t *ka = (uint16_t *)(w + L.ka), *va = (uint16_t *)(w + L.va);
    uint16_t *qb = (uint16_t *)(w + L.qb), *pb = (uint16_t *)(w + L.pb);
    float *st = (float *)(w + L.st), *tmp = (float *)(w + L.tmp), *o = J->o + base;
    pack_a(J->kk + base, hw, 1, hw, dh, mr, k->kg, L.kd, ka); /* K^T: row = key */
    pack_a(J->v + base, hw, 0, dh, hw, mr, k->kg, L.kh, va);  /* V: row = channel */
    if (k->begin) k->begin();
    for (int blk = blk0; blk < blk1; blk++) {
        const int i0 = blk * br, rows = hw - i0 < br ? hw - i0 : br;
        const int panels = (rows + nr - 1) / nr;
        pack_b(J->q + base + i0, hw, rows, dh, nr, L.kd, qb);
        for (int j0 = 0; j0 < hw; j0 += mr) /* S^T = K^T Q */
            for (int q = 0; q < panels; q++)
                gemm_tile(k, L.kd, ka + (size_t)(j0 / mr) * mr * L.kd, qb + (size_t)q * L.kd * nr,
                          st + (size_t)q * hw * nr + (size_t)j0 * nr, nr, hw - j0 < mr ? hw - j0 : mr, nr, tmp);
        attention_softmax_panels(st, panels, hw, nr, J->scale);
        for (int q = 0; q < panels; q++) /* P^T as B: its rows are keys, its columns queries */
            pack_b(st + (size_t)q * hw * nr, nr, nr, hw, nr, L.kh, pb + (size_t)q * L.kh * nr);
        for (int c0 = 0; c0 < dh; c0 += mr) /* O = V P^T, into o */
            for (int q = 0; q < panels; q++)
                gemm_tile(k, L.kh, va + (size_t)(c0 / mr) * mr * L.kh, pb + (size_t)q * L.kh * nr,
                          o + (int64_t)c0 * hw + i0 + q * nr, hw, dh - c0 < mr ? dh - c0 : mr,
                          rows - q * nr < nr ? rows - q * nr : nr, tmp);
    }
    if (k->end) k->end();
}

void attention_bf16_run(const bf16_kernel *k, int n, int c, int hw, int heads, const float *q,
                        const float *kk, const float *v, float *o, void *scratch,
                        size_t scratch_stride, int n_threads) {
    att16_job J;
    J.k = k; J.c = c; J.hw = hw; J.heads = heads; J.dh = c / heads;
    J.scale = (float)(1.0 / sqrt((double)J.dh));
    J.L = layout(k, hw, J.dh);
    J.blocks = (hw + J.L.br - 1) / J.L.br;
    J.q = q; J.kk = kk; J.v = v; J.o = o;
    J.scratch = scratch; J.scratch_stride = scratch_stride;
    const int bh = n * heads, big = (double)n * c * hw * hw >= 262144.0;
    /* as attention_run: runs of blocks only as far as the threads need */
    J.runs = 1;
    if (big && n_threads > bh) J.runs = (n_threads + bh - 1) / bh;
    if (J.runs > J.blocks) J.runs = J.blocks;
    const int tasks = bh * J.runs;
    ops_parallel_for(n_threads, big && tasks > 1, tasks, att16_task, &J);
}
