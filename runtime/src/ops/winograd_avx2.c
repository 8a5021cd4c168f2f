/* winograd_avx2.c — winograd.c's Winograd weight transform U = G g G^T for mr = 6 panels,
 * F(2x2,3x3) and F(4x4,3x3) (winograd4.c's g6), and F(2x2)'s input transform V = B^T d B and
 * output transform, with AVX2 (built with -mavx2, called only where the CPU has it).
 * Chunks of 8 input channels x 6 output channels are transposed from w [oc][ic][3][3] into
 * t [k][c * 6 + i] (U's packed-A lane order) with plain loads, pair unpacks and 64-bit
 * stores — no gathers, which are slow on Zen 3 and Intel alike — then transformed 8 lanes
 * at a time in registers and stored into the 16 (or 36) matrices. The arithmetic is the
 * portable code's, in the same order, so the bits agree (test_winograd.c compares the two).
 * The input transform takes 8 tiles of a tile row at once: each input row's 18
 * columns under them are loaded as two 16-column runs (one shifted by 2), the rows
 * combined (B^T d) on those, then even/odd columns split with shuffles + one
 * cross-lane permute, and combined along x (d B) — winograd.c's vrow, same order.
 * The output transform takes 8 tiles at once, winograd.c's output_run in the same order.
 * F(4x4)'s input and output transforms are in winograd4_avx2.c. */
#include <simde/x86/avx2.h>
#include <stddef.h>
#include <string.h>

#include "winograd_int.h"

/* G's sums over three rows or columns: ((g0 + g1) + g2) / 2 and ((g0 - g1) +
 * g2) / 2 */
static inline void gsum(simde__m256 g0, simde__m256 g1, simde__m256 g2, simde__m256 *s,
                        simde__m256 *t) {
    const simde__m256 h = simde_mm256_set1_ps(0.5f);
    *s = simde_mm256_mul_ps(simde_mm256_add_ps(simde_mm256_add_ps(g0, g1), g2), h);
    *t = simde_mm256_mul_ps(simde_mm256_add_ps(simde_mm256_sub_ps(g0, g1), g2), h);
}

/* U row (4 points) from row a0, a1, a2 of a = G g, stored at d, d + xs, .. */
static inline void urow(simde__m256 a0, simde__m256 a1, simde__m256 a2, float *d, size_t xs) {
    simde__m256 u1, u2;
    gsum(a0, a1, a2, &u1, &u2);
    simde_mm256_storeu_ps(d, a0);
    simde_mm256_storeu_ps(d + xs, u1);
    simde_mm256_storeu_ps(d + 2 * xs, u2);
    simde_mm256_storeu_ps(d + 3 * xs, a2);
}

/* 8 lanes of U from g [9][..] (lane stride ts) into d + xi * xs */
static inline void lanes8(const float *g, size_t ts, float *d, size_t xs) {
    simde__m256 k[9], a1[3], a2[3];
    for (int j = 0; j < 9; j++) k[j] = simde_mm256_load_ps(g + j * ts);
    for (int j = 0; j < 3; j++) gsum(k[j], k[3 + j], k[6 + j], &a1[j], &a2[j]);
    urow(k[0], k[1], k[2], d, xs);
    urow(a1[0], a1[1], a1[2], d + 4 * xs, xs);
    urow(a2[0], a2[1], a2[2], d + 8 * xs, xs);
    urow(k[6], k[7], k[8], d + 12 * xs, xs);
}

/* F(4x4): G along one axis, winograd4.c's g6 in the same order */
static inline void g6(simde__m256 g0, simde__m256 g1, simde__m256 g2, simde__m256 o[6]) {
    const simde__m256 s = simde_mm256_add_ps(g0, g2);
    const simde__m256 q = simde_mm256_add_ps(g0, simde_mm256_mul_ps(simde_mm256_set1_ps(4.0f), g2));
    const simde__m256 h = simde_mm256_mul_ps(simde_mm256_set1_ps(2.0f), g1);
    const simde__m256 c6 = simde_mm256_set1_ps(-1.0f / 6.0f), c24 = simde_mm256_set1_ps(1.0f / 24.0f);
    o[0] = simde_mm256_mul_ps(g0, simde_mm256_set1_ps(0.25f));
    o[1] = simde_mm256_mul_ps(simde_mm256_add_ps(s, g1), c6);
    o[2] = simde_mm256_mul_ps(simde_mm256_sub_ps(s, g1), c6);
    o[3] = simde_mm256_mul_ps(simde_mm256_add_ps(q, h), c24);
    o[4] = simde_mm256_mul_ps(simde_mm256_sub_ps(q, h), c24);
    o[5] = g2;
}

