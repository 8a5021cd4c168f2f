/* fma_neon.c — AArch64 NEON throughput loop for fma_peak (SIMDe maps to the native
 * fmla v.4s). 16 q-register accumulators cover up to 4 pipes x 4-cycle latency. */
#include <simde/arm/neon.h>

#include "fma_kernels.h"

#define N FMA_ACC_NEON

float fma_run_neon(int64_t iters, float a, float b) {
    simde_float32x4_t va = simde_vdupq_n_f32(a), vb = simde_vdupq_n_f32(b);
    simde_float32x4_t c[N];
    for (int j = 0; j < N; j++) c[j] = simde_vdupq_n_f32(0.1f * (float)j);
    for (int64_t i = 0; i < iters; i++) {
        for (int j = 0; j < N; j++) c[j] = simde_vfmaq_f32(vb, c[j], va); /* vb + c*va */
    }
    for (int j = 1; j < N; j++) c[0] = simde_vaddq_f32(c[0], c[j]);
    float lanes[4];
    simde_vst1q_f32(lanes, c[0]);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
