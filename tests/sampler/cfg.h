/* cfg.h — turns a fixture config vector (sampler_ref.OPT_FIELDS order) and its schedule
 * arrays into a sculpt_schedule and sculpt_sampler_options for the sampler tests. */
#ifndef SAMPLER_TEST_CFG_H
#define SAMPLER_TEST_CFG_H

#include "fixture.h"
#include "sculpt.h"

enum {
    CF_SAMPLER, CF_STEPS, CF_SIGMA_SCHEDULE, CF_SPACING, CF_STEPS_OFFSET, CF_ETA, CF_CHURN, CF_TMIN, CF_TMAX,
    CF_SNOISE, CF_SIGMA_MIN, CF_SIGMA_MAX, CF_RHO, CF_SET_ALPHA_TO_ONE, CF_CLIP_SAMPLE, CF_VARIANCE_TYPE,
    CF_MODEL_CLIP, CF_CLIP_RANGE, CF_PREDICTION, CF_C, CF_S, CF_SEED, CF_N, CF_COUNT
};

typedef struct test_cfg {
    sculpt_schedule sched;
    sculpt_sampler_options opt;
    float *betas, *ac; /* owned */
    int c, s, seed, n;
    size_t per;
    char name[64];
} test_cfg;

static inline void test_cfg_free(test_cfg *tc) {
    free(tc->betas);
    free(tc->ac);
    memset(tc, 0, sizeof *tc);
}

/* prefix: e.g. "c3" (arrays c3_cfg, c3_sched [schedule name chars]) */
static inline int test_cfg_load(test_cfg *tc, const fx_file *f, const char *prefix) {
    char key[96], sname[32] = {0};
    memset(tc, 0, sizeof *tc);
    snprintf(key, sizeof key, "%s_cfg", prefix);
    size_t n = 0;
    double *v = fx_f64(f, key, &n);
    if (!v || n != CF_COUNT) { free(v); return -1; }
    snprintf(key, sizeof key, "%s_sched", prefix);
    size_t ns = 0;
    int64_t *sc = fx_i64(f, key, &ns);
    if (!sc || ns >= sizeof sname) { free(v); free(sc); return -1; }
    for (size_t i = 0; i < ns; i++) sname[i] = (char)sc[i];
    free(sc);
    size_t T = 0;
    snprintf(key, sizeof key, "sched_%s_betas", sname);
    tc->betas = fx_f32(f, key, &T);
    snprintf(key, sizeof key, "sched_%s_ac", sname);
    tc->ac = fx_f32(f, key, NULL);
    if (!tc->betas || !tc->ac) { free(v); test_cfg_free(tc); return -1; }
    sculpt_schedule *s = &tc->sched;
    s->num_train_timesteps = (int32_t)T;
    s->variance_type = (int32_t)v[CF_VARIANCE_TYPE];
    s->clip_sample = (int32_t)v[CF_MODEL_CLIP];
    s->clip_sample_range = (float)v[CF_CLIP_RANGE];
    s->prediction_type = (int32_t)v[CF_PREDICTION];
    s->betas = tc->betas;
    s->alphas_cumprod = tc->ac;
    sculpt_sampler_options *o = &tc->opt;
    sculpt_sampler_defaults(o);
    o->sampler = (int32_t)v[CF_SAMPLER];
    o->steps = (int32_t)v[CF_STEPS];
    o->sigma_schedule = (int32_t)v[CF_SIGMA_SCHEDULE];
    o->spacing = (int32_t)v[CF_SPACING];
    o->steps_offset = (int32_t)v[CF_STEPS_OFFSET];
    o->eta = (float)v[CF_ETA];
    o->churn = (float)v[CF_CHURN];
    o->tmin = (float)v[CF_TMIN];
    o->tmax = (float)v[CF_TMAX];
    o->snoise = (float)v[CF_SNOISE];
    o->sigma_min = (float)v[CF_SIGMA_MIN];
    o->sigma_max = (float)v[CF_SIGMA_MAX];
    o->rho = (float)v[CF_RHO];
    o->set_alpha_to_one = (int32_t)v[CF_SET_ALPHA_TO_ONE];
    o->clip_sample = (int32_t)v[CF_CLIP_SAMPLE];
    tc->c = (int)v[CF_C];
    tc->s = (int)v[CF_S];
    tc->seed = (int)v[CF_SEED];
    tc->n = (int)v[CF_N];
    tc->per = (size_t)tc->c * (size_t)tc->s * (size_t)tc->s;
    static const char *const kn[] = {"ddpm", "ddim", "euler", "heun", "euler_a", "dpmpp_2m"};
    snprintf(tc->name, sizeof tc->name, "%s %s/%s", prefix, o->sampler >= 0 && o->sampler < 6 ? kn[o->sampler] : "?",
             sname);
    free(v);
    return 0;
}

#endif
