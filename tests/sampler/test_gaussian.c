/* test_gaussian.c — closed-form checks with no reference code. Data x0 ~ N(mu, S) in 4
 * dimensions (S = Q diag(lam) Q^T): the exact ε-network is linear, and the probability-flow
 * ODE from sigma_max has a closed-form solution. (1) euler, heun, dpmpp_2m and ddim (eta 0)
 * converge to it at orders 1, 2, 2, 1 (least-squares slope of log error against log steps); (2) the
 * ancestral samplers (ddpm, ddim eta=1, euler_a) reproduce the data's mean and covariance
 * within sampling error. */
#include <math.h>

#include "sampler/sampler.h"
#include "test.h"

enum { D = 4, PER = 16 }; /* an image: 1 x 4 x 4 = four 4-dim vectors */

static const double MU[D] = {0.3, -0.2, 0.1, 0.5};
static const double LAM[D] = {0.25, 0.04, 0.64, 0.12};
/* Q = H/2, H the 4x4 Sylvester Hadamard matrix: orthogonal and symmetric */
static const double Q[D][D] = {{.5, .5, .5, .5}, {.5, -.5, .5, -.5}, {.5, .5, -.5, -.5}, {.5, -.5, -.5, .5}};

typedef struct gauss_net {
    int T;
    double *log_sigma; /* [T] log sqrt((1 - ac) / ac) in float64 */
} gauss_net;

/* ᾱ at a (possibly fractional) timestep: log sigma interpolated linearly in t. */
static double alpha_bar(const gauss_net *g, double t) {
    if (t < 0) t = 0;
    if (t > g->T - 1) t = g->T - 1;
    int lo = (int)floor(t), hi = lo + 1 < g->T ? lo + 1 : lo;
    double w = t - lo;
    double ls = (1 - w) * g->log_sigma[lo] + w * g->log_sigma[hi];
    return 1.0 / (1.0 + exp(2 * ls));
}

/* E[eps | x_t] = sqrt(1 - a) Q diag(1 / (a lam + 1 - a)) Q^T (x_t - sqrt(a) mu) */
static int gauss_eval(void *user, int n, const float *x, const float *t, float *out) {
    const gauss_net *g = user;
    for (int b = 0; b < n; b++) {
        double a = alpha_bar(g, t[b]), sa = sqrt(a), sb = sqrt(1 - a);
        for (int v = 0; v < PER / D; v++) {
            const float *xv = x + (size_t)b * PER + v * D;
            float *ov = out + (size_t)b * PER + v * D;
            double r[D], y[D];
            for (int i = 0; i < D; i++) r[i] = xv[i] - sa * MU[i];
            for (int k = 0; k < D; k++) {
                y[k] = 0;
                for (int i = 0; i < D; i++) y[k] += Q[k][i] * r[i];
                y[k] /= a * LAM[k] + 1 - a;
            }
            for (int i = 0; i < D; i++) {
                double e = 0;
                for (int k = 0; k < D; k++) e += Q[i][k] * y[k];
                ov[i] = (float)(sb * e);
            }
        }
    }
    return 0;
}

/* The exact result of the probability-flow ODE (variance-exploding form, x = x0 + sigma n)
 * from x = noise * scale at sigma smax down to the last non-zero sigma s1, followed by the
 * denoiser at s1 (every sampler's last step to sigma = 0 / alpha_bar = 1). */
static void exact_ode(const float *noise, double scale, double smax, double s1, double *out) {
    for (int v = 0; v < PER / D; v++) {
        double y[D];
        for (int k = 0; k < D; k++) {
            y[k] = 0;
            for (int i = 0; i < D; i++) y[k] += Q[k][i] * (noise[v * D + i] * scale - MU[i]);
            y[k] *= sqrt((LAM[k] + s1 * s1) / (LAM[k] + smax * smax)) * LAM[k] / (LAM[k] + s1 * s1);
        }
        for (int i = 0; i < D; i++) {
            double e = MU[i];
            for (int k = 0; k < D; k++) e += Q[i][k] * y[k];
            out[v * D + i] = e;
        }
    }
}

