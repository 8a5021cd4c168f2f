/* winograd2.c — the portable transforms of Winograd F(2x2, 3x3) (Lavin & Gray 2015), which
 * winograd.c's driver runs where wino_tile() is 2 and no ISA version applies. A tile is 4x4
 * inputs -> 2x2 outputs, 16 transform points:
 *
 *   B^T = [ 1  0 -1  0 ]   G = [ 1    0    0  ]   A^T = [ 1  1  1  0 ]
 *         [ 0  1  1  0 ]       [ 1/2  1/2  1/2 ]         [ 0  1 -1 -1 ]
 *         [ 0 -1  1  0 ]       [ 1/2 -1/2  1/2 ]
 *         [ 0  1  0 -1 ]       [ 0    0    1  ]
 *
 * Only adds and exact halvings, so every order of evaluation written here is the one the
 * AVX2 versions (winograd_avx2.c, winograd_wt.h) follow, and they give the same bits. The
 * code runs over lanes (tiles, or the packed weight lanes) so the loops vectorise. */
#include <string.h>

#include "winograd_int.h"

/* ---- weights: U = G g G^T ---- */

#define WT_CB 16 /* input channels per transposed chunk */

/* G's sums over three rows (or columns) of ne lanes: s = ((g0 + g1) + g2) / 2,
 * d = ((g0 - g1) + g2) / 2 (rows 1 and 2 of G; rows 0 and 3 pick g0 and g2). */
static void gsums(int ne, const float *restrict g0, const float *restrict g1,
                  const float *restrict g2, float *restrict s, float *restrict d) {
    for (int e = 0; e < ne; e++) {
        s[e] = ((g0[e] + g1[e]) + g2[e]) * 0.5f;
        d[e] = ((g0[e] - g1[e]) + g2[e]) * 0.5f;
    }
}

/* Row i of U = a G^T for ne lanes from row i of a = G g (a0..a2, its three columns). */
static void urow(int ne, const float *restrict a0, const float *restrict a1,
                 const float *restrict a2, float *restrict u0, float *restrict u1,
                 float *restrict u2, float *restrict u3) {
    memcpy(u0, a0, (size_t)ne * sizeof(float));
    gsums(ne, a0, a1, a2, u1, u2);
    memcpy(u3, a2, (size_t)ne * sizeof(float));
}

/* U of panel r (output channels r*mr ..) for input channels c0..c0+cb-1 (cb <= WT_CB): lane
 * (c - c0) * mr + i of matrix xi at d + xi * xs. The chunk is transposed to t[k][c*mr + i],
 * so the arithmetic runs over contiguous lanes the compiler vectorises, straight into d.
 * Both the precomputed U and the fused path (U panels made inside the GEMM task) run this
 * one function, so their bits agree. */
static void weights_chunk(const float *w, int oc, int ic, int mr, int r, int c0, int cb,
                          float *d, size_t xs) {
    /* rows an odd number of cache lines long, for the same reason as winograd.c's skewed() */
    float t[9][WT_CB * GEMM_MAX_MR + 16], a[2][3][WT_CB * GEMM_MAX_MR + 16];
    const int ne = cb * mr;
    for (int i = 0; i < mr; i++) {
        const int oi = r * mr + i;
        if (oi < oc) {
            const float *src = w + ((size_t)oi * ic + c0) * 9;
            for (int c = 0; c < cb; c++)
                for (int k = 0; k < 9; k++) t[k][c * mr + i] = src[c * 9 + k];
        } else {
            for (int c = 0; c < cb; c++)
                for (int k = 0; k < 9; k++) t[k][c * mr + i] = 0.0f;
        }
    }
    /* a = G g (4x3): rows 0 and 3 are the kernel's rows 0 and 2; rows 1, 2 in a[0], a[1] */
    for (int j = 0; j < 3; j++) gsums(ne, t[j], t[3 + j], t[6 + j], a[0][j], a[1][j]);
    urow(ne, t[0], t[1], t[2], d, d + xs, d + 2 * xs, d + 3 * xs);
    d += 4 * xs;
    urow(ne, a[0][0], a[0][1], a[0][2], d, d + xs, d + 2 * xs, d + 3 * xs);
    d += 4 * xs;
    urow(ne, a[1][0], a[1][1], a[1][2], d, d + xs, d + 2 * xs, d + 3 * xs);
    d += 4 * xs;
    urow(ne, t[6], t[7], t[8], d, d + xs, d + 2 * xs, d + 3 * xs);
}

void wino2_weights_panel(const float *w, int oc, int ic, int mr, int r, int k0, int kc,
                         float *d, size_t xs) {
    for (int c0 = k0; c0 < k0 + kc; c0 += WT_CB) {
        const int cb = k0 + kc - c0 < WT_CB ? k0 + kc - c0 : WT_CB;
        weights_chunk(w, oc, ic, mr, r, c0, cb, d + (size_t)(c0 - k0) * mr, xs);
    }
}

