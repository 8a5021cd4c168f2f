/* test_rng.c — sculpt_rng against torch.manual_seed + torch.randn values recorded by
 * tests/reference/make_samplers.py (rng.bin): bit equality for both code paths. */
#include <math.h>

#include "fixture.h"
#include "sampler/sampler.h"

static int count_mismatch(const float *a, const float *b, size_t n, size_t *first) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], 4) != 0) {
            if (!bad && first) *first = i;
            bad++;
        }
    }
    return bad;
}

static void check_draw(const char *what, const float *got, const float *want, size_t n) {
    size_t first = 0;
    int bad = count_mismatch(got, want, n, &first);
    CHECKF(bad == 0, "%s: %d of %zu values differ, first at %zu: %.9g vs torch %.9g", what, bad,
           n, first, bad ? got[first] : 0.0, bad ? want[first] : 0.0);
}

static void check_all(const fx_file *fp, const char *path_name) {
    const fx_file f = *fp; /* a shallow copy: the arrays stay in *fp's buffer */
    static const size_t sizes[] = {1, 2, 7, 15, 16, 17, 31, 32, 33, 3072};
    float *got = malloc(100003 * sizeof *got);
    if (!got) return;
    for (int si = 0; si < 6; si++) {
        char name[64];
        snprintf(name, sizeof name, "seed%d", si);
        int64_t *seed = fx_i64(&f, name, NULL);
        if (!seed) { test_failures++; continue; }
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t n = sizes[k], cnt = 0;
            snprintf(name, sizeof name, "s%d_n%zu", si, n);
            float *want = fx_f32(&f, name, &cnt);
            if (!want || cnt != n) { test_failures++; free(want); continue; }
            sculpt_rng r;
            sculpt_rng_seed(&r, (uint64_t)seed[0]);
            sculpt_rng_randn(&r, got, n);
            char what[96];
            snprintf(what, sizeof what, "%s: seed %llu n %zu", path_name, (unsigned long long)seed[0], n);
            check_draw(what, got, want, n);
            free(want);
        }
        free(seed);
    }
    /* one long draw (many MT twists, a tail redraw) */
    {
        size_t cnt = 0;
        float *want = fx_f32(&f, "s2_n100003", &cnt);
        sculpt_rng r;
        sculpt_rng_seed(&r, 42);
        sculpt_rng_randn(&r, got, 100003);
        char what[96];
        snprintf(what, sizeof what, "%s: seed 42 n 100003", path_name);
        if (want && cnt == 100003) check_draw(what, got, want, cnt);
        else test_failures++;
        free(want);
    }
    /* sequences of draws: the stream and the cached double continue as torch's do */
    for (int q = 0; q < 5; q++) {
        char name[64];
        size_t ns = 0, nv = 0;
        snprintf(name, sizeof name, "seq%d", q);
        int64_t *seq = fx_i64(&f, name, &ns);
        snprintf(name, sizeof name, "seq%d_vals", q);
        float *want = fx_f32(&f, name, &nv);
        if (!seq || !want) { test_failures++; free(seq); free(want); continue; }
        sculpt_rng r;
        sculpt_rng_seed(&r, 42);
        size_t off = 0;
        for (size_t i = 0; i < ns; i++) {
            if (seq[i] == 0) { sculpt_rng_seed(&r, 42); continue; }
            if (off + (size_t)seq[i] > nv) { test_failures++; break; }
            sculpt_rng_randn(&r, got + off, (size_t)seq[i]);
            off += (size_t)seq[i];
        }
        CHECK(off == nv);
        char what[64];
        snprintf(what, sizeof what, "%s: sequence %d", path_name, q);
        check_draw(what, got, want, off < nv ? off : nv);
        free(seq);
        free(want);
    }
    /* an image's noise as torch.randn(1, 3, 32, 32) */
    {
        size_t cnt = 0;
        float *want = fx_f32(&f, "s7_img", &cnt);
        sculpt_rng r;
        sculpt_rng_seed(&r, 7);
        sculpt_rng_randn(&r, got, 3072);
        char what[96];
        snprintf(what, sizeof what, "%s: seed 7 [1,3,32,32]", path_name);
        if (want && cnt == 3072) check_draw(what, got, want, cnt);
        else test_failures++;
        free(want);
    }
    free(got);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/sampler";
    /* fmaf must be a true fused multiply-add: (1+2^-12)^2 - (1+2^-11) = 2^-24 only when
     * the product is not rounded first. volatile keeps the compiler from folding it. */
    volatile float a = 1.0f + 0x1p-12f, c = -(1.0f + 0x1p-11f);
    CHECKF(fmaf(a, a, c) == 0x1p-24f, "fmaf is not fused: %g", (double)fmaf(a, a, c));

    fx_file f;
    if (fx_open(&f, dir, "rng.bin") != 0) return 1;
    check_all(&f, "this CPU's path");
    sampler_rng_force_generic(1);
    check_all(&f, "portable path");
    sampler_rng_force_generic(0);
    fx_close(&f);
    TEST_DONE();
}
