/* test_runs.c — whole runs of every sampler with the analytic network (analytic.h) against
 * the reference's final samples (runs.bin), two images per run on their own streams
 * (seed, seed + 1). The tolerance of each run is 10x the reference's own sensitivity (its
 * output moved when its starting noise moved by one ulp, measured by make_samplers.py),
 * at least 1e-6 relative L2; the measured error and the tolerance are printed. */
#include <math.h>

#include "analytic.h"
#include "cfg.h"
#include "sampler/sampler.h"

static int count_steps(void *user, int step, int steps, int nfe) {
    int *seen = user;
    (void)steps;
    (void)nfe;
    *seen = step;
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/sampler";
    fx_file f;
    if (fx_open(&f, dir, "runs.bin") != 0) return 1;
    int nruns = (int)fx_scalar(&f, "nruns");
    printf("%-4s %-9s %6s %12s %12s\n", "run", "sampler", "steps", "rel-L2", "tolerance");
    for (int k = 0; k < nruns; k++) {
        char pre[16], key[64], err[320];
        snprintf(pre, sizeof pre, "r%d", k);
        test_cfg tc;
        if (test_cfg_load(&tc, &f, pre) != 0) { test_failures++; continue; }
        snprintf(key, sizeof key, "%s_final", pre);
        size_t nf = 0;
        float *want = fx_f32(&f, key, &nf);
        snprintf(key, sizeof key, "%s_tol", pre);
        double tol = fx_scalar(&f, key);
        int n = tc.n;
        size_t per = tc.per;
        sampler_plan p;
        sampler_ws w;
        sculpt_status st = sampler_plan_init(&p, &tc.sched, &tc.opt, err, sizeof err);
        CHECKF(st == SCULPT_OK, "%s: %s", tc.name, err);
        float *x = malloc((size_t)n * per * sizeof *x);
        sculpt_rng *rngs = malloc((size_t)n * sizeof *rngs);
        if (st != SCULPT_OK || !want || nf != (size_t)n * per || !x || !rngs || sampler_ws_init(&w, n, per) != SCULPT_OK) {
            test_failures++;
            free(x), free(rngs), free(want);
            test_cfg_free(&tc);
            continue;
        }
        for (int j = 0; j < n; j++) {
            sculpt_rng_seed(&rngs[j], (uint64_t)tc.seed + (uint64_t)j);
            sculpt_rng_randn(&rngs[j], x + (size_t)j * per, per);
        }
        analytic_net net = {tc.c, (size_t)tc.s * (size_t)tc.s, 0};
        int seen = 0;
        st = sampler_loop(&p, &w, x, rngs, analytic_eval, &net, count_steps, &seen);
        CHECKF(st == SCULPT_OK && seen == p.steps, "%s: status %d after %d of %d steps", tc.name, (int)st, seen, p.steps);
        CHECKF(w.nfe == sampler_plan_nfe(&p) && net.calls == w.nfe, "%s: %d evaluations, plan says %d", tc.name, w.nfe,
               sampler_plan_nfe(&p));
        double worst = 0;
        for (int j = 0; j < n; j++) {
            double e = test_rel_l2(x + (size_t)j * per, want + (size_t)j * per, per);
            if (e > worst) worst = e;
        }
        printf("%-4d %-9s %6d %12.3g %12.3g\n", k, tc.name + strlen(pre) + 1, p.steps, worst, tol);
        CHECKF(worst <= tol, "%s: final samples differ by %.3g rel-L2 (tolerance %.3g)", tc.name, worst, tol);
        sampler_ws_free(&w);
        sampler_plan_free(&p);
        free(x), free(rngs), free(want);
        test_cfg_free(&tc);
    }
    fx_close(&f);
    TEST_DONE();
}
