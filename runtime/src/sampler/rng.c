/* rng.c — torch's CPU generator, bit for bit: MT19937 seeded as at::mt19937, randn(n) as
 * aten's normal_kernel (n < 16: normal_distribution<double>; n >= 16: normal_fill_AVX2). */
#include <math.h>
#include <string.h>

#include "sampler.h"

/* This file is built with -ffp-contract=off (see meson.build): every float operation below
 * is one IEEE operation, and fmaf() marks exactly the multiply-adds that GCC fused when it
 * compiled torch's AVX2 kernels (found by trial against values recorded from torch). */

enum { MT_N = 624, MT_M = 397 };

/* fmaf() is a library call unless the compiler may assume FMA hardware; on x86-64 the
 * Box-Muller block is also compiled for FMA and chosen at run time (fmaf is exact either
 * way, so both give the same bits; test_rng checks both). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__FMA__)
#define RNG_FMA_CLONE 1
#define RNG_INLINE static inline __attribute__((always_inline))
#else
#define RNG_INLINE static inline
#endif
static int force_generic; /* tests: take the portable path even where FMA exists */
void sampler_rng_force_generic(int on) { force_generic = on; }

void sculpt_rng_seed(sculpt_rng *r, uint64_t seed) {
    /* at::mt19937 keeps the 64-bit seed but initialises from its low 32 bits. */
    r->mt[0] = (uint32_t)(seed & 0xffffffffu);
    for (int j = 1; j < MT_N; j++)
        r->mt[j] = 1812433253u * (r->mt[j - 1] ^ (r->mt[j - 1] >> 30)) + (uint32_t)j;
    r->mti = MT_N;
    r->has_next_double = 0;
    r->next_double = 0.0;
}

