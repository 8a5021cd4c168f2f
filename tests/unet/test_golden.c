/* test_golden.c — the UNet forward against PyTorch (tests/reference/make_unet.py: diffusers
 * UNet2DModel and pytorch_diffusion Model mirrors): every fixture case and per-block
 * intermediate, on every kernel path this CPU runs and with every 3x3 convolution
 * algorithm (direct GEMM, Winograd everywhere it fits, and the default mix), relative L2
 * <= the case's tolerance. */
#include "ops/kernels.h"
#include "unet_fixture.h"

#define MAXC 128

#include <sys/stat.h>

/* usage: test_unet_golden DIR [--best]. --best: only the CPU's best kernel path (the
 * full-size model); DIR "" or missing with --best: skipped (exit 77), see meson_options. */
int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s FIXTURE_DIR [--best]\n", argv[0]); return 2; }
    const int best = argc > 2 && strcmp(argv[2], "--best") == 0;
    char dirbuf[1024];
    const char *dir = argv[1];
    struct stat st_;
    if (best) {
        if (!dir[0] || stat(dir, &st_) != 0) {
            printf("SKIP: no full-size fixture at '%s' (write it with tests/reference/make_unet.py --full DIR, then meson configure -Dfull_model=DIR)\n", dir);
            return 77;
        }
        if (S_ISREG(st_.st_mode)) { /* a path to the .bin: use its folder */
            snprintf(dirbuf, sizeof dirbuf, "%s", dir);
            char *sl = strrchr(dirbuf, '/');
            if (sl) *sl = 0; else snprintf(dirbuf, sizeof dirbuf, ".");
            dir = dirbuf;
        }
    }
    static ucase cs[MAXC];
    int nc = ucase_load(dir, cs, MAXC);
    CHECK(nc > 0);
    static const char *const algo_name[] = {"auto", "direct", "winograd"};
    for (int run = 0; run < 3 * gemm_kernel_count(); run++) {
        const int ki = run / 3, algo = run % 3;
        int ok = 0;
        const gemm_kernel *kr = gemm_kernel_at(ki, &ok);
        if (!ok) {
            if (algo == 0) printf("SKIP kernel path %s: not supported by this CPU\n", kr->name);
            continue;
        }
        double worst = 0.0;
        /* an "inter" entry reuses the forward of the entry before it when its weights,
         * input and timesteps are the same */
        sculpt_model *m = NULL;
        sculpt_ctx *ctx = NULL;
        float *y = NULL;
        const ucase *prev = NULL;
        for (int i = 0; i < nc; i++) {
            ucase *c = &cs[i];
            const int same = prev && c->inter && !strcmp(prev->weights, c->weights) &&
                             !strcmp(prev->input, c->input) && prev->n == c->n &&
                             !memcmp(prev->t, c->t, sizeof c->t);
            if (!same) {
                sculpt_ctx_destroy(ctx);
                sculpt_model_close(m);
                free(y);
                ctx = NULL;
                y = NULL;
                prev = NULL;
                m = uopen(dir, c->weights);
                CHECKF(m != NULL, "%s", c->weights);
                if (!m) continue;
                sculpt_ctx_options o = {c->n, best ? 0 : 1, SCULPT_PRECISION_F32, kr->name, algo};
                sculpt_status st = sculpt_ctx_create(m, &o, &ctx);
                CHECKF(st == SCULPT_OK, "%s: %s", c->name, sculpt_ctx_errmsg(ctx));
                float *x = ufloats(dir, c->input, uimage_floats(m, c->n, 0));
                y = malloc(uimage_floats(m, c->n, 1) * sizeof(float));
                if (!ctx || !x || !y) {
                    CHECK(0);
                    free(x);
                    continue;
                }
                st = sculpt_ctx_eval(ctx, c->n, x, c->t, y);
                free(x);
                CHECKF(st == SCULPT_OK, "%s: %s", c->name, sculpt_ctx_errmsg(ctx));
                CHECK(strcmp(sculpt_ctx_isa(ctx), kr->name) == 0);
                CHECK(strcmp(sculpt_ctx_conv(ctx), algo_name[algo]) == 0);
                if (st != SCULPT_OK) continue;
                prev = c;
            }
            float *got = y, *want = NULL;
            size_t count = uimage_floats(m, c->n, 1);
            if (c->inter) {
                int64_t k = sculpt_ctx_intermediate(ctx, c->block, NULL, 0);
                CHECKF(k > 0, "%s: intermediate %s unknown", c->name, c->block);
                count = k > 0 ? (size_t)k : 0;
                got = malloc((count ? count : 1) * sizeof(float));
                CHECK(sculpt_ctx_intermediate(ctx, c->block, got, (int64_t)count) == (int64_t)count);
            }
            want = count ? ufloats(dir, c->expect, count) : NULL;
            CHECKF(want != NULL, "%s %s", c->name, c->expect);
            if (want) {
                double e = test_rel_l2(got, want, count);
                if (e > worst) worst = e;
                CHECKF(e <= c->tol, "%s [%s, %s] %s: rel L2 %.3g > %.3g", c->name, kr->name,
                       algo_name[algo], c->inter ? c->block : "output", e, c->tol);
                if (!c->inter) printf("%-8s %-8s %-18s rel L2 %.3g\n", kr->name, algo_name[algo], c->name, e);
            }
            if (got != y) free(got);
            free(want);
        }
        sculpt_ctx_destroy(ctx);
        sculpt_model_close(m);
        free(y);
        printf("%-8s %-8s worst rel L2 over %d entries: %.3g\n", kr->name, algo_name[algo], nc, worst);
        if (best && algo == 2) break;
    }
    TEST_DONE();
}
