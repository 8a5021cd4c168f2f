/* groupnorm.c — torch.nn.GroupNorm (affine) with an optional fused SiLU: the scalar
 * reference and the fast path. The fast path is one task per (item, group), OpenMP over
 * tasks; inside a task every sum runs in a fixed order, so results do not depend on the
 * thread count. Moments are two-pass (mean, then squares about it), as the reference.
 * On x86-64 the task is also compiled for AVX2 and picked at run time (vexp.h: the same
 * bits as the baseline SSE2 copy); elsewhere the baseline vectorisation (NEON) serves. */
#include <math.h>

#include "ops.h"
#include "vexp.h"

void groupnorm_ref(int n, int c, int hw, int groups, float eps, const float *gamma,
                   const float *beta, int silu, const float *x, float *y) {
    const int cg = c / groups;
    const int64_t len = (int64_t)cg * hw;
    for (int b = 0; b < n; b++)
        for (int g = 0; g < groups; g++) {
            const float *xg = x + ((int64_t)b * c + (int64_t)g * cg) * hw;
            float *yg = y + ((int64_t)b * c + (int64_t)g * cg) * hw;
            double sum = 0.0, sq = 0.0;
            for (int64_t i = 0; i < len; i++) sum += xg[i];
            double mean = sum / (double)len;
            for (int64_t i = 0; i < len; i++) sq += (xg[i] - mean) * (xg[i] - mean);
            double rstd = 1.0 / sqrt(sq / (double)len + (double)eps);
            for (int ci = 0; ci < cg; ci++) {
                const int ch = g * cg + ci;
                for (int p = 0; p < hw; p++) {
                    int64_t i = (int64_t)ci * hw + p;
                    float v = (float)((xg[i] - mean) * rstd) * gamma[ch] + beta[ch];
                    yg[i] = silu ? silu_f32(v) : v;
                }
            }
        }
}

/* Partial sums run in LANES independent lanes (one vector register's worth on AVX2, two
 * on SSE2/NEON); the lanes are added pairwise in a fixed order. */
#define LANES 8
/* Sums of squares: f32 lanes over CHUNK values (CHUNK/LANES terms each), then into double. */
#define CHUNK 256

VEC_INLINE double lanes_sum_d(const double *s) {
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

VEC_INLINE float lanes_sum_f(const float *s) {
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Sum of x[0..len) in double lanes: exact enough for any mean (no shift to choose). */
VEC_INLINE double sum_d(const float *x, int64_t len) {
    double s[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= len; i += LANES)
        for (int j = 0; j < LANES; j++) s[j] += (double)x[i + j];
    for (int j = 0; i < len; i++, j++) s[j] += (double)x[i];
    return lanes_sum_d(s);
}

/* Sum of (x - c)^2: every term is >= 0, so f32 partials of CHUNK/LANES = 32 terms lose
 * ~1e-7 relative and nothing cancels; chunks are added in double. */
VEC_INLINE double sumsq_about(const float *x, int64_t len, float c) {
    double total = 0.0;
    for (int64_t i0 = 0; i0 < len; i0 += CHUNK) {
        const int m = len - i0 < CHUNK ? (int)(len - i0) : CHUNK;
        const float *xc = x + i0;
        float s[LANES] = {0};
        int p = 0;
        for (; p + LANES <= m; p += LANES)
            for (int j = 0; j < LANES; j++) {
                const float d = xc[p + j] - c;
                s[j] += d * d;
            }
        for (int j = 0; p < m; p++, j++) {
            const float d = xc[p] - c;
            s[j] += d * d;
        }
        total += (double)lanes_sum_f(s);
    }
    return total;
}

typedef struct gn_job {
    int c, hw, groups, silu;
    float eps;
    const float *gamma, *beta, *x;
    float *y;
} gn_job;

VEC_INLINE void gn_group(const gn_job *J, int task) {
    const int c = J->c, hw = J->hw, groups = J->groups, cg = c / groups;
    const int b = task / groups, g = task % groups;
    const int64_t off = ((int64_t)b * c + (int64_t)g * cg) * hw, len = (int64_t)cg * hw;
    const float *x = J->x + off;
    float *y = J->y + off;
    /* mean in double; the squares about mu = (float)mean, corrected for mean - mu */
    const double mean = sum_d(x, len) / (double)len;
    const float mu = (float)mean;
    const double dm = mean - (double)mu;
    double var = sumsq_about(x, len, mu) / (double)len - dm * dm;
    var = var > 0.0 ? var : 0.0;
    const double rstd = 1.0 / sqrt(var + (double)J->eps);
    /* SiLU in blocks (vexp.h's vsilu_block): straight from x channel by channel where a
     * channel holds a block, else over the whole group once it is normalised in y */
    const int direct = J->silu && hw >= VSILU_BLK;
    for (int ci = 0; ci < cg; ci++) {
        const int ch = g * cg + ci;
        /* y = (x - mu) * scale + shift: x - mu is exact or nearly (Sterbenz) even when
         * |mean| >> std, and the part of the mean that float mu misses (dm) is folded
         * into the shift in double (torch's x * scale + (beta - mean * scale) cancels) */
        const double sd = rstd * (double)J->gamma[ch];
        const float scale = (float)sd, shift = (float)((double)J->beta[ch] - dm * sd);
        const float *xc = x + (int64_t)ci * hw;
        float *yc = y + (int64_t)ci * hw;
        if (direct) {
            int p = 0;
            for (; p + VSILU_BLK <= hw; p += VSILU_BLK) {
                float v[VSILU_BLK];
                for (int j = 0; j < VSILU_BLK; j++) v[j] = (xc[p + j] - mu) * scale + shift;
                vsilu_block(v, yc + p);
            }
            for (; p < hw; p++) yc[p] = vsilu_f32((xc[p] - mu) * scale + shift);
        } else {
            for (int p = 0; p < hw; p++) yc[p] = (xc[p] - mu) * scale + shift;
        }
    }
    if (J->silu && !direct) {
        int64_t p = 0;
        for (; p + VSILU_BLK <= len; p += VSILU_BLK) {
            float v[VSILU_BLK];
            memcpy(v, y + p, sizeof v);
            vsilu_block(v, y + p);
        }
        for (; p < len; p++) y[p] = vsilu_f32(y[p]);
    }
}

static void gn_task(void *arg, int task) { gn_group(arg, task); }

#ifdef VEC_HAVE_AVX2
/* The same task, vectorised 8 wide (vexp.h: same rounding, same bits). */
VEC_TARGET_AVX2 static void gn_task_avx2(void *arg, int task) { gn_group(arg, task); }
#endif

void groupnorm_run(int n, int c, int hw, int groups, float eps, const float *gamma,
                   const float *beta, int silu, const float *x, float *y, int n_threads) {
    const gn_job J = {c, hw, groups, silu, eps, gamma, beta, x, y};
    const int par = (int64_t)n * c * hw >= 32768;
    ops_task_fn fn = gn_task;
#ifdef VEC_HAVE_AVX2
    if (vec_cpu_avx2()) fn = gn_task_avx2;
#endif
    ops_parallel_for(n_threads, par, n * groups, fn, (void *)&J);
}