/* 8 lanes of F(4x4)'s U (36 points) from g [9][..] (lane stride ts) into d + xi * xs */
static inline void lanes8_4(const float *g, size_t ts, float *d, size_t xs) {
    simde__m256 k[9], a[3][6], u[6];
    for (int j = 0; j < 9; j++) k[j] = simde_mm256_load_ps(g + j * ts);
    for (int j = 0; j < 3; j++) g6(k[j], k[3 + j], k[6 + j], a[j]); /* a[j][i] = (G g)[i][j] */
    for (int i = 0; i < 6; i++) {
        g6(a[0][i], a[1][i], a[2][i], u);
        for (int j = 0; j < 6; j++) simde_mm256_storeu_ps(d + (size_t)(6 * i + j) * xs, u[j]);
    }
}

/* chunks of weights prefetched ahead (2, 4 and 8 measured alike, ~7% over none from memory) */
#ifndef PF
#define PF 4
#endif
#define CB 8 /* input channels per chunk: 48 lanes, 6 vectors per kernel point */
#define TL (CB * 6) /* lanes of one chunk */

/* t[k][c * 6 + i] = w[oc 6r + i][ic c0 + c][k] for the chunk's cb channels; rows past oc
 * (src NULL) zero. Rows i, i + 1 go together: unpacking their 4-float runs of k gives
 * (row i, row i + 1) pairs, adjacent in t, so each 64-bit store moves two elements. */
static inline void transpose_chunk(const float *const src[6], int kc, int c0, int cb,
                                   float t[9][TL]) {
    static const float zero[12];
    for (int p = 0; p < 3; p++) {
        const float *a = src[2 * p] ? src[2 * p] + (size_t)c0 * 9 : zero;
        const float *b = src[2 * p + 1] ? src[2 * p + 1] + (size_t)c0 * 9 : zero;
        const int sa = src[2 * p] ? 9 : 0, sb = src[2 * p + 1] ? 9 : 0;
        float *o = &t[0][2 * p];
        /* the weights stream from memory, 6 rows at once: fetch PF chunks ahead */
        if (src[2 * p + 1] && c0 + (PF + 1) * CB <= kc)
            for (int l = 0; l < CB * 9 * 4; l += 64) {
                simde_mm_prefetch((const char *)(a + PF * CB * 9) + l, SIMDE_MM_HINT_T0);
                simde_mm_prefetch((const char *)(b + PF * CB * 9) + l, SIMDE_MM_HINT_T0);
            }
        for (int c = 0; c < cb; c++, a += sa, b += sb, o += 6) {
            const simde__m128 a0 = simde_mm_loadu_ps(a), a1 = simde_mm_loadu_ps(a + 4);
            const simde__m128 b0 = simde_mm_loadu_ps(b), b1 = simde_mm_loadu_ps(b + 4);
            const simde__m128 l0 = simde_mm_unpacklo_ps(a0, b0), h0 = simde_mm_unpackhi_ps(a0, b0);
            const simde__m128 l1 = simde_mm_unpacklo_ps(a1, b1), h1 = simde_mm_unpackhi_ps(a1, b1);
            simde_mm_storel_pi((simde__m64 *)(void *)(o + 0 * TL), l0);
            simde_mm_storeh_pi((simde__m64 *)(void *)(o + 1 * TL), l0);
            simde_mm_storel_pi((simde__m64 *)(void *)(o + 2 * TL), h0);
            simde_mm_storeh_pi((simde__m64 *)(void *)(o + 3 * TL), h0);
            simde_mm_storel_pi((simde__m64 *)(void *)(o + 4 * TL), l1);
            simde_mm_storeh_pi((simde__m64 *)(void *)(o + 5 * TL), l1);
            simde_mm_storel_pi((simde__m64 *)(void *)(o + 6 * TL), h1);
            simde_mm_storeh_pi((simde__m64 *)(void *)(o + 7 * TL), h1);
            o[8 * TL] = a[8];
            o[8 * TL + 1] = b[8];
        }
    }
}

