/* winograd_wt_sse.c — winograd_wt.h's transform from wino_wpack's layout at 4 lanes, written
 * with SIMDe's SSE: SSE2 on any x86-64, NEON on AArch64 (SIMDe maps the operations one to
 * one, no fused multiply-add), so every CPU without the AVX2 or AVX-512 copies gets a vector
 * transform with the portable code's bits (test_winograd.c compares them). */
#include <simde/x86/sse.h>

#include "winograd_int.h"

#define WT_V simde__m128
#define WT_W 4
#define WT_LOAD simde_mm_load_ps
#define WT_STORE simde_mm_storeu_ps
#define WT_ADD simde_mm_add_ps
#define WT_SUB simde_mm_sub_ps
#define WT_MUL simde_mm_mul_ps
#define WT_SET1 simde_mm_set1_ps
#define WT_PRE_NAME sculpt_wino_weights_6p__sse
#include "winograd_wt.h"
