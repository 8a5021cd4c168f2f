/* run.c — sculpt_sampler_run: the sampling loop over a context's UNet, one step function
 * per sampler (samplers.c), per-image noise streams, scratch allocated once per run. */
#include <stdio.h>

#include "model/unet.h" /* struct sculpt_ctx: its err[] carries the sampler's messages */
#include "sampler.h"

static int eval_net(void *user, int n, const float *x, const float *t, float *out) {
    return (int)sculpt_ctx_eval((sculpt_ctx *)user, n, x, t, out);
}

/* Check options against a model before any work starts; *nfe (optional) receives the
 * network evaluations per image the run will take. Proposed for sculpt.h. */
sculpt_status sculpt_sampler_check(const sculpt_model *m, const sculpt_sampler_options *o, int *nfe, char *err,
                                   size_t errlen) {
    char msg[384];
    const sculpt_schedule *s = m ? sculpt_model_schedule(m) : NULL;
    const sculpt_config *cfg = m ? sculpt_model_config(m) : NULL;
    if (!s || !cfg) {
        if (err && errlen) snprintf(err, errlen, "sampler: no model");
        return SCULPT_E_ARG;
    }
    if (cfg->out_channels != cfg->in_channels) {
        snprintf(msg, sizeof msg,
                 "sampler: %s: the network outputs %d channels for %d input channels (learned variance?); "
                 "only epsilon / v / sample outputs of the input's shape are supported",
                 sculpt_model_name(m), (int)cfg->out_channels, (int)cfg->in_channels);
        if (err && errlen) snprintf(err, errlen, "%s", msg);
        return SCULPT_E_UNSUPPORTED;
    }
    sampler_plan p;
    char e2[320];
    sculpt_status st = sampler_plan_init(&p, s, o, e2, sizeof e2);
    if (st != SCULPT_OK) {
        if (err && errlen) snprintf(err, errlen, "sampler: %s: %s", sculpt_model_name(m), e2);
        return st;
    }
    if (nfe) *nfe = sampler_plan_nfe(&p);
    sampler_plan_free(&p);
    return SCULPT_OK;
}

sculpt_status sculpt_sampler_run(sculpt_ctx *c, const sculpt_sampler_options *o, int n, sculpt_rng *rngs,
                                 float *x, sculpt_progress_fn fn, void *user) {
    if (!c) return SCULPT_E_ARG;
    if (!o || !rngs || !x || n < 1 || n > c->max_batch) {
        snprintf(c->err, sizeof c->err, "sampler: bad arguments (n %d, max_batch %d, options %s, rngs %s, x %s)", n,
                 c->max_batch, o ? "given" : "NULL", rngs ? "given" : "NULL", x ? "given" : "NULL");
        return SCULPT_E_ARG;
    }
    const sculpt_model *m = sculpt_ctx_model(c);
    const sculpt_config *cfg = m ? sculpt_model_config(m) : NULL;
    const sculpt_schedule *s = m ? sculpt_model_schedule(m) : NULL;
    if (!cfg || !s) {
        snprintf(c->err, sizeof c->err, "sampler: the context has no model");
        return SCULPT_E_ARG;
    }
    sampler_plan p;
    char err[384];
    sculpt_status st = sculpt_sampler_check(m, o, NULL, err, sizeof err);
    if (st == SCULPT_OK) st = sampler_plan_init(&p, s, o, err, sizeof err);
    if (st != SCULPT_OK) {
        snprintf(c->err, sizeof c->err, "%s", err);
        return st;
    }
    size_t per = (size_t)cfg->in_channels * (size_t)cfg->sample_size * (size_t)cfg->sample_size;
    sampler_ws w;
    st = sampler_ws_init(&w, n, per);
    if (st != SCULPT_OK) {
        snprintf(c->err, sizeof c->err, "sampler: cannot allocate scratch for %d images of %zu values", n, per);
        sampler_plan_free(&p);
        return st;
    }
    st = sampler_loop(&p, &w, x, rngs, eval_net, c, fn, user); /* a failed eval left its message */
    if (st == SCULPT_E_INTERRUPTED)
        snprintf(c->err, sizeof c->err, "sampler: stopped by the progress callback after %d network evaluations",
                 w.nfe);
    sampler_ws_free(&w);
    sampler_plan_free(&p);
    return st;
}
