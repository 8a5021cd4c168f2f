/* winograd4_avx512.c — winograd4.c's F(4x4,3x3) input and output transforms with AVX-512F
 * (built with -mavx512f, called only where the CPU has it), 16 tiles at a time: the AVX2
 * ones' plan (winograd4_avx2.c) at twice the width, with half the shuffles per tile. The
 * arithmetic is winograd4.c's bt6 and at6, the same operations in the same order, so the
 * bits agree (test_winograd.c compares the two, this file also compiled without -mavx512f
 * under SIMDe emulation so that any x86 runs the comparison).
 *
 * Input: 16 tiles are four quarters of 4, each from one tile row (the 4-tile rows of a
 * 16x16 map; halves of the 8-tile rows of a 32x32 one). Under each quarter, the 18 columns
 * of each of the 6 input rows (as 2 vectors of 16; a vector cut by the image's edge is the
 * row's nearest 16 columns moved into place by a lane permute, the outside lanes zeroed)
 * are combined down the rows (B^T d); each row of the result is then split into the tiles'
 * 6 columns — columns 0..3 by two two-source permutes and a blend, 4 and 5 as the next
 * tile's 0 and 1 (a rotate), with each quarter's last tile's taken from its second vector
 * — and combined along x (d B). Output: the 36 M values of 16 tiles, rows first, then
 * along x, and each output row's 4 columns per tile interleaved back (per-lane transpose,
 * then 128-bit lane shuffles) into four runs of 16 floats, one per quarter. */
#include <simde/x86/avx512/add.h>
#include <simde/x86/avx512/blend.h>
#include <simde/x86/avx512/loadu.h>
#include <simde/x86/avx512/mov.h>
#include <simde/x86/avx512/mul.h>
#include <simde/x86/avx512/permutex2var.h>
#include <simde/x86/avx512/permutexvar.h>
#include <simde/x86/avx512/set.h>
#include <simde/x86/avx512/set1.h>
#include <simde/x86/avx512/setr.h>
#include <simde/x86/avx512/setzero.h>
#include <simde/x86/avx512/shuffle.h>
#include <simde/x86/avx512/storeu.h>
#include <simde/x86/avx512/sub.h>
#include <simde/x86/avx512/unpackhi.h>
#include <simde/x86/avx512/unpacklo.h>
#include <simde/x86/sse.h>
#include <stddef.h>

#include "winograd_int.h"

#ifndef WINO4_AVX512_IN_NAME
#define WINO4_AVX512_IN_NAME sculpt_wino4_input__avx512
#define WINO4_AVX512_OUT_NAME sculpt_wino4_output__avx512
#endif

typedef simde__m512 v16;

#define W4_V v16
#define W4_ADD simde_mm512_add_ps
#define W4_SUB simde_mm512_sub_ps
#define W4_MUL simde_mm512_mul_ps
#define W4_SET1 simde_mm512_set1_ps
#define W4_LOADU simde_mm512_loadu_ps
#define W4_UNPACKLO simde_mm512_unpacklo_ps
#define W4_UNPACKHI simde_mm512_unpackhi_ps
#define W4_SHUFFLE simde_mm512_shuffle_ps
#include "winograd4_tx.h"

/* The input under one quarter (4 tiles of one tile row, from tile tx): 6 rows (NULL above
 * or below the image; a channel's are off floats further) and per 16-column position p
 * (columns c0 = 4 tx - 1 + 16 p ..) how to load it: 0 all outside (zeros), 1 all inside (a
 * plain load at c0), 2 cut by an edge: the row's 16 columns nearest c0 (from base), lane l
 * taking column c0 + l through idx, kept where it lies inside (keep). Needs w >= 16. */
typedef struct seg16 {
    const float *row[6];
    int mode[2], base[2];
    simde__m512i idx[2];
    simde__mmask16 keep[2];
} seg16;

