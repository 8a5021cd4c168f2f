/* gemm_neon.c — 6x16 f32 GEMM micro-kernel for AArch64 NEON, written with SIMDe (kernels.h
 * contract): 24 q-register accumulators, four B vectors per k step, fused multiply-add.
 * Also compiled on x86 for the tests (SIMDe emulation, GEMM_NEON_NAME). */
#include <simde/arm/neon.h>

#include "kernels.h"

#ifndef GEMM_NEON_NAME
#define GEMM_NEON_NAME sculpt_f32_gemm_6x16__neon
#endif

void GEMM_NEON_NAME(int kc, const float *a, const float *b, float *c, int64_t ldc,
                    int accumulate, const gemm_epi *ep) {
    simde_float32x4_t acc[6][4];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = simde_vdupq_n_f32(0.0f);
    for (int p = 0; p < kc; p++) {
        const float *ap = a + (int64_t)p * 6, *bp = b + (int64_t)p * 16;
        const simde_float32x4_t b0 = simde_vld1q_f32(bp), b1 = simde_vld1q_f32(bp + 4),
                                b2 = simde_vld1q_f32(bp + 8), b3 = simde_vld1q_f32(bp + 12);
        for (int i = 0; i < 6; i++) {
            const simde_float32x4_t ai = simde_vdupq_n_f32(ap[i]);
            acc[i][0] = simde_vfmaq_f32(acc[i][0], b0, ai);
            acc[i][1] = simde_vfmaq_f32(acc[i][1], b1, ai);
            acc[i][2] = simde_vfmaq_f32(acc[i][2], b2, ai);
            acc[i][3] = simde_vfmaq_f32(acc[i][3], b3, ai);
        }
    }
    for (int i = 0; i < 6; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < 4; j++) {
            simde_float32x4_t v = acc[i][j];
            if (accumulate) v = simde_vaddq_f32(simde_vld1q_f32(ci + 4 * j), v);
            if (ep) { /* the epilogue's terms, one add at a time */
                for (int t = 0; t < 2; t++)
                    if (ep->row[t]) v = simde_vaddq_f32(v, simde_vdupq_n_f32(ep->row[t][i]));
                if (ep->res) v = simde_vaddq_f32(v, simde_vld1q_f32(ep->res + i * ep->ldr + 4 * j));
            }
            simde_vst1q_f32(ci + 4 * j, v);
        }
    }
}
