/* bf16_kernels.h — the per-ISA bf16 micro-kernels and rounding steps (bf16.h types), each
 * in its own translation unit built with its own flags, and the layouts they read.
 *
 *   C[mr x nr] f32  =  (accumulate ? C : 0)  +  A panel (bf16)  .  B rows (bf16)
 *
 * B, every kernel: rows of k pairs (VNNI order)   A panel, k group g (kernel's kg):
 *   pair row r = [b(2r,0) b(2r+1,0)]               [kc/g][mr][g]
 *                [b(2r,1) b(2r+1,1)] ..            group q, row i: [a(i,qg) .. a(i,qg+g-1)]
 *                [b(2r,nr-1) b(2r+1,nr-1)]           g = 2: a k pair per row, which
 *   one 32-bit word per column, even k low;                 vdpbf16ps broadcasts
 *   rows 16s .. 16s+15 (k 32s .. 32s+31) at b[s],    g = 32: one AMX A-tile row (64 B)
 *   bstride apart:                                          per output channel
 *
 *     packed panel (bf16_conv.c, general path):  b[s] = panel + s*16*2nr, bstride = 2nr
 *       [kc/2][nr][2], straight from pack_b's f32 gather via cvt_pairs
 *     image rows (bf16_conv.c, direct path):     b[s] = the bf16 pair rows of 16 channel
 *       pairs for one tap, in a copy of the input image per (row phase, column offset)
 *       laid out on the output grid (shift_pairs), bstride = their row length: the B tile
 *       is a window of that copy, nothing gathered
 *
 * Element (i, k) of A sits at (k/g)*mr*g + i*g + k%g; a panel's k0 offset is k0*mr.
 *
 * Arithmetic, as Intel documents VDPBF16PS / TDPBF16PS: each bf16 product is exact in f32
 * and added to the running f32 sum with one round-to-nearest-even (an FMA); subnormal
 * inputs count as zero and subnormal sums flush to zero; MXCSR plays no part. Kernels sum
 * a tile's products in their own fixed order, so a tile's result depends only on its data
 * and the k blocking, never on threads. */
#ifndef SCULPT_BF16_KERNELS_H
#define SCULPT_BF16_KERNELS_H

#include <stdint.h>

#include "ops/bf16/bf16.h"

/* Kernel shapes (mr, nr, kg) and blocking (kc, nc): the dispatch table and the tests'
 * emulated builds share them. kc is a multiple of 32 (one B pointer's worth). */
#define BF16_PAIR_MR 8    /* scalar and avx512bf16 */
#define BF16_PAIR_NR 32
#define BF16_PAIR_KG 2
#define BF16_PAIR_KC 256
#define BF16_PAIR_NC 256
#define BF16_AMX_MR 32    /* 2 x 2 tiles of 16 x 16 f32 */
#define BF16_AMX_NR 32
#define BF16_AMX_KG 32    /* one A tile row: 32 bf16 */
#define BF16_AMX_KC 512
#define BF16_AMX_NC 256

/* Kernel contracts: bf16_gemm_<mr>x<nr>__<isa> (bf16_ukr_fn), bf16_cvt_pairs__<isa>
 * (bf16_cvt_fn), bf16_shift_pairs__<isa> (bf16_shift_fn). The scalar ones are plain C,
 * built everywhere: the oracle. */
void sculpt_bf16_gemm_8x32__scalar(int kc, const uint16_t *a, const uint16_t *const *b,
                                   int64_t bstride, float *c, int64_t ldc, int accumulate);
void sculpt_bf16_cvt_pairs__scalar(int pairs, int nr, const float *src, uint16_t *dst);
void sculpt_bf16_shift_pairs__scalar(const float *x0, const float *x1, int h, int w, int ow,
                                     int stride, int row0, int col0, int64_t f0, int len,
                                     uint16_t *dst);

/* AVX-512F/BW (bf16_cvt_avx512.c), rounding with VCVTNE2PS2BF16 where built with
 * AVX512-BF16 (SCULPT_BF16_CVT_NEEDS_BF16): bit-identical to the scalar ones. */
void sculpt_bf16_cvt_pairs__avx512(int pairs, int nr, const float *src, uint16_t *dst);
void sculpt_bf16_shift_pairs__avx512(const float *x0, const float *x1, int h, int w, int ow,
                                     int stride, int row0, int col0, int64_t f0, int len,
                                     uint16_t *dst);

/* AVX512-BF16 (bf16_avx512bf16.c): vdpbf16ps, k pairs in order. */
void sculpt_bf16_gemm_8x32__avx512bf16(int kc, const uint16_t *a, const uint16_t *const *b,
                                       int64_t bstride, float *c, int64_t ldc,
                                       int accumulate);

/* AMX-BF16 (bf16_amx.c), x86-64 only: kc a multiple of 32; the calling thread must have
 * run sculpt_bf16_amx_begin (tile config) and not yet sculpt_bf16_amx_end. */
void sculpt_bf16_gemm_32x32__amx(int kc, const uint16_t *a, const uint16_t *const *b,
                                 int64_t bstride, float *c, int64_t ldc, int accumulate);
void sculpt_bf16_amx_begin(void);
void sculpt_bf16_amx_end(void);

/* bf16_conv.c: channels per k block when conv2d_bf16_run takes the direct path for (k, s)
 * (ic a multiple of 32, at most 16 taps), else 0. bf16_conv_pack orders the weights by it. */
int bf16_conv_direct_block(const bf16_kernel *k, const conv_shape *s);

#endif
