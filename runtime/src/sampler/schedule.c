/* schedule.c — noise schedules as the references compute them: diffusers' betas and
 * set_timesteps spacings (numpy arithmetic), k-diffusion's sigma tables (torch float32). */
#include <math.h>
#include <stdio.h>

#include "sampler.h"

/* Built with -ffp-contract=off: each float expression below is the sequence of float32
 * (or float64) roundings that the reference performs, with fmaf() where torch's compiled
 * kernel fused (found by trial against torch 1.13 on x86-64). */

/* aten linspace_kernel (CPU): step = (end - start) / (n - 1) in float32; values below n/2
 * are start + step*i, the others end - step*(n-1-i), both fused; full 16-value blocks are
 * written as two 8-wide arange(base, step) vectors whose base follows the same rule at the
 * block's first index and whose lanes are base + k*step, not fused. */
void sampler_linspace_f32(float start, float end, int n, float *out) {
    if (n <= 0) return;
    if (n == 1) {
        out[0] = start;
        return;
    }
    float step = (end - start) / (float)(n - 1);
    int64_t half = n / 2, idx = 0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int v = 0; v < 2; v++, idx += 8) {
            float base = idx < half ? fmaf(step, (float)idx, start)
                                    : fmaf(-step, (float)(n - idx - 1), end);
            float *q = out + i + 8 * v;
            q[0] = base;
            for (int k = 1; k < 8; k++) q[k] = base + (float)k * step;
        }
    }
    for (; i < n; i++, idx++)
        out[i] = idx < half ? fmaf(step, (float)idx, start) : fmaf(-step, (float)(n - idx - 1), end);
}

/* numpy's float64 arange(start, stop, step) length and values (values from the first two:
 * delta = (start + step) - start, then start + i*delta). */
static int64_t np_arange_len(double start, double stop, double step) {
    double len = ceil((stop - start) / step);
    return len > 0 ? (int64_t)len : 0;
}

static double np_arange_at(double start, double step, int64_t i) {
    if (i == 0) return start;
    double delta = (start + step) - start;
    return i == 1 ? start + step : start + (double)i * delta;
}

sculpt_status sampler_timesteps(int T, int steps, int spacing, int steps_offset, int64_t *ts,
                                char *err, size_t errlen) {
    if (T < 1 || steps < 1 || steps > T) {
        snprintf(err, errlen, "steps %d must be in 1..%d (the model's training timesteps)", steps, T);
        return SCULPT_E_ARG;
    }
    switch (spacing) {
    case SCULPT_SPACING_LEADING: {
        /* (np.arange(0, steps) * (T // steps)).round()[::-1] + steps_offset */
        int64_t ratio = T / steps;
        for (int i = 0; i < steps; i++) ts[i] = (int64_t)(steps - 1 - i) * ratio + steps_offset;
        break;
    }
    case SCULPT_SPACING_TRAILING: {
        /* np.round(np.arange(T, 0, -T / steps)).astype(int64) - 1 */
        double ratio = (double)T / (double)steps;
        int64_t len = np_arange_len((double)T, 0.0, -ratio);
        if (len != steps) {
            snprintf(err, errlen,
                     "trailing spacing: diffusers' np.arange(%d, 0, -%d/%d) has %lld values, not %d "
                     "(float rounding); choose another step count",
                     T, T, steps, (long long)len, steps);
            return SCULPT_E_UNSUPPORTED;
        }
        for (int i = 0; i < steps; i++) ts[i] = (int64_t)nearbyint(np_arange_at((double)T, -ratio, i)) - 1;
        break;
    }
    case SCULPT_SPACING_LINSPACE: {
        /* np.linspace(0, T - 1, steps).round()[::-1]: y[i] = i * step (+ 0), y[-1] = T - 1 */
        double stop = (double)(T - 1);
        for (int i = 0; i < steps; i++) {
            double y;
            if (steps == 1) y = 0.0;
            else if (i == steps - 1) y = stop;
            else y = (double)i * (stop / (double)(steps - 1)) + 0.0;
            ts[steps - 1 - i] = (int64_t)nearbyint(y);
        }
        break;
    }
    default:
        snprintf(err, errlen, "unknown timestep spacing %d", spacing);
        return SCULPT_E_ARG;
    }
    for (int i = 0; i < steps; i++) {
        if (ts[i] < 0 || ts[i] >= T) {
            snprintf(err, errlen, "timestep %lld (step %d of %d, steps_offset %d) is outside 0..%d",
                     (long long)ts[i], i, steps, steps_offset, T - 1);
            return SCULPT_E_ARG;
        }
    }
    return SCULPT_OK;
}

/* float32 log/exp of torch's scalar path (glibc logf/expf are correctly rounded in practice;
 * the double result rounded once is the same number). */
static float log_f32(float x) { return (float)log((double)x); }
static float exp_f32(float x) { return (float)exp((double)x); }

