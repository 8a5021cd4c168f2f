/* fma_avx512.c — AVX-512F throughput loop for fma_peak (compiled with -mavx512f; SIMDe maps
 * to the native vfmadd231ps zmm). 16 zmm accumulators cover 2 pipes x 4-cycle latency. */
/* Single headers: SIMDe 0.7.4's avx512.h umbrella does not compile with -mavx512f alone. */
#include <simde/x86/avx512/add.h>
#include <simde/x86/avx512/fmadd.h>
#include <simde/x86/avx512/set1.h>
#include <simde/x86/avx512/storeu.h>

#include "fma_kernels.h"

#define N FMA_ACC_AVX512

float fma_run_avx512(int64_t iters, float a, float b) {
    simde__m512 va = simde_mm512_set1_ps(a), vb = simde_mm512_set1_ps(b);
    simde__m512 c[N];
    for (int j = 0; j < N; j++) c[j] = simde_mm512_set1_ps(0.1f * (float)j);
    for (int64_t i = 0; i < iters; i++) {
        /* Fully unrolled by the compiler (constant trip count): the accumulators stay in
         * registers. */
        for (int j = 0; j < N; j++) c[j] = simde_mm512_fmadd_ps(c[j], va, vb);
    }
    for (int j = 1; j < N; j++) c[0] = simde_mm512_add_ps(c[0], c[j]);
    float lanes[16];
    simde_mm512_storeu_ps(lanes, c[0]);
    float s = 0.0f;
    for (int i = 0; i < 16; i++) s += lanes[i];
    return s;
}
