/* winograd4_avx2.c — winograd4.c's F(4x4,3x3) input and output transforms with AVX2 (built
 * with -mavx2, called only where the CPU has it), 8 tiles at a time. The arithmetic is
 * winograd4.c's bt6 and at6, the same operations in the same order, so the bits agree
 * (test_winograd.c compares the two).
 *
 * Input: 8 tiles are two halves of 4, each from one tile row (the 4-tile rows of a 16x16 map
 * pair up; on wider maps the halves are contiguous). Under each half, the 24 columns of each
 * of the 6 input rows (4 per tile plus the next tile's first 2, as 3 vectors; vectors cut
 * by the image's edge are moved into place by a lane permute with the outside lanes zeroed)
 * are combined down the rows (B^T d); each resulting row is then split into the tiles' 6
 * columns — a per-lane 4x4 transpose, a permute into tile order, and the 2 columns shared
 * with the next tile by a rotate and a blend — and combined along x (d B). Output: the 36 M
 * values of 8 tiles, rows first, then along x, and each output row's 4 columns per tile
 * interleaved back (transpose + 128-bit permutes) into two runs of 16 floats, one per half. */
#include <simde/x86/avx2.h>
#include <stddef.h>

#include "winograd_int.h"

typedef simde__m256 v8;

#define W4_V v8
#define W4_ADD simde_mm256_add_ps
#define W4_SUB simde_mm256_sub_ps
#define W4_MUL simde_mm256_mul_ps
#define W4_SET1 simde_mm256_set1_ps
#define W4_LOADU simde_mm256_loadu_ps
#define W4_UNPACKLO simde_mm256_unpacklo_ps
#define W4_UNPACKHI simde_mm256_unpackhi_ps
#define W4_SHUFFLE simde_mm256_shuffle_ps
#include "winograd4_tx.h"

/* The 6 columns of 8 tiles from one row's B^T d at z: z[0], z[1] columns 0..15 of tiles
 * 0..3, z[2], z[3] columns 0..15 of tiles 4..7, z[4] tile 7's two columns past those (its
 * 5th and 6th), z[5] tile 3's: q[j][t] = column j of tile t. */
static inline void split6(const v8 z[6], v8 q[6]) {
    const v8 t0 = simde_mm256_unpacklo_ps(z[0], z[1]), t1 = simde_mm256_unpacklo_ps(z[2], z[3]);
    const v8 t2 = simde_mm256_unpackhi_ps(z[0], z[1]), t3 = simde_mm256_unpackhi_ps(z[2], z[3]);
    /* per 128-bit lane a 4x4 transpose: lanes hold tiles 0 2 4 6 | 1 3 5 7 */
    const simde__m256i order = simde_mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    q[0] = simde_mm256_permutevar8x32_ps(simde_mm256_shuffle_ps(t0, t1, SIMDE_MM_SHUFFLE(1, 0, 1, 0)), order);
    q[1] = simde_mm256_permutevar8x32_ps(simde_mm256_shuffle_ps(t0, t1, SIMDE_MM_SHUFFLE(3, 2, 3, 2)), order);
    q[2] = simde_mm256_permutevar8x32_ps(simde_mm256_shuffle_ps(t2, t3, SIMDE_MM_SHUFFLE(1, 0, 1, 0)), order);
    q[3] = simde_mm256_permutevar8x32_ps(simde_mm256_shuffle_ps(t2, t3, SIMDE_MM_SHUFFLE(3, 2, 3, 2)), order);
    /* columns 4 and 5 of tile t are columns 0 and 1 of tile t + 1, except for tiles 3 and 7 */
    const simde__m256i rot = simde_mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    const simde__m256i e0 = simde_mm256_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0);
    const simde__m256i e1 = simde_mm256_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1);
    const v8 x0 = simde_mm256_blend_ps(simde_mm256_permutevar8x32_ps(z[5], e0),
                                       simde_mm256_permutevar8x32_ps(z[4], e0), 0xf0);
    const v8 x1 = simde_mm256_blend_ps(simde_mm256_permutevar8x32_ps(z[5], e1),
                                       simde_mm256_permutevar8x32_ps(z[4], e1), 0xf0);
    q[4] = simde_mm256_blend_ps(simde_mm256_permutevar8x32_ps(q[0], rot), x0, 0x88);
    q[5] = simde_mm256_blend_ps(simde_mm256_permutevar8x32_ps(q[1], rot), x1, 0x88);
}

