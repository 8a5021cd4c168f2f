/* test_bf16_round.c — f32 -> bf16 rounding (bf16.h): closed-form cases (ties to even,
 * carries into the exponent, overflow to inf, inf, NaN quieting, subnormals to signed
 * zero), a brute-force nearest-even check over random bit patterns, and every B rounding
 * step (scalar, native AVX-512 where the CPU has it, SIMDe-emulated) bit-identical to
 * bf16_from_f32, on specials too; the direct path's shifted image rows (shift_pairs)
 * against their definition over widths, shifts and halo rows. Also bf16_pack_a and
 * bf16_conv_pack from f32/bf16/f16 weights. */
#include <math.h>

#include "bf16_test.h"

static float f_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_closed_form(void) {
    static const uint32_t cases[][2] = {
        {0x3f800000u, 0x3f80}, /* 1 */
        {0x3f808000u, 0x3f80}, /* 1 + half ulp: tie, kept lsb even -> down */
        {0x3f818000u, 0x3f82}, /* tie with odd lsb -> up to even */
        {0x3f808001u, 0x3f81}, /* just above the tie */
        {0x3f807fffu, 0x3f80}, /* just below */
        {0xbf808000u, 0xbf80}, /* negative ties: magnitudes round the same */
        {0xbf818000u, 0xbf82},
        {0x3fff8000u, 0x4000}, /* carry into the exponent: 1.99.. -> 2 */
        {0x00ffffffu, 0x0100}, /* carry out of the smallest binade */
        {0x00800000u, 0x0080}, /* FLT_MIN stays */
        {0x7f7f7fffu, 0x7f7f}, /* largest bf16 */
        {0x7f7f8000u, 0x7f80}, /* tie above it, odd lsb -> overflow to inf */
        {0x7f7fffffu, 0x7f80}, /* FLT_MAX -> inf */
        {0xff7fffffu, 0xff80}, /* -FLT_MAX -> -inf */
        {0x7f800000u, 0x7f80}, /* inf */
        {0xff800000u, 0xff80}, /* -inf */
        {0x7fc00000u, 0x7fc0}, /* quiet NaN */
        {0xffc00000u, 0xffc0}, /* negative quiet NaN keeps its sign */
        {0x7f800001u, 0x7fc0}, /* signalling NaN, payload only in the low half: stays NaN */
        {0x7fa00000u, 0x7fe0}, /* signalling NaN: quieted, top payload kept */
        {0x7fffffffu, 0x7fff}, /* NaN must not carry into the sign */
        {0x00000000u, 0x0000}, /* +0 */
        {0x80000000u, 0x8000}, /* -0 */
        {0x00000001u, 0x0000}, /* subnormals -> signed zero (as VCVTNEPS2BF16) */
        {0x807fffffu, 0x8000},
        {0x007fffffu, 0x0000}, /* even the largest (torch would give 0x0080) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = bf16_from_f32(f_of(cases[i][0]));
        CHECKF(got == cases[i][1], "bf16_from_f32(0x%08x) = 0x%04x, want 0x%04x",
               (unsigned)cases[i][0], (unsigned)got, (unsigned)cases[i][1]);
    }
    CHECK(bf16_to_f32(0x3f80) == 1.0f && bf16_to_f32(0xc040) == -3.0f);
    CHECK(bf16_round_f32(1.00390625f) == 1.0f); /* 1 + 2^-8: a tie, down to even */
    CHECK(isnan(bf16_round_f32(NAN)) && isinf(bf16_round_f32(3.4e38f)));
}

/* The nearest bf16 of a finite normal f32 by distance in double, ties to even mantissa. */
static uint16_t nearest(uint32_t u) {
    const uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u; /* hi may be inf: fine */
    const double x = fabs((double)f_of(u)), dl = fabs(x - fabs((double)f_of(lo)));
    double dh = fabs(fabs((double)f_of(hi)) - x);
    if ((hi & 0x7f800000u) == 0x7f800000u) /* inf: compare with the next binade's start */
        dh = ldexp(1.0, 128) - x;
    if (dl < dh) return (uint16_t)(lo >> 16);
    if (dh < dl) return (uint16_t)(hi >> 16);
    return (uint16_t)(((lo >> 16) & 1) ? hi >> 16 : lo >> 16);
}

static void test_brute_force(void) {
    int bad = 0;
    for (int i = 0; i < 2000000; i++) {
        uint32_t u = rand_u32();
        if (i % 4 == 0) u = (u & 0xffff0000u) | 0x8000u; /* many exact ties */
        const uint32_t e = u & 0x7f800000u;
        if (e == 0 || e == 0x7f800000u) continue;
        const uint16_t want = nearest(u), got = bf16_from_f32(f_of(u));
        if (got != want && bad++ < 5)
            fprintf(stderr, "0x%08x: got 0x%04x want 0x%04x\n", (unsigned)u, got, want);
    }
    CHECKF(bad == 0, "%d roundings differ from nearest-even", bad);
}

static void test_cvt(const char *name, bf16_cvt_fn cvt) {
    const int nr = 32, pairs = 37;
    float *src = malloc(sizeof(float) * 2 * pairs * nr);
    uint16_t *d0 = malloc(2 * sizeof(uint16_t) * pairs * nr), *d1 = malloc(2 * sizeof(uint16_t) * pairs * nr);
    static const uint32_t special[] = {0x7f800001u, 0xffc00000u, 0x7fa00000u, 0x7f800000u,
                                       0xff800000u, 0x00000001u, 0x80400000u, 0x00000000u,
                                       0x80000000u, 0x7f7fffffu, 0x7f7f8000u, 0x3f808000u,
                                       0x3f818000u, 0x00ffffffu, 0x7fffffffu, 0xbf808000u};
    for (int i = 0; i < 2 * pairs * nr; i++) {
        uint32_t u = rand_u32();
        if (i % 3 == 0) u = (u & 0xffff0000u) | 0x8000u;
        if (i % 7 == 0) u = special[(i / 7) % 16];
        src[i] = f_of(u);
    }
    sculpt_bf16_cvt_pairs__scalar(pairs, nr, src, d0);
    int bad = 0;
    for (int p = 0; p < pairs; p++) /* the layout itself: low half even k */
        for (int j = 0; j < nr; j++) {
            bad += d0[(p * nr + j) * 2] != bf16_from_f32(src[(2 * p) * nr + j]);
            bad += d0[(p * nr + j) * 2 + 1] != bf16_from_f32(src[(2 * p + 1) * nr + j]);
        }
    CHECKF(bad == 0, "scalar cvt_pairs layout: %d wrong", bad);
    cvt(pairs, nr, src, d1);
    CHECKF(memcmp(d0, d1, 2 * sizeof(uint16_t) * pairs * nr) == 0, "%s cvt_pairs differs from scalar", name);
    free(src); free(d0); free(d1);
}

/* shift_pairs' definition (bf16.h), written out again. */
static void shift_want(const float *x0, const float *x1, int h, int w, int ow, int stride,
                       int row0, int col0, int64_t f0, int len, uint16_t *d) {
    for (int i = 0; i < len; i++) {
        const int64_t f = f0 + i;
        int64_t j = f / ow, c = f % ow;
        if (c < 0) { c += ow; j -= 1; }
        const int64_t row = stride * j + row0, col = stride * c + col0;
        const int in = row >= 0 && row < h && col >= 0 && col < w;
        d[2 * i] = in ? bf16_from_f32(x0[row * w + col]) : 0;
        d[2 * i + 1] = in ? bf16_from_f32(x1[row * w + col]) : 0;
    }
}

static void test_shift(const char *name, bf16_shift_fn fn) {
    static const int ws[] = {1, 3, 4, 8, 13, 16, 32, 48};
    int bad = 0, cases = 0;
    for (size_t a = 0; a < sizeof ws / sizeof ws[0]; a++)
        for (int stride = 1; stride <= 3; stride++)
            for (int col0 = -2; col0 <= 2; col0++)
                for (int row0 = 0; row0 < stride; row0++)
                    for (int owd = -1; owd <= 1; owd++) { /* ow: the image's own width, or not */
                        const int w = ws[a], h = 5, hw = w * h;
                        const int ow = owd == 0 ? (w + stride - 1) / stride : (w + owd * 2 + stride) / stride;
                        if (ow < 1 || col0 >= w || -col0 >= w) continue;
                        float *x = rand_buf((size_t)2 * hw);
                        x[3 % hw] = f_of(0x7fa00000u); /* a NaN, a tie */
                        x[hw + 1 % hw] = f_of(0x3f818000u);
                        for (int f0 = -2 * ow - 16; f0 <= ow + 16; f0 += 16 + (ow % 16 ? 0 : ow)) {
                            const int len = ((h * ow - f0 + 2 * ow) / 16 + 1) * 16;
                            uint16_t *d0 = malloc(4 * (size_t)len), *d1 = malloc(4 * (size_t)len);
                            shift_want(x, x + hw, h, w, ow, stride, row0, col0, f0, len, d0);
                            fn(x, x + hw, h, w, ow, stride, row0, col0, f0, len, d1);
                            cases++;
                            if (memcmp(d0, d1, 4 * (size_t)len) != 0 && bad++ < 5)
                                fprintf(stderr, "%s shift_pairs w=%d ow=%d stride=%d row0=%d col0=%d f0=%d len=%d differs\n",
                                        name, w, ow, stride, row0, col0, f0, len);
                            free(d0); free(d1);
                        }
                        free(x);
                    }
    CHECKF(bad == 0, "%s shift_pairs: %d of %d cases differ from the definition", name, bad, cases);
}

static void test_pack_a_dtypes(void) {
    const bf16_kernel *k = bf16_kernel_select("scalar", NULL, NULL, 0);
    const int m = 11, kd = 13;
    float *w = rand_buf((size_t)m * kd);
    uint16_t *wb = malloc(sizeof(uint16_t) * m * kd), *wh = malloc(sizeof(uint16_t) * m * kd);
    for (int i = 0; i < m * kd; i++) {
        wb[i] = bf16_from_f32(w[i]);
        wh[i] = 0x3c00; /* f16 1.0 */
    }
    const size_t bytes = bf16_packed_a_bytes(k, m, kd);
    CHECK(bytes == (size_t)16 * 14 * 2); /* 2 panels of 8 rows, k padded to 14 */
    unsigned char *p0 = malloc(bytes), *p1 = malloc(bytes), *p2 = malloc(bytes);
    bf16_pack_a(k, w, SCULPT_DT_F32, m, kd, p0);
    bf16_pack_a(k, wb, SCULPT_DT_BF16, m, kd, p1);
    bf16_pack_a(k, wh, SCULPT_DT_F16, m, kd, p2);
    CHECK(memcmp(p0, p1, bytes) == 0);
    uint16_t v;
    memcpy(&v, p2, 2);
    CHECK(v == 0x3f80);
    memcpy(&v, p0 + 2 * (6 * 8 * 2 + 3 * 2 + 1), 2); /* row 3, k 13: padding */
    CHECK(v == 0);
    memcpy(&v, p0 + 2 * (5 * 8 * 2 + 3 * 2 + 1), 2); /* row 3, k 11 */
    CHECK(v == bf16_from_f32(w[3 * kd + 11]));
    free(w); free(wb); free(wh); free(p0); free(p1); free(p2);
    /* conv weights: the general path keeps conv2d_ref's k order; the direct path (ic a
     * multiple of 32, same-size output) orders by (channel block, tap, channel) */
    for (int direct = 0; direct < 2; direct++) {
        conv_shape s;
        const int ic = direct ? 64 : 5, oc = 9;
        conv_shape_init(&s, ic, oc, 3, direct ? 1 : 2, 1, 1, 1, 1, 6, 6);
        const int cb = bf16_conv_direct_block(k, &s), K = ic * 9;
        CHECK(direct ? cb == 32 : cb == 0);
        float *cw = rand_buf((size_t)oc * K);
        unsigned char *pc = malloc(bf16_conv_packed_bytes(k, &s));
        bf16_conv_pack(k, &s, cw, SCULPT_DT_F32, pc);
        int wrong = 0;
        for (int o = 0; o < oc; o++)
            for (int c = 0; c < ic; c++)
                for (int t = 0; t < 9; t++) {
                    const int kk = cb ? (c / cb * 9 + t) * cb + c % cb : c * 9 + t;
                    const size_t at = (size_t)(o / 8) * 8 * ((K + 1) / 2 * 2) + (size_t)(kk / 2) * 16 +
                                      (o % 8) * 2 + kk % 2;
                    uint16_t got;
                    memcpy(&got, pc + 2 * at, 2);
                    wrong += got != bf16_from_f32(cw[((size_t)o * ic + c) * 9 + t]);
                }
        CHECKF(wrong == 0, "bf16_conv_pack direct=%d: %d weights misplaced", direct, wrong);
        free(cw); free(pc);
    }
}

int main(void) {
    test_closed_form();
    test_brute_force();
    test_pack_a_dtypes();
    test_cvt("scalar", sculpt_bf16_cvt_pairs__scalar);
    test_shift("scalar", sculpt_bf16_shift_pairs__scalar);
    bf16_kernel ks[BF16_TEST_MAX_KERNELS];
    const int nk = bf16_test_kernels(ks);
    for (int i = 0; i < nk; i++) {
        test_cvt(ks[i].name, ks[i].cvt_pairs);
        test_shift(ks[i].name, ks[i].shift_pairs);
    }
    TEST_DONE();
}
