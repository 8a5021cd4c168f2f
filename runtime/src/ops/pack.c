/* pack.c — packing for the GEMM (BLIS-style): weights into mr-row panels once at prepare,
 * and image patches straight into nr-column B panels (no full im2col buffer).
 *
 *   A (weights [m][K]) -> panel r: [K][mr]        B (patches of x) -> panel q: [kc][nr]
 *   rows r*mr .. r*mr+mr-1, k-major, 0-padded      columns = output positions, 0-padded */
#include <string.h>

#include "ops.h"
#include "pack.h"
#include "sculpt.h"

static float f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, u;
    if (e == 0) {
        if (m == 0) {
            u = s;
        } else { /* subnormal: renormalise */
            e = 113;
            while (!(m & 1024)) { m <<= 1; e--; }
            u = s | e << 23 | (m & 1023) << 13;
        }
    } else if (e == 31) {
        u = s | 0x7f800000u | m << 13;
    } else {
        u = s | (e + 112) << 23 | m << 13;
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float pack_load(const void *p, int dtype, size_t i) {
    if (dtype == SCULPT_DT_F32) {
        float f;
        memcpy(&f, (const unsigned char *)p + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, (const unsigned char *)p + 2 * i, 2);
    return dtype == SCULPT_DT_F16 ? f16_to_f32(h) : bf16_to_f32(h);
}

void pack_convert(const void *src, int dtype, size_t n, float *dst) {
    if (dtype == SCULPT_DT_F32) {
        memcpy(dst, src, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) dst[i] = pack_load(src, dtype, i);
}

size_t gemm_packed_a_floats(int m, int k, int mr) {
    return (size_t)((m + mr - 1) / mr) * (size_t)mr * (size_t)k;
}

void gemm_pack_a(const void *w, int dtype, int m, int k, int mr, float *dst) {
    int panels = (m + mr - 1) / mr;
    for (int r = 0; r < panels; r++) {
        float *d = dst + (size_t)r * mr * k;
        for (int i = 0; i < mr; i++) {
            int row = r * mr + i;
            if (row < m) {
                for (int p = 0; p < k; p++)
                    d[(size_t)p * mr + i] = pack_load(w, dtype, (size_t)row * k + p);
            } else {
                for (int p = 0; p < k; p++) d[(size_t)p * mr + i] = 0.0f;
            }
        }
    }
}

#define PAD_IMG_MAX 256 /* floats: a 14x14 image with a border of 1 */

/* d[j] = row[xs + j] for lo <= j < hi, 0 elsewhere in [0, len). */
static void copy_or_zero(float *restrict d, const float *restrict row, int xs, int lo, int hi,
                         int len) {
    for (int j = 0; j < lo; j++) d[j] = 0.0f;
    for (int j = lo; j < hi; j++) d[j] = row[xs + j];
    for (int j = hi; j < len; j++) d[j] = 0.0f;
}

/* One B panel: rows k0..k0+kc-1 of the virtual im2col matrix, columns j0..j0+jw-1
 * (jw <= nr; the rest zero). x is one item [ic][h][w]. */
static void pack_b_panel(const conv_shape *s, const float *x, int k0, int kc, int j0, int jw,
                         int nr, float *d) {
    const int khw = s->kh * s->kw;
    const int64_t hw = (int64_t)s->h * s->w;
    if (khw == 1 && s->stride == 1 && s->pad_t == 0 && s->pad_l == 0 && s->oh == s->h &&
        s->ow == s->w) {
        /* 1x1, stride 1: the image is the B matrix */
        for (int kk = 0; kk < kc; kk++) {
            float *dk = d + (size_t)kk * nr;
            const float *src = x + (int64_t)(k0 + kk) * hw + j0;
            if (jw == 16 && nr == 16) {
                memcpy(dk, src, 16 * sizeof(float));
            } else {
                copy_or_zero(dk, src, 0, 0, jw, nr);
            }
        }
        return;
    }
    /* the columns split into runs along one output row each (one run for a 16-wide panel
     * of a 32-wide image, two to four for 8x8 and 4x4), and each k row of a run is a piece
     * of one input row (every stride-th value), zero outside the image */
    int iy0[GEMM_MAX_NR], ix0[GEMM_MAX_NR], rj[GEMM_MAX_NR + 1], nrun = 0;
    for (int j = 0; j < jw; j++) {
        int p = j0 + j, oy = p / s->ow, ox = p % s->ow;
        iy0[j] = oy * s->stride - s->pad_t;
        ix0[j] = ox * s->stride - s->pad_l;
        if (j == 0 || iy0[j] != iy0[j - 1]) rj[nrun++] = j;
    }
    rj[nrun] = jw;
    const int st = s->stride;
    /* small images (a panel spans several output rows): each channel is first copied into
     * a zero-bordered image, so every run is one unconditional copy (the same values) */
    const int pw = s->w + s->pad_l + s->pad_r, ph = s->h + s->pad_t + s->pad_b;
    if (st == 1 && nrun > 1 && pw * ph <= PAD_IMG_MAX) {
        float pad[PAD_IMG_MAX];
        int ic = k0 / khw, ky = (k0 % khw) / s->kw, kx = (k0 % khw) % s->kw, have = -1;
        for (int kk = 0; kk < kc; kk++) {
            if (ic != have) {
                memset(pad, 0, sizeof(float) * (size_t)(pw * ph));
                const float *xc = x + (int64_t)ic * hw;
                for (int y = 0; y < s->h; y++)
                    memcpy(pad + (y + s->pad_t) * pw + s->pad_l, xc + (int64_t)y * s->w, sizeof(float) * (size_t)s->w);
                have = ic;
            }
            float *dk = d + (size_t)kk * nr;
            for (int r = 0; r < nrun; r++) {
                const int ja = rj[r], len = rj[r + 1] - ja;
                const int py = iy0[ja] + ky + s->pad_t, px = ix0[ja] + kx + s->pad_l;
                memcpy(dk + ja, pad + py * pw + px, sizeof(float) * (size_t)len);
            }
            for (int j = jw; j < nr; j++) dk[j] = 0.0f;
            if (++kx == s->kw) {
                kx = 0;
                if (++ky == s->kh) { ky = 0; ic++; }
            }
        }
        return;
    }
    /* (ic, ky, kx) of row k0, then stepped without divisions */
    int ic = k0 / khw, ky = (k0 % khw) / s->kw, kx = (k0 % khw) % s->kw;
    for (int kk = 0; kk < kc; kk++) {
        const float *xc = x + (int64_t)ic * hw;
        float *dk = d + (size_t)kk * nr;
        const int cky = ky, ckx = kx;
        if (++kx == s->kw) {
            kx = 0;
            if (++ky == s->kh) { ky = 0; ic++; }
        }
        for (int r = 0; r < nrun; r++) {
            const int ja = rj[r], len = rj[r + 1] - ja;
            const int iy = iy0[ja] + cky, xs = ix0[ja] + ckx;
            float *dr = dk + ja;
            if (iy < 0 || iy >= s->h) {
                for (int j = 0; j < len; j++) dr[j] = 0.0f;
                continue;
            }
            const float *row = xc + (int64_t)iy * s->w;
            if (st == 1) {
                if (xs >= 0 && xs + len <= s->w && len == 16) { /* interior, the common case */
                    memcpy(dr, row + xs, 16 * sizeof(float));
                    continue;
                }
                /* zero left of the image, copy [lo, hi), zero right of it */
                const int lo = xs < 0 ? (-xs < len ? -xs : len) : 0;
                const int hi = s->w - xs < len ? (s->w - xs > lo ? s->w - xs : lo) : len;
                copy_or_zero(dr, row, xs, lo, hi, len);
                continue;
            }
            /* column xs + st*j lies in the image for lo <= j < hi */
            int lo = xs < 0 ? (-xs + st - 1) / st : 0;
            int hi = xs <= s->w - 1 ? (s->w - 1 - xs) / st + 1 : 0;
            lo = lo < len ? lo : len;
            hi = hi < lo ? lo : hi > len ? len : hi;
            for (int j = 0; j < lo; j++) dr[j] = 0.0f;
            for (int j = lo; j < hi; j++) dr[j] = row[xs + st * j];
            for (int j = hi; j < len; j++) dr[j] = 0.0f;
        }
        for (int j = jw; j < nr; j++) dk[j] = 0.0f;
    }
}

void pack_b(const conv_shape *s, const float *x, int k0, int kc, int n0, int nc, int nr,
            float *dst) {
    for (int q = 0; q * nr < nc; q++) {
        int j0 = n0 + q * nr, jw = nc - q * nr < nr ? nc - q * nr : nr;
        pack_b_panel(s, x, k0, kc, j0, jw, nr, dst + (size_t)q * kc * nr);
    }
}