void sampler_model_sigmas(int T, const float *ac, float *sigmas, float *log_sigmas) {
    /* ((1 - ac) / ac) ** 0.5 and .log(), each a float32 op */
    for (int i = 0; i < T; i++) {
        float s = sqrtf((1.0f - ac[i]) / ac[i]);
        sigmas[i] = s;
        log_sigmas[i] = log_f32(s);
    }
}

float sampler_sigma_to_t(int T, const float *ls, float sigma) {
    float log_sigma = log_f32(sigma);
    /* low_idx = last i with log_sigma - ls[i] >= 0 (0 if none), at most T - 2 */
    int lo = 0;
    for (int i = 0; i < T; i++)
        if (log_sigma - ls[i] >= 0.0f) lo = i;
    if (T < 2) return 0.0f;
    if (lo > T - 2) lo = T - 2;
    int hi = lo + 1;
    float low = ls[lo], high = ls[hi];
    float w = (low - log_sigma) / (low - high);
    if (w < 0.0f) w = 0.0f; /* clamp(0, 1); NaN passes through as torch's does */
    if (w > 1.0f) w = 1.0f;
    return (1.0f - w) * (float)lo + w * (float)hi;
}

float sampler_t_to_sigma(int T, const float *ls, float t) {
    float fl = floorf(t), ce = ceilf(t);
    int lo = (int)fl, hi = (int)ce;
    if (lo < 0) lo = 0;
    if (hi > T - 1) hi = T - 1;
    if (lo > T - 1) lo = T - 1;
    if (hi < 0) hi = 0;
    float w = t - truncf(t); /* Tensor.frac */
    float log_sigma = (1.0f - w) * ls[lo] + w * ls[hi];
    return exp_f32(log_sigma);
}

void sampler_sigmas_karras(int steps, double sigma_min, double sigma_max, double rho, float *out) {
    /* ramp = linspace(0, 1, n); (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho,
     * the Python-float scalars rounded to float32 as torch's tensor-scalar ops do */
    sampler_linspace_f32(0.0f, 1.0f, steps, out);
    double min_inv = pow(sigma_min, 1.0 / rho), max_inv = pow(sigma_max, 1.0 / rho);
    float k = (float)(min_inv - max_inv), b = (float)max_inv, r = (float)rho;
    for (int i = 0; i < steps; i++) {
        float v = b + out[i] * k;
        out[i] = (float)pow((double)v, (double)r);
    }
    out[steps] = 0.0f;
}

void sampler_sigmas_exponential(int steps, double sigma_min, double sigma_max, float *out) {
    sampler_linspace_f32((float)log(sigma_max), (float)log(sigma_min), steps, out);
    for (int i = 0; i < steps; i++) out[i] = exp_f32(out[i]);
    out[steps] = 0.0f;
}

void sampler_sigmas_discrete(int steps, int T, const float *ls, float *out) {
    sampler_linspace_f32((float)(T - 1), 0.0f, steps, out);
    for (int i = 0; i < steps; i++) out[i] = sampler_t_to_sigma(T, ls, out[i]);
    out[steps] = 0.0f;
}

sculpt_status sampler_betas(int schedule, int T, double beta_start, double beta_end, float *betas,
                            char *err, size_t errlen) {
    if (T < 1) {
        snprintf(err, errlen, "num_train_timesteps %d must be >= 1", T);
        return SCULPT_E_ARG;
    }
    switch (schedule) {
    case SCULPT_BETA_LINEAR:
        sampler_linspace_f32((float)beta_start, (float)beta_end, T, betas);
        return SCULPT_OK;
    case SCULPT_BETA_SCALED_LINEAR:
        /* beta ** 0.5 is Python's float pow (libm pow, which may differ from sqrt in the last
         * bit of the double) */
        sampler_linspace_f32((float)pow(beta_start, 0.5), (float)pow(beta_end, 0.5), T, betas);
        for (int i = 0; i < T; i++) betas[i] = betas[i] * betas[i];
        return SCULPT_OK;
    case SCULPT_BETA_SQUAREDCOS_CAP_V2: {
        /* diffusers betas_for_alpha_bar in Python floats (math.cos(...) ** 2 is libm pow),
         * then float32 */
        const double pi = 3.141592653589793;
        for (int i = 0; i < T; i++) {
            double t1 = (double)i / T, t2 = (double)(i + 1) / T;
            double a1 = pow(cos((t1 + 0.008) / 1.008 * pi / 2), 2.0);
            double a2 = pow(cos((t2 + 0.008) / 1.008 * pi / 2), 2.0);
            double b = 1.0 - a2 / a1;
            betas[i] = (float)(b < 0.999 ? b : 0.999);
        }
        return SCULPT_OK;
    }
    default:
        snprintf(err, errlen, "beta_schedule %d has no formula (trained betas come with the model)", schedule);
        return SCULPT_E_UNSUPPORTED;
    }
}

void sampler_alphas_cumprod(int T, const float *betas, float *ac) {
    /* torch.cumprod(1.0 - betas) on the CPU accumulates in float64 */
    double acc = 1.0;
    for (int i = 0; i < T; i++) {
        acc *= (double)(1.0f - betas[i]);
        ac[i] = (float)acc;
    }
}
