/* winograd4.c — the portable transforms of Winograd F(4x4, 3x3) (Lavin & Gray 2015, with the
 * interpolation points 0, 1, -1, 2, -2 and infinity), which winograd.c's driver runs where
 * wino_tile() is 4. A tile is 6x6 inputs -> 4x4 outputs, so there are 36 transform points.
 *
 *   B^T = [ 4  0 -5  0  1  0 ]   G = [ 1/4    0     0   ]   A^T = [ 1  1  1  1  1  0 ]
 *         [ 0 -4 -4  1  1  0 ]       [ -1/6 -1/6  -1/6  ]         [ 0  1 -1  2 -2  0 ]
 *         [ 0  4 -4 -1  1  0 ]       [ -1/6  1/6  -1/6  ]         [ 0  1  1  4  4  0 ]
 *         [ 0 -2 -1  2  1  0 ]       [ 1/24  1/12  1/6  ]         [ 0  1 -1  8 -8  1 ]
 *         [ 0  2 -1 -2  1  0 ]       [ 1/24 -1/12  1/6  ]
 *         [ 0  4  0 -5  0  1 ]       [ 0      0     1   ]
 *
 * Every 1-D transform is written as sums and differences, scaled only by powers of two
 * (exact), with at most one final multiplication (G's 1/4, -1/6, 1/24): so no expression has
 * a multiply-add a compiler could fuse, and the ISA versions (winograd_wt.h's AVX2 and
 * AVX-512 weight transforms, winograd4_avx2.c's input and output), which run the same
 * operations in the same order, give the same bits.
 * The code runs over lanes (tiles, or the packed weight lanes) so the loops vectorise. */
#include "winograd_int.h"

/* ---- weights: U = G g G^T ---- */

/* G applied along one axis, over ne lanes: o[i] = (G [g0 g1 g2]^T)[i] */
static void g6(int ne, const float *restrict g0, const float *restrict g1,
               const float *restrict g2, float *const o[6]) {
    const float c6 = -1.0f / 6.0f, c24 = 1.0f / 24.0f;
    for (int e = 0; e < ne; e++) {
        const float s = g0[e] + g2[e], q = g0[e] + 4.0f * g2[e], h = 2.0f * g1[e];
        o[0][e] = g0[e] * 0.25f;
        o[1][e] = (s + g1[e]) * c6;
        o[2][e] = (s - g1[e]) * c6;
        o[3][e] = (q + h) * c24;
        o[4][e] = (q - h) * c24;
        o[5][e] = g2[e];
    }
}

#define W4_CB 8 /* input channels per transposed chunk */
#define W4_LANES (W4_CB * GEMM_MAX_MR + 16) /* an odd number of cache lines, as skewed() */

void wino4_weights_panel(const float *w, int oc, int ic, int mr, int r, int k0, int kc,
                         float *d, size_t xs) {
    float t[9][W4_LANES], a[6][3][W4_LANES];
    for (int c0 = k0; c0 < k0 + kc; c0 += W4_CB) {
        const int cb = k0 + kc - c0 < W4_CB ? k0 + kc - c0 : W4_CB, ne = cb * mr;
        for (int i = 0; i < mr; i++) { /* t[k][c * mr + i]: the packed-A lane order */
            const int oi = r * mr + i;
            const float *src = oi < oc ? w + ((size_t)oi * ic + c0) * 9 : NULL;
            for (int c = 0; c < cb; c++)
                for (int k = 0; k < 9; k++) t[k][c * mr + i] = src ? src[c * 9 + k] : 0.0f;
        }
        for (int j = 0; j < 3; j++) /* a = G g: column j of g is t[j], t[3 + j], t[6 + j] */
            g6(ne, t[j], t[3 + j], t[6 + j],
               (float *const[6]){a[0][j], a[1][j], a[2][j], a[3][j], a[4][j], a[5][j]});
        float *o = d + (size_t)(c0 - k0) * mr;
        for (int i = 0; i < 6; i++) /* row i of U = (row i of a) G^T */
            g6(ne, a[i][0], a[i][1], a[i][2],
               (float *const[6]){o + (6 * i) * xs, o + (6 * i + 1) * xs, o + (6 * i + 2) * xs,
                                 o + (6 * i + 3) * xs, o + (6 * i + 4) * xs,
                                 o + (6 * i + 5) * xs});
    }
}

/* ---- input: V = B^T d B ---- */

