/* stub_runtime.c — a stand-in libsculpt for the CLI tests: a "model" is a one-line text
 * file ("sculpt-stub c=3 s=8 T=100 delay_ms=0") and the "sampler" is a fixed map, so the
 * command's parsing, refusals, files and Ctrl-C handling are tested without the UNet. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sculpt.h"

struct sculpt_model {
    sculpt_config cfg;
    sculpt_schedule sch;
    int delay_ms;
    char name[256];
};
struct sculpt_ctx {
    sculpt_model *m;
    int max_batch;
    char err[128];
};

const char *sculpt_status_string(sculpt_status s) {
    static const char *const w[] = {"ok", "I/O error", "malformed file", "unsupported", "out of memory",
                                    "bad argument", "CPU lacks the requested kernel path", "interrupted"};
    return (unsigned)s < 8 ? w[s] : "unknown status";
}

static sculpt_status parse(const char *text, size_t len, const char *name, sculpt_model **out, char *err,
                           size_t errlen) {
    char buf[256];
    int c, s, T, d;
    *out = NULL;
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (sscanf(buf, "sculpt-stub c=%d s=%d T=%d delay_ms=%d", &c, &s, &T, &d) != 4) {
        if (err) snprintf(err, errlen, "%s: not a stub model file", name);
        return SCULPT_E_FORMAT;
    }
    sculpt_model *m = calloc(1, sizeof *m);
    if (!m) return SCULPT_E_NOMEM;
    m->cfg.in_channels = m->cfg.out_channels = c;
    m->cfg.sample_size = s;
    m->sch.num_train_timesteps = T;
    m->delay_ms = d;
    snprintf(m->name, sizeof m->name, "%s", name);
    *out = m;
    return SCULPT_OK;
}

sculpt_status sculpt_model_open(const char *path, unsigned flags, sculpt_model **out, char *err, size_t errlen) {
    (void)flags;
    char buf[256];
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f) {
        if (err) snprintf(err, errlen, "%s: cannot open", path);
        return SCULPT_E_IO;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return parse(buf, n, path, out, err, errlen);
}

sculpt_status sculpt_model_open_memory(const void *data, size_t size, const char *name, unsigned flags,
                                       sculpt_model **out, char *err, size_t errlen) {
    (void)flags;
    return parse(data, size, name, out, err, errlen);
}

void sculpt_model_close(sculpt_model *m) { free(m); }
const sculpt_config *sculpt_model_config(const sculpt_model *m) { return &m->cfg; }
const sculpt_schedule *sculpt_model_schedule(const sculpt_model *m) { return &m->sch; }
uint64_t sculpt_model_checksum(const sculpt_model *m) { (void)m; return 0x0123456789abcdefULL; }
const char *sculpt_model_name(const sculpt_model *m) { return m->name; }

sculpt_status sculpt_ctx_create(sculpt_model *m, const sculpt_ctx_options *opt, sculpt_ctx **out) {
    *out = NULL;
    if (opt->max_batch < 1) return SCULPT_E_ARG;
    if (opt->precision != SCULPT_PRECISION_F32) return SCULPT_E_UNSUPPORTED;
    sculpt_ctx *c = calloc(1, sizeof *c);
    if (!c) return SCULPT_E_NOMEM;
    c->m = m;
    c->max_batch = opt->max_batch;
    *out = c;
    return SCULPT_OK;
}
void sculpt_ctx_destroy(sculpt_ctx *c) { free(c); }
const char *sculpt_ctx_errmsg(const sculpt_ctx *c) { return c ? c->err : "stub: create failed"; }
const char *sculpt_ctx_isa(const sculpt_ctx *c) { (void)c; return "stub"; }
const char *sculpt_ctx_conv(const sculpt_ctx *c) { (void)c; return "stub"; }

/* Not torch's generator: a small LCG + Box-Muller, enough for the CLI's plumbing. */
void sculpt_rng_seed(sculpt_rng *r, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->mt[0] = (uint32_t)seed;
    r->mt[1] = (uint32_t)(seed >> 32);
}
static double lcg(sculpt_rng *r) {
    uint64_t s = (uint64_t)r->mt[0] | (uint64_t)r->mt[1] << 32;
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    r->mt[0] = (uint32_t)s, r->mt[1] = (uint32_t)(s >> 32);
    return ((double)(s >> 11) + 0.5) * 0x1p-53;
}
void sculpt_rng_randn(sculpt_rng *r, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)(sqrt(-2.0 * log(lcg(r))) * cos(6.283185307179586 * lcg(r)));
}

void sculpt_sampler_defaults(sculpt_sampler_options *o) {
    memset(o, 0, sizeof *o);
    o->rho = 7.0f;
    o->clip_sample = -1;
    o->snoise = 1.0f;
    o->tmax = INFINITY;
}

/* 77 steps stand for options a real sampler refuses: only the pre-flight check says so
 * (the stub's run accepts them), so the command must ask before any work starts. */
sculpt_status sculpt_sampler_check(const sculpt_model *m, const sculpt_sampler_options *o, int *nfe, char *err,
                                   size_t errlen) {
    if (o->steps == 77) {
        if (err && errlen) snprintf(err, errlen, "sampler: %s: stub sampler: 77 steps are not supported", m->name);
        return SCULPT_E_UNSUPPORTED;
    }
    if (nfe) *nfe = o->steps;
    return SCULPT_OK;
}

/* x -> 1.5 tanh(x) + 0.1 * (one draw of the image's stream), with a progress call per step.
 * 78 steps: the network fails at its first evaluation (SCULPT_E_ARG, before any progress). */
sculpt_status sculpt_sampler_run(sculpt_ctx *c, const sculpt_sampler_options *o, int n, sculpt_rng *rngs,
                                 float *x, sculpt_progress_fn fn, void *user) {
    if (n < 1 || n > c->max_batch || o->steps < 1) return SCULPT_E_ARG;
    if (o->steps == 78) {
        snprintf(c->err, sizeof c->err, "stub network: evaluation failed");
        return SCULPT_E_ARG;
    }
    size_t chw = (size_t)c->m->cfg.in_channels * (size_t)c->m->cfg.sample_size * (size_t)c->m->cfg.sample_size;
    for (int step = 1; step <= o->steps; step++) {
        if (c->m->delay_ms > 0) { /* the whole delay, even when a signal interrupts it (as a
                                     * network evaluation would not stop either) */
            struct timespec ts = {c->m->delay_ms / 1000, (long)(c->m->delay_ms % 1000) * 1000000L}, rest;
            while (nanosleep(&ts, &rest) != 0) ts = rest;
        }
        if (fn && fn(user, step, o->steps, step)) return SCULPT_E_INTERRUPTED;
    }
    for (int i = 0; i < n; i++) {
        float z;
        sculpt_rng_randn(&rngs[i], &z, 1);
        for (size_t k = 0; k < chw; k++) x[(size_t)i * chw + k] = 1.5f * tanhf(x[(size_t)i * chw + k]) + 0.1f * z;
    }
    return SCULPT_OK;
}