static void seg_init(seg16 *g, const float *xc, int h, int w, int ty, int tx) {
    tile_rows(g->row, xc, h, w, ty);
    for (int p = 0; p < 2; p++) {
        const int c0 = 4 * tx - 1 + 16 * p;
        g->mode[p] = c0 >= 0 && c0 + 16 <= w ? 1 : c0 + 16 <= 0 || c0 >= w ? 0 : 2;
        const int b = c0 < 0 ? 0 : w - 16 < c0 ? w - 16 : c0;
        g->base[p] = g->mode[p] == 1 ? c0 : b;
        int32_t idx[16];
        unsigned keep = 0;
        for (int l = 0; l < 16; l++) {
            idx[l] = (l + c0 - b) & 15;
            if (c0 + l >= 0 && c0 + l < w) keep |= 1u << l;
        }
        g->idx[p] = simde_mm512_setr_epi32(idx[0], idx[1], idx[2], idx[3], idx[4], idx[5], idx[6],
                                           idx[7], idx[8], idx[9], idx[10], idx[11], idx[12],
                                           idx[13], idx[14], idx[15]);
        g->keep[p] = (simde__mmask16)keep;
    }
}

static inline v16 seg_load(const seg16 *g, size_t off, int r, int p) {
    if (!g->row[r] || !g->mode[p]) return simde_mm512_setzero_ps();
    const float *row = g->row[r] + off;
    if (g->mode[p] == 1) return simde_mm512_loadu_ps(row + g->base[p]);
    return simde_mm512_maskz_mov_ps(g->keep[p],
                                    simde_mm512_permutexvar_ps(g->idx[p], simde_mm512_loadu_ps(row + g->base[p])));
}

/* V of 16 tiles of the channel off floats past channel 0, quarter k from G[k]; next[k]:
 * quarter k + 1 starts 16 columns after quarter k in the same rows, so quarter k's second
 * vector is quarter k + 1's first. */
static void group16(const seg16 *G, const int next[4], size_t off, float *out, size_t xs) {
    v16 z[4][2][6]; /* B^T d: [quarter][position][row of V] */
    for (int k = 3; k >= 0; k--)
        for (int p = 0; p < 2; p++) {
            if (p == 1 && next[k]) {
                for (int i = 0; i < 6; i++) z[k][1][i] = z[k + 1][0][i];
                continue;
            }
            v16 d[6];
            for (int r = 0; r < 6; r++) d[r] = seg_load(&G[k], off, r, p);
            bt6(d, z[k][p]);
        }
    /* lane t = 4 k + u (quarter k, tile u): column 4u + j of the quarter's first vector, from
     * [quarter 0 | quarter 1] or [2 | 3] (both index the lanes the same way) */
    simde__m512i sel[4];
    for (int j = 0; j < 4; j++)
        sel[j] = simde_mm512_setr_epi32(j, 4 + j, 8 + j, 12 + j, 16 + j, 20 + j, 24 + j, 28 + j,
                                        j, 4 + j, 8 + j, 12 + j, 16 + j, 20 + j, 24 + j, 28 + j);
    /* columns 4 and 5 of tile t are columns 0 and 1 of tile t + 1, except for each quarter's
     * last tile (lanes 3, 7, 11, 15): lanes 0 and 1 of its quarter's second vector */
    const simde__m512i rot = simde_mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0);
    const simde__m512i last0 = simde_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 16);
    const simde__m512i last1 = simde_mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 17, 1, 1, 1, 1, 1, 1, 1, 17);
    for (int i = 0; i < 6; i++) {
        v16 q[6], o[6];
        for (int j = 0; j < 4; j++)
            q[j] = simde_mm512_mask_blend_ps((simde__mmask16)0xff00,
                                             simde_mm512_permutex2var_ps(z[0][0][i], sel[j], z[1][0][i]),
                                             simde_mm512_permutex2var_ps(z[2][0][i], sel[j], z[3][0][i]));
        for (int j = 0; j < 2; j++) {
            const simde__m512i li = j ? last1 : last0;
            const v16 x = simde_mm512_mask_blend_ps((simde__mmask16)0xff00,
                                                    simde_mm512_permutex2var_ps(z[0][1][i], li, z[1][1][i]),
                                                    simde_mm512_permutex2var_ps(z[2][1][i], li, z[3][1][i]));
            q[4 + j] = simde_mm512_mask_blend_ps((simde__mmask16)0x8888,
                                                 simde_mm512_permutexvar_ps(rot, q[j]), x);
        }
        bt6(q, o);
        for (int j = 0; j < 6; j++) simde_mm512_storeu_ps(out + (size_t)(6 * i + j) * xs, o[j]);
    }
}

