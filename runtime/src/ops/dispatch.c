/* dispatch.c — picks the GEMM micro-kernel at run time from the CPU's features
 * (__builtin_cpu_supports on x86, NEON is baseline on AArch64), or by name for tests,
 * benchmarks and the SCULPT_ISA override. The ISA kernels are linked only where built. */
#include <stdio.h>
#include <string.h>

#include "kernels.h"
#include "sculpt.h"

typedef struct entry {
    gemm_kernel k;
    int (*cpu_ok)(void);
} entry;

static int always(void) { return 1; }

#if defined(__x86_64__) || defined(__i386__)
static int has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

/* Best first. */
static const entry table[] = {
#if defined(SCULPT_HAVE_AVX512)
    {{"avx512", 6, 32, sculpt_f32_gemm_6x32__avx512, sculpt_f32_gemm_6x32h__avx512,
      sculpt_f32_gemm_6x32h2__avx512, sculpt_f32_gemm_6x32d__avx512}, has_avx512},
#endif
#if defined(SCULPT_HAVE_AVX2)
    {{"avx2", 6, 16, sculpt_f32_gemm_6x16__avx2, NULL, NULL, NULL}, has_avx2},
#endif
#if defined(SCULPT_HAVE_NEON)
    {{"neon", 6, 16, sculpt_f32_gemm_6x16__neon, NULL, NULL, NULL}, always},
#endif
    {{"scalar", 6, 16, sculpt_f32_gemm_6x16__scalar, NULL, NULL, NULL}, always},
};

static const char *const known[] = {"scalar", "avx2", "avx512", "neon"};

int gemm_kernel_count(void) { return (int)(sizeof table / sizeof table[0]); }

const gemm_kernel *gemm_kernel_at(int i, int *cpu_ok) {
    if (i < 0 || i >= gemm_kernel_count()) return NULL;
    if (cpu_ok) *cpu_ok = table[i].cpu_ok();
    return &table[i].k;
}

const gemm_kernel *gemm_kernel_select(const char *want, int *status_out, char *err,
                                      size_t errlen) {
    int n = gemm_kernel_count();
    if (!want || !*want) {
        for (int i = 0; i < n; i++)
            if (table[i].cpu_ok()) return &table[i].k;
        return &table[n - 1].k; /* scalar always runs */
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(table[i].k.name, want) != 0) continue;
        if (table[i].cpu_ok()) return &table[i].k;
        if (status_out) *status_out = SCULPT_E_CPU;
        if (err) snprintf(err, errlen, "kernel path '%s' is not supported by this CPU", want);
        return NULL;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(known[i], want) == 0) {
            if (status_out) *status_out = SCULPT_E_CPU;
            if (err) snprintf(err, errlen, "kernel path '%s' is not built for this architecture", want);
            return NULL;
        }
    }
    if (status_out) *status_out = SCULPT_E_ARG;
    if (err) snprintf(err, errlen, "unknown kernel path '%s' (known: scalar, avx2, avx512, neon)", want);
    return NULL;
}
