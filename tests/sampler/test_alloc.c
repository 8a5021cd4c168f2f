/* test_alloc.c — DESIGN contract 7, "the sampling loop allocates nothing": counts every
 * malloc/calloc/realloc/memalign called from sculpt's code (interposed over glibc's; calls
 * from other libraries, such as libgomp's thread teams, are counted apart and printed)
 * while sculpt_sampler_run steps the tiny UNet fixture with each sampler: between the first
 * and the last step there must be none (eval, samplers, noise), and a run allocates its
 * scratch a bounded number of times. glibc without sanitizers only; else skipped (77). */
#include <stdint.h>

#include "sculpt.h"
#include "test.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define ALLOC_NO_INTERPOSE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
#define ALLOC_NO_INTERPOSE 1
#endif

#ifndef ALLOC_NO_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

/* Allocations called from this executable's own code (sculpt is linked in statically), and
 * from elsewhere (libc, libgomp's thread teams, ...), all threads, atomic. */
static long g_own, g_other;
extern const char __executable_start[], etext[];

#define counted()                                                                          \
    do {                                                                                   \
        const char *ra_ = __builtin_return_address(0);                                    \
        __atomic_fetch_add(ra_ >= __executable_start && ra_ < etext ? &g_own : &g_other, 1, \
                           __ATOMIC_RELAXED);                                              \
    } while (0)
void *malloc(size_t n) { counted(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { counted(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { counted(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { counted(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { counted(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    counted();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void free(void *p) { __libc_free(p); }

static long allocs(void) { return __atomic_load_n(&g_own, __ATOMIC_RELAXED); }
static long other_allocs(void) { return __atomic_load_n(&g_other, __ATOMIC_RELAXED); }

typedef struct watch { long at_first, at_last, other_first, other_last; int last; } watch;

static int on_step(void *user, int step, int steps, int nfe) {
    watch *w = user;
    (void)nfe;
    if (step == 1) w->at_first = allocs(), w->other_first = other_allocs();
    if (step == steps) w->at_last = allocs(), w->other_last = other_allocs(), w->last = step;
    return 0;
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
    const sculpt_config *cfg = sculpt_model_config(m);
    size_t per = (size_t)cfg->in_channels * (size_t)cfg->sample_size * (size_t)cfg->sample_size;
    float *x = malloc(2 * per * sizeof *x);
    sculpt_rng rngs[2];
    for (int threads = 1; threads <= 2 && x; threads++) {
        sculpt_ctx_options co = {2, threads, SCULPT_PRECISION_F32, NULL, 0};
        sculpt_ctx *c = NULL;
        if (sculpt_ctx_create(m, &co, &c) != SCULPT_OK) {
            fprintf(stderr, "ctx: %s\n", sculpt_ctx_errmsg(NULL));
            return 1;
        }
        struct { int kind, sched; float eta, churn; } cases[] = {
            {SCULPT_SAMPLER_DDPM, 0, 0, 0},        {SCULPT_SAMPLER_DDIM, 0, 0.5f, 0},
            {SCULPT_SAMPLER_EULER, SCULPT_SIGMAS_KARRAS, 0, 1.0f},
            {SCULPT_SAMPLER_HEUN, SCULPT_SIGMAS_DISCRETE, 0, 0.5f},
            {SCULPT_SAMPLER_EULER_A, SCULPT_SIGMAS_EXPONENTIAL, 1.0f, 0},
            {SCULPT_SAMPLER_DPMPP_2M, SCULPT_SIGMAS_KARRAS, 0, 0},
        };
        for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
            sculpt_sampler_options o;
            sculpt_sampler_defaults(&o);
            o.sampler = cases[k].kind, o.steps = 5, o.sigma_schedule = cases[k].sched;
            o.eta = cases[k].eta, o.churn = cases[k].churn;
            for (int j = 0; j < 2; j++) {
                sculpt_rng_seed(&rngs[j], 7 + (uint64_t)j);
                sculpt_rng_randn(&rngs[j], x + (size_t)j * per, per);
            }
            watch w = {0, 0, 0, 0, 0};
            long before = allocs();
            sculpt_status st = sculpt_sampler_run(c, &o, 2, rngs, x, on_step, &w);
            long total = allocs() - before;
            CHECKF(st == SCULPT_OK && w.last == 5, "threads %d case %zu: %s", threads, k, sculpt_ctx_errmsg(c));
            CHECKF(w.at_last == w.at_first, "threads %d case %zu: %ld allocations between step 1 and step 5", threads,
                   k, w.at_last - w.at_first);
            CHECKF(total <= 3, "threads %d case %zu: %ld allocations in one run (plan and scratch once per run: at most 3)", threads, k,
                   total);
            if (k == 0 || k == 3)
                printf("threads %d, %s: sculpt: %ld allocations per sculpt_sampler_run, %ld in steps 2..5; "
                       "other libraries (libgomp...): %ld in steps 2..5\n",
                       threads, k ? "heun" : "ddpm", total, w.at_last - w.at_first, w.other_last - w.other_first);
        }
        sculpt_ctx_destroy(c);
    }
    free(x);
    sculpt_model_close(m);
    TEST_DONE();
}
#else
int main(void) {
    printf("skipped: malloc interposition needs glibc without sanitizers\n");
    return test_failures ? 1 : 77;
}
#endif
