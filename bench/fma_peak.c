/* fma_peak.c — measures this machine's fp32 FMA throughput (GFLOP/s) for every SIMD path
 * the CPU supports (AVX-512, AVX2+FMA, NEON; chosen at run time) on 1 and 2 threads: the
 * "peak" that bench/run.sh divides sculpt's GFLOP/s by. Best of a few short runs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fma_kernels.h"

float fma_run_scalar(int64_t iters, float a, float b) {
    float c0 = 0.0f, c1 = 0.1f, c2 = 0.2f, c3 = 0.3f, c4 = 0.4f, c5 = 0.5f, c6 = 0.6f, c7 = 0.7f;
    for (int64_t i = 0; i < iters; i++) {
        c0 = c0 * a + b; c1 = c1 * a + b; c2 = c2 * a + b; c3 = c3 * a + b;
        c4 = c4 * a + b; c5 = c5 * a + b; c6 = c6 * a + b; c7 = c7 * a + b;
    }
    return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
}

static int cpu_has(const char *isa) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!strcmp(isa, "avx512")) return __builtin_cpu_supports("avx512f");
    if (!strcmp(isa, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#elif defined(__aarch64__)
    if (!strcmp(isa, "neon")) return 1; /* Advanced SIMD is mandatory on AArch64 */
#endif
    return !strcmp(isa, "scalar");
}

static const fma_kernel kernels[] = {
#ifdef BENCH_HAVE_AVX512
    {"avx512", 2 * 16 * FMA_ACC_AVX512, fma_run_avx512},
#endif
#ifdef BENCH_HAVE_AVX2
    {"avx2", 2 * 8 * FMA_ACC_AVX2, fma_run_avx2},
#endif
#ifdef BENCH_HAVE_NEON
    {"neon", 2 * 4 * FMA_ACC_NEON, fma_run_neon},
#endif
    {"scalar", 2 * FMA_ACC_SCALAR, fma_run_scalar},
};
#define N_KERNELS ((int)(sizeof kernels / sizeof kernels[0]))

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct job {
    const fma_kernel *k;
    int64_t iters;
    pthread_barrier_t *start;
    volatile float sink;
} job;

static void *worker(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->start);
    j->sink = j->k->run(j->iters, 0.999f, 0.001f); /* converges to 1: no overflow/denormals */
    return NULL;
}

/* Wall time for `threads` threads each running `iters` rounds; < 0 on a thread error. */
static double timed_run(const fma_kernel *k, int threads, int64_t iters) {
    pthread_t tid[64];
    job jobs[64];
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, (unsigned)threads + 1)) return -1.0;
    int made = 0;
    for (; made < threads; made++) {
        jobs[made] = (job){k, iters, &start, 0.0f};
        int e = pthread_create(&tid[made], NULL, worker, &jobs[made]);
        if (e) {
            fprintf(stderr, "fma_peak: pthread_create: %s\n", strerror(e));
            break;
        }
    }
    if (made < threads) { /* release the ones already waiting: they need `threads`+1 */
        pthread_barrier_destroy(&start);
        return -1.0; /* (leaks the blocked threads; the process exits right after) */
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    double t1 = now_s();
    pthread_barrier_destroy(&start);
    return t1 - t0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: fma_peak [--threads 1,2] [--isa NAME|all] [--ms 150] [--reps 3]\n"
            "  prints 'fma_peak isa=I threads=T gflops=G' per supported path (best of reps)\n");
}

int main(int argc, char **argv) {
    const char *threads_arg = "1,2", *isa_arg = "all";
    int ms = 150, reps = 3;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--threads") && v) threads_arg = argv[++i];
        else if (!strcmp(argv[i], "--isa") && v) isa_arg = argv[++i];
        else if (!strcmp(argv[i], "--ms") && v) ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && v) reps = atoi(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    if (ms < 1 || ms > 60000 || reps < 1 || reps > 1000) {
        fprintf(stderr, "fma_peak: --ms %d must be in 1..60000 and --reps %d in 1..1000\n", ms, reps);
        return 2;
    }
    int threads[16], nt = 0;
    for (const char *p = threads_arg; *p && nt < 16;) {
        char *end;
        errno = 0;
        long t = strtol(p, &end, 10);
        if (end == p || errno || t < 1 || t > 64) {
            fprintf(stderr, "fma_peak: bad --threads '%s' (want a list like 1,2 of 1..64)\n", threads_arg);
            return 2;
        }
        threads[nt++] = (int)t;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            fprintf(stderr, "fma_peak: bad --threads '%s'\n", threads_arg);
            return 2;
        }
    }
    int ran = 0;
    for (int ki = 0; ki < N_KERNELS; ki++) {
        const fma_kernel *k = &kernels[ki];
        int wanted = !strcmp(isa_arg, "all") || !strcmp(isa_arg, k->isa);
        if (!wanted) continue;
        if (!cpu_has(k->isa)) {
            printf("fma_peak isa=%s unsupported by this CPU (skipped)\n", k->isa);
            continue;
        }
        /* Calibrate on one thread: iterations for ~ms milliseconds. */
        int64_t iters = 1 << 16;
        for (;;) {
            double t = timed_run(k, 1, iters);
            if (t < 0) return 1;
            if (t > 0.02 || iters > ((int64_t)1 << 40)) {
                iters = (int64_t)((double)iters * (ms * 1e-3) / (t > 1e-9 ? t : 1e-9));
                if (iters < 1) iters = 1;
                break;
            }
            iters *= 4;
        }
        for (int ti = 0; ti < nt; ti++) {
            double best = 0.0;
            for (int r = 0; r < reps; r++) {
                double t = timed_run(k, threads[ti], iters);
                if (t < 0) return 1;
                double g = (double)iters * k->flops_per_iter * threads[ti] / t * 1e-9;
                if (g > best) best = g;
            }
            printf("fma_peak isa=%s threads=%d gflops=%.2f\n", k->isa, threads[ti], best);
            fflush(stdout);
            ran++;
        }
    }
    if (!ran) {
        fprintf(stderr, "fma_peak: no kernel path '%s' is available here\n", isa_arg);
        return 1;
    }
    return 0;
}