static void mt_twist(sculpt_rng *r) {
    uint32_t *s = r->mt;
    int k = 0;
    for (; k < MT_N - MT_M; k++) {
        uint32_t y = (s[k] & 0x80000000u) | (s[k + 1] & 0x7fffffffu);
        s[k] = s[k + MT_M] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    for (; k < MT_N - 1; k++) {
        uint32_t y = (s[k] & 0x80000000u) | (s[k + 1] & 0x7fffffffu);
        s[k] = s[k + MT_M - MT_N] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
    uint32_t y = (s[MT_N - 1] & 0x80000000u) | (s[0] & 0x7fffffffu);
    s[MT_N - 1] = s[MT_M - 1] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    r->mti = 0;
}

static uint32_t mt_next(sculpt_rng *r) {
    if (r->mti < 0 || r->mti >= MT_N) mt_twist(r);
    uint32_t y = r->mt[r->mti++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* uniform_real_distribution<float>: 24 random bits of one 32-bit draw. */
static float uniform_f32(sculpt_rng *r) {
    return (float)(mt_next(r) & 0xffffffu) * (1.0f / 16777216.0f);
}

/* uniform_real_distribution<double>: 53 bits of random64() = (first << 32) | second. */
static double uniform_f64(sculpt_rng *r) {
    uint64_t hi = mt_next(r), lo = mt_next(r);
    uint64_t v = (hi << 32) | lo;
    return (double)(v & ((UINT64_C(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

/* at::normal_distribution<double>(0, 1): Box–Muller that caches its sine half. */
static double normal_f64(sculpt_rng *r) {
    if (r->has_next_double) {
        r->has_next_double = 0;
        return r->next_double;
    }
    double u1 = uniform_f64(r);
    double u2 = uniform_f64(r);
    double radius = sqrt(-2.0 * log(1.0 - u2));
    double theta = 2.0 * 3.14159265358979323846 * u1;
    r->next_double = radius * sin(theta);
    r->has_next_double = 1;
    return radius * cos(theta);
}

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Cephes logf as avx_mathfun.h's log256_ps, for x in [2^-24, 1] (Box–Muller's 1 - u). */
RNG_INLINE float cephes_logf(float x) {
    if (!(x >= 1.17549435e-38f)) x = 1.17549435e-38f; /* max(x, min_norm_pos) */
    uint32_t b = f_bits(x);
    float e = (float)((int32_t)(b >> 23) - 0x7f);
    x = bits_f((b & ~0x7f800000u) | f_bits(0.5f));
    e = e + 1.0f;
    int below = x < 0.707106781186547524f; /* x = x + x - 1, e -= 1 */
    float tmp = below ? x : 0.0f;
    x = x - 1.0f;
    e = e - (below ? 1.0f : 0.0f);
    x = x + tmp;
    float z = x * x;
    float y = fmaf(7.0376836292E-2f, x, -1.1514610310E-1f);
    y = fmaf(y, x, 1.1676998740E-1f);
    y = fmaf(y, x, -1.2420140846E-1f);
    y = fmaf(y, x, +1.4249322787E-1f);
    y = fmaf(y, x, -1.6668057665E-1f);
    y = fmaf(y, x, +2.0000714765E-1f);
    y = fmaf(y, x, -2.4999993993E-1f);
    y = fmaf(y, x, +3.3333331174E-1f);
    y = y * x;
    y = fmaf(y, z, e * -2.12194440e-4f);
    y = fmaf(-z, 0.5f, y);
    x = fmaf(e, 0.693359375f, x + y);
    return x;
}

/* Cephes sinf/cosf pair as avx_mathfun.h's sincos256_ps, for x in [0, 2*pi). */
RNG_INLINE void cephes_sincosf(float x, float *s, float *c) {
    uint32_t sign_sin = f_bits(x) & 0x80000000u;
    x = bits_f(f_bits(x) & 0x7fffffffu);
    float y = x * 1.27323954473516f;
    int32_t j = (int32_t)y;
    j = (j + 1) & ~1;
    y = (float)j;
    uint32_t swap_sin = (uint32_t)(j & 4) << 29;
    int poly_sin = (j & 2) == 0; /* poly_mask: sine from the sine polynomial */
    x = fmaf(y, -0.78515625f, x);
    x = fmaf(y, -2.4187564849853515625e-4f, x);
    x = fmaf(y, -3.77489497744594108e-8f, x);
    uint32_t sign_cos = (uint32_t)(~(j - 2) & 4) << 29;
    sign_sin ^= swap_sin;
    float z = x * x;
    float yc = fmaf(2.443315711809948E-005f, z, -1.388731625493765E-003f);
    yc = fmaf(yc, z, 4.166664568298827E-002f);
    yc = yc * z;
    yc = fmaf(yc, z, -(z * 0.5f));
    yc = yc + 1.0f;
    float ys = fmaf(-1.9515295891E-4f, z, 8.3321608736E-3f);
    ys = fmaf(ys, z, -1.6666654611E-1f);
    ys = ys * z;
    ys = fmaf(ys, x, x);
    /* poly_mask set: sine from the sine polynomial, cosine from the cosine one; the
     * masked adds are kept so that signed zeros come out as torch's do */
    float ysin2 = poly_sin ? ys : 0.0f, ysin1 = poly_sin ? 0.0f : yc;
    float rs = ysin1 + ysin2;
    float rc = (yc - ysin1) + (ys - ysin2);
    *s = bits_f(f_bits(rs) ^ sign_sin);
    *c = bits_f(f_bits(rc) ^ sign_cos);
}

/* normal_fill_16_AVX2 with mean 0, std 1 (its final fmadd(n, 1, 0) is exact). */
RNG_INLINE void normal_fill_16_body(float *d) {
    for (int j = 0; j < 8; j++) {
        float u1 = 1.0f - d[j];
        float u2 = d[j + 8];
        float radius = sqrtf(-2.0f * cephes_logf(u1));
        float theta = 6.2831853071795864769f * u2;
        float sn, cs;
        cephes_sincosf(theta, &sn, &cs);
        d[j] = radius * cs;
        d[j + 8] = radius * sn;
    }
}

static void normal_fill_16_generic(float *d) { normal_fill_16_body(d); }
#ifdef RNG_FMA_CLONE
__attribute__((target("fma"))) static void normal_fill_16_fma(float *d) { normal_fill_16_body(d); }
#endif

typedef void (*fill16_fn)(float *d);
static fill16_fn pick_fill16(void) {
#ifdef RNG_FMA_CLONE
    if (!force_generic && __builtin_cpu_supports("fma")) return normal_fill_16_fma;
#endif
    return normal_fill_16_generic;
}

void sculpt_rng_randn(sculpt_rng *r, float *dst, size_t n) {
    if (n < 16) {
        for (size_t i = 0; i < n; i++) dst[i] = (float)normal_f64(r);
        return;
    }
    fill16_fn fill = pick_fill16();
    for (size_t i = 0; i < n; i++) dst[i] = uniform_f32(r);
    for (size_t i = 0; i + 16 <= n; i += 16) fill(dst + i);
    if (n % 16 != 0) {
        float *d = dst + n - 16;
        for (int i = 0; i < 16; i++) d[i] = uniform_f32(r);
        fill(d);
    }
}
