/* samplers.c — one step of each sampler, float32 operation for operation as its reference:
 * diffusers DDPMScheduler.step / DDIMScheduler.step; k-diffusion sample_euler, sample_heun,
 * sample_euler_ancestral, sample_dpmpp_2m over DiscreteEps/VDDPMDenoiser. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

/* Built with -ffp-contract=off. A torch expression such as `a * x + b * y` over tensors is
 * three float32 roundings (mul, mul, add); 0-dim tensor coefficients are float32 too, and
 * Python-float scalars are rounded to float32 before they meet a tensor. Comments quote the
 * reference expression each block reproduces. */

static float sqrt_f(float x) { return sqrtf(x); }
static float log_f(float x) { return (float)log((double)x); }
static float exp_f(float x) { return (float)exp((double)x); }
static float expm1_f(float x) { return (float)expm1((double)x); }

/* A network callback's return code as a status: its own sculpt_status, else SCULPT_E_ARG. */
static sculpt_status net_status(int rc) {
    return rc > 0 && rc <= SCULPT_E_INTERRUPTED ? (sculpt_status)rc : SCULPT_E_ARG;
}

/* noise for image j: torch.randn(per) from its own stream (diffusers randn_tensor with a
 * per-image generator; k-diffusion randn_like(x) for a batch of one), added to image j as
 * x + (noise * a) * b — two float32 roundings as the references' expressions (a = 1 is
 * exact, so `x + b * noise` is the same). apply = 0 only advances the streams. */
static void add_noise(sculpt_rng *rngs, sampler_ws *w, float *x, float a, float b, int apply) {
    for (int j = 0; j < w->n; j++) {
        sculpt_rng_randn(&rngs[j], w->noise, w->per);
        if (!apply) continue;
        float *xj = x + (size_t)j * w->per;
        for (size_t k = 0; k < w->per; k++) xj[k] = xj[k] + (w->noise[k] * a) * b;
    }
}

/* ---- the ε/v network as a k-diffusion denoiser ---- */

/* DiscreteEpsDDPMDenoiser / DiscreteVDDPMDenoiser.forward for n images at one sigma:
 * den = x + eps * (-sigma)  or  den = v * c_out + x * c_skip, with the network fed
 * x * c_in at t = sigma_to_t(sigma). */
static sculpt_status denoise(const sampler_plan *p, sampler_ws *w, const float *x, float sigma, float *den,
                             sampler_eps_fn net, void *user) {
    size_t len = (size_t)w->n * w->per;
    float s2p1 = sigma * sigma + 1.0f;          /* sigma ** 2 + sigma_data ** 2 */
    float c_in = 1.0f / sqrt_f(s2p1);           /* 1 / (...) ** 0.5 */
    for (size_t i = 0; i < len; i++) w->xin[i] = x[i] * c_in;
    float t = sampler_sigma_to_t(p->T, p->log_sigmas, sigma);
    for (int j = 0; j < w->n; j++) w->t[j] = t;
    int rc = net(user, w->n, w->xin, w->t, w->out);
    w->nfe++;
    if (rc != 0) return net_status(rc);
    if (p->prediction == SCULPT_PRED_V) {
        float c_skip = 1.0f / s2p1;             /* sigma_data ** 2 / (...) */
        float c_out = (-sigma * 1.0f) / sqrt_f(s2p1);
        for (size_t i = 0; i < len; i++) den[i] = w->out[i] * c_out + x[i] * c_skip;
    } else {
        float c_out = -sigma;
        for (size_t i = 0; i < len; i++) den[i] = x[i] + w->out[i] * c_out;
    }
    return SCULPT_OK;
}

/* ---- diffusers ---- */

/* The network at step i's integer timestep t (out = ε, v or x0 in w->out); *a_t and *a_prev
 * get ᾱ_t and ᾱ at t - T // steps (a_final before 0), as both schedulers' step() take them. */
