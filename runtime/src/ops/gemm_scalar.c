/* gemm_scalar.c — the portable 6x16 f32 GEMM micro-kernel (kernels.h contract): plain C,
 * compiled without ISA flags; the fallback path and the shape every SIMD kernel mirrors. */
#include "kernels.h"

#define MR 6
#define NR 16

void sculpt_f32_gemm_6x16__scalar(int kc, const float *a, const float *b, float *c,
                                  int64_t ldc, int accumulate, const gemm_epi *ep) {
    float t[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) t[i][j] = 0.0f;
    for (int p = 0; p < kc; p++) {
        const float *ap = a + (int64_t)p * MR, *bp = b + (int64_t)p * NR;
        for (int i = 0; i < MR; i++) {
            const float ai = ap[i];
            for (int j = 0; j < NR; j++) t[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (accumulate)
            for (int j = 0; j < NR; j++) t[i][j] = ci[j] + t[i][j];
        if (ep) {
            for (int r = 0; r < 2; r++)
                if (ep->row[r])
                    for (int j = 0; j < NR; j++) t[i][j] = t[i][j] + ep->row[r][i];
            if (ep->res)
                for (int j = 0; j < NR; j++) t[i][j] = t[i][j] + ep->res[i * ep->ldr + j];
        }
        for (int j = 0; j < NR; j++) ci[j] = t[i][j];
    }
}