/* U of the chunk at t (nl lanes, a multiple of 8 up to TL) into o + xi * xs, tile m */
static inline void chunk_u(float t[9][TL], int nl, int m, float *o, size_t xs) {
    if (m == 4)
        for (int v = 0; v < nl; v += 8) lanes8_4(&t[0][v], TL, o + v, xs);
    else
        for (int v = 0; v < nl; v += 8) lanes8(&t[0][v], TL, o + v, xs);
}

/* U of panel r (output channels 6r .. 6r+5, rows past oc zero) for input
 * channels k0 .. k0+kc-1: lane (c - k0) * 6 + i of matrix xi at d + xi * xs. Chunks of CB
 * channels are transposed into t (double-buffered: each chunk's U is made after the next
 * chunk's transpose, so its loads never wait on the transpose's narrow stores). */
void sculpt_wino_weights_6__avx2(const float *w, int oc, int ic, int r, int k0, int kc, int m,
                                 float *d, size_t xs) {
    SIMDE_ALIGN_TO_32 float t[2][9][TL];
    const float *src[6];
    for (int i = 0; i < 6; i++)
        src[i] = 6 * r + i < oc ? w + ((size_t)(6 * r + i) * ic + k0) * 9 : NULL;
    const int full = kc / CB * CB;
    for (int c0 = 0; c0 < full; c0 += CB) {
        transpose_chunk(src, kc, c0, CB, t[(c0 / CB) & 1]);
        if (c0) chunk_u(t[(c0 / CB - 1) & 1], TL, m, d + (size_t)(c0 - CB) * 6, xs);
    }
    if (full) chunk_u(t[(full / CB - 1) & 1], TL, m, d + (size_t)(full - CB) * 6, xs);
    if (full < kc) { /* last chunk: lanes past the channels through a buffer */
        const int cb = kc - full, nl = (cb * 6 + 7) / 8 * 8;
        SIMDE_ALIGN_TO_32 float u[36][TL];
        memset(t[0], 0, sizeof t[0]);
        transpose_chunk(src, kc, full, cb, t[0]);
        chunk_u(t[0], nl, m, &u[0][0], TL);
        for (int xi = 0; xi < (m + 2) * (m + 2); xi++)
            memcpy(d + (size_t)full * 6 + xi * xs, u[xi], (size_t)cb * 6 * sizeof(float));
    }
}

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
 * then (z B)[j] of the 8 tiles into v + j * xs (mask: the tiles to store) */
static inline void vrow8(const simde__m256 z[4], float *v, size_t xs, simde__m256i mask,
                         int all) {
    simde__m256 z0, z1, z2, z3;
    split_eo(z[0], z[1], &z0, &z1);
    split_eo(z[2], z[3], &z2, &z3);
    const simde__m256 r[4] = {simde_mm256_sub_ps(z0, z2), simde_mm256_add_ps(z1, z2),
                              simde_mm256_sub_ps(z2, z1), simde_mm256_sub_ps(z1, z3)};
    for (int j = 0; j < 4; j++) {
        if (all) simde_mm256_storeu_ps(v + j * xs, r[j]);
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
        for (int j = 0; j < IN_PAD; j += 8) simde_mm256_store_ps(pr + j, simde_mm256_setzero_ps());
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
        vrow8(z, v, xs, mask, n == 8);
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_add_ps(d[1][q], d[2][q]);
        vrow8(z, v + 4 * xs, xs, mask, n == 8);
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_sub_ps(d[2][q], d[1][q]);
        vrow8(z, v + 8 * xs, xs, mask, n == 8);
        for (int q = 0; q < 4; q++) z[q] = simde_mm256_sub_ps(d[1][q], d[3][q]);
        vrow8(z, v + 12 * xs, xs, mask, n == 8);
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