/* ---- input: V = B^T d B ---- */

/* q[j][k] = row[2 (tx0 + k) - 1 + j], zero outside [0, w), for the edge tiles k of a run. */
static void edge_columns(const float *row, int w, int tx0, int k, float q[4][GEMM_MAX_NR]) {
    for (int j = 0; j < 4; j++) {
        const int c = 2 * (tx0 + k) - 1 + j;
        q[j][k] = c >= 0 && c < w ? row[c] : 0.0f;
    }
}

/* The 4 input columns under each tile tx0 + k of a run, k < len: q[j][k] = column
 * 2 (tx0 + k) - 1 + j of row, zero outside [0, w); row NULL (outside the image): zeros.
 * The tiles with all 4 columns inside, [ka, kb), copy without checks (vectorised); at most
 * one tile at each edge goes through edge_columns. */
static void tile_columns(const float *row, int w, int tx0, int len, float q[4][GEMM_MAX_NR]) {
    if (!row) {
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < len; k++) q[j][k] = 0.0f;
        return;
    }
    const int ka = tx0 == 0 ? 1 : 0;             /* 2 (tx0 + k) - 1 >= 0 */
    int kb = w >= 3 ? (w - 3) / 2 - tx0 + 1 : 0; /* 2 (tx0 + k) + 2 <= w - 1 */
    kb = kb > len ? len : kb < ka ? ka : kb;
    for (int k = 0; k < ka && k < len; k++) edge_columns(row, w, tx0, k, q);
    const float *r = row + 2 * (tx0 + ka) - 1;
    for (int k = ka; k < kb; k++, r += 2) {
        q[0][k] = r[0];
        q[1][k] = r[1];
        q[2][k] = r[2];
        q[3][k] = r[3];
    }
    for (int k = kb; k < len; k++) edge_columns(row, w, tx0, k, q);
}

/* V row i for len tiles: z = a + b (add) or a - b per column, then (z B)[j] into v0..v3. */
static void vrow(int len, int add, float a[4][GEMM_MAX_NR], float b[4][GEMM_MAX_NR],
                 float *restrict v0, float *restrict v1, float *restrict v2,
                 float *restrict v3) {
    for (int t = 0; t < len; t++) {
        float z[4];
        for (int j = 0; j < 4; j++) z[j] = add ? a[j][t] + b[j][t] : a[j][t] - b[j][t];
        v0[t] = z[0] - z[2];
        v1[t] = z[1] + z[2];
        v2[t] = z[2] - z[1];
        v3[t] = z[1] - z[3];
    }
}

void wino2_input_run(const float *xc, int h, int w, int ty, int tx0, int len, float *out,
                     size_t xs) {
    float q[4][4][GEMM_MAX_NR]; /* [input row][column of the tile][tile] */
    for (int r = 0; r < 4; r++) {
        const int iy = 2 * ty - 1 + r;
        tile_columns(iy >= 0 && iy < h ? xc + (int64_t)iy * w : NULL, w, tx0, len, q[r]);
    }
    float *v = out; /* B^T's rows: d0 - d2, d1 + d2, d2 - d1, d1 - d3 */
    vrow(len, 0, q[0], q[2], v, v + xs, v + 2 * xs, v + 3 * xs);
    v += 4 * xs;
    vrow(len, 1, q[1], q[2], v, v + xs, v + 2 * xs, v + 3 * xs);
    v += 4 * xs;
    vrow(len, 0, q[2], q[1], v, v + xs, v + 2 * xs, v + 3 * xs);
    v += 4 * xs;
    vrow(len, 0, q[1], q[3], v, v + xs, v + 2 * xs, v + 3 * xs);
}

/* ---- output: Y = A^T M A ---- */

void wino2_output_run(const float *m, size_t xs, int len, float *restrict d0,
                      float *restrict d1) {
    for (int t = 0; t < len; t++) {
        float a0[4], a1[4];
        for (int j = 0; j < 4; j++) {
            const float m0 = m[(size_t)j * xs + t], m1 = m[(size_t)(4 + j) * xs + t];
            const float m2 = m[(size_t)(8 + j) * xs + t], m3 = m[(size_t)(12 + j) * xs + t];
            a0[j] = (m0 + m1) + m2;
            a1[j] = (m1 - m2) - m3;
        }
        d0[2 * t] = (a0[0] + a0[1]) + a0[2];
        d0[2 * t + 1] = (a0[1] - a0[2]) - a0[3];
        d1[2 * t] = (a1[0] + a1[1]) + a1[2];
        d1[2 * t + 1] = (a1[1] - a1[2]) - a1[3];
    }
}