/* B^T along one axis over len lanes: o[i] = (B^T [d0 .. d5]^T)[i] */
static void bt6(int len, const float *const d[6], float *const o[6]) {
    for (int t = 0; t < len; t++) {
        const float d0 = d[0][t], d1 = d[1][t], d2 = d[2][t], d3 = d[3][t], d4 = d[4][t],
                    d5 = d[5][t];
        const float f = d4 - d2, g = d3 - d1;
        o[0][t] = 4.0f * (d0 - d2) + f;
        o[1][t] = (d3 + d4) - 4.0f * (d1 + d2);
        o[2][t] = (d4 - d3) + 4.0f * (d1 - d2);
        o[3][t] = f + 2.0f * g;
        o[4][t] = f - 2.0f * g;
        o[5][t] = 4.0f * (d1 - d3) + (d5 - d3);
    }
}

/* q[j][k] = row[4 (tx0 + k) - 1 + j] for the tiles k < len, zero outside [0, w) or where
 * row is NULL (outside the image) */
static void tile_columns6(const float *row, int w, int tx0, int len, float q[6][GEMM_MAX_NR]) {
    for (int k = 0; k < len; k++) {
        const int c0 = 4 * (tx0 + k) - 1;
        if (row && c0 >= 0 && c0 + 5 < w)
            for (int j = 0; j < 6; j++) q[j][k] = row[c0 + j];
        else
            for (int j = 0; j < 6; j++)
                q[j][k] = row && c0 + j >= 0 && c0 + j < w ? row[c0 + j] : 0.0f;
    }
}

void wino4_input_run(const float *xc, int h, int w, int ty, int tx0, int len, float *out,
                     size_t xs) {
    float q[6][6][GEMM_MAX_NR], z[6][6][GEMM_MAX_NR]; /* [row][column of the tile][tile] */
    for (int r = 0; r < 6; r++) {
        const int iy = 4 * ty - 1 + r;
        tile_columns6(iy >= 0 && iy < h ? xc + (int64_t)iy * w : NULL, w, tx0, len, q[r]);
    }
    for (int j = 0; j < 6; j++) /* rows first: z = B^T d */
        bt6(len, (const float *const[6]){q[0][j], q[1][j], q[2][j], q[3][j], q[4][j], q[5][j]},
            (float *const[6]){z[0][j], z[1][j], z[2][j], z[3][j], z[4][j], z[5][j]});
    for (int i = 0; i < 6; i++) /* then along x: V row i = z_i B */
        bt6(len, (const float *const[6]){z[i][0], z[i][1], z[i][2], z[i][3], z[i][4], z[i][5]},
            (float *const[6]){out + (6 * i) * xs, out + (6 * i + 1) * xs,
                              out + (6 * i + 2) * xs, out + (6 * i + 3) * xs,
                              out + (6 * i + 4) * xs, out + (6 * i + 5) * xs});
}

/* ---- output: Y = A^T M A ---- */

/* A^T along one axis over len lanes: o[i] = (A^T [m0 .. m5]^T)[i] */
static void at6(int len, const float *const m[6], float *const o[4]) {
    for (int t = 0; t < len; t++) {
        const float a = m[1][t] + m[2][t], b = m[1][t] - m[2][t];
        const float c = m[3][t] + m[4][t], d = m[3][t] - m[4][t];
        o[0][t] = (a + c) + m[0][t];
        o[1][t] = b + 2.0f * d;
        o[2][t] = a + 4.0f * c;
        o[3][t] = (b + 8.0f * d) + m[5][t];
    }
}

void wino4_output_run(const float *m, size_t xs, int len, float *const d[4]) {
    float a[4][6][GEMM_MAX_NR], y[4][GEMM_MAX_NR];
    for (int j = 0; j < 6; j++) /* rows first: a = A^T M, column j */
        at6(len, (const float *const[6]){m + j * xs, m + (6 + j) * xs, m + (12 + j) * xs,
                                         m + (18 + j) * xs, m + (24 + j) * xs,
                                         m + (30 + j) * xs},
            (float *const[4]){a[0][j], a[1][j], a[2][j], a[3][j]});
    for (int r = 0; r < 4; r++) { /* then along x: row r = a_r A, interleaved by tile */
        at6(len, (const float *const[6]){a[r][0], a[r][1], a[r][2], a[r][3], a[r][4], a[r][5]},
            (float *const[4]){y[0], y[1], y[2], y[3]});
        for (int t = 0; t < len; t++)
            for (int c = 0; c < 4; c++) d[r][4 * t + c] = y[c][t];
    }
}
