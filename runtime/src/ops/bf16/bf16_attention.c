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
 *   tmp [mr][nr] f32                  edge tiles
 *   buf [kmax][max(nr, 32)] f32 + [kmax/2][32] words   gathered rows for cvt_pairs
 *                                     (kmax = max(Kd, Kh)) */
typedef struct att16_layout {
    size_t ka, va, qb, pb, st, tmp, buf, total;
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
    l.buf = l.tmp + round_up(mr * nr * 4, 64);
    const size_t kmax = (size_t)(l.kd > l.kh ? l.kd : l.kh), w = nr > 32 ? nr : 32;
    l.total = l.buf + round_up(kmax * w * 4 + kmax / 2 * 32 * 4, 64) + 64; /* + 64: aligning the start */
    return l;
}

size_t attention_bf16_scratch_bytes(const bf16_kernel *k, int hw, int dh) {
    return layout(k, hw, dh).total;
}

/* f32 rows [rows][w] at dst from rows of src (row p at src + p*ld, its columns 0..n-1),
 * columns n..w-1 and rows past kdim zero: the contiguous input cvt_pairs rounds. */
static void gather(const float *src, int64_t ld, int n, int kdim, int rows, int w, float *dst) {
    for (int p = 0; p < rows; p++) { /* short rows: loops, not library calls */
        float *d = dst + (size_t)p * w;
        const float *sp = src + (int64_t)p * ld;
        const int m = p < kdim ? n : 0;
        for (int j = 0; j < m; j++) d[j] = sp[j];
        for (int j = m; j < w; j++) d[j] = 0.0f;
    }
}

/* A panels of V (rows = channels, k = keys contiguous in each row): element (i, p) of
 * panel r at (p/g)*mr*g + (i%mr)*g + p%g, rows >= m and k >= kdim zero. Each k group of a
 * row is a run of g consecutive values, rounded in one loop. */
static void pack_a_rows(const float *src, int64_t ld, int m, int kdim, int mr, int g, int kp,
                        uint16_t *dst) {
    for (int i = 0; i < (m + mr - 1) / mr * mr; i++) {
        uint16_t *d = dst + (size_t)(i / mr) * mr * kp + (size_t)(i % mr) * g;
        const float *s = src + (int64_t)i * ld;
        for (int p0 = 0; p0 < kp; p0 += g) {
            uint16_t *dg = d + (size_t)p0 * mr;
            if (i < m && p0 + g <= kdim) {
                for (int pp = 0; pp < g; pp++) dg[pp] = bf16_rne(s[p0 + pp]);
            } else {
                for (int pp = 0; pp < g; pp++) dg[pp] = i < m && p0 + pp < kdim ? bf16_rne(s[p0 + pp]) : 0;
            }
        }
    }
}

/* A panels of K^T (row = key, k = channels: down the columns of K [dh][hw]), rows >= hw
 * and k >= dh zero. Per 32 keys: their columns gathered (f32, [kp][32]), rounded into k
 * pairs by cvt_pairs ([kp/2][32] words: channels 2r, 2r+1 of each key), and each word
 * moved to its place in the panels: pair r of key i at k 2r of row i. */
static void pack_a_cols(const bf16_kernel *k, const float *src, int hw, int dh, int kp,
                        float *buf, uint16_t *dst) {
    const int mr = k->mr, g = k->kg, rows = (hw + mr - 1) / mr * mr;
    uint32_t *words = (uint32_t *)(buf + (size_t)kp * 32); /* after the gathered rows */
    for (int j0 = 0; j0 < rows; j0 += 32) {
        gather(src + j0, hw, hw - j0 < 32 ? (hw > j0 ? hw - j0 : 0) : 32, dh, kp, 32, buf);
        k->cvt_pairs(kp / 2, 32, buf, (uint16_t *)words);
        for (int i = 0; i < 32 && j0 + i < rows; i++) {
            const int key = j0 + i;
            uint16_t *d = dst + (size_t)(key / mr) * mr * kp + (size_t)(key % mr) * g;
            for (int r = 0; r < kp / 2; r++)
                memcpy(d + (size_t)(2 * r / g) * mr * g + (2 * r) % g, &words[(size_t)r * 32 + i], 4);
        }
    }
}

/* B panels (pair rows [kp/2][nr][2]) of nr columns each from rows of src (row p at src +
 * p*ld, its columns 0..n-1), k >= kdim and columns >= n zero: gathered (or read in place
 * when already [kp][nr]) and rounded by cvt_pairs. */
static void pack_b(const bf16_kernel *k, const float *src, int64_t ld, int n, int kdim, int kp,
                   float *buf, uint16_t *dst) {
    const int nr = k->nr;
    for (int q = 0; q * nr < n; q++) {
        const int nw = n - q * nr < nr ? n - q * nr : nr;
        const float *rows = src + (size_t)q * nr;
        if (ld != nr || nw != nr || kdim != kp) {
            gather(rows, ld, nw, kdim, kp, nr, buf);
            rows = buf;
        }
        k->cvt_pairs(kp / 2, nr, rows, dst + (size_t)q * kp * nr);
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
    att_plan P;
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
    const int hw = J->P.hw, dh = J->P.dh, mr = k->mr, nr = k->nr, br = L.br;
    int blk0, blk1;
    const int64_t base = attention_task(&J->P, t, &blk0, &blk1);
    unsigned char *w = J->scratch + (size_t)ops_thread_id() * J->scratch_stride;
    w += (64 - (uintptr_t)w % 64) % 64;
    uint16_t *ka = (uint16_t *)(w + L.ka), *va = (uint16_t *)(w + L.va);
    uint16_t *qb = (uint16_t *)(w + L.qb), *pb = (uint16_t *)(w + L.pb);
    float *st = (float *)(w + L.st), *tmp = (float *)(w + L.tmp), *buf = (float *)(w + L.buf);
    float *o = J->o + base;
    pack_a_cols(k, J->kk + base, hw, dh, L.kd, buf, ka);          /* K^T: row = key */
    pack_a_rows(J->v + base, hw, dh, hw, mr, k->kg, L.kh, va);    /* V: row = channel */
    if (k->begin) k->begin();
    for (int blk = blk0; blk < blk1; blk++) {
        const int i0 = blk * br, rows = hw - i0 < br ? hw - i0 : br;
        const int panels = (rows + nr - 1) / nr;
        pack_b(k, J->q + base + i0, hw, rows, dh, L.kd, buf, qb);
        for (int j0 = 0; j0 < hw; j0 += mr) /* S^T = K^T Q */
            for (int q = 0; q < panels; q++)
                gemm_tile(k, L.kd, ka + (size_t)(j0 / mr) * mr * L.kd, qb + (size_t)q * L.kd * nr,
                          st + (size_t)q * hw * nr + (size_t)j0 * nr, nr, hw - j0 < mr ? hw - j0 : mr, nr, tmp);
        attention_softmax_panels(st, panels, hw, nr, J->P.scale);
        for (int q = 0; q < panels; q++) /* P^T as B: its rows are keys, its columns queries */
            pack_b(k, st + (size_t)q * hw * nr, nr, nr, hw, L.kh, buf, pb + (size_t)q * L.kh * nr);
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
    J.k = k;
    J.L = layout(k, hw, c / heads);
    J.P = attention_plan(n, c, hw, heads, J.L.br, n_threads);
    J.q = q; J.kk = kk; J.v = v; J.o = o;
    J.scratch = scratch; J.scratch_stride = scratch_stride;
    ops_parallel_for(n_threads, J.P.par, J.P.tasks, att16_task, &J);
}
