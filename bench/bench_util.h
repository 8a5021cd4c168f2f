/* bench_util.h — the few helpers every C benchmark here uses: a monotonic clock in ms,
 * a reproducible uniform fill, relative L2 error, an FNV-1a checksum of f32 bits and an
 * integer option parser. */
#ifndef SCULPT_BENCH_UTIL_H
#define SCULPT_BENCH_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* *out = v as an integer in lo..hi; else one line "prog: flag 'v' must be ..." on stderr
 * and -1 (v NULL: the option had no value). */
static inline int bench_parse_int(const char *prog, const char *flag, const char *v, int lo,
                                  int hi, int *out) {
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || end == v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "%s: %s '%s' must be an integer in %d..%d\n", prog, flag, v ? v : "", lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static inline double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + 1e-6 * (double)ts.tv_nsec;
}

/* uniform in [-1, 1) from a 32-bit LCG (state in *rng) */
static inline void bench_fill(uint32_t *rng, float *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        *rng = *rng * 1664525u + 1013904223u;
        p[i] = (float)((*rng >> 8) * (1.0 / 8388608.0)) - 1.0f;
    }
}

static inline double bench_rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* FNV-1a (64-bit) over the f32 bit patterns, folded */
static inline uint64_t bench_fnv64(const float *v, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        h = (h ^ u) * 0x100000001b3ull;
    }
    return h ^ (h >> 32);
}

#endif
