/* winograd4_tx.h — winograd4.c's F(4x4) one-axis transforms (bt6: B^T, at6: A^T) for the
 * SIMD transform files, written once for every vector width: the includer defines W4_V (the
 * vector type) and W4_ADD, W4_SUB, W4_MUL, W4_SET1, W4_LOADU, W4_UNPACKLO, W4_UNPACKHI,
 * W4_SHUFFLE (its intrinsics). The same operations in the same order as winograd4.c's
 * scalar ones, so every width gives the portable bits. */
#ifndef W4_V
#error "define W4_V and its intrinsics before including winograd4_tx.h"
#endif

/* The 6 input rows under tile row ty of the plane xc [h][w]: rows 4 ty - 1 .. 4 ty + 4, NULL
 * above or below the image. */
static inline void tile_rows(const float *row[6], const float *xc, int h, int w, int ty) {
    for (int r = 0; r < 6; r++) {
        const int iy = 4 * ty - 1 + r;
        row[r] = iy >= 0 && iy < h ? xc + (size_t)iy * w : NULL;
    }
}

static inline W4_V add(W4_V a, W4_V b) { return W4_ADD(a, b); }
static inline W4_V sub(W4_V a, W4_V b) { return W4_SUB(a, b); }
static inline W4_V scale(float s, W4_V a) { return W4_MUL(W4_SET1(s), a); }

/* winograd4.c's bt6: B^T along one axis */
static inline void bt6(const W4_V d[6], W4_V o[6]) {
    const W4_V f = sub(d[4], d[2]), g = sub(d[3], d[1]);
    o[0] = add(scale(4.0f, sub(d[0], d[2])), f);
    o[1] = sub(add(d[3], d[4]), scale(4.0f, add(d[1], d[2])));
    o[2] = add(sub(d[4], d[3]), scale(4.0f, sub(d[1], d[2])));
    o[3] = add(f, scale(2.0f, g));
    o[4] = sub(f, scale(2.0f, g));
    o[5] = add(scale(4.0f, sub(d[1], d[3])), sub(d[5], d[3]));
}

/* winograd4.c's at6: A^T along one axis */
static inline void at6(const W4_V m[6], W4_V o[4]) {
    const W4_V a = add(m[1], m[2]), b = sub(m[1], m[2]), c = add(m[3], m[4]), d = sub(m[3], m[4]);
    o[0] = add(add(a, c), m[0]);
    o[1] = add(b, scale(2.0f, d));
    o[2] = add(a, scale(4.0f, c));
    o[3] = add(add(b, scale(8.0f, d)), m[5]);
}

/* The output transform but for its stores: Y = A^T M A of a vector of tiles (M[xi] of tile
 * t at m[xi * xs + t]), rows first, then along x; then output row r's 4 columns per tile,
 * transposed within each 128-bit lane: w[r][u] holds in its 128-bit lane l the row of tile
 * 4 l + u (with 8 lanes: tiles u | 4 + u). */
static inline void out_rows(const float *m, size_t xs, W4_V w[4][4]) {
    W4_V a[4][6]; /* A^T M: [output row][column j] */
    for (int j = 0; j < 6; j++) {
        W4_V mc[6], o[4];
        for (int i = 0; i < 6; i++) mc[i] = W4_LOADU(m + (size_t)(6 * i + j) * xs);
        at6(mc, o);
        for (int r = 0; r < 4; r++) a[r][j] = o[r];
    }
    for (int r = 0; r < 4; r++) {
        W4_V y[4];
        at6(a[r], y); /* y[c][tile]: output column c of each tile */
        const W4_V u0 = W4_UNPACKLO(y[0], y[1]), u1 = W4_UNPACKLO(y[2], y[3]);
        const W4_V u2 = W4_UNPACKHI(y[0], y[1]), u3 = W4_UNPACKHI(y[2], y[3]);
        w[r][0] = W4_SHUFFLE(u0, u1, SIMDE_MM_SHUFFLE(1, 0, 1, 0));
        w[r][1] = W4_SHUFFLE(u0, u1, SIMDE_MM_SHUFFLE(3, 2, 3, 2));
        w[r][2] = W4_SHUFFLE(u2, u3, SIMDE_MM_SHUFFLE(1, 0, 1, 0));
        w[r][3] = W4_SHUFFLE(u2, u3, SIMDE_MM_SHUFFLE(3, 2, 3, 2));
    }
}
