/* bf16.h — opt-in reduced precision (bf16) convolution and attention: f32 activations and
 * weights are rounded to bfloat16 (round-to-nearest-even) while packing, products
 * accumulate in f32 on AMX-BF16 tiles or AVX512-BF16 vdpbf16ps, and the epilogue (the
 * softmax) runs in f32 as conv2d_ref's (attention_run's).
 * Never picked by default: the caller asks for it, and bf16_kernel_select refuses it
 * (SCULPT_E_CPU, with the reason) on a CPU that has neither. The scalar kernel is the test
 * oracle only. Layouts and kernel contracts: bf16_kernels.h; the drivers: bf16_conv.c,
 * bf16_attention.c. */
#ifndef SCULPT_BF16_H
#define SCULPT_BF16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ops/ops.h"

/* C[mr x nr] (row stride ldc) = (accumulate ? C : 0) + A panel . B, kc a multiple of the
 * kernel's kg, k pairs summed in order. B comes as rows of nr k pairs, 16 rows (32 k) per
 * pointer: pair row r (k = 2r, 2r+1) is at b[r / 16] + (r % 16) * bstride (uint16 units),
 * so a packed panel and a conv's bf16 image rows look the same (bf16_kernels.h). */
typedef void (*bf16_ukr_fn)(int kc, const uint16_t *a, const uint16_t *const *b,
                            int64_t bstride, float *c, int64_t ldc, int accumulate);
/* f32 rows src [2*pairs][nr] -> bf16 k-pairs dst [pairs][nr][2], each value rounded by
 * bf16_from_f32; nr a multiple of 16. */
typedef void (*bf16_cvt_fn)(int pairs, int nr, const float *src, uint16_t *dst);
/* Two channels x0, x1 (each [h][w]) -> len k pairs (len a multiple of 16): dst pair i =
 * (v(x0, f0+i), v(x1, f0+i)) rounded by bf16_from_f32, where for j = floor(f / ow) and
 * c = f mod ow, v(x, f) = x[stride*j + row0][stride*c + col0] when that row and column lie
 * in the image, else 0: the image rows of one row phase, sampled at one column offset, laid
 * out on the output's grid (width ow). */
typedef void (*bf16_shift_fn)(const float *x0, const float *x1, int h, int w, int ow,
                              int stride, int row0, int col0, int64_t f0, int len,
                              uint16_t *dst);

typedef struct bf16_kernel {
    const char *name;      /* "amx", "avx512bf16", "scalar" */
    int mr, nr;            /* C tile: mr output channels x nr output positions */
    int kg;                /* A's k group: panels [K/kg][mr][kg], K padded to a multiple */
    int kc, nc;            /* blocking: k block (multiple of 32), column block (of nr) */
    bf16_ukr_fn ukr;
    bf16_cvt_fn cvt_pairs; /* B packing's rounding step */
    bf16_shift_fn shift_pairs; /* the direct path's rounding step */
    void (*begin)(void);   /* NULL, or run on a thread before its ukr calls (AMX tile config) */
    void (*end)(void);     /* NULL, or run after them (AMX tile release) */
} bf16_kernel;

/* ---- rounding (bf16_scalar.c) ---- */
/* f32 -> bf16, round to nearest even as torch's .to(torch.bfloat16) and VCVTNEPS2BF16:
 * finite values past the largest bf16 become inf; NaN stays NaN (quiet bit set, sign and
 * top payload kept); inf stays inf. Subnormal f32 inputs become signed zero, as the
 * hardware conversion does (torch keeps bf16 subnormals, but every bf16 dot product here
 * treats subnormal inputs as zero, so the products are the same). */
uint16_t bf16_from_f32(float f);
float bf16_to_f32(uint16_t h);      /* exact */
/* bf16_from_f32 inlined, for loops that round many values (same bits). */
static inline uint16_t bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x0040u); /* NaN */
    if ((u & 0x7f800000u) == 0) return (uint16_t)((u >> 16) & 0x8000u); /* 0, subnormal */
    /* ties to even: add just under half an ulp, plus the kept lsb; carries into the
     * exponent round up to the next binade or to inf, as they should */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
