/* test_cli_golden.c — the real `sample` command on the unet fixtures against PyTorch
 * (tests/reference/make_cli.py: diffusers/k-diffusion transcriptions from the same seeds):
 * raw samples within each case's derived tolerance, PNG pixels, --threads and --batch
 * invariance, --init-noise/--out-raw round trips, and Ctrl-C mid-run. */
#include <png.h>
#include <stdarg.h>

#include "default_model.h"
#include "png_read.h"
#include "run_util.h"

static char g_exe[1024], g_fix[1024], g_unet[1024], g_out[256], g_log[256];

typedef struct golden {
    char name[64];
    double tol, sens;
    int n, c, s;
    char checksum[24];
    char args[512];
} golden;

/* Expand %U (unet fixtures) and %O (output dir). */
static void expand(const char *line, char *buf, size_t len) {
    size_t o = 0;
    for (const char *p = line; *p && o + 1 < len; p++) {
        if (p[0] == '%' && (p[1] == 'U' || p[1] == 'O' || p[1] == 'F')) {
            const char *r = p[1] == 'U' ? g_unet : p[1] == 'O' ? g_out : g_fix;
            int k = snprintf(buf + o, len - o, "%s", r);
            o = k > 0 && (size_t)k < len - o ? o + (size_t)k : len - 1;
            p++;
        } else {
            buf[o++] = *p;
        }
    }
    buf[o] = '\0';
}

static int g_expect_refusal; /* the next runs are meant to fail: do not print them */

static int run_fmt(run_result *r, const char *fmt, ...) {
    char line[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    expand(line, cmd, sizeof cmd);
    run_line(g_exe, cmd, g_log, r);
    if (r->status != 0 && !g_expect_refusal) fprintf(stderr, "sample %s\n  -> exit %d: %s", cmd, r->status, r->err);
    return r->status;
}

static void *read_out(const char *name, size_t want) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_out, name);
    size_t n = 0;
    void *d = test_read_file(p, &n);
    CHECKF(d && n == want, "%s: %zu bytes, want %zu", p, n, want);
    if (d && n != want) free(d), d = NULL;
    return d;
}

static void *read_fix(const char *name, size_t want) {
    char p[1200];
    snprintf(p, sizeof p, "%s/cli/%s", g_fix, name);
    size_t n = 0;
    void *d = test_read_file(p, &n);
    CHECKF(d && n == want, "%s: %zu bytes, want %zu", p, n, want);
    if (d && n != want) free(d), d = NULL;
    return d;
}

static int same_files(const char *a, const char *b) {
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/%s", g_out, a);
    snprintf(pb, sizeof pb, "%s/%s", g_out, b);
    size_t na = 0, nb = 0;
    char *da = test_read_file(pa, &na), *db = test_read_file(pb, &nb);
    int same = da && db && na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return same;
}

/* PNG pixels [s, s, c] of one file; NULL if unreadable or not s x s x c. */
/* The pixels of PNG `name` in the output dir if it is s x s with c channels (else NULL),
 * and its text chunk in text. */
static unsigned char *png_pixels(const char *name, int s, int c, char *text, size_t textlen) {
    char p[512];
    png_read r;
    snprintf(p, sizeof p, "%s/%s", g_out, name);
    text[0] = '\0';
    if (png_read_file(p, &r)) return NULL;
    snprintf(text, textlen, "%s", r.text);
    unsigned char *pix = r.w == s && r.h == s && r.c == c ? r.pix : NULL;
    if (pix) r.pix = NULL; /* handed to the caller */
    png_read_free(&r);
    return pix;
}

