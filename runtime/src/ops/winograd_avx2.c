/* winograd_avx2.c — winograd.c's Winograd transforms with AVX2 (built with -mavx2, called only
 * where the CPU has it): the weight transform for mr = 6 panels, F(2x2,3x3) and F(4x4,3x3)
 * (winograd_wt.h at 8 lanes), and F(2x2)'s input transform V = B^T d B and output
 * transform. The input transform takes 8 tiles of a tile row at once: each input row's 18
 * columns under them are loaded as two 16-column runs (one shifted by 2), the rows
 * combined (B^T d) on those, then even/odd columns split with shuffles + one
 * cross-lane permute, and combined along x (d B) — winograd.c's vrow, same order.
 * The output transform takes 8 tiles at once, winograd.c's output_run in the same order.
 * F(4x4)'s input and output transforms are in winograd4_avx2.c. */
#include <simde/x86/avx2.h>
#include <stddef.h>
#include <string.h>

#include "winograd_int.h"

/* ---- weights: winograd_wt.h at 8 lanes ---- */

#define WT_V simde__m256
#define WT_W 8
#define WT_LOAD simde_mm256_load_ps
#define WT_STORE simde_mm256_storeu_ps
#define WT_ADD simde_mm256_add_ps
#define WT_SUB simde_mm256_sub_ps
#define WT_MUL simde_mm256_mul_ps
#define WT_SET1 simde_mm256_set1_ps
#define WT_NAME sculpt_wino_weights_6__avx2
#define WT_PRE_NAME sculpt_wino_weights_6p__avx2
#include "winograd_wt.h"

/* ---- input: V = B^T d B, 8 tiles of one tile row per step ---- */

/* even and odd columns of the 16 at a (0..7), b (8..15), in column order */
static inline void split_eo(simde__m256 a, simde__m256 b, simde__m256 *e, simde__m256 *o) {
    /* per 128-bit lane: a0 a2 b0 b2 | a4 a6 b4 b6; 64-bit blocks 0 2 1 3 put them in order */
    *e = simde_mm256_castpd_ps(simde_mm256_permute4x64_pd(
        simde_mm256_castps_pd(simde_mm256_shuffle_ps(a, b, SIMDE_MM_SHUFFLE(2, 0, 2, 0))),
        SIMDE_MM_SHUFFLE(3, 1, 2, 0)));
    *o = simde_mm256_castpd_ps(simde_mm256_permute4x64_pd(
        simde_mm256_castps_pd(simde_mm256_shuffle_ps(a, b, SIMDE_MM_SHUFFLE(3, 1, 3, 1))),
        SIMDE_MM_SHUFFLE(3, 1, 2, 0)));
}

/* one row of B^T d (z, 4 vectors: columns 0..7, 8..15, 2..9, 10..17 under the 8 tiles),
 * then (z B)[j] of the first n of the 8 tiles into v + j * xs (mask: lanes < n) */
static inline void vrow8(const simde__m256 z[4], float *v, size_t xs, simde__m256i mask,
                         int n) {
    simde__m256 z0, z1, z2, z3;
    split_eo(z[0], z[1], &z0, &z1);
    split_eo(z[2], z[3], &z2, &z3);
    const simde__m256 r[4] = {simde_mm256_sub_ps(z0, z2), simde_mm256_add_ps(z1, z2),
                              simde_mm256_sub_ps(z2, z1), simde_mm256_sub_ps(z1, z3)};
    /* whole vectors and the 4 tiles of an 8-wide map's tile row (the 8x8 maps) as plain
     * stores: masked stores are slow on Zen 3 (they were most of the 8x8 maps' input
     * transform) */
    for (int j = 0; j < 4; j++) {
        if (n == 8) simde_mm256_storeu_ps(v + j * xs, r[j]);
        else if (n == 4) simde_mm_storeu_ps(v + j * xs, simde_mm256_castps256_ps128(r[j]));
        else simde_mm256_maskstore_ps(v + j * xs, mask, r[j]);
    }
}

/* winograd.c's input_run: V = B^T d B for tiles tx0..tx0+len-1 (len <= 32) of tile row ty
 * of the plane xc [h][w], V[xi] of tile t at out[xi * xs + t]. The 4 input rows under the
 * run are read in place when every column the 8-tile groups load lies inside the image;
 * otherwise (every run at the left or right edge) they are first copied into zero-bordered
 * rows, so the groups always load plain vectors (the same values: zeros outside). Lanes
 * past len are computed on zeros or junk and not stored. */
