/* test_schedule.c — schedule arrays against diffusers / k-diffusion as transcribed into
 * tests/reference/sampler_ref.py (schedules.bin): betas, ᾱ, timestep spacings exactly;
 * sigma tables, sigma_to_t and t_to_sigma to float32 rounding (a few ulps: torch's
 * vectorised log/exp/pow are Sleef's 1-ulp versions). */
#include <math.h>

#include "fixture.h"
#include "sampler/sampler.h"

/* distance in float32 ulps (0 for equal bits; large for sign/NaN mismatch) */
static int64_t ulps(float a, float b) {
    if (a == b) return 0;
    if (isnan(a) || isnan(b)) return INT64_MAX;
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if ((ia < 0) != (ib < 0)) return INT64_MAX;
    int64_t d = (int64_t)ia - (int64_t)ib;
    return d < 0 ? -d : d;
}

/* all within max_ulps; counts how many are not bit-equal into *inexact */
static void check_ulps(const char *what, const float *got, const float *want, size_t n, int64_t max_ulps,
                       int *inexact) {
    int64_t worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t u = ulps(got[i], want[i]);
        if (u) (*inexact)++;
        if (u > worst) worst = u, at = i;
    }
    CHECKF(worst <= max_ulps, "%s: %lld ulps at [%zu]: %.9g vs reference %.9g", what, (long long)worst, at,
           (double)got[at], (double)want[at]);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/sampler";
    fx_file f;
    if (fx_open(&f, dir, "schedules.bin") != 0) return 1;
    static const char *const names[] = {"lin", "scl", "cos", "lin50"};
    char key[128], err[256];
    int inexact_sig = 0, inexact_k = 0, total_k = 0;

    /* torch.linspace itself, on the sizes where chunking matters */
    {
        float a[1000];
        sampler_linspace_f32(0.0f, 1.0f, 5, a);
        CHECK(a[0] == 0.0f && a[4] == 1.0f && a[2] == 0.5f);
    }
    for (int si = 0; si < 4; si++) {
        const char *nm = names[si];
        snprintf(key, sizeof key, "%s_cfg", nm);
        double *cfg = fx_f64(&f, key, NULL);
        if (!cfg) { test_failures++; continue; }
        int bs = (int)cfg[0], T = (int)cfg[1];
        size_t cnt;
        snprintf(key, sizeof key, "%s_betas", nm);
        float *betas_ref = fx_f32(&f, key, &cnt);
        snprintf(key, sizeof key, "%s_ac", nm);
        float *ac_ref = fx_f32(&f, key, NULL);
        snprintf(key, sizeof key, "%s_sigmas", nm);
        float *sig_ref = fx_f32(&f, key, NULL);
        snprintf(key, sizeof key, "%s_log_sigmas", nm);
        float *ls_ref = fx_f32(&f, key, NULL);
        float *betas = malloc(T * sizeof *betas), *ac = malloc(T * sizeof *ac);
        float *sig = malloc(T * sizeof *sig), *ls = malloc(T * sizeof *ls);
        float *ks = malloc((1001) * sizeof *ks);
        int64_t *ts = malloc(1000 * sizeof *ts);
        if (!betas_ref || !ac_ref || !sig_ref || !ls_ref || !betas || !ac || !sig || !ls || !ks || !ts || cnt != (size_t)T)
            return 1;

        /* betas and ᾱ: bit for bit */
        CHECK(sampler_betas(bs, T, cfg[2], cfg[3], betas, err, sizeof err) == SCULPT_OK);
        int dummy = 0;
        snprintf(key, sizeof key, "%s betas", nm);
        check_ulps(key, betas, betas_ref, T, 0, &dummy);
        sampler_alphas_cumprod(T, betas_ref, ac);
        snprintf(key, sizeof key, "%s alphas_cumprod", nm);
        check_ulps(key, ac, ac_ref, T, 0, &dummy);

        /* model sigmas bit for bit (sqrt of float32 ops); their logs to 1 ulp */
        sampler_model_sigmas(T, ac_ref, sig, ls);
        snprintf(key, sizeof key, "%s sigmas", nm);
        check_ulps(key, sig, sig_ref, T, 0, &dummy);
        snprintf(key, sizeof key, "%s log_sigmas", nm);
        check_ulps(key, ls, ls_ref, T, 1, &inexact_sig);

        /* timestep spacings: exact */
        for (int k = 0; T == 1000; k++) {
            snprintf(key, sizeof key, "%s_ts%d_cfg", nm, k);
            const fx_array *c = NULL;
            for (uint32_t q = 0; q < f.n; q++)
                if (strcmp(f.arr[q].name, key) == 0) c = &f.arr[q];
            if (!c) break;
            int spacing = (int)fx_value(c, 0), steps = (int)fx_value(c, 1), off = (int)fx_value(c, 2);
            snprintf(key, sizeof key, "%s_ts%d", nm, k);
            size_t n = 0;
            int64_t *want = fx_i64(&f, key, &n);
            sculpt_status st = sampler_timesteps(T, steps, spacing, off, ts, err, sizeof err);
            CHECKF(st == SCULPT_OK, "spacing %d steps %d: %s", spacing, steps, err);
            CHECKF(n == (size_t)steps, "spacing %d steps %d: reference has %zu timesteps", spacing, steps, n);
            for (size_t i = 0; st == SCULPT_OK && want && i < n && i < (size_t)steps; i++)
                CHECKF(ts[i] == want[i], "spacing %d steps %d offset %d: ts[%zu] = %lld, diffusers %lld", spacing,
                       steps, off, i, (long long)ts[i], (long long)want[i]);
            free(want);
        }

        /* k-diffusion sigma schedules, computed from the reference's log-sigma table */
        for (int k = 0;; k++) {
            snprintf(key, sizeof key, "%s_k%d_cfg", nm, k);
            const fx_array *c = NULL;
            for (uint32_t q = 0; q < f.n; q++)
                if (strcmp(f.arr[q].name, key) == 0) c = &f.arr[q];
            if (!c) break;
            int kind = (int)fx_value(c, 0), steps = (int)fx_value(c, 1);
            double smin = fx_value(c, 2), smax = fx_value(c, 3), rho = fx_value(c, 4);
            if (smin == 0) smin = sig_ref[0];
            if (smax == 0) smax = sig_ref[T - 1];
            snprintf(key, sizeof key, "%s_k%d", nm, k);
            size_t n = 0;
            float *want = fx_f32(&f, key, &n);
            CHECK(n == (size_t)steps + 1);
            if (kind == SCULPT_SIGMAS_KARRAS) sampler_sigmas_karras(steps, smin, smax, rho, ks);
            else if (kind == SCULPT_SIGMAS_EXPONENTIAL) sampler_sigmas_exponential(steps, smin, smax, ks);
            else sampler_sigmas_discrete(steps, T, ls_ref, ks);
            snprintf(key, sizeof key, "%s sigma schedule %d (kind %d, %d steps)", nm, k, kind, steps);
            if (want && n == (size_t)steps + 1) check_ulps(key, ks, want, n, 2, &inexact_k);
            total_k += (int)n;
            free(want);
        }

        /* sigma_to_t and t_to_sigma */
        snprintf(key, sizeof key, "%s_probe", nm);
        size_t np = 0;
        float *probe = fx_f32(&f, key, &np);
        snprintf(key, sizeof key, "%s_probe_t", nm);
        float *probe_t = fx_f32(&f, key, NULL);
        for (size_t i = 0; probe && probe_t && i < np; i++) {
            float t = sampler_sigma_to_t(T, ls_ref, probe[i]);
            /* a 1-ulp log moves t by ulp(log σ)/Δlog σ: allow 1e-4 absolute */
            CHECKF(fabsf(t - probe_t[i]) <= 1e-4f + 1e-6f * fabsf(probe_t[i]), "%s sigma_to_t(%.9g) = %.9g, k-diffusion %.9g",
                   nm, (double)probe[i], (double)t, (double)probe_t[i]);
        }
        snprintf(key, sizeof key, "%s_tprobe", nm);
        float *tp = fx_f32(&f, key, &np);
        snprintf(key, sizeof key, "%s_tprobe_sigma", nm);
        float *tp_s = fx_f32(&f, key, NULL);
        for (size_t i = 0; tp && tp_s && i < np; i++) {
            float s = sampler_t_to_sigma(T, ls_ref, tp[i]);
            CHECKF(ulps(s, tp_s[i]) <= 2, "%s t_to_sigma(%.9g) = %.9g, k-diffusion %.9g", nm, (double)tp[i], (double)s,
                   (double)tp_s[i]);
        }
        free(probe), free(probe_t), free(tp), free(tp_s);
        free(cfg), free(betas_ref), free(ac_ref), free(sig_ref), free(ls_ref);
        free(betas), free(ac), free(sig), free(ls), free(ks), free(ts);
    }
    printf("log_sigmas not bit-equal (1 ulp): %d; k-diffusion schedule values not bit-equal: %d of %d\n",
           inexact_sig, inexact_k, total_k);

    /* refusals */
    int64_t ts[1000];
    CHECK(sampler_timesteps(1000, 61, SCULPT_SPACING_TRAILING, 0, ts, err, sizeof err) == SCULPT_E_UNSUPPORTED);
    CHECK(strstr(err, "trailing") != NULL);
    CHECK(sampler_timesteps(1000, 1001, SCULPT_SPACING_LEADING, 0, ts, err, sizeof err) == SCULPT_E_ARG);
    CHECK(sampler_timesteps(1000, 10, SCULPT_SPACING_LEADING, 100, ts, err, sizeof err) == SCULPT_E_ARG);
    CHECK(sampler_timesteps(1000, 0, SCULPT_SPACING_LEADING, 0, ts, err, sizeof err) == SCULPT_E_ARG);
    CHECK(sampler_timesteps(1000, 10, 7, 0, ts, err, sizeof err) == SCULPT_E_ARG);
    fx_close(&f);
    TEST_DONE();
}
