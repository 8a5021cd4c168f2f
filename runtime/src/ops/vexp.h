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

/* Cody-Waite's two-part ln 2 and Cephes' expf polynomial, shared by the one-value and the
 * block forms below (the same operations in the same order: the same bits). */
#define VEXP_LOG2E 1.44269504088896341f
#define VEXP_ROUND 12582912.0f /* 1.5 * 2^23: adding and subtracting it rounds to an integer */
#define VEXP_LN2_HI 0.693359375f
#define VEXP_LN2_LO -2.12194440e-4f
#define VEXP_C0 1.9875691500e-4f
#define VEXP_C1 1.3981999507e-3f
#define VEXP_C2 8.3334519073e-3f
#define VEXP_C3 4.1665795894e-2f
#define VEXP_C4 1.6666665459e-1f
#define VEXP_C5 5.0000001201e-1f

/* 2^k for an integral k in [-126, 127], from its exponent bits */
VEC_INLINE float vexp_pow2(float k) {
    const int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return scale;
}

/* e^x for x in [-87, 88] (the caller bounds x; outside, the scale bits overflow).
 * Results are normal floats (e^-87 = 1.6e-38 > FLT_MIN). */
VEC_INLINE float vexp_core_f32(float x) {
    /* k = round(x / ln 2) with the 1.5 * 2^23 trick (no call, vectorises) */
    const float k = (x * VEXP_LOG2E + VEXP_ROUND) - VEXP_ROUND;
    const float r = (x - k * VEXP_LN2_HI) - k * VEXP_LN2_LO;
    float p = VEXP_C0;
    p = p * r + VEXP_C1;
    p = p * r + VEXP_C2;
    p = p * r + VEXP_C3;
    p = p * r + VEXP_C4;
    p = p * r + VEXP_C5;
    p = p * (r * r) + r + 1.0f;
    return p * vexp_pow2(k);
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
VEC_INLINE float vsilu_fin(float v, float t, float e) {
    const float num = v < 0.0f ? t * e : v;
    return num / (1.0f + e);
}

VEC_INLINE float vsilu_f32(float v) {
    const float t = vneg_abs_clamp87(v);
    return vsilu_fin(v, t, vexp_core_f32(t));
}

/* vsilu_f32 of VSILU_BLK values: the same operations on each value, but each step taken
 * over the whole block (eight AVX2 vectors) before the next. One value's steps form a
 * chain of ~100 cycles of latency, longer than the out-of-order window covers across loop
 * iterations (GroupNorm+SiLU ran at ~28 cycles per vector of 8); step by step the block's
 * vectors are independent work. Same bits as vsilu_f32. Measured on the EPYC (Zen 3),
 * GroupNorm+SiLU on one thread, 1.2-1.7 -> 0.83-1.37 ns per value (blocks of 16: 5-8 %
 * faster, 32: 12-18 %, 64: 20-30 %, 128: 11-26 %, 256: 20 % slower, its steps no longer in
 * L1). */
#define VSILU_BLK 64
VEC_INLINE void vsilu_block(const float *restrict v, float *restrict out) {
    float t[VSILU_BLK], k[VSILU_BLK], r[VSILU_BLK], p[VSILU_BLK];
    for (int j = 0; j < VSILU_BLK; j++) t[j] = vneg_abs_clamp87(v[j]);
    for (int j = 0; j < VSILU_BLK; j++) k[j] = (t[j] * VEXP_LOG2E + VEXP_ROUND) - VEXP_ROUND;
    for (int j = 0; j < VSILU_BLK; j++) r[j] = (t[j] - k[j] * VEXP_LN2_HI) - k[j] * VEXP_LN2_LO;
    for (int j = 0; j < VSILU_BLK; j++) p[j] = VEXP_C0 * r[j] + VEXP_C1;
    for (int j = 0; j < VSILU_BLK; j++) p[j] = p[j] * r[j] + VEXP_C2;
    for (int j = 0; j < VSILU_BLK; j++) p[j] = p[j] * r[j] + VEXP_C3;
    for (int j = 0; j < VSILU_BLK; j++) p[j] = p[j] * r[j] + VEXP_C4;
    for (int j = 0; j < VSILU_BLK; j++) p[j] = p[j] * r[j] + VEXP_C5;
    for (int j = 0; j < VSILU_BLK; j++) p[j] = (p[j] * (r[j] * r[j]) + r[j] + 1.0f) * vexp_pow2(k[j]);
    for (int j = 0; j < VSILU_BLK; j++) out[j] = vsilu_fin(v[j], t[j], p[j]);
}

#endif