static sculpt_status run(const sculpt_schedule *s, const sculpt_sampler_options *o, gauss_net *g, int n, float *x,
                         uint64_t seed, sampler_plan *keep) {
    char err[320];
    sampler_plan p;
    sampler_ws w;
    sculpt_status st = sampler_plan_init(&p, s, o, err, sizeof err);
    if (st != SCULPT_OK) {
        fprintf(stderr, "plan: %s\n", err);
        return st;
    }
    sculpt_rng *rngs = malloc((size_t)n * sizeof *rngs);
    if (!rngs || sampler_ws_init(&w, n, PER) != SCULPT_OK) return SCULPT_E_NOMEM;
    for (int j = 0; j < n; j++) {
        sculpt_rng_seed(&rngs[j], seed + (uint64_t)j);
        sculpt_rng_randn(&rngs[j], x + (size_t)j * PER, PER);
    }
    st = sampler_loop(&p, &w, x, rngs, gauss_eval, g, NULL, NULL);
    if (keep && st == SCULPT_OK) {
        *keep = p;
    } else {
        sampler_plan_free(&p);
    }
    sampler_ws_free(&w);
    free(rngs);
    return st;
}

/* least-squares slope of log(err) against log(steps) */
static double slope(const int *steps, const double *err, int m) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < m; i++) {
        double a = log(steps[i]), b = log(err[i]);
        sx += a, sy += b, sxx += a * a, sxy += a * b;
    }
    return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

