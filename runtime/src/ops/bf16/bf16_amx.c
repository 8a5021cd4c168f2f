/* bf16_amx.c — 32x32 bf16 micro-kernel for AMX-BF16 (bf16_kernels.h contract), x86-64:
 * C as 2 x 2 tiles of 16 rows x 16 f32, per 32-k step two A tiles, two B tiles and four
 * TDPBF16PS (Intel SDM vol. 1 ch. 18 and vol. 2 "TDPBF16PS"; palette 1: 8 tiles of at
 * most 16 rows x 64 bytes). The tests compile this file again without -m flags against
 * tests/unet/bf16/amx_emu.h (BF16_AMX_EMU), a C model of the tile instructions.
 *
 *   tmm0 C[0:16, 0:16]   tmm1 C[0:16, 16:32]      every tile: 16 rows x 64 bytes
 *   tmm2 C[16:32, 0:16]  tmm3 C[16:32, 16:32]     tmm4 A rows 0..15, tmm5 A rows 16..31
 *                                                 tmm6 B cols 0..15, tmm7 B cols 16..31
 *
 *   A k group q (2 KiB): row i = a(i, 32q .. 32q+31)   tmm4 <- rows 0..15,  stride 64 B
 *                                                      tmm5 <- rows 16..31, stride 64 B
 *   B pair rows 16q .. 16q+15, each 32 columns x one k pair = 128 B, at b[q], bstride
 *   apart (128 B in a packed panel; an image row's length in the direct path):
 *        [ cols 0..15: 64 B | cols 16..31: 64 B ]     tmm6 <- left halves,  stride bstride
 *                                                      tmm7 <- right halves, stride bstride
 *   TDPBF16PS tmm0, tmm4, tmm6: C[m][n] += sum over pairs p of
 *        A.row[m].bf16[2p] * B.row[p].bf16[2n] + A.row[m].bf16[2p+1] * B.row[p].bf16[2n+1]
 *   = sum over k of a(m, k) b(k, n) for the 32 k of the group: the layouts above.
 *
 * Linux grants tile data per process (arch_prctl ARCH_REQ_XCOMP_PERM, done by the CPU check
 * in bf16_dispatch.c) and the tile config per thread: sculpt_bf16_amx_begin loads it,
 * sculpt_bf16_amx_end releases the tiles (so context switches need not save them). */
#include <stdint.h>

#if defined(BF16_AMX_EMU)
#include "amx_emu.h"
#else
#include <immintrin.h>
#endif

#include "ops/bf16/bf16_kernels.h"

#ifndef BF16_AMX_NAME
#define BF16_AMX_NAME sculpt_bf16_gemm_32x32__amx
#define BF16_AMX_BEGIN sculpt_bf16_amx_begin
#define BF16_AMX_END sculpt_bf16_amx_end
#endif

/* LDTILECFG's 64-byte operand (SDM vol. 1, "TILECFG"). */
typedef struct tile_config {
    uint8_t palette_id;    /* 1: 8 tiles, 1 KiB each */
    uint8_t start_row;     /* 0: restart nothing */
    uint8_t reserved[14];
    uint16_t colsb[16];    /* bytes per row, tiles 0..7 (8..15 reserved, 0) */
    uint8_t rows[16];      /* rows, tiles 0..7 */
} tile_config;

_Static_assert(sizeof(tile_config) == 64, "LDTILECFG reads 64 bytes");

/* static const: all 64 bytes are in memory before LDTILECFG reads them (GCC's
 * _tile_loadconfig tells the compiler about 8 of them only). */
static const tile_config config __attribute__((aligned(64))) = {
    .palette_id = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

void BF16_AMX_BEGIN(void) { _tile_loadconfig(&config); }

void BF16_AMX_END(void) { _tile_release(); }

void BF16_AMX_NAME(int kc, const uint16_t *a, const uint16_t *const *b, int64_t bstride,
                   float *c, int64_t ldc, int accumulate) {
    const long sc = (long)ldc * 4, sb = (long)bstride * 2; /* row strides in bytes */
    float *c10 = c + 16 * ldc;
    /* GCC's tile loads are asm statements that name no memory: make the B rows' and C's
     * stores visible to them. */
    __asm__ volatile("" ::: "memory");
    if (accumulate) {
        _tile_loadd(0, c, sc);
        _tile_loadd(1, c + 16, sc);
        _tile_loadd(2, c10, sc);
        _tile_loadd(3, c10 + 16, sc);
    } else {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    }
    for (int q = 0; q < kc / 32; q++) {
        const uint16_t *ak = a + (int64_t)q * 32 * 32; /* group q: 32 rows x 32 bf16 */
        _tile_loadd(4, ak, 64);
        _tile_loadd(5, ak + 16 * 32, 64);
        _tile_loadd(6, b[q], sb);
        _tile_loadd(7, b[q] + 32, sb);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, c, sc);
    _tile_stored(1, c + 16, sc);
    _tile_stored(2, c10, sc);
    _tile_stored(3, c10 + 16, sc);
}