static sculpt_status eval_timestep(const sampler_plan *p, int i, sampler_ws *w, const float *x, sampler_eps_fn net,
                                   void *user, float a_final, float *a_t, float *a_prev) {
    int64_t t = p->timesteps[i], prev_t = t - p->step_ratio;
    for (int j = 0; j < w->n; j++) w->t[j] = (float)t;
    int rc = net(user, w->n, x, w->t, w->out);
    w->nfe++;
    if (rc != 0) return net_status(rc);
    *a_t = p->alphas_cumprod[t];
    *a_prev = prev_t >= 0 ? p->alphas_cumprod[prev_t] : a_final;
    return SCULPT_OK;
}

static sculpt_status step_ddpm(const sampler_plan *p, int i, sampler_ws *w, float *x, sculpt_rng *rngs,
                               sampler_eps_fn net, void *user) {
    size_t len = (size_t)w->n * w->per;
    float a_t, a_prev;
    sculpt_status st = eval_timestep(p, i, w, x, net, user, 1.0f, &a_t, &a_prev);
    if (st != SCULPT_OK) return st;
    float beta_prod_t = 1.0f - a_t, beta_prod_prev = 1.0f - a_prev;
    float cur_alpha = a_t / a_prev, cur_beta = 1.0f - cur_alpha;
    float sq_a = sqrt_f(a_t), sq_b = sqrt_f(beta_prod_t);
    /* (alpha_prod_t_prev ** 0.5 * current_beta_t) / beta_prod_t;
     * current_alpha_t ** 0.5 * beta_prod_t_prev / beta_prod_t */
    float c_x0 = (sqrt_f(a_prev) * cur_beta) / beta_prod_t;
    float c_x = (sqrt_f(cur_alpha) * beta_prod_prev) / beta_prod_t;
    float lo = -p->clip_range, hi = p->clip_range;
    for (size_t k = 0; k < len; k++) {
        float x0;
        if (p->prediction == SCULPT_PRED_EPSILON) x0 = (x[k] - sq_b * w->out[k]) / sq_a;
        else if (p->prediction == SCULPT_PRED_V) x0 = sq_a * x[k] - sq_b * w->out[k];
        else x0 = w->out[k];
        if (p->clip) x0 = x0 < lo ? lo : (x0 > hi ? hi : x0);
        w->den[k] = x0;
        x[k] = c_x0 * x0 + c_x * x[k];
    }
    if (p->timesteps[i] > 0) {
        /* _get_variance: (1 - a_prev) / (1 - a_t) * current_beta_t, clamped at 1e-20 */
        float var = (1.0f - a_prev) / (1.0f - a_t) * cur_beta;
        if (!(var >= 1e-20f) && !isnan(var)) var = 1e-20f;
        float sd;
        switch (p->variance_type) {
        case SCULPT_VAR_FIXED_LARGE: sd = sqrt_f(cur_beta); break;
        case SCULPT_VAR_FIXED_SMALL_LOG: sd = exp_f(0.5f * log_f(var)); break;
        default: sd = sqrt_f(var); break;
        }
        add_noise(rngs, w, x, 1.0f, sd, 1); /* pred_prev_sample + variance * noise */
    }
    return SCULPT_OK;
}

static sculpt_status step_ddim(const sampler_plan *p, int i, sampler_ws *w, float *x, sculpt_rng *rngs,
                               sampler_eps_fn net, void *user) {
    size_t len = (size_t)w->n * w->per;
    float a_t, a_prev;
    sculpt_status st = eval_timestep(p, i, w, x, net, user, p->final_alpha, &a_t, &a_prev);
    if (st != SCULPT_OK) return st;
    float beta_prod_t = 1.0f - a_t, beta_prod_prev = 1.0f - a_prev;
    float sq_a = sqrt_f(a_t), sq_b = sqrt_f(beta_prod_t);
    /* variance = (beta_prod_t_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_t_prev) */
    float var = (beta_prod_prev / beta_prod_t) * (1.0f - a_t / a_prev);
    float std = p->eta * sqrt_f(var);
    float c_dir = sqrt_f(1.0f - a_prev - std * std); /* (1 - a_prev - std ** 2) ** 0.5 */
    float sq_prev = sqrt_f(a_prev);
    float lo = -p->clip_range, hi = p->clip_range;
    for (size_t k = 0; k < len; k++) {
        float x0, pe, o = w->out[k];
        if (p->prediction == SCULPT_PRED_EPSILON) {
            x0 = (x[k] - sq_b * o) / sq_a;
            pe = o;
        } else if (p->prediction == SCULPT_PRED_V) {
            x0 = sq_a * x[k] - sq_b * o;
            pe = sq_a * o + sq_b * x[k];
        } else {
            x0 = o;
            pe = (x[k] - sq_a * x0) / sq_b;
        }
        if (p->clip) x0 = x0 < lo ? lo : (x0 > hi ? hi : x0);
        w->den[k] = x0;
        x[k] = sq_prev * x0 + c_dir * pe;
    }
    if (p->eta > 0.0f) add_noise(rngs, w, x, 1.0f, std, 1); /* prev_sample + std_dev_t * noise */
    return SCULPT_OK;
}