int main(void) {
    enum { T = 1000 };
    static float betas[T], ac[T];
    char err[256];
    CHECK(sampler_betas(SCULPT_BETA_LINEAR, T, 1e-4, 0.02, betas, err, sizeof err) == SCULPT_OK);
    sampler_alphas_cumprod(T, betas, ac);
    sculpt_schedule s = {0};
    s.num_train_timesteps = T;
    s.variance_type = SCULPT_VAR_FIXED_SMALL;
    s.clip_sample = 0;
    s.clip_sample_range = 1.0f;
    s.prediction_type = SCULPT_PRED_EPSILON;
    s.betas = betas;
    s.alphas_cumprod = ac;
    static double log_sigma[T];
    for (int i = 0; i < T; i++) log_sigma[i] = 0.5 * log((1.0 - ac[i]) / ac[i]);
    gauss_net g = {T, log_sigma};

    /* (1) convergence orders on the deterministic samplers */
    {
        enum { M = 64, NS = 5 };
        static const int steps[NS] = {8, 16, 32, 64, 128};
        static const int kinds[4] = {SCULPT_SAMPLER_EULER, SCULPT_SAMPLER_HEUN, SCULPT_SAMPLER_DPMPP_2M,
                                     SCULPT_SAMPLER_DDIM};
        static const char *names[4] = {"euler", "heun", "dpmpp_2m", "ddim"};
        static const double want_order[4] = {1, 2, 2, 1};
        float *x = malloc((size_t)M * PER * sizeof *x), *noise = malloc((size_t)M * PER * sizeof *noise);
        double *ex = malloc((size_t)M * PER * sizeof *ex);
        if (!x || !noise || !ex) return 1;
        for (int j = 0; j < M; j++) {
            sculpt_rng r;
            sculpt_rng_seed(&r, 1000 + (uint64_t)j);
            sculpt_rng_randn(&r, noise + (size_t)j * PER, PER);
        }
        for (int q = 0; q < 4; q++) {
            double e[NS];
            for (int k = 0; k < NS; k++) {
                sculpt_sampler_options o;
                sculpt_sampler_defaults(&o);
                o.sampler = kinds[q];
                o.steps = steps[k];
                o.sigma_schedule = SCULPT_SIGMAS_KARRAS;
                o.sigma_min = 0.02f, o.sigma_max = 20.0f;
                /* ddim: leading spacing (diffusers default), where t - T // steps is the next
                 * timestep and the last step lands on alpha_bar = 1 */
                sampler_plan p;
                if (run(&s, &o, &g, M, x, 1000, &p) != SCULPT_OK) { test_failures++; e[k] = 1; continue; }
                double num = 0, den = 0;
                for (int j = 0; j < M; j++) {
                    if (p.sigmas) {
                        exact_ode(noise + (size_t)j * PER, p.sigmas[0], p.sigmas[0], p.sigmas[p.steps - 1],
                                  ex + (size_t)j * PER);
                    } else { /* ddim: x = noise at alpha_bar[timesteps[0]] (VE scale 1 / sqrt(a)) */
                        double a0 = ac[p.timesteps[0]], a1 = ac[p.timesteps[p.steps - 1]];
                        exact_ode(noise + (size_t)j * PER, 1 / sqrt(a0), sqrt((1 - a0) / a0), sqrt((1 - a1) / a1),
                                  ex + (size_t)j * PER);
                    }
                    for (int i = 0; i < PER; i++) {
                        double d = x[(size_t)j * PER + i] - ex[(size_t)j * PER + i];
                        num += d * d, den += ex[(size_t)j * PER + i] * ex[(size_t)j * PER + i];
                    }
                }
                e[k] = sqrt(num / den);
                sampler_plan_free(&p);
            }
            double sl = slope(steps, e, NS);
            printf("%-9s error vs exact ODE:", names[q]);
            for (int k = 0; k < NS; k++) printf(" %d:%.2e", steps[k], e[k]);
            printf("  order %.2f (expected %.0f)\n", -sl, want_order[q]);
            CHECKF(fabs(-sl - want_order[q]) < 0.25, "%s converges at order %.2f, expected %.0f", names[q], -sl,
                   want_order[q]);
            CHECKF(e[NS - 1] < 2e-2 / want_order[q] / want_order[q], "%s: error %.3g at %d steps", names[q], e[NS - 1],
                   steps[NS - 1]);
        }
        free(x), free(noise), free(ex);
    }

    /* (2) ancestral samplers reproduce the data's mean and covariance */
    {
        enum { N = 300, NV = N * PER / D };
        float *x = malloc((size_t)N * PER * sizeof *x);
        if (!x) return 1;
        struct { int kind, steps; float eta; const char *name; } cases[] = {
            {SCULPT_SAMPLER_DDPM, 1000, 0, "ddpm 1000"},
            {SCULPT_SAMPLER_DDIM, 500, 1.0f, "ddim eta=1 500"},
            {SCULPT_SAMPLER_EULER_A, 300, 1.0f, "euler_a 300"},
        };
        /* exact covariance S = Q diag(lam) Q^T */
        double S[D][D];
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                S[i][j] = 0;
                for (int k = 0; k < D; k++) S[i][j] += Q[i][k] * LAM[k] * Q[j][k];
            }
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            sculpt_sampler_options o;
            sculpt_sampler_defaults(&o);
            o.sampler = cases[c].kind;
            o.steps = cases[c].steps;
            o.eta = cases[c].eta;
            o.sigma_schedule = SCULPT_SIGMAS_KARRAS;
            if (run(&s, &o, &g, N, x, 5000 + 7919 * c, NULL) != SCULPT_OK) { test_failures++; continue; }
            double m[D] = {0}, C[D][D] = {{0}};
            for (int v = 0; v < NV; v++)
                for (int i = 0; i < D; i++) m[i] += x[(size_t)v * D + i] / NV;
            for (int v = 0; v < NV; v++)
                for (int i = 0; i < D; i++)
                    for (int j = 0; j < D; j++)
                        C[i][j] += (x[(size_t)v * D + i] - m[i]) * (x[(size_t)v * D + j] - m[j]) / (NV - 1);
            double worst_m = 0, worst_c = 0;
            for (int i = 0; i < D; i++) {
                double se = sqrt(S[i][i] / NV); /* standard error of the mean */
                double zm = fabs(m[i] - MU[i]) / se;
                if (zm > worst_m) worst_m = zm;
                for (int j = 0; j < D; j++) {
                    double sec = sqrt((S[i][i] * S[j][j] + S[i][j] * S[i][j]) / NV); /* of a covariance */
                    double zc = fabs(C[i][j] - S[i][j]) / sec;
                    if (zc > worst_c) worst_c = zc;
                }
            }
            printf("%-15s mean within %.2f SE, covariance within %.2f SE (%d vectors)\n", cases[c].name, worst_m,
                   worst_c, NV);
            /* 16 covariance entries, 4 means: 4.5 SE is rare by chance; step bias adds some */
            CHECKF(worst_m < 4.5 && worst_c < 4.5, "%s: mean %.2f SE, covariance %.2f SE off the data's",
                   cases[c].name, worst_m, worst_c);
        }
        free(x);
    }
    TEST_DONE();
}
