/* fma_kernels.h — the per-ISA FMA-throughput loops behind fma_peak.c. Each runs `iters`
 * rounds of `acc = acc * a + b` on independent vector accumulators (enough of them to hide
 * the FMA latency on two pipes) and returns the accumulators' sum so no work is dead. */
#ifndef SCULPT_BENCH_FMA_KERNELS_H
#define SCULPT_BENCH_FMA_KERNELS_H

#include <stdint.h>

typedef struct fma_kernel {
    const char *isa;     /* "avx512", "avx2", "neon", "scalar" */
    int flops_per_iter;  /* 2 * lanes * accumulators */
    float (*run)(int64_t iters, float a, float b);
} fma_kernel;

float fma_run_avx512(int64_t iters, float a, float b);
float fma_run_avx2(int64_t iters, float a, float b);
float fma_run_neon(int64_t iters, float a, float b);
float fma_run_scalar(int64_t iters, float a, float b);

#define FMA_ACC_AVX512 16 /* of 32 zmm registers */
#define FMA_ACC_AVX2 12   /* of 16 ymm registers, two hold a and b */
#define FMA_ACC_NEON 16   /* of 32 q registers */
#define FMA_ACC_SCALAR 8

#endif
