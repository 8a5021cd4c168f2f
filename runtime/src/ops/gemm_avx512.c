/* gemm_avx512.c — 6x32 f32 GEMM micro-kernel for AVX-512F, written with SIMDe (kernels.h
 * contract): 12 zmm accumulators, two B vectors and one broadcast A value per k step; and
 * its 6x16 half for panels with at most 16 live columns (4x4 maps, 16 Winograd tiles),
 * which runs the same FMAs per output and so gives the same bits at half the work; and
 * that half for two A panels at once (12 accumulators instead of 6: two FMA ports of
 * 4-cycle latency need 8 or more in flight), the same bits again; and the full kernel for
 * two A panels (12x32, 24 accumulators: each B row loaded once for twice the FMAs).
 * Also compiled without -mavx512f for the tests (SIMDe emulation, GEMM_AVX512_NAME). */
/* Only the pieces used: SIMDe 0.7.4's umbrella avx512.h does not compile with -mavx512f
 * alone (conflicting mask-compare prototypes). */
#include <simde/x86/avx512/add.h>
#include <simde/x86/avx512/fmadd.h>
#include <simde/x86/avx512/loadu.h>
#include <simde/x86/avx512/set1.h>
#include <simde/x86/avx512/setzero.h>
#include <simde/x86/avx512/storeu.h>

#include "kernels.h"

#ifndef GEMM_AVX512_NAME
#define GEMM_AVX512_NAME sculpt_f32_gemm_6x32__avx512
#endif
#ifndef GEMM_AVX512_HALF_NAME
#define GEMM_AVX512_HALF_NAME sculpt_f32_gemm_6x32h__avx512
#endif
#ifndef GEMM_AVX512_TWO_NAME
#define GEMM_AVX512_TWO_NAME sculpt_f32_gemm_6x32d__avx512
#endif
#ifndef GEMM_AVX512_HALF2_NAME
#define GEMM_AVX512_HALF2_NAME sculpt_f32_gemm_6x32h2__avx512
#endif

#define ROW(i)                                                             \
    do {                                                                   \
        simde__m512 ai = simde_mm512_set1_ps(ap[i]);                       \
        c##i##0 = simde_mm512_fmadd_ps(ai, b0, c##i##0);                   \
        c##i##1 = simde_mm512_fmadd_ps(ai, b1, c##i##1);                   \
    } while (0)

/* the epilogue's terms for row i, one add at a time, on the accumulator v of columns at
 * ri = ep->res + i * ldr + off */
#define EPI(i, v, off)                                                                  \
    do {                                                                                \
        for (int t = 0; t < 2; t++)                                                     \
            if (ep->row[t]) v = simde_mm512_add_ps(v, simde_mm512_set1_ps(ep->row[t][i])); \
        if (ep->res) v = simde_mm512_add_ps(v, simde_mm512_loadu_ps(ep->res + (i) * ep->ldr + (off))); \
    } while (0)

/* Row ri of C (32 columns, accumulators v0 and v1): the sum added to C when accumulating,
 * then the epilogue's terms, then one store. */
#define STORE_ROW(ri, v0, v1)                                                           \
    do {                                                                                \
        float *cr = c + (ri) * ldc;                                                     \
        if (accumulate) {                                                               \
            v0 = simde_mm512_add_ps(simde_mm512_loadu_ps(cr), v0);                      \
            v1 = simde_mm512_add_ps(simde_mm512_loadu_ps(cr + 16), v1);                 \
        }                                                                               \
        if (ep) {                                                                       \
            EPI(ri, v0, 0);                                                             \
            EPI(ri, v1, 16);                                                            \
        }                                                                               \
        simde_mm512_storeu_ps(cr, v0);                                                  \
        simde_mm512_storeu_ps(cr + 16, v1);                                             \
    } while (0)
#define STORE(i) STORE_ROW(i, c##i##0, c##i##1)

void GEMM_AVX512_NAME(int kc, const float *a, const float *b, float *c, int64_t ldc,
                      int accumulate, const gemm_epi *ep) {
    simde__m512 c00 = simde_mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
                c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int p = 0; p < kc; p++, b += 32) {
        const float *ap = a + (int64_t)p * 6;
        const simde__m512 b0 = simde_mm512_loadu_ps(b);
        const simde__m512 b1 = simde_mm512_loadu_ps(b + 16);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
    }
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
}

#define ROW_H(i)                                                                    \
    do {                                                                            \
        c##i##0 = simde_mm512_fmadd_ps(simde_mm512_set1_ps(ap[i]), b0, c##i##0);    \
    } while (0)

/* Row ri of a half-width C (16 columns, accumulator v), as STORE_ROW */
#define STORE_ROW_H(ri, v)                                                              \
    do {                                                                                \
        float *cr = c + (ri) * ldc;                                                     \
        if (accumulate) v = simde_mm512_add_ps(simde_mm512_loadu_ps(cr), v);            \
        if (ep) EPI(ri, v, 0);                                                          \
        simde_mm512_storeu_ps(cr, v);                                                   \
    } while (0)
