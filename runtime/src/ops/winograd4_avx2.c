/* winograd4_avx2.c — winograd4.c's F(4x4,3x3) input and output transforms with AVX2 (built
 * with -mavx2, called only where the CPU has it), 8 tiles of a tile row at a time. The
 * arithmetic is winograd4.c's bt6 and at6, the same operations in the same order, so the
 * bits agree (test_winograd.c compares the two).
 *
 * Input: the 40 columns under 8 tiles (4 per tile plus the next tile's first 2, loaded as 5
 * vectors) of each of the 6 input rows are combined down the rows (B^T d) in place; each
 * resulting row is then split into the tiles' 6 columns — a per-lane 4x4 transpose, a
 * permute into tile order, and the 2 columns shared with the next tile by a rotate and a
 * blend — and combined along x (d B). Output: the 36 M values of 8 tiles, rows first, then
 * along x, and each output row's 4 columns per tile interleaved back (transpose + 128-bit
 * permutes) into 32 contiguous floats. */
#include <simde/x86/avx2.h>
#include <stddef.h>

#include "winograd_int.h"

typedef simde__m256 v8;

static inline v8 add(v8 a, v8 b) { return simde_mm256_add_ps(a, b); }
static inline v8 sub(v8 a, v8 b) { return simde_mm256_sub_ps(a, b); }
static inline v8 scale(float s, v8 a) { return simde_mm256_mul_ps(simde_mm256_set1_ps(s), a); }

/* winograd4.c's bt6: B^T along one axis */
static inline void bt6(const v8 d[6], v8 o[6]) {
    const v8 f = sub(d[4], d[2]), g = sub(d[3], d[1]);
    o[0] = add(scale(4.0f, sub(d[0], d[2])), f);
    o[1] = sub(add(d[3], d[4]), scale(4.0f, add(d[1], d[2])));
    o[2] = add(sub(d[4], d[3]), scale(4.0f, sub(d[1], d[2])));
    o[3] = add(f, scale(2.0f, g));
    o[4] = sub(f, scale(2.0f, g));
    o[5] = add(scale(4.0f, sub(d[1], d[3])), sub(d[5], d[3]));
}

/* winograd4.c's at6: A^T along one axis */
static inline void at6(const v8 m[6], v8 o[4]) {
    const v8 a = add(m[1], m[2]), b = sub(m[1], m[2]), c = add(m[3], m[4]), d = sub(m[3], m[4]);
    o[0] = add(add(a, c), m[0]);
    o[1] = add(b, scale(2.0f, d));
    o[2] = add(a, scale(4.0f, c));
    o[3] = add(add(b, scale(8.0f, d)), m[5]);
}

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

/* V of 8 tiles: tiles 0..3 start at column 0 of the rows ra, tiles 4..7 at column 0 of rb
 * (each row readable for 24 columns; a NULL row reads as zeros). split 0: rb is ra + 16, so
 * tile 3's extra columns are tile 4's first. Lanes n.. are not stored. */
static void group8(const float *const ra[6], const float *const rb[6], int split, int n,
                   float *out, size_t xs) {
    static const int src_b[6] = {0, 0, 1, 1, 1, 0}, col[6] = {0, 8, 0, 8, 16, 16};
    v8 z[6][6]; /* B^T d: [row of V][position: z layout of split6] */
    for (int c = 0; c < 6; c++) {
        if (c == 5 && !split) { /* columns 16..23 of ra are rb's first 8 */
            for (int i = 0; i < 6; i++) z[i][5] = z[i][2];
            continue;
        }
        const float *const *rows = src_b[c] ? rb : ra;
        v8 d[6], o[6];
        for (int r = 0; r < 6; r++)
            d[r] = rows[r] ? simde_mm256_loadu_ps(rows[r] + col[c]) : simde_mm256_setzero_ps();
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
            if (n == 8) simde_mm256_storeu_ps(out + (size_t)(6 * i + j) * xs, o[j]);
            else simde_mm256_maskstore_ps(out + (size_t)(6 * i + j) * xs, mask, o[j]);
        }
    }
}

/* The 6 input rows under 4 tiles from tile (ty, tx) of the plane xc [h][w], 24 columns
 * readable from column 4 tx - 1 each: in place where they lie inside the image, else copied
 * with zeros around into pad; rows outside the image NULL. */
