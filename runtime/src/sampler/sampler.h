/* sampler.h — internal interface of runtime/src/sampler: schedules (diffusers timestep
 * spacings, k-diffusion sigmas) and one-step sampler functions over an ε-network callback,
 * so that tests can drive every sampler with a mock network. Not installed. */
#ifndef SCULPT_SAMPLER_H
#define SCULPT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "sculpt.h"

/* The network: out[n, per] = net(x[n, per], t[n]) — ε, v or x0 by the schedule's
 * prediction_type. Returns 0 on success; non-zero aborts the run (its status is returned
 * when it is a sculpt_status, else SCULPT_E_ARG). */
typedef int (*sampler_eps_fn)(void *user, int n, const float *x, const float *t, float *eps);

/* ---- rng.c ---- */

/* Tests: non-zero makes sculpt_rng_randn take its portable path on CPUs with FMA too. */
void sampler_rng_force_generic(int on);

/* ---- schedule.c: arrays exactly as the references compute them ---- */

/* torch.linspace(start, end, n) in float32 on the CPU (aten's 8-wide chunks from both
 * ends). n >= 1. */
void sampler_linspace_f32(float start, float end, int n, float *out);

/* diffusers DDPMScheduler/DDIMScheduler.set_timesteps: steps timesteps, descending.
 * Returns SCULPT_OK, or SCULPT_E_ARG / SCULPT_E_UNSUPPORTED with a message in err. */
sculpt_status sampler_timesteps(int T, int steps, int spacing, int steps_offset, int64_t *ts,
                                char *err, size_t errlen);

/* k-diffusion DiscreteSchedule: sigmas[T] = sqrt((1 - ac) / ac) and their logs, float32. */
void sampler_model_sigmas(int T, const float *alphas_cumprod, float *sigmas, float *log_sigmas);

/* DiscreteSchedule.sigma_to_t (log-sigma interpolation, float32) and t_to_sigma. */
float sampler_sigma_to_t(int T, const float *log_sigmas, float sigma);
float sampler_t_to_sigma(int T, const float *log_sigmas, float t);

/* sigmas[steps + 1] (last 0) for k-diffusion: get_sigmas_karras, get_sigmas_exponential,
 * or DiscreteSchedule.get_sigmas(steps). sigma_min/max are doubles as Python passes them. */
void sampler_sigmas_karras(int steps, double sigma_min, double sigma_max, double rho, float *out);
void sampler_sigmas_exponential(int steps, double sigma_min, double sigma_max, float *out);
void sampler_sigmas_discrete(int steps, int T, const float *log_sigmas, float *out);

/* diffusers' betas for a beta_schedule (linear, scaled_linear, squaredcos_cap_v2) and the
 * alphas_cumprod torch computes from them (float64 running product rounded per step).
 * The one implementation: convert-weights (converters/schedule.c) uses these too. */
sculpt_status sampler_betas(int schedule, int T, double beta_start, double beta_end, float *betas,
                            char *err, size_t errlen);
void sampler_alphas_cumprod(int T, const float *betas, float *alphas_cumprod);

/* ---- samplers.c: a run plan and one step at a time ---- */

typedef struct sampler_plan {
    int32_t kind;          /* sculpt_sampler_kind */
    int32_t steps;         /* loop iterations */
    int32_t T;             /* training timesteps */
    int32_t prediction;    /* sculpt_prediction_type */
    int32_t variance_type; /* ddpm */
    int32_t clip;          /* ddpm/ddim: clip x0 to [-clip_range, clip_range] */
    float clip_range;
    float final_alpha;     /* ddim: ᾱ used after the last step (1 or ᾱ[0]) */
    float eta;             /* ddim / euler_a */
    float churn, tmin, tmax, snoise;
    int32_t step_ratio;    /* ddpm/ddim: T // steps (diffusers' previous-timestep rule) */
    const float *betas;          /* [T] (schedule's) */
    const float *alphas_cumprod; /* [T] (schedule's) */
    int64_t *timesteps;    /* [steps] ddpm/ddim */
    float *sigmas;         /* [steps + 1] k-diffusion, last 0 */
    float *model_sigmas;   /* [T] */
    float *log_sigmas;     /* [T] */
} sampler_plan;

/* Validate options against the schedule and build the plan (allocates; free with
 * sampler_plan_free). Messages name the option and the numbers. */
sculpt_status sampler_plan_init(sampler_plan *p, const sculpt_schedule *s,
                                const sculpt_sampler_options *o, char *err, size_t errlen);
void sampler_plan_free(sampler_plan *p);
/* Network evaluations per image for the whole run. */
int sampler_plan_nfe(const sampler_plan *p);

/* sculpt_sampler_check is public: see sculpt.h. */

/* Scratch for n images of `per` values, allocated once per run. */
typedef struct sampler_ws {
    int n;
    size_t per;
    float *xin;   /* [n*per] network input */
    float *out;   /* [n*per] network output */
    float *den;   /* [n*per] denoised / x0 */
    float *d;     /* [n*per] derivative */
    float *x2;    /* [n*per] heun's trial point */
    float *old;   /* [n*per] dpmpp_2m: previous denoised */
    float *noise; /* [per] one image's noise */
    float *t;     /* [n] network timesteps */
    int have_old; /* dpmpp_2m: old holds step i-1's denoised */
    int nfe;      /* evaluations so far (per image) */
} sampler_ws;

sculpt_status sampler_ws_init(sampler_ws *w, int n, size_t per);
void sampler_ws_free(sampler_ws *w);

/* Step i (0 <= i < p->steps) for n images x[n, per] in place; image j's noise comes from
 * rngs[j]. Returns SCULPT_OK or the network's failure. */
sculpt_status sampler_step(const sampler_plan *p, int i, sampler_ws *w, float *x,
                           sculpt_rng *rngs, sampler_eps_fn net, void *user);

/* The whole loop: scale the start noise, then every step; fn (may be NULL) is called after
 * each step with (step, steps, nfe) and stops the run with SCULPT_E_INTERRUPTED when it
 * returns non-zero. */
sculpt_status sampler_loop(const sampler_plan *p, sampler_ws *w, float *x, sculpt_rng *rngs, sampler_eps_fn net,
                           void *user, sculpt_progress_fn fn, void *fn_user);

/* Scale unit-variance starting noise as the reference does (k-diffusion: x * sigmas[0]). */
void sampler_scale_start(const sampler_plan *p, float *x, size_t count);

#endif