/* ---- k-diffusion ---- */

/* sample_euler / sample_heun's churn: gamma, sigma_hat, and x += eps * sqrt(sh^2 - s^2),
 * with eps = randn_like(x) * s_noise drawn at every step as k-diffusion does. */
static float churn(const sampler_plan *p, int i, sampler_ws *w, float *x, sculpt_rng *rngs) {
    float s = p->sigmas[i];
    double gamma = 0.0;
    if (p->tmin <= s && s <= p->tmax) {
        gamma = (double)p->churn / (double)p->steps;
        if (gamma > 1.4142135623730951 - 1.0) gamma = 1.4142135623730951 - 1.0;
    }
    float sigma_hat = s * (float)(gamma + 1.0);
    float amp = gamma > 0 ? sqrt_f(sigma_hat * sigma_hat - s * s) : 0.0f;
    add_noise(rngs, w, x, p->snoise, amp, gamma > 0); /* drawn every step, added when gamma > 0 */
    return sigma_hat;
}

static sculpt_status step_euler_heun(const sampler_plan *p, int i, sampler_ws *w, float *x, sculpt_rng *rngs,
                                     sampler_eps_fn net, void *user) {
    size_t len = (size_t)w->n * w->per;
    float sigma_hat = churn(p, i, w, x, rngs);
    float next = p->sigmas[i + 1];
    sculpt_status st = denoise(p, w, x, sigma_hat, w->den, net, user);
    if (st) return st;
    float dt = next - sigma_hat;
    for (size_t k = 0; k < len; k++) w->d[k] = (x[k] - w->den[k]) / sigma_hat;
    if (p->kind == SCULPT_SAMPLER_EULER || next == 0.0f) {
        for (size_t k = 0; k < len; k++) x[k] = x[k] + w->d[k] * dt;
        return SCULPT_OK;
    }
    for (size_t k = 0; k < len; k++) w->x2[k] = x[k] + w->d[k] * dt;
    st = denoise(p, w, w->x2, next, w->den, net, user);
    if (st) return st;
    for (size_t k = 0; k < len; k++) {
        float d2 = (w->x2[k] - w->den[k]) / next;
        float dp = (w->d[k] + d2) / 2.0f;
        x[k] = x[k] + dp * dt;
    }
    return SCULPT_OK;
}

static sculpt_status step_euler_a(const sampler_plan *p, int i, sampler_ws *w, float *x, sculpt_rng *rngs,
                                  sampler_eps_fn net, void *user) {
    size_t len = (size_t)w->n * w->per;
    float s = p->sigmas[i], next = p->sigmas[i + 1];
    sculpt_status st = denoise(p, w, x, s, w->den, net, user);
    if (st) return st;
    /* get_ancestral_step(sigma_from, sigma_to, eta) */
    float down = next, up = 0.0f;
    if (p->eta != 0.0f) {
        float a = next * next, b = s * s;
        float v = p->eta * sqrt_f(a * (b - a) / b);
        up = v < next ? v : next; /* min(sigma_to, v) */
        down = sqrt_f(next * next - up * up);
    }
    float dt = down - s;
    for (size_t k = 0; k < len; k++) x[k] = x[k] + ((x[k] - w->den[k]) / s) * dt;
    if (next > 0.0f) add_noise(rngs, w, x, p->snoise, up, 1); /* x + randn * s_noise * sigma_up */
    return SCULPT_OK;
}

