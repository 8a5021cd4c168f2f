/* winograd_avx2.c — the Winograd F(2x2,3x3) weight transform U = G g G^T of
 * winograd.c for mr = 6 panels, with AVX2 (built with -mavx2, called only where
 * the CPU has it). Chunks of 8 input channels x 6 output channels are transposed
 * from w [oc][ic][3][3] into t [k][c * 6 + i] (U's packed-A lane order) with
 * plain loads, pair unpacks and 64-bit stores — no gathers, which are slow on
 * Zen 3 and Intel alike — then transformed 8 lanes at a time in registers and
 * stored into the 16 matrices. The adds and halvings are winograd.c's portable
 * ones in the same order, so the bits agree (test_winograd.c compares the two). */
#include <simde/x86/avx2.h>
#include <stddef.h>
#include <string.h>

void sculpt_wino_weights_6__avx2(const float *w, int oc, int ic, int r, int k0, int kc, float *d,
                                 size_t xs);

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

/* U of the chunk at t (nl lanes, a multiple of 8 up to TL) into o + xi * xs */
static inline void chunk_u(float t[9][TL], int nl, float *o, size_t xs) {
    for (int v = 0; v < nl; v += 8) lanes8(&t[0][v], TL, o + v, xs);
}

/* U of panel r (output channels 6r .. 6r+5, rows past oc zero) for input
 * channels k0 .. k0+kc-1: lane (c - k0) * 6 + i of matrix xi at d + xi * xs. Chunks of CB
 * channels are transposed into t (double-buffered: each chunk's U is made after the next
 * chunk's transpose, so its loads never wait on the transpose's narrow stores). */
void sculpt_wino_weights_6__avx2(const float *w, int oc, int ic, int r, int k0, int kc, float *d,
                                 size_t xs) {
    SIMDE_ALIGN_TO_32 float t[2][9][TL];
    const float *src[6];
    for (int i = 0; i < 6; i++)
        src[i] = 6 * r + i < oc ? w + ((size_t)(6 * r + i) * ic + k0) * 9 : NULL;
    const int full = kc / CB * CB;
    for (int c0 = 0; c0 < full; c0 += CB) {
        transpose_chunk(src, kc, c0, CB, t[(c0 / CB) & 1]);
        if (c0) chunk_u(t[(c0 / CB - 1) & 1], TL, d + (size_t)(c0 - CB) * 6, xs);
    }
    if (full) chunk_u(t[(full / CB - 1) & 1], TL, d + (size_t)(full - CB) * 6, xs);
    if (full < kc) { /* last chunk: lanes past the channels through a buffer */
        const int cb = kc - full, nl = (cb * 6 + 7) / 8 * 8;
        SIMDE_ALIGN_TO_32 float u[16][TL];
        memset(t[0], 0, sizeof t[0]);
        transpose_chunk(src, kc, full, cb, t[0]);
        chunk_u(t[0], nl, &u[0][0], TL);
        for (int xi = 0; xi < 16; xi++)
            memcpy(d + (size_t)full * 6 + xi * xs, u[xi], (size_t)cb * 6 * sizeof(float));
    }
}
