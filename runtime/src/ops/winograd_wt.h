/* winograd_wt.h — the Winograd weight transform U = G g G^T for mr = 6 panels (F(2x2,3x3) and
 * F(4x4,3x3)), written once for a vector width and included by each ISA's file with its
 * vector type and operations defined (winograd_avx2.c: 8 lanes; winograd_avx512.c: 16):
 *   WT_V, WT_W (lanes), WT_LOAD (aligned), WT_STORE (unaligned), WT_ADD, WT_SUB, WT_MUL,
 *   WT_SET1, and the functions it defines (winograd_int.h's signatures): WT_NAME, from w
 *   [oc][ic][3][3], and WT_PRE_NAME, from wino_wpack's layout (either may be left out).
 * Chunks of 8 input channels x 6 output channels are transposed from w [oc][ic][3][3] into
 * t [k][c * 6 + i] (U's packed-A lane order) with plain loads, pair unpacks and 64-bit
 * stores (SSE, in every such ISA) — no gathers, which are slow on Zen 3 and Intel alike —
 * then transformed WT_W lanes at a time in registers and stored into the 16 (or 36)
 * matrices. The arithmetic is winograd.c's and winograd4.c's portable code in the same
 * order, lane by lane, so every width gives the same bits (test_winograd.c compares them).
 * Not a public header: no include guard, meant to be included once per file. */
#include <stddef.h>
#include <string.h>

/* G's sums over three rows or columns: ((g0 + g1) + g2) / 2 and ((g0 - g1) +
 * g2) / 2 */
static inline void gsum(WT_V g0, WT_V g1, WT_V g2, WT_V *s,
                        WT_V *t) {
    const WT_V h = WT_SET1(0.5f);
    *s = WT_MUL(WT_ADD(WT_ADD(g0, g1), g2), h);
    *t = WT_MUL(WT_ADD(WT_SUB(g0, g1), g2), h);
}

/* U row (4 points) from row a0, a1, a2 of a = G g, stored at d, d + xs, .. */
static inline void urow(WT_V a0, WT_V a1, WT_V a2, float *d, size_t xs) {
    WT_V u1, u2;
    gsum(a0, a1, a2, &u1, &u2);
    WT_STORE(d, a0);
    WT_STORE(d + xs, u1);
    WT_STORE(d + 2 * xs, u2);
    WT_STORE(d + 3 * xs, a2);
}

/* WT_W lanes of U from g [9][..] (lane stride ts) into d + xi * xs */
static inline void lanes_2(const float *g, size_t ts, float *d, size_t xs) {
    WT_V k[9], a1[3], a2[3];
    for (int j = 0; j < 9; j++) k[j] = WT_LOAD(g + j * ts);
    for (int j = 0; j < 3; j++) gsum(k[j], k[3 + j], k[6 + j], &a1[j], &a2[j]);
    urow(k[0], k[1], k[2], d, xs);
    urow(a1[0], a1[1], a1[2], d + 4 * xs, xs);
    urow(a2[0], a2[1], a2[2], d + 8 * xs, xs);
    urow(k[6], k[7], k[8], d + 12 * xs, xs);
}

/* F(4x4): G along one axis, winograd4.c's g6 in the same order: outputs 1 and 2 (they share
 * g0 + g2), 3 and 4 (g0 + 4 g2 and 2 g1), then all six */
static inline void g12(WT_V g0, WT_V g1, WT_V g2, WT_V *o1, WT_V *o2) {
    const WT_V s = WT_ADD(g0, g2), c6 = WT_SET1(-1.0f / 6.0f);
    *o1 = WT_MUL(WT_ADD(s, g1), c6);
    *o2 = WT_MUL(WT_SUB(s, g1), c6);
}

static inline void g34(WT_V g0, WT_V g1, WT_V g2, WT_V *o3, WT_V *o4) {
    const WT_V q = WT_ADD(g0, WT_MUL(WT_SET1(4.0f), g2));
    const WT_V h = WT_MUL(WT_SET1(2.0f), g1), c24 = WT_SET1(1.0f / 24.0f);
    *o3 = WT_MUL(WT_ADD(q, h), c24);
    *o4 = WT_MUL(WT_SUB(q, h), c24);
}

static inline void g6(WT_V g0, WT_V g1, WT_V g2, WT_V o[6]) {
    o[0] = WT_MUL(g0, WT_SET1(0.25f));
    g12(g0, g1, g2, &o[1], &o[2]);
    g34(g0, g1, g2, &o[3], &o[4]);
    o[5] = g2;
}

/* g6 of (g0, g1, g2) stored at *d, *d + xs, .. *d + 5 xs; *d moves on past them */
static inline void g6_store(WT_V g0, WT_V g1, WT_V g2, float **d, size_t xs) {
    WT_V o[6];
    g6(g0, g1, g2, o);
    for (int j = 0; j < 6; j++, *d += xs) WT_STORE(*d, o[j]);
}

/* WT_W lanes of F(4x4)'s U (36 points) from g [9][..] (lane stride ts) into d + xi * xs.
 * Row i of a = G g is made right before row i of U = a G^T, rows 1 and 2 together (they
 * share g0 + g2) as 3 and 4 (g0 + 4 g2 and 2 g1): the same operations as g6 on the columns,
 * but never all 18 values of a live at once (16 ymm registers; they spilled). The column
 * transforms are g6's own pieces (g12, g34), so the bits are g6's. */
