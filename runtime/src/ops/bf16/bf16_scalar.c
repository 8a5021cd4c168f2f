/* bf16_scalar.c — f32 <-> bf16 rounding and the portable 8x32 bf16 micro-kernel
 * (bf16_kernels.h contract): plain C, built on every architecture. It is the oracle the
 * SIMD and AMX kernels are tested against, emulating Intel's VDPBF16PS step by step
 * (SDM: "srcdest += src1.bf16[2i+1]*src2.bf16[1]; srcdest += src1.bf16[2i]*src2.bf16[0]",
 * each an FMA rounded to nearest even, DAZ in, FTZ out). Never picked automatically. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ops/bf16/bf16_kernels.h"

uint16_t bf16_from_f32(float f) { return bf16_rne(f); }

float bf16_to_f32(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float bf16_round_f32(float f) { return bf16_to_f32(bf16_from_f32(f)); }

/* DAZ: a subnormal bf16 input is a signed zero. */
static float dot_in(uint16_t h) { return bf16_to_f32((h & 0x7f80u) ? h : (uint16_t)(h & 0x8000u)); }

/* FTZ: a subnormal sum is a signed zero. */
static float ftz(float v) { return fabsf(v) < FLT_MIN ? copysignf(0.0f, v) : v; }

#define MR BF16_PAIR_MR
#define NR BF16_PAIR_NR

void sculpt_bf16_gemm_8x32__scalar(int kc, const uint16_t *a, const uint16_t *const *b,
                                   int64_t bstride, float *c, int64_t ldc, int accumulate) {
    float t[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) t[i][j] = accumulate ? c[i * ldc + j] : 0.0f;
    for (int p = 0; p < kc / 2; p++) {
        const uint16_t *ap = a + (int64_t)p * MR * 2, *bp = b[p / 16] + (int64_t)(p % 16) * bstride;
        for (int i = 0; i < MR; i++) {
            const float a0 = dot_in(ap[2 * i]), a1 = dot_in(ap[2 * i + 1]);
            for (int j = 0; j < NR; j++) {
                /* the odd k first, as the SDM's pseudocode orders them */
                float v = ftz(fmaf(a1, dot_in(bp[2 * j + 1]), t[i][j]));
                t[i][j] = ftz(fmaf(a0, dot_in(bp[2 * j]), v));
            }
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) c[i * ldc + j] = t[i][j];
}

void sculpt_bf16_cvt_pairs__scalar(int pairs, int nr, const float *src, uint16_t *dst) {
    for (int p = 0; p < pairs; p++) {
        const float *r0 = src + (int64_t)2 * p * nr, *r1 = r0 + nr;
        uint16_t *d = dst + (int64_t)2 * p * nr;
        for (int j = 0; j < nr; j++) {
            d[2 * j] = bf16_from_f32(r0[j]);
            d[2 * j + 1] = bf16_from_f32(r1[j]);
        }
    }
}

void sculpt_bf16_shift_pairs__scalar(const float *x0, const float *x1, int h, int w, int ow,
                                     int stride, int row0, int col0, int64_t f0, int len,
                                     uint16_t *dst) {
    for (int i = 0; i < len; i++) {
        const int64_t f = f0 + i, j = (f >= 0 ? f : f - ow + 1) / ow, c = f - j * ow;
        const int64_t row = stride * j + row0, col = stride * c + col0;
        const int in = row >= 0 && row < h && col >= 0 && col < w;
        dst[2 * i] = in ? bf16_from_f32(x0[row * w + col]) : 0;
        dst[2 * i + 1] = in ? bf16_from_f32(x1[row * w + col]) : 0;
    }
}
