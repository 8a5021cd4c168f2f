/* vexp.h — branch-free expf for loops the compiler vectorises (GroupNorm+SiLU, softmax):
 * Cody-Waite range reduction by ln 2 and Cephes' expf polynomial (about 1 ulp on the
 * clamped range; expf from libm stays the scalar references' oracle). */
#ifndef SCULPT_VEXP_H
#define SCULPT_VEXP_H

#include <stdint.h>
#include <string.h>

/* e^x for x clamped to [-87.3, 88.3]: below gives ~1e-38 (not 0), above ~2^127. */
static inline float vexp_f32(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    /* k = round(x / ln 2) with the 1.5 * 2^23 trick (no call, vectorises) */
    const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = (x - k * 0.693359375f) - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

#endif
