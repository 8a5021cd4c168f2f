/* test_steps.c — every single step of every sampler against its reference (steps.bin from
 * make_samplers.py: diffusers DDPM/DDIM and k-diffusion transcribed into PyTorch). Before
 * step i, x is reset to the reference's x_i; a mock network checks its input against the
 * reference's and returns the reference network's output; x_{i+1} must agree to ~1e-6.
 * The noise comes from sculpt_rng seeded like the reference's generator. */
#include <math.h>

#include "cfg.h"
#include "sampler/sampler.h"

typedef struct replay {
    const float *calls_x, *calls_t, *calls_out;
    size_t per;
    int ncalls, next;
    const char *name;
    int step;
} replay;

static int replay_net(void *user, int n, const float *x, const float *t, float *out) {
    replay *r = user;
    if (n != 1 || r->next >= r->ncalls) {
        fprintf(stderr, "%s step %d: unexpected network call %d (n %d)\n", r->name, r->step, r->next, n);
        test_failures++;
        return SCULPT_E_ARG;
    }
    const float *wx = r->calls_x + (size_t)r->next * r->per;
    double e = test_rel_l2(x, wx, r->per);
    CHECKF(e <= 1e-6, "%s step %d call %d: network input differs from the reference's by %.3g rel-L2", r->name,
           r->step, r->next, e);
    float wt = r->calls_t[r->next];
    CHECKF(fabsf(t[0] - wt) <= 1e-4f + 1e-6f * fabsf(wt), "%s step %d call %d: timestep %.9g vs reference %.9g",
           r->name, r->step, r->next, (double)t[0], (double)wt);
    memcpy(out, r->calls_out + (size_t)r->next * r->per, r->per * sizeof *out);
    r->next++;
    return 0;
}

static double max_rel(const float *a, const float *b, size_t n) {
    double scale = test_max_abs_diff(b, NULL, n), m = test_max_abs_diff(a, b, n);
    return m / (scale > 0 ? scale : 1);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/sampler";
    fx_file f;
    if (fx_open(&f, dir, "steps.bin") != 0) return 1;
    int nconf = (int)fx_scalar(&f, "nconfigs");
    double worst = 0;
    int nsteps = 0;
    for (int k = 0; k < nconf; k++) {
        char pre[16], key[64], err[320];
        snprintf(pre, sizeof pre, "c%d", k);
        test_cfg tc;
        if (test_cfg_load(&tc, &f, pre) != 0) { test_failures++; continue; }
        size_t per = tc.per, nxs = 0, ncl = 0, nnc = 0;
        snprintf(key, sizeof key, "%s_xs", pre);
        float *xs = fx_f32(&f, key, &nxs);
        snprintf(key, sizeof key, "%s_noise0", pre);
        float *noise0 = fx_f32(&f, key, NULL);
        snprintf(key, sizeof key, "%s_ncalls", pre);
        int64_t *ncalls = fx_i64(&f, key, &nnc);
        snprintf(key, sizeof key, "%s_calls_x", pre);
        float *cx = fx_f32(&f, key, &ncl);
        snprintf(key, sizeof key, "%s_calls_t", pre);
        float *ct = fx_f32(&f, key, NULL);
        snprintf(key, sizeof key, "%s_calls_out", pre);
        float *co = fx_f32(&f, key, NULL);
        sampler_plan p;
        sampler_ws w;
        sculpt_status st = sampler_plan_init(&p, &tc.sched, &tc.opt, err, sizeof err);
        CHECKF(st == SCULPT_OK, "%s: plan: %s", tc.name, err);
        if (st != SCULPT_OK || !xs || !noise0 || !ncalls || !cx || !ct || !co || sampler_ws_init(&w, 1, per) != SCULPT_OK) {
            test_failures++;
            goto next;
        }
        CHECKF(nxs == ((size_t)p.steps + 1) * per && nnc == (size_t)p.steps, "%s: fixture has %zu values, %zu steps",
               tc.name, nxs, nnc);
        if (nxs != ((size_t)p.steps + 1) * per || nnc != (size_t)p.steps) goto next_ws;
        /* starting noise: the generator's first draw, scaled as the reference does */
        sculpt_rng rng;
        float *x = malloc(per * sizeof *x);
        if (!x) return 1;
        sculpt_rng_seed(&rng, (uint64_t)tc.seed);
        sculpt_rng_randn(&rng, x, per);
        CHECKF(memcmp(x, noise0, per * sizeof *x) == 0, "%s: starting noise differs from torch.randn", tc.name);
        sampler_scale_start(&p, x, per);
        CHECKF(max_rel(x, xs, per) <= 1e-7, "%s: scaled start %.3g from the reference", tc.name, max_rel(x, xs, per));
        replay r = {cx, ct, co, per, (int)(ncl / per), 0, tc.name, 0};
        for (int i = 0; i < p.steps; i++) {
            memcpy(x, xs + (size_t)i * per, per * sizeof *x); /* the reference's x_i */
            r.step = i;
            int before = r.next;
            st = sampler_step(&p, i, &w, x, &rng, replay_net, &r);
            CHECKF(st == SCULPT_OK, "%s step %d: status %d", tc.name, i, (int)st);
            CHECKF(r.next - before == ncalls[i], "%s step %d: %d network calls, reference %lld", tc.name, i,
                   r.next - before, (long long)ncalls[i]);
            if (r.next - before != ncalls[i]) break;
            const float *want = xs + (size_t)(i + 1) * per;
            double e = max_rel(x, want, per);
            CHECKF(e <= 1e-6, "%s step %d: x_{i+1} differs by %.3g (max-abs / max|ref|)", tc.name, i, e);
            if (e > worst) worst = e;
            nsteps++;
        }
        CHECK(r.next == r.ncalls);
        free(x);
    next_ws:
        sampler_ws_free(&w);
    next:
        sampler_plan_free(&p);
        free(xs), free(noise0), free(ncalls), free(cx), free(ct), free(co);
        test_cfg_free(&tc);
    }
    printf("%d configs, %d steps: worst single-step difference %.3g (max-abs / max|ref|)\n", nconf, nsteps, worst);
    fx_close(&f);
    TEST_DONE();
}
