/* vexp.h — helpers for loops the compiler vectorises (GroupNorm+SiLU, softmax, linear):
 * branch-free expf and SiLU (Cody-Waite range reduction by ln 2 and Cephes' expf
 * polynomial, about 1 ulp; expf from libm stays the scalar references' oracle), and the
 * AVX2 second copy of a task on x86-64.
 *
 * Why the clamps look odd: a float clamp such as `x = x < lo ? lo : x` lets gcc -O3 split
 * the loop body into a "clamped" copy where exp is a constant, then if-convert both copies
 * into every vector lane. For SiLU that clamped copy is v / 2^127, a subnormal for every
 * ordinary v, and subnormal results cost a microcode assist per lane (GroupNorm+SiLU ran
 * 10x slower than its arithmetic). So the clamp here is an integer min on the bit pattern
 * of |x| (one MIN_EXPR, nothing to split) and every value a lane computes stays normal. */
#ifndef SCULPT_VEXP_H
#define SCULPT_VEXP_H

#include <stdint.h>
#include <string.h>

/* VEC_INLINE: a helper that must be inlined into each ISA's copy of a loop (below). */
#if defined(__GNUC__)
#define VEC_INLINE static inline __attribute__((always_inline))
#else
#define VEC_INLINE static inline
#endif

/* On x86-64 a file may compile a task a second time for AVX2, 8 lanes instead of SSE2's
 * 4, and pick it at run time with vec_cpu_avx2(). The copy is the same C with no FMA
 * (target "avx2" alone; the build is ISO C, which does not contract either), so it
 * rounds every operation as the baseline copy does: the two give identical bits. */
#if defined(__x86_64__) && defined(__GNUC__)
#define VEC_HAVE_AVX2 1
#define VEC_TARGET_AVX2 __attribute__((target("avx2")))
static inline int vec_cpu_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}
#endif

/* e^x for x in [-87, 88] (the caller bounds x; outside, the scale bits overflow).
 * Results are normal floats (e^-87 = 1.6e-38 > FLT_MIN). */
VEC_INLINE float vexp_core_f32(float x) {
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

/* -min(|x|, 87) through the bit pattern: an integer min the vectoriser keeps as one op.
 * NaN (any sign) maps to -87; callers that must propagate NaN do so through x itself. */
VEC_INLINE float vneg_abs_clamp87(float x) {
    uint32_t a;
    memcpy(&a, &x, sizeof a);
    a &= 0x7fffffffu;
    a = a < 0x42ae0000u ? a : 0x42ae0000u; /* 0x42ae0000 = 87.0f */
    a |= 0x80000000u;
    float t;
    memcpy(&t, &a, sizeof t);
    return t;
}

/* e^x for x <= 0 (softmax after the max is subtracted): e^max(x, -87). */
VEC_INLINE float vexp_nonpos_f32(float x) { return vexp_core_f32(vneg_abs_clamp87(x)); }

/* SiLU v / (1 + e^-v) computed from e = e^t, t = -min(|v|, 87), which never overflows:
 * v >= 0: v / (1 + e);  v < 0: t e / (1 + e) (t = v down to -87: the same value, as
 * e^-v = 1/e). Below -87 it returns -87 e^-87 / (1 + e^-87) = -1.4e-36 (true: 0 > y >
 * -1.4e-36), a normal float like every value on the way. NaN in, NaN out. Agrees with
 * v / (1 + expf(-v)) to a few ulp elsewhere. */
VEC_INLINE float vsilu_f32(float v) {
    const float t = vneg_abs_clamp87(v);
    const float e = vexp_core_f32(t);
    const float num = v < 0.0f ? t * e : v;
    return num / (1.0f + e);
}

#endif