/* The input under 4 tiles of one tile row of channel 0: 6 rows (NULL above or below the
 * image; a channel's are off floats further) and per
 * 8-column position p (columns c0 = 4 tx - 1 + 8p ..) how to load it: 0 all outside the
 * row (zeros); 1 all inside (a plain load at c0); 2 cut by an edge: the 8 columns of the row
 * nearest c0 (from base), moved into place by a lane permute and the outside lanes zeroed —
 * in registers, so no zero-bordered copy is stored and reloaded (its loads spanning two
 * stores defeated store forwarding) and no masked load (slow on Zen 3) is needed. Rows
 * narrower than 8 columns take winograd4.c's code (sculpt_wino4_input__avx2). */
typedef struct seg4 {
    const float *row[6];
    int mode[3], base[3];
    simde__m256i idx[3];
    simde__m256 keep[3];
} seg4;

static void seg_init(seg4 *g, const float *xc, int h, int w, int ty, int tx) {
    tile_rows(g->row, xc, h, w, ty);
    const simde__m256i lane = simde_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int p = 0; p < 3; p++) {
        const int c0 = 4 * tx - 1 + 8 * p;
        g->mode[p] = c0 >= 0 && c0 + 8 <= w ? 1 : c0 + 8 <= 0 || c0 >= w ? 0 : 2;
        const int b = c0 < 0 ? 0 : w - 8 < c0 ? w - 8 : c0;
        g->base[p] = g->mode[p] == 1 ? c0 : b;
        const simde__m256i col = simde_mm256_add_epi32(simde_mm256_set1_epi32(c0), lane);
        /* lane l takes column c0 + l = lane c0 + l - b of the load; kept where 0 <= col < w */
        g->idx[p] = simde_mm256_and_si256(simde_mm256_add_epi32(lane, simde_mm256_set1_epi32(c0 - b)),
                                          simde_mm256_set1_epi32(7));
        g->keep[p] = simde_mm256_castsi256_ps(simde_mm256_andnot_si256(
            simde_mm256_cmpgt_epi32(simde_mm256_setzero_si256(), col),
            simde_mm256_cmpgt_epi32(simde_mm256_set1_epi32(w), col)));
    }
}

static inline v8 seg_load(const seg4 *g, size_t off, int r, int p) {
    if (!g->row[r] || !g->mode[p]) return simde_mm256_setzero_ps();
    const float *row = g->row[r] + off;
    if (g->mode[p] == 1) return simde_mm256_loadu_ps(row + g->base[p]);
    return simde_mm256_and_ps(
        simde_mm256_permutevar8x32_ps(simde_mm256_loadu_ps(row + g->base[p]), g->idx[p]),
        g->keep[p]);
}

/* V of 8 tiles of the channel off floats past channel 0: tiles 0..3 from segment A, tiles
 * 4..7 from B (NULL: zeros). split 0: B starts 16 columns after A, so tile 3's extra columns
 * are tile 4's first. Lanes n.. are not stored. */
static void group8(const seg4 *A, const seg4 *B, int split, int n, size_t off, float *out,
                   size_t xs) {
    static const int src_b[6] = {0, 0, 1, 1, 1, 0}, pos[6] = {0, 1, 0, 1, 2, 2};
    v8 z[6][6]; /* B^T d: [row of V][position: z layout of split6] */
    for (int c = 0; c < 6; c++) {
        if (c == 5 && !split) { /* columns 16..23 of A are B's first 8 */
            for (int i = 0; i < 6; i++) z[i][5] = z[i][2];
            continue;
        }
        const seg4 *g = src_b[c] ? B : A;
        v8 d[6], o[6];
        for (int r = 0; r < 6; r++) d[r] = g ? seg_load(g, off, r, pos[c]) : simde_mm256_setzero_ps();
        bt6(d, o);
        for (int i = 0; i < 6; i++) z[i][c] = o[i];
    }
    const simde__m256i mask = simde_mm256_cmpgt_epi32(
        simde_mm256_set1_epi32(n), simde_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int i = 0; i < 6; i++) {
        v8 q[6], o[6];
        split6(z[i], q);
        bt6(q, o);
        for (int j = 0; j < 6; j++) {
            float *d = out + (size_t)(6 * i + j) * xs;
            if (n == 8) simde_mm256_storeu_ps(d, o[j]);
            else if (n == 4) simde_mm_storeu_ps(d, simde_mm256_castps256_ps128(o[j])); /* not masked: slow on Zen 3 */
            else simde_mm256_maskstore_ps(d, mask, o[j]);
        }
    }
}

