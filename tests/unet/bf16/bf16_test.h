/* bf16_test.h — what the bf16 tests share: the kernels to test on this machine (every
 * built kernel the CPU runs, SKIP for the others, plus on x86 the AVX512-BF16 kernel and
 * the AVX-512 rounding step compiled without -m flags under SIMDe emulation, and the AMX
 * kernel compiled against amx_emu.h, a C model of the tile instructions) and random data. */
#ifndef SCULPT_BF16_TEST_H
#define SCULPT_BF16_TEST_H

#include <stdint.h>

#include "ops/bf16/bf16.h"
#include "ops/bf16/bf16_kernels.h"
#include "sculpt.h"
#include "test.h"

#if defined(BF16_TEST_EMU)
void test_bf16_avx512bf16_emu(int kc, const uint16_t *a, const uint16_t *const *b,
                              int64_t bstride, float *c, int64_t ldc, int accumulate);
void test_bf16_cvt_avx512_emu(int pairs, int nr, const float *src, uint16_t *dst);
void test_bf16_shift_avx512_emu(const float *x0, const float *x1, int h, int w, int ow,
                                int stride, int row0, int col0, int64_t f0, int len,
                                uint16_t *dst);
void test_bf16_amx_emu(int kc, const uint16_t *a, const uint16_t *const *b, int64_t bstride,
                       float *c, int64_t ldc, int accumulate);
void test_bf16_amx_begin_emu(void);
void test_bf16_amx_end_emu(void);
int bf16_amx_emu_faults(void);
#endif

#define BF16_TEST_MAX_KERNELS 8

/* Fills out[] with the kernels to test; prints RUN/SKIP per native kernel. */
static inline int bf16_test_kernels(bf16_kernel *out) {
    int n = 0;
    for (int i = 0; i < bf16_kernel_count(); i++) {
        int ok = 0;
        const bf16_kernel *k = bf16_kernel_at(i, &ok);
        if (ok) {
            printf("RUN native %s (%dx%d, k group %d)\n", k->name, k->mr, k->nr, k->kg);
            out[n++] = *k;
        } else {
            char err[512] = "";
            bf16_kernel_select(k->name, NULL, err, sizeof err);
            printf("SKIP native %s: %s\n", k->name, err);
        }
    }
#if defined(BF16_TEST_EMU)
    const bf16_kernel emu[] = {
        {"avx512bf16(simde-emulated)", BF16_PAIR_MR, BF16_PAIR_NR, BF16_PAIR_KG, BF16_PAIR_KC,
         BF16_PAIR_NC, test_bf16_avx512bf16_emu, test_bf16_cvt_avx512_emu,
         test_bf16_shift_avx512_emu, NULL, NULL},
        {"amx(c-model)", BF16_AMX_MR, BF16_AMX_NR, BF16_AMX_KG, BF16_AMX_KC, BF16_AMX_NC,
         test_bf16_amx_emu, test_bf16_cvt_avx512_emu, test_bf16_shift_avx512_emu,
         test_bf16_amx_begin_emu, test_bf16_amx_end_emu},
    };
    for (size_t i = 0; i < sizeof emu / sizeof emu[0]; i++) {
        printf("RUN %s (%dx%d, k group %d)\n", emu[i].name, emu[i].mr, emu[i].nr, emu[i].kg);
        out[n++] = emu[i];
    }
#endif
    return n;
}

static uint32_t bf16_test_rng = 12345;
static inline uint32_t rand_u32(void) {
    bf16_test_rng = bf16_test_rng * 1664525u + 1013904223u;
    return bf16_test_rng;
}
static inline float frand(void) { /* uniform in [-1, 1) */
    return (float)((rand_u32() >> 8) * (1.0 / 8388608.0)) - 1.0f;
}
static inline float *rand_buf(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

#endif
