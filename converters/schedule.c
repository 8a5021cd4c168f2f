/* schedule.c — the DDPM noise schedule from scheduler_config.json as diffusers DDPMScheduler
 * reads it; tables from the runtime's sampler_betas / sampler_alphas_cumprod (one shared,
 * torch-exact implementation in runtime/src/sampler/schedule.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "sampler/sampler.h"

#define MAX_T 100000 /* the weight-file reader's limit (weightfile.h WF_MAX_TIMESTEPS) */

static int alloc_tables(cw_schedule *s, int T, char *err) {
    free(s->betas);
    free(s->alphas_cumprod);
    s->betas = malloc((size_t)T * sizeof(float));
    s->alphas_cumprod = malloc((size_t)T * sizeof(float));
    if (!s->betas || !s->alphas_cumprod) return cw_fail(err, "out of memory for %d timesteps", T);
    s->s.betas = s->betas;
    s->s.alphas_cumprod = s->alphas_cumprod;
    return 0;
}

int cw_schedule_tables(cw_schedule *s, char *err) {
    int T = s->s.num_train_timesteps;
    if (T < 1 || T > MAX_T) return cw_fail(err, "num_train_timesteps = %d must be in 1..%d", T, MAX_T);
    if (alloc_tables(s, T, err)) return -1;
    char e2[CW_ERR];
    if (sampler_betas(s->s.beta_schedule, T, s->beta_start, s->beta_end, s->betas, e2, sizeof e2) != SCULPT_OK)
        return cw_fail(err, "%s", e2);
    sampler_alphas_cumprod(T, s->betas, s->alphas_cumprod);
    return 0;
}

void cw_schedule_free(cw_schedule *s) {
    free(s->betas);
    free(s->alphas_cumprod);
    memset(s, 0, sizeof *s);
}

int cw_schedule_default(cw_schedule *s, char *err) {
    memset(s, 0, sizeof *s);
    s->s.num_train_timesteps = 1000;
    s->s.beta_schedule = SCULPT_BETA_LINEAR;
    s->s.beta_start = 0.0001f;
    s->s.beta_end = 0.02f;
    s->beta_start = 0.0001;
    s->beta_end = 0.02;
    s->s.variance_type = SCULPT_VAR_FIXED_LARGE;
    s->s.clip_sample = 1;
    s->s.clip_sample_range = 1.0f;
    s->s.prediction_type = SCULPT_PRED_EPSILON;
    snprintf(s->source, sizeof s->source, "DDPM CIFAR-10 defaults");
    return cw_schedule_tables(s, err);
}

/* What the weight-file reader accepts (weights/FORMAT.md, Validation 8): betas in (0, 1),
 * alphas_cumprod in (0, 1]. */
static int check_tables(const cw_schedule *s, const char *file, char *err) {
    for (int i = 0; i < s->s.num_train_timesteps; i++) {
        if (!(s->betas[i] > 0.0f && s->betas[i] < 1.0f))
            return cw_fail(err, "%s: beta[%d] = %g is outside (0, 1)", file, i, (double)s->betas[i]);
        if (!(s->alphas_cumprod[i] > 0.0f))
            return cw_fail(err, "%s: alphas_cumprod[%d] underflows to 0 in float32", file, i);
    }
    return 0;
}

/* ---- scheduler_config.json ---- */

static int get_number(const json_value *root, const char *key, double *v, int *present,
                      const char *file, char *err) {
    const json_value *j = json_get(root, key);
    *present = j && j->type != JSON_NULL;
    if (!*present) return 0;
    if (j->type != JSON_NUMBER) return cw_fail(err, "%s: '%s' must be a number", file, key);
    *v = j->number;
    return 0;
}

static int get_string(const json_value *root, const char *key, const char **v, const char *file,
                      char *err) {
    const json_value *j = json_get(root, key);
    if (!j || j->type == JSON_NULL) return 0;
    if (j->type != JSON_STRING) return cw_fail(err, "%s: '%s' must be a string", file, key);
    *v = j->string;
    return 0;
}

