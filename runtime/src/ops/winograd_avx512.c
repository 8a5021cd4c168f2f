/* winograd_avx512.c — the Winograd weight transform of winograd.c (winograd_wt.h) at 16 lanes
 * with AVX-512F (built with -mavx512f, called only where the CPU has it): half the vector
 * instructions of the AVX2 one, and half the stores — which bound F(4x4)'s transform, 36
 * stores per vector of weights. The same bits as the portable code (test_winograd.c checks
 * this file compiled a second time without -mavx512f, SIMDe emulating it, on any x86). */
/* the parts of SIMDe's AVX-512 used (its umbrella header does not build with gcc 12) */
#include <simde/x86/avx512/add.h>
#include <simde/x86/avx512/load.h>
#include <simde/x86/avx512/mul.h>
#include <simde/x86/avx512/set1.h>
#include <simde/x86/avx512/storeu.h>
#include <simde/x86/avx512/sub.h>
#include <simde/x86/sse.h>

#include "winograd_int.h"

#ifndef WINO_AVX512_NAME
#define WINO_AVX512_NAME sculpt_wino_weights_6__avx512
#endif
#ifndef WINO_AVX512_PRE_NAME
#define WINO_AVX512_PRE_NAME sculpt_wino_weights_6p__avx512
#endif

#define WT_V simde__m512
#define WT_W 16
#define WT_LOAD simde_mm512_load_ps
#define WT_STORE simde_mm512_storeu_ps
#define WT_ADD simde_mm512_add_ps
#define WT_SUB simde_mm512_sub_ps
#define WT_MUL simde_mm512_mul_ps
#define WT_SET1 simde_mm512_set1_ps
#define WT_NAME WINO_AVX512_NAME
#define WT_PRE_NAME WINO_AVX512_PRE_NAME
#include "winograd_wt.h"
