/* kernels.h — the per-ISA GEMM micro-kernels (BLIS "gemmlike" shape: only this part is
 * per CPU) and their run-time selection. Each kernel lives in its own translation unit,
 * compiled with its ISA's flags (gemm_<isa>.c); dispatch.c picks one from the CPU.
 *
 *   C[mr x nr] (row stride ldc)  (+)=  A panel [kc][mr]  x  B panel [kc][nr]  (+ ep)
 *
 *        B panel: kc rows of nr floats            A panel: kc rows of mr floats
 *        k=0  [b00 b01 ... b0,nr-1]               k=0  [a00 a10 ... a(mr-1)0]
 *        k=1  [b10 b11 ... ]                      k=1  [a01 a11 ... ]
 *
 * The kernel sums its kc products from zero in k order, then stores (accumulate = 0) or
 * adds the sum to C (accumulate = 1), then adds the epilogue's terms (ep, or NULL for
 * none) one at a time, in registers: a tile's result depends only on its own data.
 * (Reading a 1x1 convolution's B in place, rows hw apart, instead of packing it was
 * measured slower on the EPYC at 16x16: 9.1 against 7.5 ms at batch 16.) */
#ifndef SCULPT_KERNELS_H
#define SCULPT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Terms a kernel adds to its tile before storing it, in this order, each add rounding on
 * its own (as conv2d_ref's epilogue): row[0][i] then row[1][i] to row i (NULL: none; a
 * bias, a time-embedding channel add), then res[i * ldr + j] (NULL: none; a residual). */
typedef struct gemm_epi {
    const float *row[2];
    const float *res;
    int64_t ldr;
} gemm_epi;

typedef void (*gemm_ukr_fn)(int kc, const float *a, const float *b, float *c, int64_t ldc,
                            int accumulate, const gemm_epi *ep);
/* Two tiles on one B panel: C rows 0..mr-1 from the A panel a and rows mr..2mr-1 (at
 * c + mr * ldc) from the A panel a + a2; the epilogue's rows run on through all 2mr
 * (row[t][i], res + i * ldr for i < 2mr). Bit-identical to the one-panel kernel on each
 * panel (ukr2: ukr; ukr_half2: ukr_half). */
typedef void (*gemm_ukr2_fn)(int kc, const float *a, int64_t a2, const float *b, float *c,
                             int64_t ldc, int accumulate, const gemm_epi *ep);

typedef struct gemm_kernel {
    const char *name; /* "scalar", "avx2", "avx512", "neon" */
    int mr, nr;       /* tile: mr output channels x nr output positions */
    gemm_ukr_fn ukr;
    /* NULL, or the half-width kernel: C[mr x nr/2] from the first nr/2 columns of the same
     * [kc][nr] B panel, bit-identical to ukr's first nr/2 columns. Callers use it for panels
     * with at most nr/2 live columns (gemm_ukr_cols). */
    gemm_ukr_fn ukr_half;
    /* NULL, or ukr_half for two A panels at once (gemm_ukr2_fn): where ukr_half leaves the
     * FMA units waiting on too few accumulators (AVX-512: 6 of the 8+ that two FMA ports
     * of 4-cycle latency need), two panels' worth keep them busy. */
    gemm_ukr2_fn ukr_half2;
    /* NULL, or ukr for two A panels at once (C rows mr..2mr-1 from a + a2, all nr columns),
     * bit-identical to ukr on each: one load of each B row serves twice the FMAs (AVX-512's
     * 12x32: 24 accumulators of its 32 registers). */
    gemm_ukr2_fn ukr2;
} gemm_kernel;

/* The kernel for a panel whose live columns are cols (<= nr): the half-width one when it
 * exists and cols fit it; *width gets the columns it writes. */
static inline gemm_ukr_fn gemm_ukr_cols(const gemm_kernel *kr, int cols, int *width) {
    if (kr->ukr_half && 2 * cols <= kr->nr) {
        *width = kr->nr / 2;
        return kr->ukr_half;
    }
    *width = kr->nr;
    return kr->ukr;
}

/* Kernel contracts: f32_gemm_<mr>x<nr>__<isa>. */
void sculpt_f32_gemm_6x16__scalar(int kc, const float *a, const float *b, float *c,
                                  int64_t ldc, int accumulate, const gemm_epi *ep);
void sculpt_f32_gemm_6x16__avx2(int kc, const float *a, const float *b, float *c,
                                int64_t ldc, int accumulate, const gemm_epi *ep);
void sculpt_f32_gemm_6x32__avx512(int kc, const float *a, const float *b, float *c,
                                  int64_t ldc, int accumulate, const gemm_epi *ep);
void sculpt_f32_gemm_6x32h__avx512(int kc, const float *a, const float *b, float *c,
                                   int64_t ldc, int accumulate, const gemm_epi *ep);
void sculpt_f32_gemm_6x32d__avx512(int kc, const float *a, int64_t a2, const float *b,
                                   float *c, int64_t ldc, int accumulate, const gemm_epi *ep);
void sculpt_f32_gemm_6x32h2__avx512(int kc, const float *a, int64_t a2, const float *b,
                                    float *c, int64_t ldc, int accumulate, const gemm_epi *ep);
void sculpt_f32_gemm_6x16__neon(int kc, const float *a, const float *b, float *c,
                                int64_t ldc, int accumulate, const gemm_epi *ep);

#define GEMM_MAX_MR 16
#define GEMM_MAX_NR 32

/* The kernel for `want` ("scalar", "avx2", "avx512", "neon"), or when want is NULL the
 * best one this CPU runs. Returns NULL with a message in err when the name is unknown
 * (*status_out = SCULPT_E_ARG) or the CPU or build lacks it (SCULPT_E_CPU). */
const gemm_kernel *gemm_kernel_select(const char *want, int *status_out, char *err,
                                      size_t errlen);
/* Every kernel compiled into this build, and whether this CPU can run it. */
int gemm_kernel_count(void);
const gemm_kernel *gemm_kernel_at(int i, int *cpu_ok);

#endif
