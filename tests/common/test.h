/* test.h — the tiny harness every C test uses: CHECK macros that count failures, file
 * helpers for fixtures, and the normalised error the golden tests grade by. */
#ifndef SCULPT_TEST_H
#define SCULPT_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

#define CHECKF(cond, ...)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            test_failures++;                                                \
        }                                                                   \
    } while (0)

#define TEST_DONE()                                                          \
    do {                                                                     \
        if (test_failures) fprintf(stderr, "%d check(s) failed\n", test_failures); \
        return test_failures ? 1 : 0;                                        \
    } while (0)

/* Read a whole file; NULL if it cannot be read. *len gets its size. Caller frees. */
static inline void *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0) { fclose(f); return NULL; }
    rewind(f);
    void *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p && len) *len = (size_t)n;
    return p;
}

/* ||a - b|| / max(||b||, tiny) in double. */
static inline double test_rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    return sqrt(num) / (den > 1e-300 ? sqrt(den) : 1e-150);
}

/* max |a[i]| and max |a[i] - b[i]| in double; a NaN anywhere gives NaN. Written with a
 * branch, not fmax: Debian 12's aarch64 gcc 12.2 has an internal compiler error vectorising
 * fmax(m, fabs((double)x)) reductions at -O3. b may be NULL (then max |a[i]|). */
static inline double test_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (b ? (double)b[i] : 0.0));
        if (d > m || d != d) m = d;
    }
    return m;
}

/* execv(argv[0], argv) in a forked child, through meson's MESON_EXE_WRAPPER when set (a
 * cross build's qemu-user), so tests that run our tools need no binfmt_misc. Returns only
 * on failure. */
static inline void test_execv(char *const *argv) {
    const char *wrap = getenv("MESON_EXE_WRAPPER");
    if (wrap && *wrap) {
        static char buf[1024];
        char *wargv[64];
        int n = 0;
        snprintf(buf, sizeof buf, "%s", wrap);
        for (char *tok = strtok(buf, " "); tok && n < 32; tok = strtok(NULL, " ")) wargv[n++] = tok;
        for (int i = 0; argv[i] && n < 63; i++) wargv[n++] = argv[i];
        wargv[n] = NULL;
        execvp(wargv[0], wargv);
        return;
    }
    execv(argv[0], argv);
}

#endif
