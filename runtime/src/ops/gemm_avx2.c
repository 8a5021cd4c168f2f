/* gemm_avx2.c — 6x16 f32 GEMM micro-kernel for AVX2+FMA, written with SIMDe (kernels.h
 * contract): 12 ymm accumulators, two B vectors and one broadcast A value per k step, the
 * epilogue added in registers before the one store. */
#include <simde/x86/avx2.h>
#include <simde/x86/fma.h>

#include "kernels.h"

#ifndef GEMM_AVX2_NAME
#define GEMM_AVX2_NAME sculpt_f32_gemm_6x16__avx2
#endif

#define ROW(i)                                                             \
    do {                                                                   \
        simde__m256 ai = simde_mm256_set1_ps(ap[i]);                       \
        c##i##0 = simde_mm256_fmadd_ps(ai, b0, c##i##0);                   \
        c##i##1 = simde_mm256_fmadd_ps(ai, b1, c##i##1);                   \
    } while (0)

/* row i: C (+)= sum, then the epilogue's terms one add at a time */
#define STORE(i)                                                                        \
    do {                                                                                \
        float *ci = c + (i) * ldc;                                                      \
        if (accumulate) {                                                               \
            c##i##0 = simde_mm256_add_ps(simde_mm256_loadu_ps(ci), c##i##0);            \
            c##i##1 = simde_mm256_add_ps(simde_mm256_loadu_ps(ci + 8), c##i##1);        \
        }                                                                               \
        if (ep) {                                                                       \
            for (int t = 0; t < 2; t++)                                                 \
                if (ep->row[t]) {                                                       \
                    const simde__m256 v = simde_mm256_set1_ps(ep->row[t][i]);           \
                    c##i##0 = simde_mm256_add_ps(c##i##0, v);                           \
                    c##i##1 = simde_mm256_add_ps(c##i##1, v);                           \
                }                                                                       \
            if (ep->res) {                                                              \
                const float *ri = ep->res + (i) * ep->ldr;                              \
                c##i##0 = simde_mm256_add_ps(c##i##0, simde_mm256_loadu_ps(ri));        \
                c##i##1 = simde_mm256_add_ps(c##i##1, simde_mm256_loadu_ps(ri + 8));    \
            }                                                                           \
        }                                                                               \
        simde_mm256_storeu_ps(ci, c##i##0);                                             \
        simde_mm256_storeu_ps(ci + 8, c##i##1);                                         \
    } while (0)

void GEMM_AVX2_NAME(int kc, const float *a, const float *b, float *c, int64_t ldc,
                    int accumulate, const gemm_epi *ep) {
    simde__m256 c00 = simde_mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
                c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int p = 0; p < kc; p++, b += 16) {
        const float *ap = a + (int64_t)p * 6;
        const simde__m256 b0 = simde_mm256_loadu_ps(b);
        const simde__m256 b1 = simde_mm256_loadu_ps(b + 8);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
    }
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
}
