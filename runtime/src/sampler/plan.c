/* plan.c — checks sampler options against a model's schedule and builds the run plan:
 * diffusers timesteps for ddpm/ddim, k-diffusion sigmas for the others. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

void sculpt_sampler_defaults(sculpt_sampler_options *o) {
    memset(o, 0, sizeof *o);
    o->sampler = SCULPT_SAMPLER_DDIM;
    o->steps = 50;
    o->sigma_schedule = SCULPT_SIGMAS_KARRAS;
    o->spacing = SCULPT_SPACING_LEADING;
    o->steps_offset = 0;
    o->eta = 0.0f;
    o->churn = 0.0f;
    o->tmin = 0.0f;
    o->tmax = INFINITY;
    o->snoise = 1.0f;
    o->sigma_min = 0.0f;
    o->sigma_max = 0.0f;
    o->rho = 7.0f;
    o->set_alpha_to_one = 1;
    o->clip_sample = -1;
}

static const char *const kind_names[] = {"ddpm", "ddim", "euler", "heun", "euler_a", "dpmpp_2m"};
static const char *const pred_names[] = {"epsilon", "v_prediction", "sample"};

static sculpt_status fail(char *err, size_t errlen, sculpt_status st, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    return st;
}

void sampler_plan_free(sampler_plan *p) {
    if (!p) return;
    free(p->timesteps);
    free(p->sigmas);
    free(p->model_sigmas);
    memset(p, 0, sizeof *p);
}

int sampler_plan_nfe(const sampler_plan *p) {
    if (p->kind != SCULPT_SAMPLER_HEUN) return p->steps;
    int nfe = 0;
    for (int i = 0; i < p->steps; i++) nfe += p->sigmas[i + 1] == 0.0f ? 1 : 2;
    return nfe;
}

sculpt_status sampler_plan_init(sampler_plan *p, const sculpt_schedule *s, const sculpt_sampler_options *o,
                                char *err, size_t errlen) {
    char msg[320];
    memset(p, 0, sizeof *p);
    if (!s || !o || !s->alphas_cumprod || !s->betas || s->num_train_timesteps < 1)
        return fail(err, errlen, SCULPT_E_ARG, "sampler: no schedule or options");
    int T = s->num_train_timesteps;
    if (o->sampler < 0 || o->sampler > SCULPT_SAMPLER_DPMPP_2M) {
        snprintf(msg, sizeof msg, "sampler: unknown sampler %d", (int)o->sampler);
        return fail(err, errlen, SCULPT_E_ARG, msg);
    }
    const char *kn = kind_names[o->sampler];
    int kdiff = o->sampler >= SCULPT_SAMPLER_EULER;
    if (o->steps < 1 || o->steps > 100000) {
        snprintf(msg, sizeof msg, "%s: steps %d must be in 1..100000", kn, (int)o->steps);
        return fail(err, errlen, SCULPT_E_ARG, msg);
    }
    if (s->prediction_type < 0 || s->prediction_type > SCULPT_PRED_SAMPLE) {
        snprintf(msg, sizeof msg, "%s: unknown prediction type %d", kn, (int)s->prediction_type);
        return fail(err, errlen, SCULPT_E_UNSUPPORTED, msg);
    }
    if (kdiff && s->prediction_type == SCULPT_PRED_SAMPLE) {
        snprintf(msg, sizeof msg,
                 "%s: the model predicts '%s'; k-diffusion's discrete denoisers take epsilon or v_prediction "
                 "models (use ddpm or ddim)",
                 kn, pred_names[s->prediction_type]);
        return fail(err, errlen, SCULPT_E_UNSUPPORTED, msg);
    }
    if (o->sampler == SCULPT_SAMPLER_DDPM && s->variance_type != SCULPT_VAR_FIXED_SMALL &&
        s->variance_type != SCULPT_VAR_FIXED_LARGE && s->variance_type != SCULPT_VAR_FIXED_SMALL_LOG) {
        snprintf(msg, sizeof msg,
                 "ddpm: variance_type %d is not supported (fixed_small, fixed_large, fixed_small_log are; "
                 "diffusers' fixed_large_log step takes the square root of a log and gives NaN)",
                 (int)s->variance_type);
        return fail(err, errlen, SCULPT_E_UNSUPPORTED, msg);
    }
    if (!isfinite(o->eta) || o->eta < 0 || !isfinite(o->churn) || o->churn < 0 || !isfinite(o->snoise) ||
        o->snoise < 0 || isnan(o->tmin) || isnan(o->tmax)) {
        snprintf(msg, sizeof msg, "%s: eta %g, churn %g, snoise %g must be finite and >= 0 (tmin %g, tmax %g)", kn,
                 (double)o->eta, (double)o->churn, (double)o->snoise, (double)o->tmin, (double)o->tmax);
        return fail(err, errlen, SCULPT_E_ARG, msg);
    }
    if (o->clip_sample < -1 || o->clip_sample > 1) {
        snprintf(msg, sizeof msg, "%s: clip_sample %d must be -1 (the model's), 0 or 1", kn, (int)o->clip_sample);
        return fail(err, errlen, SCULPT_E_ARG, msg);
    }
    p->kind = o->sampler;
    p->steps = o->steps;
    p->T = T;
    p->prediction = s->prediction_type;
    p->variance_type = s->variance_type;
    p->clip = o->clip_sample < 0 ? (s->clip_sample != 0) : o->clip_sample;
    p->clip_range = s->clip_sample_range;
    p->eta = o->eta;
    p->churn = o->churn, p->tmin = o->tmin, p->tmax = o->tmax, p->snoise = o->snoise;
    p->betas = s->betas;
    p->alphas_cumprod = s->alphas_cumprod;
    if (p->clip && !(p->clip_range > 0)) {
        snprintf(msg, sizeof msg, "%s: clip_sample_range %g must be > 0", kn, (double)p->clip_range);
        return fail(err, errlen, SCULPT_E_UNSUPPORTED, msg);
    }

    if (!kdiff) {
        if (o->steps > T) {
            snprintf(msg, sizeof msg, "%s: steps %d is more than the model's %d training timesteps", kn,
                     (int)o->steps, T);
            return fail(err, errlen, SCULPT_E_ARG, msg);
        }
        if (o->steps_offset < 0) {
            snprintf(msg, sizeof msg, "%s: steps_offset %d must be >= 0", kn, (int)o->steps_offset);
            return fail(err, errlen, SCULPT_E_ARG, msg);
        }
        p->step_ratio = T / o->steps;
        p->final_alpha = o->set_alpha_to_one ? 1.0f : s->alphas_cumprod[0];
        p->timesteps = malloc((size_t)o->steps * sizeof *p->timesteps);
        if (!p->timesteps) return fail(err, errlen, SCULPT_E_NOMEM, "sampler: out of memory");
        char e2[256];
        sculpt_status st = sampler_timesteps(T, o->steps, o->spacing, o->steps_offset, p->timesteps, e2, sizeof e2);
        if (st != SCULPT_OK) {
            snprintf(msg, sizeof msg, "%s: %s", kn, e2);
            sampler_plan_free(p);
            return fail(err, errlen, st, msg);
        }
        /* ddim with eta > 1 can make 1 - ᾱ_prev - σ_t² negative: diffusers would take the
         * square root of it and return NaN */
        for (int i = 0; o->sampler == SCULPT_SAMPLER_DDIM && i < o->steps; i++) {
            int64_t t = p->timesteps[i], prev = t - p->step_ratio;
            float a_t = s->alphas_cumprod[t], a_prev = prev >= 0 ? s->alphas_cumprod[prev] : p->final_alpha;
            float var = ((1.0f - a_prev) / (1.0f - a_t)) * (1.0f - a_t / a_prev);
            float sd = p->eta * sqrtf(var);
            if (!(1.0f - a_prev - sd * sd >= 0.0f)) {
                snprintf(msg, sizeof msg, "ddim: eta %g is too large at timestep %lld (1 - alpha_prev - sigma^2 = %g < 0)",
                         (double)o->eta, (long long)t, (double)(1.0f - a_prev - sd * sd));
                sampler_plan_free(p);
                return fail(err, errlen, SCULPT_E_ARG, msg);
            }
        }
        return SCULPT_OK;
    }

    if (T < 2) {
        snprintf(msg, sizeof msg, "%s: the model has %d training timesteps; sigma interpolation needs 2", kn, T);
        return fail(err, errlen, SCULPT_E_UNSUPPORTED, msg);
    }
    p->model_sigmas = malloc(2 * (size_t)T * sizeof *p->model_sigmas);
    p->sigmas = malloc(((size_t)o->steps + 1) * sizeof *p->sigmas);
    if (!p->model_sigmas || !p->sigmas) {
        sampler_plan_free(p);
        return fail(err, errlen, SCULPT_E_NOMEM, "sampler: out of memory");
    }
    p->log_sigmas = p->model_sigmas + T;
    sampler_model_sigmas(T, s->alphas_cumprod, p->model_sigmas, p->log_sigmas);
    double smin = o->sigma_min > 0 ? (double)o->sigma_min : (double)p->model_sigmas[0];
    double smax = o->sigma_max > 0 ? (double)o->sigma_max : (double)p->model_sigmas[T - 1];
    switch (o->sigma_schedule) {
    case SCULPT_SIGMAS_DISCRETE:
        sampler_sigmas_discrete(o->steps, T, p->log_sigmas, p->sigmas);
        break;
    case SCULPT_SIGMAS_KARRAS:
    case SCULPT_SIGMAS_EXPONENTIAL:
        if (!(smin > 0) || !(smax > smin) || !isfinite(smax) || o->sigma_min < 0 || o->sigma_max < 0) {
            snprintf(msg, sizeof msg, "%s: sigma range %g..%g must satisfy 0 < sigma_min < sigma_max", kn, smin, smax);
            sampler_plan_free(p);
            return fail(err, errlen, SCULPT_E_ARG, msg);
        }
        if (o->sigma_schedule == SCULPT_SIGMAS_EXPONENTIAL) {
            sampler_sigmas_exponential(o->steps, smin, smax, p->sigmas);
            break;
        }
        if (!(o->rho > 0) || !isfinite(o->rho)) {
            snprintf(msg, sizeof msg, "%s: rho %g must be > 0", kn, (double)o->rho);
            sampler_plan_free(p);
            return fail(err, errlen, SCULPT_E_ARG, msg);
        }
        sampler_sigmas_karras(o->steps, smin, smax, (double)o->rho, p->sigmas);
        break;
    default:
        snprintf(msg, sizeof msg, "%s: unknown sigma schedule %d", kn, (int)o->sigma_schedule);
        sampler_plan_free(p);
        return fail(err, errlen, SCULPT_E_ARG, msg);
    }
    for (int i = 0; i < o->steps; i++) {
        if (!(p->sigmas[i] > 0) || !isfinite(p->sigmas[i])) {
            snprintf(msg, sizeof msg, "%s: sigma[%d] = %g of the schedule is not a positive number", kn, i,
                     (double)p->sigmas[i]);
            sampler_plan_free(p);
            return fail(err, errlen, SCULPT_E_ARG, msg);
        }
    }
    return SCULPT_OK;
}