void WINO4_AVX512_IN_NAME(const wino_run *runs, int nrun, int nc, size_t cs, int h, int w,
                          float *out, size_t os, size_t xs) {
    enum { MAXG = (GEMM_MAX_NR + 15) / 16 };
    int run_of[GEMM_MAX_NR + 16], at[GEMM_MAX_NR + 16], total = 0; /* tile -> run, offset */
    for (int r = 0; r < nrun; r++)
        for (int k = 0; k < runs[r].len; k++, total++) {
            run_of[total] = r;
            at[total] = k;
        }
    /* each group of 16 tiles' geometry, once for every channel: fast (16 tiles, each
     * quarter's in one run, rows of 16 columns or more) with its quarters, or the AVX2 code
     * (which takes its own fast path where it can, else winograd4.c's) */
    seg16 seg[MAXG][4];
    int fast[MAXG], next[MAXG][4];
    for (int g = 0, k0 = 0; k0 < total; g++, k0 += 16) {
        fast[g] = w >= 16 && total - k0 >= 16;
        for (int k = 0; k < 4 && fast[g]; k++)
            fast[g] = run_of[k0 + 4 * k] == run_of[k0 + 4 * k + 3];
        if (!fast[g]) continue;
        for (int k = 0; k < 4; k++) {
            const wino_run *R = &runs[run_of[k0 + 4 * k]];
            seg_init(&seg[g][k], R->x, h, w, R->ty, R->tx + at[k0 + 4 * k]);
            next[g][k] = k < 3 && run_of[k0 + 4 * k + 4] == run_of[k0 + 4 * k];
        }
    }
    for (int g = 0, k0 = 0; k0 < total; g++, k0 += 16) {
        const int n = total - k0 < 16 ? total - k0 : 16;
        if (fast[g]) { /* a channel's rows once for all four quarters */
            for (int c = 0; c < nc; c++) group16(seg[g], next[g], c * cs, out + c * os + k0, xs);
            continue;
        }
        /* the AVX2 transform on this group's runs, cut to its tiles */
        wino_run sub[16];
        int ns = 0;
        for (int k = k0; k < k0 + n;) {
            const wino_run *R = &runs[run_of[k]];
            int len = R->len - at[k];
            if (len > k0 + n - k) len = k0 + n - k;
            sub[ns] = *R;
            sub[ns].tx = R->tx + at[k];
            sub[ns++].len = len;
            k += len;
        }
        sculpt_wino4_input__avx2(sub, ns, nc, cs, h, w, out + k0, os, xs);
    }
}

void WINO4_AVX512_OUT_NAME(const float *m, size_t xs, float *const d[4][4]) {
    v16 w[4][4];
    out_rows(m, xs, w);
    for (int r = 0; r < 4; r++) { /* quarter k's row: 128-bit lane k of w[r][0..3] */
        const v16 t0 = simde_mm512_shuffle_f32x4(w[r][0], w[r][1], SIMDE_MM_SHUFFLE(1, 0, 1, 0));
        const v16 t1 = simde_mm512_shuffle_f32x4(w[r][2], w[r][3], SIMDE_MM_SHUFFLE(1, 0, 1, 0));
        const v16 t2 = simde_mm512_shuffle_f32x4(w[r][0], w[r][1], SIMDE_MM_SHUFFLE(3, 2, 3, 2));
        const v16 t3 = simde_mm512_shuffle_f32x4(w[r][2], w[r][3], SIMDE_MM_SHUFFLE(3, 2, 3, 2));
        simde_mm512_storeu_ps(d[0][r], simde_mm512_shuffle_f32x4(t0, t1, SIMDE_MM_SHUFFLE(2, 0, 2, 0)));
        simde_mm512_storeu_ps(d[1][r], simde_mm512_shuffle_f32x4(t0, t1, SIMDE_MM_SHUFFLE(3, 1, 3, 1)));
        simde_mm512_storeu_ps(d[2][r], simde_mm512_shuffle_f32x4(t2, t3, SIMDE_MM_SHUFFLE(2, 0, 2, 0)));
        simde_mm512_storeu_ps(d[3][r], simde_mm512_shuffle_f32x4(t2, t3, SIMDE_MM_SHUFFLE(3, 1, 3, 1)));
    }
}