void sculpt_wino4_input__avx2(const wino_run *runs, int nrun, int nc, size_t cs, int h, int w,
                              float *out, size_t os, size_t xs) {
    enum { MAXG = (GEMM_MAX_NR + 7) / 8 };
    int run_of[GEMM_MAX_NR + 8], at[GEMM_MAX_NR + 8], total = 0; /* tile -> run, offset */
    for (int r = 0; r < nrun; r++)
        for (int k = 0; k < runs[r].len; k++, total++) {
            run_of[total] = r;
            at[total] = k;
        }
    /* each group of 8 tiles' geometry, once for every channel: fast (each half's tiles in
     * one run, rows of 8 columns or more) with its segments, or winograd4.c's code */
    seg4 sa[MAXG], sb[MAXG];
    int fast[MAXG], split[MAXG];
    for (int g = 0, k0 = 0; k0 < total; g++, k0 += 8) {
        const int n = total - k0 < 8 ? total - k0 : 8, na = n < 4 ? n : 4, nb = n - na;
        const int ra_i = run_of[k0], rb_i = nb ? run_of[k0 + 4] : ra_i;
        fast[g] = w >= 8 && run_of[k0 + na - 1] == ra_i && (!nb || run_of[k0 + 3 + nb] == rb_i);
        if (!fast[g]) continue;
        const wino_run *A = &runs[ra_i], *B = &runs[rb_i];
        seg_init(&sa[g], A->x, h, w, A->ty, A->tx + at[k0]);
        if (nb) seg_init(&sb[g], B->x, h, w, B->ty, B->tx + at[k0 + 4]);
        split[g] = !nb || rb_i != ra_i;
    }
    for (int c = 0; c < nc; c++) /* a channel's groups together: they share its input rows */
        for (int g = 0, k0 = 0; k0 < total; g++, k0 += 8) {
            const int n = total - k0 < 8 ? total - k0 : 8;
            float *o = out + c * os;
            if (fast[g]) {
                group8(&sa[g], n > 4 ? &sb[g] : NULL, split[g], n, c * cs, o + k0, xs);
                continue;
            }
            for (int k = k0; k < k0 + n;) {
                const wino_run *R = &runs[run_of[k]];
                int len = R->len - at[k];
                if (len > k0 + n - k) len = k0 + n - k;
                wino4_input_run(R->x + c * cs, h, w, R->ty, R->tx + at[k], len, o + k, xs);
                k += len;
            }
        }
}

void sculpt_wino4_output__avx2(const float *m, size_t xs, float *const da[4],
                               float *const db[4]) {
    v8 w[4][4];
    out_rows(m, xs, w);
    for (int r = 0; r < 4; r++) { /* lanes: tiles 0 | 4 (w[r][0]), 1 | 5, 2 | 6, 3 | 7 */
        simde_mm256_storeu_ps(da[r], simde_mm256_permute2f128_ps(w[r][0], w[r][1], 0x20));
        simde_mm256_storeu_ps(da[r] + 8, simde_mm256_permute2f128_ps(w[r][2], w[r][3], 0x20));
        simde_mm256_storeu_ps(db[r], simde_mm256_permute2f128_ps(w[r][0], w[r][1], 0x31));
        simde_mm256_storeu_ps(db[r] + 8, simde_mm256_permute2f128_ps(w[r][2], w[r][3], 0x31));
    }
}
