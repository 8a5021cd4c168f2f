/* dtype.c — tensor element conversion to f32/f16/bf16 with PyTorch's results: round to
 * nearest even (c10/util/Half.h, BFloat16.h), f64 cast through f32 as torch does, NaN as
 * torch's CPU conversion kernels write it (f16: sign|0x7E00, bf16: 0xFFFF). */
#include <string.h>

#include "cw.h"

static uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

int cw_dtype_is_float(ck_dtype d) {
    return d == CK_F32 || d == CK_F16 || d == CK_BF16 || d == CK_F64 || d == CK_F8E4M3 ||
           d == CK_F8E5M2;
}

size_t cw_sdtype_size(sculpt_dtype d) { return d == SCULPT_DT_F32 ? 4 : 2; }

const char *cw_sdtype_name(sculpt_dtype d) {
    switch (d) {
    case SCULPT_DT_F32: return "f32";
    case SCULPT_DT_F16: return "f16";
    case SCULPT_DT_BF16: return "bf16";
    }
    return "?";
}

uint16_t cw_f32_to_f16(float f) {
    uint32_t x = bits_of(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00u;        /* NaN */
    if (ax >= 0x477ff000u) return sign | 0x7c00u;       /* >= 65520 rounds to inf */
    if (ax >= 0x38800000u) {                            /* normal f16 */
        uint32_t r = ax - (112u << 23);                 /* rebias 127 -> 15 */
        r += 0xfffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }
    int e = (int)(ax >> 23);                            /* subnormal f16 or zero */
    int shift = 126 - e;                                /* value = m * 2^(e-150), unit 2^-24 */
    if (e == 0 || shift > 24) return sign;              /* below half the smallest subnormal */
    uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
}

uint16_t cw_f32_to_bf16(float f) {
    uint32_t x = bits_of(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return 0xffffu;
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float cw_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return float_of(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        if (m == 0) return float_of(sign);
        /* subnormal: m * 2^-24, exact in f32 */
        float v = (float)m * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return float_of(sign | ((e + 112u) << 23) | (m << 13));
}

float cw_bf16_to_f32(uint16_t b) { return float_of((uint32_t)b << 16); }

/* fp8 (OCP e4m3fn: no inf, NaN = S.1111.111; e5m2: IEEE-like) to f32, exact. */
static float f8_to_f32(uint8_t v, int e4m3) {
    int sign = v >> 7;
    int ebits = e4m3 ? 4 : 5, mbits = e4m3 ? 3 : 2, bias = e4m3 ? 7 : 15;
    int e = (v >> mbits) & ((1 << ebits) - 1), m = v & ((1 << mbits) - 1);
    float r;
    if (e4m3 && e == 15 && m == 7) r = float_of(0x7fc00000u);
    else if (!e4m3 && e == 31) r = m ? float_of(0x7fc00000u) : float_of(0x7f800000u);
    else if (e == 0) r = (float)m * float_of((uint32_t)(127 - bias - mbits + 1) << 23);
    else r = (1.0f + (float)m / (float)(1 << mbits)) * float_of((uint32_t)(127 - bias + e) << 23);
    return sign ? -r : r;
}

static float load_f32(const unsigned char *p, ck_dtype d) {
    switch (d) {
    case CK_F32: { uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                (uint32_t)p[3] << 24;
                   return float_of(u); }
    case CK_F16: return cw_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
    case CK_BF16: return cw_bf16_to_f32((uint16_t)(p[0] | p[1] << 8));
    case CK_F64: { uint64_t u = 0; double v;
                   for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
                   memcpy(&v, &u, 8);
                   return (float)v; }
    case CK_F8E4M3: return f8_to_f32(p[0], 1);
    case CK_F8E5M2: return f8_to_f32(p[0], 0);
    default: return 0.0f;
    }
}

void cw_convert(const void *src, ck_dtype sdt, size_t n, sculpt_dtype odt, void *dst) {
    const unsigned char *s = src;
    unsigned char *o = dst;
    size_t es = ck_dtype_size(sdt);
    if ((sdt == CK_F32 && odt == SCULPT_DT_F32) || (sdt == CK_F16 && odt == SCULPT_DT_F16) ||
        (sdt == CK_BF16 && odt == SCULPT_DT_BF16)) {
        memcpy(dst, src, n * es); /* a same-dtype copy keeps every bit, as torch's does */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float v = load_f32(s + i * es, sdt);
        if (odt == SCULPT_DT_F32) {
            uint32_t u = bits_of(v);
            o[4 * i] = (unsigned char)u; o[4 * i + 1] = (unsigned char)(u >> 8);
            o[4 * i + 2] = (unsigned char)(u >> 16); o[4 * i + 3] = (unsigned char)(u >> 24);
        } else {
            uint16_t h = odt == SCULPT_DT_F16 ? cw_f32_to_f16(v) : cw_f32_to_bf16(v);
            o[2 * i] = (unsigned char)h; o[2 * i + 1] = (unsigned char)(h >> 8);
        }
    }
}
