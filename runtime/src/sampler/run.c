/* run.c — sculpt_sampler_run: the sampling loop over a context's UNet, one step function
 * per sampler (samplers.c), per-image noise streams, scratch allocated once per run. */
#include <stdio.h>
#include <string.h>

#include "ctx_link.h" /* the context's batch limit and error message */
#include "sampler.h"

static int eval_net(void *user, int n, const float *x, const float *t, float *out) {
    return (int)sculpt_ctx_eval((sculpt_ctx *)user, n, x, t, out);
}

/* What the samplers need from the model beyond its schedule: an output of the input's
 * shape. Also builds the plan (p), so a run validates and plans once. */
static sculpt_status plan_for_model(const sculpt_model *m, const sculpt_sampler_options *o, sampler_plan *p,
                                    char *err, size_t errlen) {
    const sculpt_schedule *s = m ? sculpt_model_schedule(m) : NULL;
    const sculpt_config *cfg = m ? sculpt_model_config(m) : NULL;
    memset(p, 0, sizeof *p);
    if (!s || !cfg) {
        if (err && errlen) snprintf(err, errlen, "sampler: no model");
        return SCULPT_E_ARG;
    }
    if (cfg->out_channels != cfg->in_channels) {
        if (err && errlen)
            snprintf(err, errlen,
                     "sampler: %s: the network outputs %d channels for %d input channels (learned variance?); "
                     "only epsilon / v / sample outputs of the input's shape are supported",
                     sculpt_model_name(m), (int)cfg->out_channels, (int)cfg->in_channels);
        return SCULPT_E_UNSUPPORTED;
    }
    char e2[320];
    sculpt_status st = sampler_plan_init(p, s, o, e2, sizeof e2);
    if (st != SCULPT_OK && err && errlen) snprintf(err, errlen, "sampler: %s: %s", sculpt_model_name(m), e2);
    return st;
}

/* Check options against a model before any work starts; *nfe (optional) receives the
 * network evaluations per image the run will take (declared in sculpt.h). */
sculpt_status sculpt_sampler_check(const sculpt_model *m, const sculpt_sampler_options *o, int *nfe, char *err,
                                   size_t errlen) {
    sampler_plan p;
    sculpt_status st = plan_for_model(m, o, &p, err, errlen);
    if (st == SCULPT_OK && nfe) *nfe = sampler_plan_nfe(&p);
    sampler_plan_free(&p);
    return st;
}

sculpt_status sculpt_sampler_run(sculpt_ctx *c, const sculpt_sampler_options *o, int n, sculpt_rng *rngs,
                                 float *x, sculpt_progress_fn fn, void *user) {
    if (!c) return SCULPT_E_ARG;
    int max_batch = sampler_ctx_max_batch(c);
    if (!o || !rngs || !x || n < 1 || n > max_batch) {
        sampler_ctx_set_error(c, "sampler: bad arguments (n %d, max_batch %d, options %s, rngs %s, x %s)", n,
                              max_batch, o ? "given" : "NULL", rngs ? "given" : "NULL", x ? "given" : "NULL");
        return SCULPT_E_ARG;
    }
    const sculpt_model *m = sculpt_ctx_model(c);
    const sculpt_config *cfg = m ? sculpt_model_config(m) : NULL;
    if (!cfg) {
        sampler_ctx_set_error(c, "sampler: the context has no model");
        return SCULPT_E_ARG;
    }
    sampler_plan p;
    char err[384];
    sculpt_status st = plan_for_model(m, o, &p, err, sizeof err); /* sculpt_sampler_check's verdicts */
    if (st != SCULPT_OK) {
        sampler_ctx_set_error(c, "%s", err);
        return st;
    }
    size_t per = (size_t)cfg->in_channels * (size_t)cfg->sample_size * (size_t)cfg->sample_size;
    sampler_ws w;
    st = sampler_ws_init(&w, n, per);
    if (st != SCULPT_OK) {
        sampler_ctx_set_error(c, "sampler: cannot allocate scratch for %d images of %zu values", n, per);
        sampler_plan_free(&p);
        return st;
    }
    st = sampler_loop(&p, &w, x, rngs, eval_net, c, fn, user); /* a failed eval left its message */
    if (st == SCULPT_E_INTERRUPTED)
        sampler_ctx_set_error(c, "sampler: stopped by the progress callback after %d network evaluations", w.nfe);
    sampler_ws_free(&w);
    sampler_plan_free(&p);
    return st;
}