static int get_bool(const json_value *root, const char *key, int *v, const char *file, char *err) {
    const json_value *j = json_get(root, key);
    if (!j || j->type == JSON_NULL) return 0;
    if (j->type != JSON_BOOL) return cw_fail(err, "%s: '%s' must be true or false", file, key);
    *v = j->boolean;
    return 0;
}

static void add_extra(cw_schedule *s, const char *key, const json_value *j) {
    char val[128];
    if (!j || j->type == JSON_NULL) return;
    if (j->type == JSON_STRING) snprintf(val, sizeof val, "%s", j->string);
    else if (j->type == JSON_BOOL) snprintf(val, sizeof val, "%s", j->boolean ? "true" : "false");
    else if (j->type == JSON_NUMBER && j->is_integer) snprintf(val, sizeof val, "%lld", (long long)j->integer);
    else if (j->type == JSON_NUMBER) snprintf(val, sizeof val, "%.17g", j->number);
    else return;
    if (!cw_meta_value_ok(val)) cw_meta_clean(val); /* informational: never a reason to fail */
    size_t used = strlen(s->extra);
    snprintf(s->extra + used, sizeof s->extra - used, "scheduler.%s=%s\n", key, val);
}

int cw_schedule_from_json(cw_schedule *s, const json_value *root, const char *file, char *err) {
    memset(s, 0, sizeof *s);
    if (!root || root->type != JSON_OBJECT) return cw_fail(err, "%s: not a JSON object", file);
    /* diffusers DDPMScheduler.__init__ defaults for keys the file leaves out */
    double T = 1000, bs = 0.0001, be = 0.02, range = 1.0;
    int clip = 1, present;
    const char *sched = "linear", *var = "fixed_small", *pred = "epsilon", *cls = NULL;
    if (get_number(root, "num_train_timesteps", &T, &present, file, err) ||
        get_number(root, "beta_start", &bs, &present, file, err) ||
        get_number(root, "beta_end", &be, &present, file, err) ||
        get_number(root, "clip_sample_range", &range, &present, file, err) ||
        get_bool(root, "clip_sample", &clip, file, err) ||
        get_string(root, "beta_schedule", &sched, file, err) ||
        get_string(root, "variance_type", &var, file, err) ||
        get_string(root, "prediction_type", &pred, file, err) ||
        get_string(root, "_class_name", &cls, file, err))
        return -1;
    if (!(T >= 1 && T <= MAX_T && T == floor(T)))
        return cw_fail(err, "%s: num_train_timesteps = %g must be an integer in 1..%d", file, T, MAX_T);
    if (!(bs >= 0 && bs < 1 && be > 0 && be < 1))
        return cw_fail(err, "%s: beta_start = %g, beta_end = %g must be in [0, 1)", file, bs, be);
    if (!(range > 0 && range < 1e6))
        return cw_fail(err, "%s: clip_sample_range = %g must be positive", file, range);
    sculpt_schedule *o = &s->s;
    o->num_train_timesteps = (int32_t)T;
    o->beta_start = (float)bs;
    o->beta_end = (float)be;
    s->beta_start = bs;
    s->beta_end = be;
    o->clip_sample = clip;
    o->clip_sample_range = (float)range;

    if (!strcmp(var, "fixed_small")) o->variance_type = SCULPT_VAR_FIXED_SMALL;
    else if (!strcmp(var, "fixed_large")) o->variance_type = SCULPT_VAR_FIXED_LARGE;
    else if (!strcmp(var, "fixed_small_log")) o->variance_type = SCULPT_VAR_FIXED_SMALL_LOG;
    else if (!strcmp(var, "fixed_large_log")) o->variance_type = SCULPT_VAR_FIXED_LARGE_LOG;
    else return cw_fail(err, "%s: variance_type '%s' is not supported (fixed_small, fixed_large, "
                        "fixed_small_log, fixed_large_log)", file, var);
    if (!strcmp(pred, "epsilon")) o->prediction_type = SCULPT_PRED_EPSILON;
    else if (!strcmp(pred, "v_prediction")) o->prediction_type = SCULPT_PRED_V;
    else if (!strcmp(pred, "sample")) o->prediction_type = SCULPT_PRED_SAMPLE;
    else return cw_fail(err, "%s: prediction_type '%s' is not supported (epsilon, v_prediction, sample)",
                        file, pred);

    /* switches that change the schedule or the update and that sculpt does not implement */
    int thresholding = 0, rescale = 0;
    if (get_bool(root, "thresholding", &thresholding, file, err) ||
        get_bool(root, "rescale_betas_zero_snr", &rescale, file, err))
        return -1;
    if (thresholding) return cw_fail(err, "%s: thresholding = true is not supported", file);
    if (rescale) return cw_fail(err, "%s: rescale_betas_zero_snr = true is not supported", file);

    const json_value *tb = json_get(root, "trained_betas");
    if (tb && tb->type != JSON_NULL) {
        if (tb->type != JSON_ARRAY || tb->len < 1 || tb->len > MAX_T)
            return cw_fail(err, "%s: trained_betas must be a list of 1..%d numbers", file, MAX_T);
        /* DDPMScheduler: betas = torch.tensor(trained_betas, float32), while its timesteps
         * run over num_train_timesteps: a longer list is used up to T, a shorter one would be
         * indexed past its end. Without the key, T follows the list. */
        size_t use = tb->len;
        const json_value *nt = json_get(root, "num_train_timesteps");
        if (nt && nt->type != JSON_NULL) {
            if ((size_t)T > tb->len)
                return cw_fail(err, "%s: trained_betas has %zu values but num_train_timesteps is %d (diffusers "
                               "would index past the list)", file, tb->len, (int)T);
            if ((size_t)T < tb->len) {
                use = (size_t)T;
                cw_note("%s: trained_betas has %zu values, num_train_timesteps %d: the first %d are used, as "
                        "diffusers does", file, tb->len, (int)T, (int)T);
            }
        }
        o->num_train_timesteps = (int32_t)use;
        o->beta_schedule = SCULPT_BETA_TRAINED;
        if (alloc_tables(s, o->num_train_timesteps, err)) return -1;
        for (size_t i = 0; i < tb->len; i++) {
            const json_value *v = &tb->items[i];
            if (v->type != JSON_NUMBER || !(v->number > 0 && v->number < 1))
                return cw_fail(err, "%s: trained_betas[%zu] must be a number in (0, 1)", file, i);
            float b = (float)v->number;
            if (!(b > 0.0f && b < 1.0f))
                return cw_fail(err, "%s: trained_betas[%zu] = %g rounds outside (0, 1) in float32",
                               file, i, v->number);
            if (i < use) s->betas[i] = b;
        }
        sampler_alphas_cumprod(o->num_train_timesteps, s->betas, s->alphas_cumprod);
        if (check_tables(s, file, err)) return -1;
    } else {
        if (!strcmp(sched, "linear")) o->beta_schedule = SCULPT_BETA_LINEAR;
        else if (!strcmp(sched, "scaled_linear")) o->beta_schedule = SCULPT_BETA_SCALED_LINEAR;
        else if (!strcmp(sched, "squaredcos_cap_v2")) o->beta_schedule = SCULPT_BETA_SQUAREDCOS_CAP_V2;
        else return cw_fail(err, "%s: beta_schedule '%s' is not supported (linear, scaled_linear, "
                            "squaredcos_cap_v2, or trained_betas)", file, sched);
        char e2[CW_ERR];
        if (cw_schedule_tables(s, e2)) return cw_fail(err, "%s: %s", file, e2);
        if (check_tables(s, file, err)) return -1;
    }
    /* keys the samplers may want; kept as metadata */
    static const char *const keep[] = {"_class_name", "timestep_spacing", "steps_offset",
                                       "set_alpha_to_one", "sample_max_value"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) add_extra(s, keep[i], json_get(root, keep[i]));
    (void)cls;
    snprintf(s->source, sizeof s->source, "%s", file);
    return 0;
}