#define IN_PAD 72 /* columns a run's groups load: 2 * 24 + 18 for len <= 32, rounded up */
#if defined(__GNUC__) && !defined(__clang__)
/* the row copies stay inline vector moves (GCC would call memcpy for each, ~1/3 of the time) */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void sculpt_wino_input__avx2(const float *xc, int h, int w, int ty, int tx0, int len, float *out,
                             size_t xs) {
    const int cs = 2 * tx0 - 1, span = 2 * ((len - 1) / 8 * 8) + 18; /* columns cs .. + span */
    const int inside = cs >= 0 && cs + span <= w;
    float pad[4][IN_PAD] __attribute__((aligned(32)));
    const float *rp[4]; /* column cs of each input row, NULL above or below the image */
    for (int r = 0; r < 4; r++) {
        const int iy = 2 * ty - 1 + r;
        if (iy < 0 || iy >= h) {
            rp[r] = NULL;
            continue;
        }
        const float *row = xc + (size_t)iy * w;
        if (inside) {
            rp[r] = row + cs;
            continue;
        }
        /* pad[r][j] = column cs + j: zero, then columns [lo, hi) copied in vectors */
        const int lo = cs < 0 ? -cs : 0, hi = w - cs < span ? w - cs : span;
        float *pr = pad[r];
        for (int j = 0; j < span; j += 8) /* the columns the groups load, not all IN_PAD */
            simde_mm256_store_ps(pr + j, simde_mm256_setzero_ps());
        int j = lo;
        for (; j + 8 <= hi; j += 8) simde_mm256_storeu_ps(pr + j, simde_mm256_loadu_ps(row + cs + j));
        for (; j < hi; j++) pr[j] = row[cs + j];
        rp[r] = pr;
    }
    for (int k0 = 0; k0 < len; k0 += 8) {
        const int n = len - k0 < 8 ? len - k0 : 8;
        simde__m256 d[4][4]; /* [input row][columns 0..7, 8..15, 2..9, 10..17] */
        for (int r = 0; r < 4; r++) {
            if (!rp[r]) {
                for (int q = 0; q < 4; q++) d[r][q] = simde_mm256_setzero_ps();
                continue;
            }
            const float *c = rp[r] + 2 * k0;
            d[r][0] = simde_mm256_loadu_ps(c);
            d[r][1] = simde_mm256_loadu_ps(c + 8);
            d[r][2] = simde_mm256_loadu_ps(c + 2);
            d[r][3] = simde_mm256_loadu_ps(c + 10);
        }
        const simde__m256i mask = simde_mm256_cmpgt_epi32(
            simde_mm256_set1_epi32(n), simde_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        float *v = out + k0; /* B^T's rows: d0 - d2, d1 + d2, d2 - d1, d1 - d3 */
        simde__m256 z[4];
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_sub_ps(d[0][q], d[2][q]);
        vrow8(z, v, xs, mask, n);
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_add_ps(d[1][q], d[2][q]);
        vrow8(z, v + 4 * xs, xs, mask, n);
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_sub_ps(d[2][q], d[1][q]);
        vrow8(z, v + 8 * xs, xs, mask, n);
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_sub_ps(d[1][q], d[3][q]);
        vrow8(z, v + 12 * xs, xs, mask, n);
    }
}

/* ---- output: Y = A^T M A, 8 tiles at once ---- */

/* winograd.c's output_run for tiles 0..len8-1 (len8 a multiple of 8): M[xi] of tile t at
 * m[xi * xs + t]; rows first ((m0 + m1) + m2, (m1 - m2) - m3), then columns, in the
 * portable order; the even and odd output columns are interleaved into d0 (top rows) and
 * d1 (bottom rows) with unpacks and one cross-lane permute. */
void sculpt_wino_output__avx2(const float *m, size_t xs, int len8, float *d0, float *d1) {
    for (int t = 0; t < len8; t += 8) {
        simde__m256 a0[4], a1[4];
        for (int j = 0; j < 4; j++) {
            const simde__m256 m0 = simde_mm256_loadu_ps(m + (size_t)j * xs + t);
            const simde__m256 m1 = simde_mm256_loadu_ps(m + (size_t)(4 + j) * xs + t);
            const simde__m256 m2 = simde_mm256_loadu_ps(m + (size_t)(8 + j) * xs + t);
            const simde__m256 m3 = simde_mm256_loadu_ps(m + (size_t)(12 + j) * xs + t);
            a0[j] = simde_mm256_add_ps(simde_mm256_add_ps(m0, m1), m2);
            a1[j] = simde_mm256_sub_ps(simde_mm256_sub_ps(m1, m2), m3);
        }
        for (int r = 0; r < 2; r++) {
            const simde__m256 *a = r ? a1 : a0;
            const simde__m256 e = simde_mm256_add_ps(simde_mm256_add_ps(a[0], a[1]), a[2]);
            const simde__m256 o = simde_mm256_sub_ps(simde_mm256_sub_ps(a[1], a[2]), a[3]);
            const simde__m256 lo = simde_mm256_unpacklo_ps(e, o), hi = simde_mm256_unpackhi_ps(e, o);
            float *d = (r ? d1 : d0) + 2 * t;
            simde_mm256_storeu_ps(d, simde_mm256_permute2f128_ps(lo, hi, 0x20));
            simde_mm256_storeu_ps(d + 8, simde_mm256_permute2f128_ps(lo, hi, 0x31));
        }
    }
}
