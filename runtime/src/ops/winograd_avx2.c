/* winograd_avx2.c — the Winograd F(2x2,3x3) weight transform U = G g G^T of
 * winograd.c for mr = 6 panels, with AVX2 (built with -mavx2, called only where
 * the CPU has it). Eight lanes (c - k0) * 6 + i of U's packed-A layout are
 * gathered straight from w [oc][ic][3][3], transformed in registers and stored
 * into the 16 matrices: no transposed copy, no copy-out. The adds and halvings
 * are winograd.c's portable ones in the same order, so the bits agree
 * (test_winograd.c compares the two). */
#include <simde/x86/avx2.h>
#include <stddef.h>

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

/* U row (4 points) from row a0, a1, a2 of a = G g, stored at d, d + xs, ..
 * (lanes < n). */
static inline void urow(simde__m256 a0, simde__m256 a1, simde__m256 a2, float *d, size_t xs,
                        int full, simde__m256i keep) {
    simde__m256 u[4];
    u[0] = a0;
    gsum(a0, a1, a2, &u[1], &u[2]);
    u[3] = a2;
    for (int j = 0; j < 4; j++) {
        if (full)
            simde_mm256_storeu_ps(d + j * xs, u[j]);
        else
            simde_mm256_maskstore_ps(d + j * xs, keep, u[j]);
    }
}

/* U of panel r (output channels 6r .. 6r+5, rows past oc zero) for input
 * channels k0 .. k0+kc-1: lane (c - k0) * 6 + i of matrix xi at d + xi * xs. */
void sculpt_wino_weights_6__avx2(const float *w, int oc, int ic, int r, int k0, int kc, float *d,
                                 size_t xs) {
    const int ne = kc * 6, rows = oc - 6 * r < 6 ? oc - 6 * r : 6;
    const float *base = w + ((size_t)6 * r * ic + k0) * 9;
    /* lane pattern repeats every 24 lanes (4 channels): index of lane e = i*ic*9
     * + c*9 */
    int32_t idx[24], row[24];
    for (int e = 0; e < 24; e++) {
        idx[e] = (e % 6) * ic * 9 + (e / 6) * 9;
        row[e] = e % 6;
    }
    const simde__m256i lane = simde_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const simde__m256 zero = simde_mm256_setzero_ps();
    for (int e0 = 0; e0 < ne; e0 += 8) {
        const int p = e0 % 24;
        const float *b = base + (size_t)(e0 / 24) * 36;
        const simde__m256i ix = simde_mm256_loadu_si256((const void *)(idx + p));
        const simde__m256i ri = simde_mm256_loadu_si256((const void *)(row + p));
        /* lanes inside the chunk and on a row below oc */
        const simde__m256i in = simde_mm256_cmpgt_epi32(simde_mm256_set1_epi32(ne - e0), lane);
        const simde__m256i keep =
            simde_mm256_and_si256(in, simde_mm256_cmpgt_epi32(simde_mm256_set1_epi32(rows), ri));
        const simde__m256 km = simde_mm256_castsi256_ps(keep);
        simde__m256 g[9];
        for (int k = 0; k < 9; k++)
            g[k] = simde_mm256_mask_i32gather_ps(zero, b + k, ix, km, 4);
        simde__m256 a1[3], a2[3];
        for (int j = 0; j < 3; j++)
            gsum(g[j], g[3 + j], g[6 + j], &a1[j], &a2[j]);
        const int full = ne - e0 >= 8;
        float *o = d + e0;
        urow(g[0], g[1], g[2], o, xs, full, in);
        urow(a1[0], a1[1], a1[2], o + 4 * xs, xs, full, in);
        urow(a2[0], a2[1], a2[2], o + 8 * xs, xs, full, in);
        urow(g[6], g[7], g[8], o + 12 * xs, xs, full, in);
    }
}