static void check_golden(const golden *g) {
    run_result r;
    size_t chw = (size_t)g->c * (size_t)g->s * (size_t)g->s, total = (size_t)g->n * chw;
    if (run_fmt(&r, "%s --threads 1 --quiet -o %%O/%s.png --out-raw %%O/%s.f32", g->args, g->name, g->name) != 0) {
        test_failures++;
        return;
    }
    char fn[256];
    snprintf(fn, sizeof fn, "%s.f32", g->name);
    float *got = read_out(fn, total * 4);
    snprintf(fn, sizeof fn, "%s.raw.f32", g->name);
    float *ref = read_fix(fn, total * 4);
    snprintf(fn, sizeof fn, "%s.px.u8", g->name);
    unsigned char *refpx = read_fix(fn, total);
    if (got && ref && refpx) {
        double e = test_rel_l2(got, ref, total), maxd = test_max_abs_diff(got, ref, total);
        fprintf(stderr, "golden %-14s rel L2 %.3g (tolerance %.3g = derived from one-ulp sensitivity %.3g), max |diff| %.3g\n",
                g->name, e, g->tol, g->sens, maxd);
        CHECKF(e <= g->tol, "%s: rel L2 %.3g > %.3g", g->name, e, g->tol);
        /* PNG pixels: equal to torch's except where torch's value sits within the raw
         * difference of a rounding boundary, and then by one level */
        for (int i = 0; i < g->n; i++) {
            char text[2048];
            if (g->n > 1) snprintf(fn, sizeof fn, "%s-%04d.png", g->name, i);
            else snprintf(fn, sizeof fn, "%s.png", g->name);
            unsigned char *px = png_pixels(fn, g->s, g->c, text, sizeof text);
            CHECKF(px != NULL, "%s unreadable or wrong shape", fn);
            if (!px) continue;
            int exact = 0, near = 0, bad = 0;
            for (int y = 0; y < g->s; y++)
                for (int x = 0; x < g->s; x++)
                    for (int ch = 0; ch < g->c; ch++) {
                        size_t hwc = ((size_t)y * (size_t)g->s + (size_t)x) * (size_t)g->c + (size_t)ch;
                        size_t nchw = (size_t)i * chw + ((size_t)ch * (size_t)g->s + (size_t)y) * (size_t)g->s + (size_t)x;
                        int a = px[hwc], b = refpx[(size_t)i * chw + hwc];
                        if (a == b) { exact++; continue; }
                        double u = ((double)ref[nchw] / 2 + 0.5) * 255.0;
                        double dist = fabs(u - (floor(u) + 0.5));
                        if (abs(a - b) == 1 && dist <= maxd * 127.5 + 1e-4) near++;
                        else bad++;
                    }
            CHECKF(bad == 0, "%s: %d pixels differ from torch's (%d exact, %d at rounding boundaries)", fn, bad, exact, near);
            char seed[64];
            const char *sp = strstr(g->args, "--seed ");
            snprintf(seed, sizeof seed, "seed: %lld,", sp ? atoll(sp + 7) + i : -1LL);
            CHECKF(strstr(text, seed) && strstr(text, "sculpt: "), "%s text: %s", fn, text);
            char cs[48];
            snprintf(cs, sizeof cs, "checksum: %s", g->checksum);
            CHECKF(strstr(text, cs) != NULL, "%s: the weights are not the ones the fixture was made from (%s); "
                   "rerun tests/reference/make_cli.py golden after make_unet.py: %s", fn, cs, text);
            free(px);
        }
    }
    free(got);
    free(ref);
    free(refpx);
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[3], "golden") && strcmp(argv[3], "props"))) {
        fprintf(stderr, "usage: test_cli_golden SAMPLE_EXE FIXTURES_DIR golden|props\n");
        return 2;
    }
    int golden_part = strcmp(argv[3], "golden") == 0;
    snprintf(g_exe, sizeof g_exe, "%s", argv[1]);
    snprintf(g_fix, sizeof g_fix, "%s", argv[2]);
    snprintf(g_unet, sizeof g_unet, "%s/unet", argv[2]);
    char root[] = "/tmp/sculpt-cli-golden-XXXXXX";
    if (!mkdtemp(root)) return 1;
    snprintf(g_out, sizeof g_out, "%s/out", root);
    snprintf(g_log, sizeof g_log, "%s/log", root);
    mkdir(g_out, 0755), mkdir(g_log, 0755);

    if (run_cannot_start(g_exe, g_log)) {
        run_clear_dir(g_log), rmdir(g_log), rmdir(g_out), rmdir(root);
        return 77;
    }
    if (!golden_part) goto props;
    /* 1. every golden case from the manifest */
    char mp[1200];
    snprintf(mp, sizeof mp, "%s/cli/golden.txt", g_fix);
    FILE *mf = fopen(mp, "r");
    CHECKF(mf != NULL, "%s", mp);
    char line[1024];
    int cases = 0;
    while (mf && fgets(line, sizeof line, mf)) {
        golden g;
        int off = 0;
        if (line[0] == '#') continue;
        if (sscanf(line, "golden %63s %lf %lf %d %d %d %23s %n", g.name, &g.tol, &g.sens, &g.n, &g.c, &g.s,
                   g.checksum, &off) != 7 || off == 0) {
            CHECKF(0, "bad manifest line: %s", line);
            continue;
        }
        snprintf(g.args, sizeof g.args, "%s", line + off);
        g.args[strcspn(g.args, "\n")] = '\0';
        check_golden(&g);
        cases++;
        run_clear_dir(g_out);
    }
    if (mf) fclose(mf);
    CHECK(cases >= 8);
    goto done;

