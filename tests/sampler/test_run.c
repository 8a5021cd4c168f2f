/* test_run.c — sculpt_sampler_run on the tiny UNet fixture (tests/fixtures/unet/tiny.bin):
 * equal to the internal loop driven by sculpt_ctx_eval, one stream per image (a batch of
 * two equals the two images run alone, to eval's batch tolerance), progress and
 * interruption, every refused input with its message in sculpt_ctx_errmsg, and the
 * pre-flight sculpt_sampler_check. */
#include <math.h>

#include "sampler/sampler.h"
#include "test.h"

static int ctx_net(void *user, int n, const float *x, const float *t, float *out) {
    return (int)sculpt_ctx_eval(user, n, x, t, out);
}

typedef struct prog { int calls, last_step, last_nfe, stop_at; } prog;

static int on_step(void *user, int step, int steps, int nfe) {
    prog *p = user;
    p->calls++;
    CHECK(step == p->last_step + 1 && step <= steps && nfe >= p->last_nfe);
    p->last_step = step;
    p->last_nfe = nfe;
    return p->stop_at && step >= p->stop_at;
}

static void start_noise(sculpt_rng *rngs, float *x, int n, size_t per, uint64_t seed) {
    for (int j = 0; j < n; j++) {
        sculpt_rng_seed(&rngs[j], seed + (uint64_t)j);
        sculpt_rng_randn(&rngs[j], x + (size_t)j * per, per);
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/unet";
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/tiny.bin", dir);
    sculpt_model *m = NULL;
    if (sculpt_model_open(path, 0, &m, err, sizeof err) != SCULPT_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sculpt_ctx_options co = {2, 1, SCULPT_PRECISION_F32, NULL, 0};
    sculpt_ctx *c = NULL;
    if (sculpt_ctx_create(m, &co, &c) != SCULPT_OK) {
        fprintf(stderr, "ctx: %s\n", sculpt_ctx_errmsg(NULL));
        return 1;
    }
    const sculpt_config *cfg = sculpt_model_config(m);
    const sculpt_schedule *s = sculpt_model_schedule(m);
    size_t per = (size_t)cfg->in_channels * cfg->sample_size * cfg->sample_size;
    float *x = malloc(2 * per * sizeof *x), *y = malloc(2 * per * sizeof *y), *z = malloc(2 * per * sizeof *z);
    sculpt_rng rngs[2], rngs2[2];
    if (!x || !y || !z) return 1;

    struct { int kind, steps, sched, spacing; float eta, churn; } cases[] = {
        {SCULPT_SAMPLER_DDPM, 5, 0, SCULPT_SPACING_LEADING, 0, 0},
        {SCULPT_SAMPLER_DDIM, 4, 0, SCULPT_SPACING_TRAILING, 0.5f, 0},
        {SCULPT_SAMPLER_EULER, 4, SCULPT_SIGMAS_KARRAS, 0, 0, 1.0f},
        {SCULPT_SAMPLER_HEUN, 3, SCULPT_SIGMAS_DISCRETE, 0, 0, 0},
        {SCULPT_SAMPLER_EULER_A, 4, SCULPT_SIGMAS_EXPONENTIAL, 0, 1.0f, 0},
        {SCULPT_SAMPLER_DPMPP_2M, 4, SCULPT_SIGMAS_KARRAS, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        sculpt_sampler_options o;
        sculpt_sampler_defaults(&o);
        o.sampler = cases[k].kind;
        o.steps = cases[k].steps;
        o.sigma_schedule = cases[k].sched;
        o.spacing = cases[k].spacing;
        o.eta = cases[k].eta;
        o.churn = cases[k].churn;
        /* the public entry point, a batch of two */
        start_noise(rngs, x, 2, per, 40 + k);
        prog pr = {0, 0, 0, 0};
        sculpt_status st = sculpt_sampler_run(c, &o, 2, rngs, x, on_step, &pr);
        CHECKF(st == SCULPT_OK, "case %zu: %s", k, sculpt_ctx_errmsg(c));
        CHECK(pr.calls == o.steps && pr.last_step == o.steps);
        /* the internal loop over sculpt_ctx_eval: the same bits */
        sampler_plan p;
        sampler_ws w;
        CHECK(sampler_plan_init(&p, s, &o, err, sizeof err) == SCULPT_OK);
        CHECK(sampler_ws_init(&w, 2, per) == SCULPT_OK);
        start_noise(rngs2, y, 2, per, 40 + k);
        CHECK(sampler_loop(&p, &w, y, rngs2, ctx_net, c, NULL, NULL) == SCULPT_OK);
        CHECKF(memcmp(x, y, 2 * per * sizeof *x) == 0, "case %zu: sculpt_sampler_run differs from the loop", k);
        CHECK(pr.last_nfe == sampler_plan_nfe(&p) && w.nfe == pr.last_nfe);
        sampler_ws_free(&w);
        sampler_plan_free(&p);
        /* each image alone: its own stream, so the batch does not change it */
        for (int j = 0; j < 2; j++) {
            start_noise(rngs2, z, 1, per, 40 + k + (uint64_t)j);
            CHECK(sculpt_sampler_run(c, &o, 1, rngs2, z, NULL, NULL) == SCULPT_OK);
            double e = test_rel_l2(z, x + (size_t)j * per, per);
            CHECKF(e < 1e-5, "case %zu image %d: alone vs in a batch of two: %.3g rel-L2", k, j, e);
        }
    }

    /* interruption */
    {
        sculpt_sampler_options o;
        sculpt_sampler_defaults(&o);
        o.steps = 6;
        start_noise(rngs, x, 1, per, 1);
        prog pr = {0, 0, 0, 2};
        CHECK(sculpt_sampler_run(c, &o, 1, rngs, x, on_step, &pr) == SCULPT_E_INTERRUPTED);
        CHECK(pr.calls == 2);
        CHECK(strstr(sculpt_ctx_errmsg(c), "stopped") != NULL);
    }
    /* refusals, each with a message */
    {
        struct { int field; float v; sculpt_status want; const char *word; } bad[] = {
            {0, 99, SCULPT_E_ARG, "unknown sampler"},
            {1, 0, SCULPT_E_ARG, "steps"},
            {1, 100001, SCULPT_E_ARG, "steps"},
            {2, 9, SCULPT_E_ARG, "spacing"},
            {3, -1, SCULPT_E_ARG, "steps_offset"},
            {4, -0.5f, SCULPT_E_ARG, "eta"},
            {5, NAN, SCULPT_E_ARG, "churn"},
            {6, 7, SCULPT_E_ARG, "sigma schedule"},
            {7, -1, SCULPT_E_ARG, "sigma"},
            {8, 0, SCULPT_E_ARG, "rho"},
            {9, 2, SCULPT_E_ARG, "clip_sample"},
        };
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            sculpt_sampler_options o;
            sculpt_sampler_defaults(&o);
            o.steps = 3;
            switch (bad[k].field) {
            case 0: o.sampler = (int)bad[k].v; break;
            case 1: o.steps = (int)bad[k].v; break;
            case 2: o.spacing = (int)bad[k].v; break;
            case 3: o.steps_offset = (int)bad[k].v; break;
            case 4: o.eta = bad[k].v; break;
            case 5: o.sampler = SCULPT_SAMPLER_EULER, o.churn = bad[k].v; break;
            case 6: o.sampler = SCULPT_SAMPLER_EULER, o.sigma_schedule = (int)bad[k].v; break;
            case 7: o.sampler = SCULPT_SAMPLER_EULER, o.sigma_min = 5, o.sigma_max = 1; break;
            case 8: o.sampler = SCULPT_SAMPLER_HEUN, o.rho = bad[k].v; break;
            case 9: o.clip_sample = (int)bad[k].v; break;
            }
            start_noise(rngs, x, 1, per, 1);
            sculpt_status st = sculpt_sampler_run(c, &o, 1, rngs, x, NULL, NULL);
            CHECKF(st == bad[k].want && strstr(sculpt_ctx_errmsg(c), bad[k].word),
                   "refusal %zu: status %d, message '%s' (expected '%s')", k, (int)st, sculpt_ctx_errmsg(c),
                   bad[k].word);
        }
        sculpt_sampler_options o;
        sculpt_sampler_defaults(&o);
        o.steps = s->num_train_timesteps + 1;
        CHECK(sculpt_sampler_run(c, &o, 1, rngs, x, NULL, NULL) == SCULPT_E_ARG);
        CHECK(strstr(sculpt_ctx_errmsg(c), "training timesteps") != NULL);
        if (s->num_train_timesteps == 1000) {
            o.steps = 61;
            o.spacing = SCULPT_SPACING_TRAILING;
            CHECK(sculpt_sampler_run(c, &o, 1, rngs, x, NULL, NULL) == SCULPT_E_UNSUPPORTED);
            CHECK(strstr(sculpt_ctx_errmsg(c), "trailing") != NULL);
        }
        o.steps = 3;
        CHECK(sculpt_sampler_run(c, &o, 3, rngs, x, NULL, NULL) == SCULPT_E_ARG); /* n > max_batch */
        CHECK(sculpt_sampler_run(c, &o, 0, rngs, x, NULL, NULL) == SCULPT_E_ARG);
        CHECK(sculpt_sampler_run(c, NULL, 1, rngs, x, NULL, NULL) == SCULPT_E_ARG);
        CHECK(sculpt_sampler_run(c, &o, 1, NULL, x, NULL, NULL) == SCULPT_E_ARG);
        CHECK(sculpt_sampler_run(NULL, &o, 1, rngs, x, NULL, NULL) == SCULPT_E_ARG);
    }
    /* the pre-flight check: same verdicts, and the run's network evaluations */
    {
        sculpt_sampler_options o;
        sculpt_sampler_defaults(&o);
        int nfe = -1;
        o.sampler = SCULPT_SAMPLER_HEUN;
        o.steps = 3;
        CHECK(sculpt_sampler_check(m, &o, &nfe, err, sizeof err) == SCULPT_OK && nfe == 5);
        o.sampler = SCULPT_SAMPLER_DDPM;
        o.steps = 7;
        CHECK(sculpt_sampler_check(m, &o, &nfe, err, sizeof err) == SCULPT_OK && nfe == 7);
        o.steps = s->num_train_timesteps + 1;
        CHECK(sculpt_sampler_check(m, &o, &nfe, err, sizeof err) == SCULPT_E_ARG && strstr(err, "training timesteps"));
        CHECK(sculpt_sampler_check(NULL, &o, &nfe, err, sizeof err) == SCULPT_E_ARG);
        o.sampler = SCULPT_SAMPLER_DDIM;
        o.steps = 10;
        o.eta = 1.0f;
        CHECK(sculpt_sampler_check(m, &o, &nfe, err, sizeof err) == SCULPT_OK);
        o.eta = 3.0f;
        CHECK(sculpt_sampler_check(m, &o, &nfe, err, sizeof err) == SCULPT_E_ARG && strstr(err, "too large"));
    }
    /* prediction types the k-diffusion samplers refuse, on a copy of the schedule */
    {
        sculpt_schedule s2 = *s;
        s2.prediction_type = SCULPT_PRED_SAMPLE;
        sculpt_sampler_options o;
        sculpt_sampler_defaults(&o);
        o.sampler = SCULPT_SAMPLER_DPMPP_2M;
        o.steps = 3;
        sampler_plan p;
        CHECK(sampler_plan_init(&p, &s2, &o, err, sizeof err) == SCULPT_E_UNSUPPORTED);
        CHECK(strstr(err, "epsilon or v_prediction") != NULL);
        s2.prediction_type = SCULPT_PRED_EPSILON;
        s2.variance_type = SCULPT_VAR_FIXED_LARGE_LOG;
        o.sampler = SCULPT_SAMPLER_DDPM;
        CHECK(sampler_plan_init(&p, &s2, &o, err, sizeof err) == SCULPT_E_UNSUPPORTED);
        CHECK(strstr(err, "variance_type") != NULL);
        o.sampler = SCULPT_SAMPLER_DDIM; /* ddim has no variance type: fine */
        CHECK(sampler_plan_init(&p, &s2, &o, err, sizeof err) == SCULPT_OK);
        sampler_plan_free(&p);
    }
    free(x), free(y), free(z);
    sculpt_ctx_destroy(c);
    sculpt_model_close(m);
    TEST_DONE();
}
