/* elementwise.c — channel concatenation (torch.cat(dim=1)), add, and SiLU
 * (F.silu: x / (1 + exp(-x)), as torch's CPU kernel computes it). */
#include <math.h>
#include <string.h>

#include "ops.h"

void concat_channels(int n, int ca, int cb, int64_t hw, const float *a, const float *b, float *y) {
    for (int i = 0; i < n; i++) {
        float *yi = y + (int64_t)i * (ca + cb) * hw;
        memcpy(yi, a + (int64_t)i * ca * hw, (size_t)((int64_t)ca * hw) * sizeof(float));
        memcpy(yi + (int64_t)ca * hw, b + (int64_t)i * cb * hw, (size_t)((int64_t)cb * hw) * sizeof(float));
    }
}

void add_f32(int64_t len, const float *a, const float *b, float *y) {
    for (int64_t i = 0; i < len; i++) y[i] = a[i] + b[i];
}

float silu_f32(float x) { return x / (1.0f + expf(-x)); }

void silu_inplace(int64_t len, float *x) {
    for (int64_t i = 0; i < len; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}