#define STORE_H(i) STORE_ROW_H(i, c##i##0)

void GEMM_AVX512_HALF_NAME(int kc, const float *a, const float *b, float *c, int64_t ldc,
                           int accumulate, const gemm_epi *ep) {
    simde__m512 c00 = simde_mm512_setzero_ps(), c10 = c00, c20 = c00, c30 = c00, c40 = c00,
                c50 = c00;
    for (int p = 0; p < kc; p++, b += 32) {
        const float *ap = a + (int64_t)p * 6;
        const simde__m512 b0 = simde_mm512_loadu_ps(b);
        ROW_H(0); ROW_H(1); ROW_H(2); ROW_H(3); ROW_H(4); ROW_H(5);
    }
    STORE_H(0); STORE_H(1); STORE_H(2); STORE_H(3); STORE_H(4); STORE_H(5);
}

/* Two A panels (a, a + a2) on one B panel: rows 0..5 and 6..11, 12 accumulators; row i's
 * FMAs are ROW_H's, so each panel's rows get exactly GEMM_AVX512_HALF_NAME's bits. */
#define ROW_H2(i, j)                                                                    \
    do {                                                                                \
        c##i##0 = simde_mm512_fmadd_ps(simde_mm512_set1_ps(ap[j]), b0, c##i##0);        \
        c##i##1 = simde_mm512_fmadd_ps(simde_mm512_set1_ps(aq[j]), b0, c##i##1);        \
    } while (0)

#define STORE_H2(i)                  \
    do {                                \
        STORE_ROW_H(i, c##i##0);        \
        STORE_ROW_H((i) + 6, c##i##1);  \
    } while (0)

void GEMM_AVX512_HALF2_NAME(int kc, const float *a, int64_t a2, const float *b, float *c,
                            int64_t ldc, int accumulate, const gemm_epi *ep) {
    simde__m512 c00 = simde_mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
                c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a1 = a + a2;
    for (int p = 0; p < kc; p++, b += 32) {
        const float *ap = a + (int64_t)p * 6, *aq = a1 + (int64_t)p * 6;
        const simde__m512 b0 = simde_mm512_loadu_ps(b);
        ROW_H2(0, 0); ROW_H2(1, 1); ROW_H2(2, 2); ROW_H2(3, 3); ROW_H2(4, 4); ROW_H2(5, 5);
    }
    STORE_H2(0); STORE_H2(1); STORE_H2(2); STORE_H2(3); STORE_H2(4); STORE_H2(5);
}

/* Two A panels (a, a + a2) on one B panel, all 32 columns: rows 0..5 and 6..11, 24
 * accumulators (d##i: panel 2's row i); row i's FMAs are ROW's, so each panel gets exactly
 * GEMM_AVX512_NAME's bits. */
#define ROW2(i)                                                                    \
    do {                                                                           \
        const simde__m512 ai = simde_mm512_set1_ps(ap[i]);                         \
        c##i##0 = simde_mm512_fmadd_ps(ai, b0, c##i##0);                           \
        c##i##1 = simde_mm512_fmadd_ps(ai, b1, c##i##1);                           \
        const simde__m512 aj = simde_mm512_set1_ps(aq[i]);                         \
        d##i##0 = simde_mm512_fmadd_ps(aj, b0, d##i##0);                           \
        d##i##1 = simde_mm512_fmadd_ps(aj, b1, d##i##1);                           \
    } while (0)

#define STORE2(i)                               \
    do {                                           \
        STORE_ROW(i, c##i##0, c##i##1);            \
        STORE_ROW((i) + 6, d##i##0, d##i##1);      \
    } while (0)

void GEMM_AVX512_TWO_NAME(int kc, const float *a, int64_t a2, const float *b, float *c,
                          int64_t ldc, int accumulate, const gemm_epi *ep) {
    simde__m512 c00 = simde_mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
                c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    simde__m512 d00 = c00, d01 = c00, d10 = c00, d11 = c00, d20 = c00, d21 = c00, d30 = c00,
                d31 = c00, d40 = c00, d41 = c00, d50 = c00, d51 = c00;
    const float *a1 = a + a2;
    for (int p = 0; p < kc; p++, b += 32) {
        const float *ap = a + (int64_t)p * 6, *aq = a1 + (int64_t)p * 6;
        const simde__m512 b0 = simde_mm512_loadu_ps(b);
        const simde__m512 b1 = simde_mm512_loadu_ps(b + 16);
        ROW2(0); ROW2(1); ROW2(2); ROW2(3); ROW2(4); ROW2(5);
    }
    STORE2(0); STORE2(1); STORE2(2); STORE2(3); STORE2(4); STORE2(5);
}
