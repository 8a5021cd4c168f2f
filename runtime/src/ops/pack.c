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

/* ---- the plane path: whole runs out of a zero-bordered copy of each channel ----
 * Where a panel's columns cover several output rows (small maps) or the stride is 2,
 * pack_b_panel copies runs of a few values, or every other value, one k row at a time
 * (and each short copy was a call into libc: about a quarter of a 4x4 conv's time at batch
 * 1). Instead each channel in the k range is copied once into a zero-bordered plane
 * (stride 2: its even and odd padded columns into two half planes), and every k row of
 * every panel is then a few contiguous runs out of it. The same values land in the same
 * places: the bits downstream are the same. Used where the plane fits PLANE_MAX floats on
 * the stack and is no bigger than what the call copies out of it per channel (kh * kw * nc
 * values): one bf16 panel at a time out of a 32x32 map would rebuild it for every panel. */
#define PLANE_MAX 4608 /* floats (18 KiB of stack): a 64x64 map with a border of 1 is 66 x 66 = 4356 */
#define PLANE_COLS 256 /* columns per pass (runs[] below) */

typedef struct plane_geom {
    int st, pw, ph; /* stride, padded width and height */
    int rw;         /* floats per plane row: pw (stride 1), or ceil(pw / 2) per half plane */
    size_t floats;  /* the plane (both halves) */
} plane_geom;

static int plane_fits(const conv_shape *s, int nc, int nr, plane_geom *g) {
    g->st = s->stride;
    g->pw = s->w + s->pad_l + s->pad_r;
    g->ph = s->h + s->pad_t + s->pad_b;
    if (g->st != 1 && g->st != 2) return 0;
    if (g->st == 1 && s->ow >= nr) return 0; /* pack_b_panel's runs are whole already */
    g->rw = g->st == 2 ? (g->pw + 1) / 2 : g->pw;
    g->floats = (size_t)g->st * g->ph * g->rw;
    return g->floats <= PLANE_MAX && g->floats <= (size_t)s->kh * s->kw * nc;
}

/* channel xc [h][w] into the plane: stride 1 [ph][pw]; stride 2 the even padded columns'
 * half plane [ph][rw], then the odd ones'; zero outside the image */
static void plane_fill(const conv_shape *s, const plane_geom *g, const float *xc, float *pl) {
    memset(pl, 0, g->floats * sizeof(float));
    for (int y = 0; y < s->h; y++) {
        const float *src = xc + (int64_t)y * s->w;
        float *row = pl + (size_t)(y + s->pad_t) * g->rw;
        if (g->st == 1) {
            memcpy(row + s->pad_l, src, (size_t)s->w * sizeof(float));
            continue;
        }
        /* padded column px = x + pad_l: half plane px & 1, column px / 2 */
        float *half[2] = {row, row + (size_t)g->ph * g->rw};
        const int p0 = s->pad_l & 1, c0 = s->pad_l / 2, c1 = (s->pad_l + 1) / 2;
        for (int x = 0; 2 * x < s->w; x++) half[p0][c0 + x] = src[2 * x];
        for (int x = 0; 2 * x + 1 < s->w; x++) half[!p0][c1 + x] = src[2 * x + 1];
    }
}

static inline void copy_run(float *restrict d, const float *restrict src, int len) {
    switch (len) { /* the usual lengths as fixed-size moves, not calls */
    case 16: memcpy(d, src, 16 * sizeof(float)); return;
    case 8: memcpy(d, src, 8 * sizeof(float)); return;
    case 4: memcpy(d, src, 4 * sizeof(float)); return;
    default: memcpy(d, src, (size_t)len * sizeof(float));
    }
}

typedef struct plane_run {
    int at;       /* offset in dst of the run's first column at k row 0 */
    int len;      /* columns, all of one output row */
    int row, col; /* plane row and column (stride 2: half-plane column) at ky = kx = 0 */
} plane_run;

/* pack_b for columns n0..n0+nc-1, nc <= PLANE_COLS, through the planes */
static void pack_b_planes(const conv_shape *s, const plane_geom *g, const float *x, int k0,
                          int kc, int n0, int nc, int nr, float *dst) {
    plane_run runs[PLANE_COLS];
    int nrun = 0;
    for (int j = 0; j < nc;) { /* one output row inside one panel each */
        const int p = n0 + j, oy = p / s->ow, ox = p % s->ow, q = j / nr;
        int len = s->ow - ox;
        if (len > nc - j) len = nc - j;
        if (len > (q + 1) * nr - j) len = (q + 1) * nr - j;
        runs[nrun++] = (plane_run){q * kc * nr + j % nr, len, oy * g->st, ox};
        j += len;
    }
    const int khw = s->kh * s->kw, z = nc % nr;
    const int64_t hw = (int64_t)s->h * s->w;
    float pl[PLANE_MAX];
    for (int k = k0; k < k0 + kc;) { /* channel by channel */
        const int ic = k / khw, k1 = (ic + 1) * khw < k0 + kc ? (ic + 1) * khw : k0 + kc;
        plane_fill(s, g, x + ic * hw, pl);
        for (; k < k1; k++) {
            const int ky = (k % khw) / s->kw, kx = (k % khw) % s->kw;
            /* stride 2: padded column 2 ox + kx is in half plane kx & 1, column ox + kx / 2 */
            const float *base = g->st == 1 ? pl + (size_t)ky * g->rw + kx
                                           : pl + (size_t)((kx & 1) * g->ph + ky) * g->rw + kx / 2;
            float *dk = dst + (size_t)(k - k0) * nr;
            for (int i = 0; i < nrun; i++)
                copy_run(dk + runs[i].at, base + (size_t)runs[i].row * g->rw + runs[i].col, runs[i].len);
            if (z) /* the last panel's columns past nc */
                memset(dk + (size_t)(nc / nr) * kc * nr + z, 0, (size_t)(nr - z) * sizeof(float));
        }
    }
}

void pack_b(const conv_shape *s, const float *x, int k0, int kc, int n0, int nc, int nr,
            float *dst) {
    plane_geom g;
    if (nc <= PLANE_COLS && plane_fits(s, nc, nr, &g)) {
        pack_b_planes(s, &g, x, k0, kc, n0, nc, nr, dst);
        return;
    }
    for (int q = 0; q * nr < nc; q++) {
        int j0 = n0 + q * nr, jw = nc - q * nr < nr ? nc - q * nr : nr;
        pack_b_panel(s, x, k0, kc, j0, jw, nr, dst + (size_t)q * kc * nr);
    }
}
