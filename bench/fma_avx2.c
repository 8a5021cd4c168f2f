/* fma_avx2.c — AVX2+FMA throughput loop for fma_peak (compiled with -mavx2 -mfma; SIMDe
 * maps to the native vfmadd231ps). 12 ymm accumulators cover 2 pipes x 4-cycle latency. */
#include <simde/x86/fma.h>

#include "fma_kernels.h"

float fma_run_avx2(int64_t iters, float a, float b) {
    simde__m256 va = simde_mm256_set1_ps(a), vb = simde_mm256_set1_ps(b);
    simde__m256 c0 = simde_mm256_set1_ps(0.0f), c1 = simde_mm256_set1_ps(0.1f);
    simde__m256 c2 = simde_mm256_set1_ps(0.2f), c3 = simde_mm256_set1_ps(0.3f);
    simde__m256 c4 = simde_mm256_set1_ps(0.4f), c5 = simde_mm256_set1_ps(0.5f);
    simde__m256 c6 = simde_mm256_set1_ps(0.6f), c7 = simde_mm256_set1_ps(0.7f);
    simde__m256 c8 = simde_mm256_set1_ps(0.8f), c9 = simde_mm256_set1_ps(0.9f);
    simde__m256 c10 = simde_mm256_set1_ps(1.0f), c11 = simde_mm256_set1_ps(1.1f);
    for (int64_t i = 0; i < iters; i++) {
        c0 = simde_mm256_fmadd_ps(c0, va, vb);
        c1 = simde_mm256_fmadd_ps(c1, va, vb);
        c2 = simde_mm256_fmadd_ps(c2, va, vb);
        c3 = simde_mm256_fmadd_ps(c3, va, vb);
        c4 = simde_mm256_fmadd_ps(c4, va, vb);
        c5 = simde_mm256_fmadd_ps(c5, va, vb);
        c6 = simde_mm256_fmadd_ps(c6, va, vb);
        c7 = simde_mm256_fmadd_ps(c7, va, vb);
        c8 = simde_mm256_fmadd_ps(c8, va, vb);
        c9 = simde_mm256_fmadd_ps(c9, va, vb);
        c10 = simde_mm256_fmadd_ps(c10, va, vb);
        c11 = simde_mm256_fmadd_ps(c11, va, vb);
    }
    c0 = simde_mm256_add_ps(simde_mm256_add_ps(c0, c1), simde_mm256_add_ps(c2, c3));
    c4 = simde_mm256_add_ps(simde_mm256_add_ps(c4, c5), simde_mm256_add_ps(c6, c7));
    c8 = simde_mm256_add_ps(simde_mm256_add_ps(c8, c9), simde_mm256_add_ps(c10, c11));
    c0 = simde_mm256_add_ps(simde_mm256_add_ps(c0, c4), c8);
    float lanes[8];
    simde_mm256_storeu_ps(lanes, c0);
    float s = 0.0f;
    for (int i = 0; i < 8; i++) s += lanes[i];
    return s;
}