float bf16_round_f32(float f);      /* bf16_to_f32(bf16_from_f32(f)) */

/* ---- kernels (bf16_dispatch.c) ---- */
/* Every kernel built into this binary (best first, scalar last); *cpu_ok (may be NULL) is
 * 1 when it runs here, including the OS's permission for AMX tile data. NULL past the end. */
int bf16_kernel_count(void);
const bf16_kernel *bf16_kernel_at(int i, int *cpu_ok);
const char *bf16_kernel_name(const bf16_kernel *k);
/* want NULL or "": the best hardware kernel this CPU runs (AMX > AVX512-BF16); the scalar
 * kernel is never picked this way, only by its name (tests). Returns NULL and fills err:
 * *status SCULPT_E_CPU when no hardware kernel runs ("precision bf16 needs AMX-BF16 or
 * AVX512-BF16; this CPU has neither (...)") or the named one does not, SCULPT_E_ARG for an
 * unknown name. status and err may be NULL. */
const bf16_kernel *bf16_kernel_select(const char *want, int *status, char *err, size_t errlen);

/* ---- weights (bf16_pack.c) ---- */
/* Bytes of a conv's weights packed for kernel k and shape s. */
size_t bf16_conv_packed_bytes(const bf16_kernel *k, const conv_shape *s);
/* w [oc][ic][kh][kw] (torch's Conv2d weight) in dtype (SCULPT_DT_F32/F16/BF16), each value
 * rounded by bf16_from_f32, packed for conv2d_bf16_run with kernel k and shape s (the k
 * order depends on both: see bf16_conv.c) at dst. dst should be 64-byte aligned: AMX tile
 * loads of rows that straddle cache lines run several times slower. */
void bf16_conv_pack(const bf16_kernel *k, const conv_shape *s, const void *w, int dtype,
                    void *dst);
/* A plain matrix w [m][kdim] in dtype packed in k's A layout (bf16_kernels.h): ceil(m/mr)
 * panels of mr x roundup(kdim, kg), rows past m and k past kdim 0. */
size_t bf16_packed_a_bytes(const bf16_kernel *k, int m, int kdim);
void bf16_pack_a(const bf16_kernel *k, const void *w, int dtype, int m, int kdim, void *dst);

/* ---- convolution (bf16_conv.c) ---- */
/* Per-thread scratch bytes conv2d_bf16_run needs with kernel k for shape s (the model sizes
 * its arena with the largest over its convolutions). */
size_t conv2d_bf16_scratch_bytes(const bf16_kernel *k, const conv_shape *s);
/* conv2d_run's semantics (ops.h: any conv_shape conv2d_ref accepts, epilogue
 * ((acc + bias) + chan_add) + residual in f32) with x rounded to bf16 on the way in and
 * packed_w from bf16_conv_pack(k, s, ...). scratch holds n_threads blocks of scratch_stride
 * (>= conv2d_bf16_scratch_bytes(k, s)) bytes. y 64-byte aligned keeps AMX tile stores
 * aligned. Bit-identical for any n_threads; allocates nothing. */
void conv2d_bf16_run(const bf16_kernel *k, const conv_shape *s, int n, const float *x,
                     const void *packed_w, const conv_epilogue *e, float *y, void *scratch,
                     size_t scratch_stride, int n_threads);

/* ---- attention (bf16_attention.c) ---- */
/* Per-thread scratch bytes attention_bf16_run needs with kernel k for hw tokens and head
 * size dh. */
size_t attention_bf16_scratch_bytes(const bf16_kernel *k, int hw, int dh);
/* attention_run's semantics (ops.h) with q, k, v and the softmax's probabilities rounded to
 * bf16 on their way into kernel k's two GEMMs (sums and softmax in f32). scratch holds
 * n_threads blocks of scratch_stride (>= attention_bf16_scratch_bytes) bytes. Bit-identical
 * for any n_threads; allocates nothing. */
void attention_bf16_run(const bf16_kernel *k, int n, int c, int hw, int heads, const float *q,
                        const float *kk, const float *v, float *o, void *scratch,
                        size_t scratch_stride, int n_threads);

#endif