static inline void lanes_4(const float *g, size_t ts, float *d, size_t xs) {
#define K(j) WT_LOAD(g + (j) * ts)
    {
        const WT_V q = WT_SET1(0.25f);
        g6_store(WT_MUL(K(0), q), WT_MUL(K(1), q), WT_MUL(K(2), q), &d, xs);
    }
    {
        WT_V a1[3], a2[3];
        for (int j = 0; j < 3; j++) g12(K(j), K(3 + j), K(6 + j), &a1[j], &a2[j]);
        g6_store(a1[0], a1[1], a1[2], &d, xs);
        g6_store(a2[0], a2[1], a2[2], &d, xs);
    }
    {
        WT_V a3[3], a4[3];
        for (int j = 0; j < 3; j++) g34(K(j), K(3 + j), K(6 + j), &a3[j], &a4[j]);
        g6_store(a3[0], a3[1], a3[2], &d, xs);
        g6_store(a4[0], a4[1], a4[2], &d, xs);
    }
    g6_store(K(6), K(7), K(8), &d, xs);
#undef K
}

/* chunks of weights prefetched ahead (2, 4 and 8 measured alike, ~7% over none from memory),
 * by __builtin_prefetch(p, 0, 3), prefetcht0 on x86 (PRFM PLDL1KEEP on AArch64): SIMDe's
 * simde_mm_prefetch with SIMDE_MM_HINT_T0 emits prefetcht2 under GCC's native headers (its
 * hint constants are MSVC's; simd-everywhere/simde issue 1186), which on Intel fills L2 only */
#ifndef PF
#define PF 4
#endif
#define CB WINO_WPACK_CB /* input channels per chunk (8): 48 lanes, 48 / WT_W vectors per kernel point */
#define TL (CB * 6) /* lanes of one chunk */

/* U of the chunk at t (nl lanes, a multiple of WT_W up to TL) into o + xi * xs, tile m */
static inline void chunk_u(const float t[9][TL], int nl, int m, float *o, size_t xs) {
    if (m == 4)
        for (int v = 0; v < nl; v += WT_W) lanes_4(&t[0][v], TL, o + v, xs);
    else
        for (int v = 0; v < nl; v += WT_W) lanes_2(&t[0][v], TL, o + v, xs);
}

/* the last chunk of a k range, cb < CB channels: its U through a buffer, then only the cb
 * channels' lanes into d (lanes past them would land on the next panel's) */
static inline void chunk_u_part(const float t[9][TL], int cb, int m, float *d, size_t xs) {
    SIMDE_ALIGN_TO_64 float u[36][TL];
    chunk_u(t, (cb * 6 + WT_W - 1) / WT_W * WT_W, m, &u[0][0], TL);
    for (int xi = 0; xi < (m + 2) * (m + 2); xi++)
        memcpy(d + xi * xs, u[xi], (size_t)cb * 6 * sizeof(float));
}

#ifdef WT_NAME
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
                __builtin_prefetch((const char *)(a + PF * CB * 9) + l, 0, 3);
                __builtin_prefetch((const char *)(b + PF * CB * 9) + l, 0, 3);
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

/* U of panel r (output channels 6r .. 6r+5, rows past oc zero) for input
 * channels k0 .. k0+kc-1: lane (c - k0) * 6 + i of matrix xi at d + xi * xs. Chunks of CB
 * channels are transposed into t (double-buffered: each chunk's U is made after the next
 * chunk's transpose, so its loads never wait on the transpose's narrow stores). */
void WT_NAME(const float *w, int oc, int ic, int r, int k0, int kc, int m,
                                 float *d, size_t xs) {
    SIMDE_ALIGN_TO_64 float t[2][9][TL];
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
        memset(t[0], 0, sizeof t[0]);
        transpose_chunk(src, kc, full, kc - full, t[0]);
        chunk_u_part(t[0], kc - full, m, d + (size_t)full * 6, xs);
    }
}
#endif

#ifdef WT_PRE_NAME
/* The same U from weights already in t's layout (wino_wpack: panel r's chunks of CB
 * channels, each [9][TL], channels past ic zero), so no transpose: the chunks are read in
 * place, one sequential stream, PF chunks fetched ahead. wp: panel r's first chunk. */
void WT_PRE_NAME(const float *wp, int k0, int kc, int m, float *d, size_t xs) {
    const int full = kc / CB * CB;
    const float *t0 = wp + (size_t)(k0 / CB) * 9 * TL;
    for (int c0 = 0; c0 < full; c0 += CB) {
        const float(*t)[TL] = (const float(*)[TL])(t0 + (size_t)(c0 / CB) * 9 * TL);
        if (c0 + (PF + 1) * CB <= kc)
            for (int l = 0; l < 9 * TL * 4; l += 64)
                __builtin_prefetch((const char *)(t + PF * 9) + l, 0, 3);
        chunk_u(t, TL, m, d + (size_t)c0 * 6, xs);
    }
    if (full < kc)
        chunk_u_part((const float(*)[TL])(t0 + (size_t)(full / CB) * 9 * TL), kc - full, m,
                     d + (size_t)full * 6, xs);
}
#endif
