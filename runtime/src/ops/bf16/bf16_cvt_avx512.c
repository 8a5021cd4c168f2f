/* bf16_cvt_avx512.c — the rounding steps for AVX-512F/BW (bf16_kernels.h contracts), with
 * SIMDe: two f32 rows -> one row of k pairs, 16 columns a vector, bit-identical to
 * bf16_from_f32. cvt_pairs rounds gathered panel rows (general path); shift_pairs rounds
 * two channels of the image itself, sampled on the output grid (direct path).
 *
 *   row 2p   [x0 x1 .. x15]  --round-->  bf16 in each dword's high half  --+
 *   row 2p+1 [y0 y1 .. y15]  --round-->  keep high half ------------------+--> [x0|y0 x1|y1 ..]
 *                                                      (x >> 16) | (y & 0xffff0000), low = even k
 *
 * Built with AVX512-BF16 (the AMX and AVX512-BF16 kernels' CPUs have it), the rounding is
 * VCVTNE2PS2BF16, which the SDM defines exactly as bf16_from_f32 (RNE; zero and subnormal
 * inputs to signed zero; NaN: the high half with the quiet bit set), and one VPERMW to
 * interleave. Compiled without -m flags for the tests (SIMDe emulation,
 * BF16_CVT_AVX512_NAME / BF16_SHIFT_AVX512_NAME) it rounds with integer operations, and
 * masked loads become a lane loop (SIMDe 0.7.4 has neither instruction). */
/* Only the pieces used: SIMDe 0.7.4's umbrella avx512.h does not compile with -mavx512f
 * alone. */
#include <simde/x86/avx512/add.h>
#include <simde/x86/avx512/and.h>
#include <simde/x86/avx512/cast.h>
#include <simde/x86/avx512/cmpeq.h>
#include <simde/x86/avx512/cmpgt.h>
#include <simde/x86/avx512/loadu.h>
#include <simde/x86/avx512/mov.h>
#include <simde/x86/avx512/or.h>
#include <simde/x86/avx512/permutex2var.h>
#include <simde/x86/avx512/set.h>
#include <simde/x86/avx512/set1.h>
#include <simde/x86/avx512/setzero.h>
#include <simde/x86/avx512/srli.h>
#include <simde/x86/avx512/storeu.h>

#include "ops/bf16/bf16_kernels.h"

#ifndef BF16_CVT_AVX512_NAME
#define BF16_CVT_AVX512_NAME sculpt_bf16_cvt_pairs__avx512
#define BF16_SHIFT_AVX512_NAME sculpt_bf16_shift_pairs__avx512
#endif

#if defined(SIMDE_X86_AVX512BF16_NATIVE) && defined(SIMDE_X86_AVX512BW_NATIVE)
/* dword l = bf16(lo[l]) | bf16(hi[l]) << 16 */
static inline simde__m512i round_pairs(simde__m512 lo, simde__m512 hi) {
    static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512bh h = _mm512_cvtne2ps_pbh(hi, lo); /* words 0..15 from lo, 16..31 from hi */
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(order), (__m512i)h);
}
#else
/* bf16_from_f32 of 16 lanes, the result in each lane's high 16 bits (low bits garbage). */
static inline simde__m512i round_hi(simde__m512 v) {
    const simde__m512i u = simde_mm512_castps_si512(v);
    const simde__m512i expo = simde_mm512_set1_epi32(0x7f800000);
    simde__m512i r = simde_mm512_add_epi32(
        simde_mm512_add_epi32(u, simde_mm512_set1_epi32(0x7fff)),
        simde_mm512_and_si512(simde_mm512_srli_epi32(u, 16), simde_mm512_set1_epi32(1)));
    const simde__mmask16 nan = simde_mm512_cmpgt_epi32_mask(
        simde_mm512_and_si512(u, simde_mm512_set1_epi32(0x7fffffff)), expo);
    const simde__mmask16 tiny = simde_mm512_cmpeq_epi32_mask(simde_mm512_and_si512(u, expo),
                                                             simde_mm512_setzero_si512());
    r = simde_mm512_mask_mov_epi32(r, nan, simde_mm512_or_si512(u, simde_mm512_set1_epi32(0x00400000)));
    r = simde_mm512_mask_mov_epi32(r, tiny, simde_mm512_and_si512(u, simde_mm512_set1_epi32((int32_t)0x80000000u)));
    return r;
}

static inline simde__m512i round_pairs(simde__m512 lo, simde__m512 hi) {
    return simde_mm512_or_si512(simde_mm512_srli_epi32(round_hi(lo), 16),
                                simde_mm512_and_si512(round_hi(hi), simde_mm512_set1_epi32((int32_t)0xffff0000u)));
}
#endif

void BF16_CVT_AVX512_NAME(int pairs, int nr, const float *src, uint16_t *dst) {
    for (int p = 0; p < pairs; p++) {
        const float *r0 = src + (int64_t)2 * p * nr, *r1 = r0 + nr;
        uint16_t *d = dst + (int64_t)2 * p * nr;
        for (int j = 0; j < nr; j += 16)
            simde_mm512_storeu_si512(d + 2 * j, round_pairs(simde_mm512_loadu_ps(r0 + j),
                                                            simde_mm512_loadu_ps(r1 + j)));
    }
}

