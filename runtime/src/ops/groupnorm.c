/* groupnorm.c — torch.nn.GroupNorm (affine) with an optional fused SiLU: the scalar
 * reference and the fast path (OpenMP over (item, group); statistics summed in double in
 * a fixed order, so the result is the same for any thread count). */
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

/* Sum of len floats in double with 4 interleaved partial sums (fixed order). */
static void moments(const float *x, int64_t len, double *mean_out, double *var_out) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= len; i += 4) {
        s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3];
    }
    for (; i < len; i++) s0 += x[i];
    const double mean = ((s0 + s1) + (s2 + s3)) / (double)len;
    double q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (i = 0; i + 4 <= len; i += 4) {
        double d0 = x[i] - mean, d1 = x[i + 1] - mean, d2 = x[i + 2] - mean, d3 = x[i + 3] - mean;
        q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
    }
    for (; i < len; i++) { double d = x[i] - mean; q0 += d * d; }
    *mean_out = mean;
    *var_out = ((q0 + q1) + (q2 + q3)) / (double)len;
}

typedef struct gn_job {
    int c, hw, groups, silu;
    float eps;
    const float *gamma, *beta, *x;
    float *y;
} gn_job;

static void gn_task(void *arg, int task) {
    const gn_job *J = arg;
    const int c = J->c, hw = J->hw, groups = J->groups, silu = J->silu, cg = c / groups;
    const float eps = J->eps, *gamma = J->gamma, *beta = J->beta, *x = J->x;
    float *y = J->y;
    const int b = task / groups, g = task % groups;
    const int64_t off = ((int64_t)b * c + (int64_t)g * cg) * hw;
    double mean, var;
    moments(x + off, (int64_t)cg * hw, &mean, &var);
    const float rstd = (float)(1.0 / sqrt(var + (double)eps));
    for (int ci = 0; ci < cg; ci++) {
        const int ch = g * cg + ci;
        /* (x - mean) * scale + beta: torch folds the mean into the shift, which
         * cancels badly when |mean| >> std; this form is the more accurate one */
        const float scale = rstd * gamma[ch], shift = beta[ch], mu = (float)mean;
        const float *xc = x + off + (int64_t)ci * hw;
        float *yc = y + off + (int64_t)ci * hw;
        if (silu) {
            for (int p = 0; p < hw; p++) {
                float v = (xc[p] - mu) * scale + shift;
                yc[p] = v / (1.0f + vexp_f32(-v));
            }
        } else {
            for (int p = 0; p < hw; p++) yc[p] = (xc[p] - mu) * scale + shift;
        }
    }
}

void groupnorm_run(int n, int c, int hw, int groups, float eps, const float *gamma,
                   const float *beta, int silu, const float *x, float *y, int n_threads) {
    const gn_job J = {c, hw, groups, silu, eps, gamma, beta, x, y};
    const int par = (int64_t)n * c * hw >= 32768;
    ops_parallel_for(n_threads, par, n * groups, gn_task, (void *)&J);
}