props:;
    run_result r;
    const char *ddim = "--weights %U/tiny.bin --sampler ddim --steps 4 --seed 42 -n 2 --quiet --threads 1";
    /* 2. --threads 1 and --threads 2 give identical files */
    if (run_fmt(&r, "%s --threads 1 -o %%O/t1.png --out-raw %%O/t1.f32", ddim) == 0 &&
        run_fmt(&r, "%s --threads 2 -o %%O/t2.png --out-raw %%O/t2.f32", ddim) == 0) {
        CHECK(same_files("t1.f32", "t2.f32"));
        CHECK(same_files("t1-0000.png", "t2-0000.png") && same_files("t1-0001.png", "t2-0001.png"));
    } else test_failures++;
    /* 3. --batch never changes an image (stochastic samplers included) */
    const char *stoch[] = {"--sampler ddpm --steps 6 --seed 7", "--sampler euler_a --steps 4 --seed 9",
                           "--sampler heun --steps 3 --churn 1 --seed 11"};
    for (int k = 0; k < 3; k++) {
        if (run_fmt(&r, "--weights %%U/tiny.bin %s -n 3 --batch 1 --threads 1 --quiet --out-raw %%O/b1.f32", stoch[k]) == 0 &&
            run_fmt(&r, "--weights %%U/tiny.bin %s -n 3 --batch 3 --threads 1 --quiet --out-raw %%O/b3.f32", stoch[k]) == 0)
            CHECKF(same_files("b1.f32", "b3.f32"), "%s: batch changes images", stoch[k]);
        else test_failures++;
    }
    /* 4. --init-noise: torch's own starting noise for seeds 42, 43 reproduces the seeded run
     * bit for bit; given to another seed, a deterministic sampler gives the seed-42 images */
    if (run_fmt(&r, "%s --out-raw %%O/seeded.f32", ddim) == 0 &&
        run_fmt(&r, "%s --init-noise %%F/cli/ddim10.noise.f32 --out-raw %%O/init.f32", ddim) == 0 &&
        run_fmt(&r, "--weights %%U/tiny.bin --sampler ddim --steps 4 --seed 1000 -n 2 --threads 1 --quiet "
                    "--init-noise %%F/cli/ddim10.noise.f32 --out-raw %%O/other.f32", "") == 0) {
        CHECK(same_files("seeded.f32", "init.f32"));
        CHECK(same_files("seeded.f32", "other.f32"));
    } else test_failures++;
    /* the written raw file feeds back in as noise: same length, accepted */
    if (run_fmt(&r, "--weights %%U/tiny.bin --sampler ddim --steps 2 -n 2 --threads 1 --quiet --init-noise %%O/seeded.f32 "
                    "--out-raw %%O/again.f32", "") == 0) {
        float *a = read_out("again.f32", 2u * 768 * 4);
        free(a);
    } else test_failures++;
    run_clear_dir(g_out);
    /* wrong size is refused naming the file and the sizes */
    g_expect_refusal = 1;
    run_fmt(&r, "--weights %%U/tiny.bin -n 3 --quiet --init-noise %%F/cli/ddim10.noise.f32 -o %%O/x.png", "");
    CHECK(r.status == 2 && run_one_line(r.err) && strstr(r.err, "ddim10.noise.f32: 6144 bytes") &&
          strstr(r.err, "9216 bytes"));
    CHECK(run_count_files(g_out) == 0);
    /* 5. the model's training steps bound ddpm/ddim */
    run_fmt(&r, "--weights %%U/tiny.bin --sampler ddpm --steps 1001 -o %%O/x.png", "");
    CHECK(r.status == 2 && run_one_line(r.err) && strstr(r.err, "1000 training steps"));
    CHECK(run_count_files(g_out) == 0);
    /* the sampler's own refusals (sculpt_sampler_check) come before any work, naming the
     * weights and the numbers */
    run_fmt(&r, "--weights %%U/tiny.bin --sampler ddim --spacing trailing --steps 61 -o %%O/x.png --out-raw %%O/x.f32", "");
    CHECKF(r.status == 2 && run_one_line(r.err) && strstr(r.err, "tiny.bin") && strstr(r.err, "62 values, not 61"),
           "%d: %s", r.status, r.err);
    CHECK(run_count_files(g_out) == 0);
    g_expect_refusal = 0;
    /* 6. kernel paths this CPU lacks are refused before any work */
    g_expect_refusal = 1;