static sculpt_status step_dpmpp_2m(const sampler_plan *p, int i, sampler_ws *w, float *x, sampler_eps_fn net,
                                   void *user) {
    size_t len = (size_t)w->n * w->per;
    float s = p->sigmas[i], next = p->sigmas[i + 1];
    sculpt_status st = denoise(p, w, x, s, w->den, net, user);
    if (st) return st;
    float t = -log_f(s), t_next = -log_f(next); /* t_fn = sigma.log().neg() */
    float h = t_next - t;
    float ratio = exp_f(-t_next) / exp_f(-t);   /* sigma_fn(t_next) / sigma_fn(t) */
    float em1 = expm1_f(-h);
    if (!w->have_old || next == 0.0f) {
        for (size_t k = 0; k < len; k++) x[k] = ratio * x[k] - em1 * w->den[k];
    } else {
        float h_last = t - -log_f(p->sigmas[i - 1]);
        float r = h_last / h;
        float inv = 1.0f / (2.0f * r);
        float c1 = 1.0f + inv;
        for (size_t k = 0; k < len; k++) {
            float dd = c1 * w->den[k] - inv * w->old[k];
            x[k] = ratio * x[k] - em1 * dd;
        }
    }
    memcpy(w->old, w->den, len * sizeof *w->old);
    w->have_old = 1;
    return SCULPT_OK;
}

sculpt_status sampler_step(const sampler_plan *p, int i, sampler_ws *w, float *x, sculpt_rng *rngs,
                           sampler_eps_fn net, void *user) {
    if (i < 0 || i >= p->steps) return SCULPT_E_ARG;
    switch (p->kind) {
    case SCULPT_SAMPLER_DDPM: return step_ddpm(p, i, w, x, rngs, net, user);
    case SCULPT_SAMPLER_DDIM: return step_ddim(p, i, w, x, rngs, net, user);
    case SCULPT_SAMPLER_EULER:
    case SCULPT_SAMPLER_HEUN: return step_euler_heun(p, i, w, x, rngs, net, user);
    case SCULPT_SAMPLER_EULER_A: return step_euler_a(p, i, w, x, rngs, net, user);
    case SCULPT_SAMPLER_DPMPP_2M: return step_dpmpp_2m(p, i, w, x, net, user);
    }
    return SCULPT_E_ARG;
}

void sampler_scale_start(const sampler_plan *p, float *x, size_t count) {
    if (!p->sigmas) return; /* diffusers: init_noise_sigma = 1 */
    float s0 = p->sigmas[0]; /* k-diffusion: x = randn * sigmas[0] */
    for (size_t k = 0; k < count; k++) x[k] = x[k] * s0;
}

sculpt_status sampler_loop(const sampler_plan *p, sampler_ws *w, float *x, sculpt_rng *rngs, sampler_eps_fn net,
                           void *user, sculpt_progress_fn fn, void *fn_user) {
    sampler_scale_start(p, x, (size_t)w->n * w->per);
    w->have_old = 0;
    w->nfe = 0;
    for (int i = 0; i < p->steps; i++) {
        sculpt_status st = sampler_step(p, i, w, x, rngs, net, user);
        if (st != SCULPT_OK) return st;
        if (fn && fn(fn_user, i + 1, p->steps, w->nfe)) return SCULPT_E_INTERRUPTED;
    }
    return SCULPT_OK;
}

/* ---- workspace ---- */

sculpt_status sampler_ws_init(sampler_ws *w, int n, size_t per) {
    memset(w, 0, sizeof *w);
    if (n < 1 || per < 1 || per > ((size_t)1 << 40) / (size_t)n) return SCULPT_E_ARG;
    size_t len = (size_t)n * per;
    w->n = n;
    w->per = per;
    /* one block: 6 buffers of len, the noise of one image, and n timesteps */
    float *b = malloc((6 * len + per + (size_t)n) * sizeof *b);
    if (!b) return SCULPT_E_NOMEM;
    w->xin = b, w->out = b + len, w->den = b + 2 * len, w->d = b + 3 * len, w->x2 = b + 4 * len;
    w->old = b + 5 * len, w->noise = b + 6 * len, w->t = b + 6 * len + per;
    return SCULPT_OK;
}

void sampler_ws_free(sampler_ws *w) {
    if (!w) return;
    free(w->xin);
    memset(w, 0, sizeof *w);
}