#if defined(__GNUC__) && !defined(__clang__)
/* the row copies stay inline vector moves (GCC would call memcpy for each) */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void seg_rows(const float *xc, int h, int w, int ty, int tx, float pad[6][24],
                     const float *rp[6]) {
    const int cs = 4 * tx - 1, inside = cs >= 0 && cs + 24 <= w;
    const int lo = cs < 0 ? -cs : 0, hi = w - cs < 24 ? w - cs : 24;
    for (int r = 0; r < 6; r++) {
        const int iy = 4 * ty - 1 + r;
        if (iy < 0 || iy >= h) {
            rp[r] = NULL;
            continue;
        }
        const float *row = xc + (size_t)iy * w + cs;
        if (inside) {
            rp[r] = row;
            continue;
        }
        float *pr = pad[r];
        for (int j = 0; j < 24; j += 8) simde_mm256_storeu_ps(pr + j, simde_mm256_setzero_ps());
        int j = lo;
        for (; j + 8 <= hi; j += 8) simde_mm256_storeu_ps(pr + j, simde_mm256_loadu_ps(row + j));
        for (; j < hi; j++) pr[j] = row[j];
        rp[r] = pr;
    }
}

void sculpt_wino4_input__avx2(const wino_run *runs, int nrun, size_t off, int h, int w,
                              float *out, size_t xs) {
    int run_of[GEMM_MAX_NR + 8], at[GEMM_MAX_NR + 8], total = 0; /* tile -> run, offset */
    for (int r = 0; r < nrun; r++)
        for (int k = 0; k < runs[r].len; k++, total++) {
            run_of[total] = r;
            at[total] = k;
        }
    for (int k0 = 0; k0 < total; k0 += 8) {
        const int n = total - k0 < 8 ? total - k0 : 8, na = n < 4 ? n : 4, nb = n - na;
        const int ra_i = run_of[k0], rb_i = nb ? run_of[k0 + 4] : ra_i;
        /* each half's tiles in one run, else winograd4.c's code for each run's part */
        if (run_of[k0 + na - 1] != ra_i || (nb && run_of[k0 + 3 + nb] != rb_i)) {
            for (int k = k0; k < k0 + n;) {
                const wino_run *R = &runs[run_of[k]];
                int len = R->len - at[k];
                if (len > k0 + n - k) len = k0 + n - k;
                wino4_input_run(R->x + off, h, w, R->ty, R->tx + at[k], len, out + k, xs);
                k += len;
            }
            continue;
        }
        float pa[6][24], pb[6][24];
        const float *ra[6], *rb[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
        const wino_run *A = &runs[ra_i], *B = &runs[rb_i];
        seg_rows(A->x + off, h, w, A->ty, A->tx + at[k0], pa, ra);
        if (nb) seg_rows(B->x + off, h, w, B->ty, B->tx + at[k0 + 4], pb, rb);
        group8(ra, rb, !nb || rb_i != ra_i, n, out + k0, xs);
    }
}

void sculpt_wino4_output__avx2(const float *m, size_t xs, float *const da[4],
                               float *const db[4]) {
    v8 a[4][6]; /* A^T M: [output row][column j] */
    for (int j = 0; j < 6; j++) {
        v8 mc[6], o[4];
        for (int i = 0; i < 6; i++) mc[i] = simde_mm256_loadu_ps(m + (size_t)(6 * i + j) * xs);
        at6(mc, o);
        for (int r = 0; r < 4; r++) a[r][j] = o[r];
    }
    for (int r = 0; r < 4; r++) {
        v8 y[4];
        at6(a[r], y); /* y[c][tile]: output column c of each tile */
        const v8 u0 = simde_mm256_unpacklo_ps(y[0], y[1]), u1 = simde_mm256_unpacklo_ps(y[2], y[3]);
        const v8 u2 = simde_mm256_unpackhi_ps(y[0], y[1]), u3 = simde_mm256_unpackhi_ps(y[2], y[3]);
        /* per 128-bit lane: tiles 0 | 4, 1 | 5, 2 | 6, 3 | 7, 4 columns each */
        const v8 w0 = simde_mm256_shuffle_ps(u0, u1, SIMDE_MM_SHUFFLE(1, 0, 1, 0));
        const v8 w1 = simde_mm256_shuffle_ps(u0, u1, SIMDE_MM_SHUFFLE(3, 2, 3, 2));
        const v8 w2 = simde_mm256_shuffle_ps(u2, u3, SIMDE_MM_SHUFFLE(1, 0, 1, 0));
        const v8 w3 = simde_mm256_shuffle_ps(u2, u3, SIMDE_MM_SHUFFLE(3, 2, 3, 2));
        simde_mm256_storeu_ps(da[r], simde_mm256_permute2f128_ps(w0, w1, 0x20));
        simde_mm256_storeu_ps(da[r] + 8, simde_mm256_permute2f128_ps(w2, w3, 0x20));
        simde_mm256_storeu_ps(db[r], simde_mm256_permute2f128_ps(w0, w1, 0x31));
        simde_mm256_storeu_ps(db[r] + 8, simde_mm256_permute2f128_ps(w2, w3, 0x31));
    }
}
