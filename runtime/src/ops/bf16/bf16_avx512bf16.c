/* bf16_avx512bf16.c — 8x32 bf16 micro-kernel for AVX512-BF16 (bf16_kernels.h contract),
 * written with SIMDe: 16 zmm f32 accumulators; per k pair two B vectors (32 columns x one
 * pair) and, per row, one broadcast A pair into vdpbf16ps. Also compiled without -m flags
 * for the tests (SIMDe emulation, BF16_AVX512BF16_NAME).
 *
 *   B pair row p (128 B, at b[p/16] + (p%16) bstride):
 *                          [b(2p,0) b(2p+1,0)] .. [b(2p,15) ..] | [b(2p,16) ..] .. [.. b(2p+1,31)]
 *                          \_____________ zmm b0 ____________/   \___________ zmm b1 _________/
 *   A pair row p (32 B):   [a(0,2p) a(0,2p+1)] [a(1,2p) ..] .. [a(7,2p) a(7,2p+1)]
 *                          each 32-bit pair broadcast to 16 lanes:  c(i,0..15)  += a_i . b0,
 *                                                                  c(i,16..31) += a_i . b1 */
/* Only the pieces used (SIMDe 0.7.4's umbrella avx512.h does not compile with -mavx512f). */
#include <string.h>

#include <simde/x86/avx512/dpbf16.h>
#include <simde/x86/avx512/loadu.h>
#include <simde/x86/avx512/set1.h>
#include <simde/x86/avx512/setzero.h>
#include <simde/x86/avx512/storeu.h>

#include "ops/bf16/bf16_kernels.h"

#ifndef BF16_AVX512BF16_NAME
#define BF16_AVX512BF16_NAME sculpt_bf16_gemm_8x32__avx512bf16
#endif

/* Same bits, bf16 view (compiles to nothing). */
static inline simde__m512bh as_bh(simde__m512 v) {
    simde__m512bh r;
    memcpy(&r, &v, sizeof r);
    return r;
}

#define ROW(i)                                                                  \
    do {                                                                        \
        float pair;                                                             \
        memcpy(&pair, ap + 2 * (i), 4);                                         \
        const simde__m512bh ai = as_bh(simde_mm512_set1_ps(pair));              \
        c##i##0 = simde_mm512_dpbf16_ps(c##i##0, b0, ai);                       \
        c##i##1 = simde_mm512_dpbf16_ps(c##i##1, b1, ai);                       \
    } while (0)

#define LOAD(i)                                                                 \
    do {                                                                        \
        c##i##0 = simde_mm512_loadu_ps(c + (i) * ldc);                          \
        c##i##1 = simde_mm512_loadu_ps(c + (i) * ldc + 16);                     \
    } while (0)

#define STORE(i)                                                                \
    do {                                                                        \
        simde_mm512_storeu_ps(c + (i) * ldc, c##i##0);                          \
        simde_mm512_storeu_ps(c + (i) * ldc + 16, c##i##1);                     \
    } while (0)

void BF16_AVX512BF16_NAME(int kc, const uint16_t *a, const uint16_t *const *b, int64_t bstride,
                          float *c, int64_t ldc, int accumulate) {
    simde__m512 c00 = simde_mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00,
                c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00,
                c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    if (accumulate) {
        LOAD(0); LOAD(1); LOAD(2); LOAD(3); LOAD(4); LOAD(5); LOAD(6); LOAD(7);
    }
    for (int p0 = 0; p0 < kc / 2; p0 += 16) {
        const uint16_t *bs = b[p0 / 16];
        const int rows = kc / 2 - p0 < 16 ? kc / 2 - p0 : 16;
        for (int r = 0; r < rows; r++) {
            const uint16_t *ap = a + (int64_t)(p0 + r) * 16, *bp = bs + (int64_t)r * bstride;
            const simde__m512bh b0 = as_bh(simde_mm512_loadu_ps(bp));
            const simde__m512bh b1 = as_bh(simde_mm512_loadu_ps(bp + 32));
            ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5); ROW(6); ROW(7);
        }
    }
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5); STORE(6); STORE(7);
}