#if defined(__x86_64__) || defined(__i386__)
    run_fmt(&r, "--weights %%U/tiny.bin --isa neon -o %%O/x.png", "");
#else
    run_fmt(&r, "--weights %%U/tiny.bin --isa avx2 -o %%O/x.png", "");
#endif
    CHECKF(r.status == 2 && run_one_line(r.err) && strstr(r.err, "cannot set up the network"), "%d: %s", r.status, r.err);
    CHECK(run_count_files(g_out) == 0);
    /* 7. without --weights: the built-in model, or one line saying there is none */
    if (sculpt_default_model_size == 0) {
        run_fmt(&r, "--steps 2 -o %%O/d.png", "");
        CHECK(r.status == 2 && run_one_line(r.err) && strstr(r.err, "no default model is built into this binary"));
        CHECK(run_count_files(g_out) == 0);
    } else {
        g_expect_refusal = 0;
        char text[2048];
        if (run_fmt(&r, "--steps 2 --threads 1 -q -o %%O/d.png", "") == 0) {
            unsigned char *png, *px = NULL; /* any size: the width from IHDR */
            size_t n = 0;
            char p[512];
            snprintf(p, sizeof p, "%s/d.png", g_out);
            png = test_read_file(p, &n);
            if (png && n > 24) {
                int w = (int)((unsigned)png[16] << 24 | (unsigned)png[17] << 16 | (unsigned)png[18] << 8 | png[19]);
                px = png_pixels("d.png", w, 3, text, sizeof text);
            }
            CHECKF(px && strstr(text, "(built-in)") != NULL, "default model PNG: %s", px ? text : "unreadable");
            free(px);
            free(png);
        } else test_failures++;
        run_clear_dir(g_out);
    }
    g_expect_refusal = 0;
    /* 8. Ctrl-C mid-run: exit 130, no file */
    {
        char cmd[2048];
        expand("--weights %U/tiny.bin --sampler ddpm --steps 1000 -n 4 --batch 2 --threads 1 -o %O/int.png --out-raw %O/int.f32",
               cmd, sizeof cmd);
        char *av[RUN_MAX_ARGS];
        int ac = 0;
        av[ac++] = g_exe;
        for (char *t = strtok(cmd, " "); t && ac < RUN_MAX_ARGS - 1; t = strtok(NULL, " ")) av[ac++] = t;
        av[ac] = NULL;
        pid_t pid = run_start(av, g_log);
        char errp[512], txt[8192] = "";
        snprintf(errp, sizeof errp, "%s/stderr", g_log);
        double t0 = run_now();
        int seen = 0;
        while (!seen && run_now() - t0 < 30.0) {
            struct timespec ts = {0, 5000000L};
            nanosleep(&ts, NULL);
            run_slurp(errp, txt, sizeof txt);
            seen = strstr(txt, "sample: ddpm") != NULL; /* the start line comes with step 1 */
        }
        CHECKF(seen, "no progress before SIGINT: %s", txt);
        kill(pid, SIGINT);
        run_finish(pid, g_log, &r);
        CHECKF(r.status == 130, "SIGINT: exit %d: %s", r.status, r.err);
        CHECKF(run_count_files(g_out) == 0, "SIGINT left %d files", run_count_files(g_out));
    }
done:
    run_clear_dir(g_out), run_clear_dir(g_log);
    rmdir(g_out), rmdir(g_log), rmdir(root);
    TEST_DONE();
}
