/* emu_kernels.h — the GEMM micro-kernels this CPU may lack, compiled a second time without
 * their -m flags so SIMDe emulates them (tests/unet/meson.build: unet_emu_kernels), as
 * gemm_kernel entries the op tests run beside the native ones. */
#ifndef SCULPT_TEST_EMU_KERNELS_H
#define SCULPT_TEST_EMU_KERNELS_H

#include "ops/kernels.h"

#if defined(UNET_TEST_EMU)
void test_gemm_avx512_emu(int kc, const float *a, const float *b, float *c, int64_t ldc, int acc,
                          const gemm_epi *ep);
void test_gemm_avx512h_emu(int kc, const float *a, const float *b, float *c, int64_t ldc, int acc,
                           const gemm_epi *ep);
void test_gemm_avx512d_emu(int kc, const float *a, int64_t a2, const float *b, float *c,
                           int64_t ldc, int acc, const gemm_epi *ep);
void test_gemm_avx512h2_emu(int kc, const float *a, int64_t a2, const float *b, float *c,
                            int64_t ldc, int acc, const gemm_epi *ep);
void test_gemm_neon_emu(int kc, const float *a, const float *b, float *c, int64_t ldc, int acc,
                        const gemm_epi *ep);
void test_gemm_avx2_emu(int kc, const float *a, const float *b, float *c, int64_t ldc, int acc,
                        const gemm_epi *ep);
/* winograd_avx512.c's weight transform, emulated likewise */
void test_wino_weights_avx512_emu(const float *w, int oc, int ic, int r, int k0, int kc, int m,
                                  float *d, size_t xs);
/* and its form from wino_wpack's layout */
void test_wino_weights_pre_avx512_emu(const float *wp, int k0, int kc, int m, float *d, size_t xs);
/* winograd4_avx512.c's F(4x4) input and output transforms, emulated likewise */
#include "ops/winograd_int.h"
void test_wino4_input_avx512_emu(const wino_run *runs, int nrun, int nc, size_t cs, int h, int w,
                                 float *out, size_t os, size_t xs);
void test_wino4_output_avx512_emu(const float *m, size_t xs, float *const d[4][4]);
static const gemm_kernel emu[] = {
    {"avx512(simde-emulated)", 6, 32, test_gemm_avx512_emu, test_gemm_avx512h_emu,
     test_gemm_avx512h2_emu, test_gemm_avx512d_emu},
    {"neon(simde-emulated)", 6, 16, test_gemm_neon_emu, NULL, NULL, NULL},
    {"avx2(simde-emulated)", 6, 16, test_gemm_avx2_emu, NULL, NULL, NULL},
};
#endif

#endif