/* Lanes l of x[at + l] where mask bit l is set, 0 elsewhere; masked-off lanes are never
 * read (they may lie outside x). */
static inline simde__m512 load_lanes(const float *x, int64_t at, uint32_t m) {
#if defined(SIMDE_X86_AVX512F_NATIVE)
    return _mm512_maskz_loadu_ps((__mmask16)m, (const void *)((uintptr_t)x + (uintptr_t)(at * 4)));
#else
    float t[16];
    for (int l = 0; l < 16; l++) t[l] = (m >> l) & 1 ? x[at + l] : 0.0f;
    return simde_mm512_loadu_ps(t);
#endif
}

/* Lanes l with lo <= l < hi. */
static inline uint32_t lanes(int64_t lo, int64_t hi) {
    lo = lo < 0 ? 0 : lo > 16 ? 16 : lo;
    hi = hi < 0 ? 0 : hi > 16 ? 16 : hi;
    return hi > lo ? (1u << hi) - (1u << lo) : 0;
}

static inline int64_t floor_div(int64_t a, int64_t b) { return (a >= 0 ? a : a - b + 1) / b; }

/* Flat layout (stride 1, ow == w): v(x, f) = x[f + col0]. Lanes l whose column
 * (f + l) % w + col0 stays in the row, one lane at a time. */
static uint32_t col_lanes(int64_t f, int w, int col0) {
    int c = (int)(f - floor_div(f, w) * w);
    uint32_t m = 0;
    for (int l = 0; l < 16; l++) {
        if (c + col0 >= 0 && c + col0 < w) m |= 1u << l;
        if (++c == w) c = 0;
    }
    return m;
}

/* Any layout, one lane at a time (chunks that cross output rows). */
static void chunk_lanes(const float *x0, const float *x1, int h, int w, int ow, int stride,
                        int row0, int col0, int64_t f, simde__m512 *v0, simde__m512 *v1) {
    float t0[16], t1[16];
    for (int l = 0; l < 16; l++) {
        const int64_t j = floor_div(f + l, ow), c = f + l - j * ow;
        const int64_t row = stride * j + row0, col = stride * c + col0;
        const int in = row >= 0 && row < h && col >= 0 && col < w;
        t0[l] = in ? x0[row * w + col] : 0.0f;
        t1[l] = in ? x1[row * w + col] : 0.0f;
    }
    *v0 = simde_mm512_loadu_ps(t0);
    *v1 = simde_mm512_loadu_ps(t1);
}

void BF16_SHIFT_AVX512_NAME(const float *x0, const float *x1, int h, int w, int ow, int stride,
                            int row0, int col0, int64_t f0, int len, uint16_t *dst) {
    const int64_t hw = (int64_t)h * w;
    const int flat = stride == 1 && ow == w && row0 == 0;
    const int periodic = flat && 16 % w == 0; /* every chunk has the same columns */
    const uint32_t mcol = periodic ? col_lanes(f0, w, col0) : 0;
    const simde__m512i even = simde_mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    /* chunk start f = j*ow + c, stepped without divisions (f0: one) */
    const int gw = flat ? w : ow;
    int64_t j = floor_div(f0, gw);
    int c = (int)(f0 - j * gw);
    for (int i = 0; i < len; i += 16) {
        const int64_t f = f0 + i;
        simde__m512 v0 = simde_mm512_setzero_ps(), v1 = v0;
        if (flat) { /* the image's own flat order, shifted by col0 */
            uint32_t m = mcol;
            if (!periodic) m = c + 15 < w ? lanes(-col0 - c, w - col0 - c) : col_lanes(f, w, col0);
            m &= lanes(-f, hw - f); /* rows above and below the image */
            if (m) {
                v0 = load_lanes(x0, f + col0, m);
                v1 = load_lanes(x1, f + col0, m);
            }
        } else {
            const int64_t row = stride * j + row0;
            if (c + 15 >= ow || (stride != 1 && stride != 2)) {
                chunk_lanes(x0, x1, h, w, ow, stride, row0, col0, f, &v0, &v1);
            } else if (row >= 0 && row < h) { /* one output row: columns a + stride*l */
                const int64_t a = (int64_t)stride * c + col0;
                const float *r0 = x0 + row * w, *r1 = x1 + row * w;
                const uint32_t m = lanes(-a, w - a);
                if (stride == 1) {
                    if (m) {
                        v0 = load_lanes(r0, a, m);
                        v1 = load_lanes(r1, a, m);
                    }
                } else { /* 32 columns, the even ones */
                    const uint32_t m2 = lanes(-a - 16, w - a - 16);
                    if (m | m2) {
                        v0 = simde_mm512_permutex2var_ps(load_lanes(r0, a, m), even, load_lanes(r0, a + 16, m2));
                        v1 = simde_mm512_permutex2var_ps(load_lanes(r1, a, m), even, load_lanes(r1, a + 16, m2));
                    }
                }
            }
        }
        simde_mm512_storeu_si512(dst + 2 * i, round_pairs(v0, v1));
        for (c += 16; c >= gw; c -= gw) j++;
    }
}
