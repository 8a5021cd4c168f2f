/* amx_emu.h — a C model of the AMX tile instructions bf16_amx.c uses, so the tests can run
 * that kernel's exact tile addressing on a CPU without AMX (bf16_amx.c includes this file
 * instead of <immintrin.h> when built with -DBF16_AMX_EMU). It follows the Intel SDM:
 * LDTILECFG (palette 1: 8 tiles, at most 16 rows x 64 bytes), TILELOADD/TILESTORED (rows[t]
 * rows of colsb[t] bytes at base + r*stride: exactly the bytes the hardware touches, so
 * ASan sees any overrun), TILEZERO, TILERELEASE, and TDPBF16PS with its shape rules
 * (#UD when broken: A.colsb/4 == B.rows, C.colsb == B.colsb, C.rows == A.rows) and its
 * arithmetic (per pair: even product then odd, FMA with RNE, DAZ in, FTZ out). Anything the
 * hardware would fault on is counted in amx_emu_faults(). State is per thread, as tiles are. */
#ifndef SCULPT_AMX_EMU_H
#define SCULPT_AMX_EMU_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct amx_emu_state {
    int configured;          /* LDTILECFG ran and TILERELEASE has not */
    uint16_t colsb[8];
    uint8_t rows[8];
    unsigned char t[8][16][64];
} amx_emu_state;

static _Thread_local amx_emu_state amx_emu;
static _Atomic int amx_emu_fault_count;

/* Faults so far, all threads; external so the test (another translation unit) reads the
 * emulated kernel's count. */
int bf16_amx_emu_faults(void);
int bf16_amx_emu_faults(void) { return amx_emu_fault_count; }

static inline int amx_emu_ok(int tile) {
    if (!amx_emu.configured || tile < 0 || tile > 7 || amx_emu.rows[tile] == 0 ||
        amx_emu.colsb[tile] == 0) {
        amx_emu_fault_count++;
        return 0;
    }
    return 1;
}

static inline void amx_emu_loadconfig(const void *cfg) {
    const unsigned char *c = cfg;
    memset(&amx_emu, 0, sizeof amx_emu);
    if (c[0] != 1 || c[1] != 0) { amx_emu_fault_count++; return; } /* palette 1, start_row 0 */
    for (int i = 2; i < 16; i++)
        if (c[i]) { amx_emu_fault_count++; return; }                /* reserved bytes */
    for (int i = 0; i < 8; i++) {
        memcpy(&amx_emu.colsb[i], c + 16 + 2 * i, 2);
        amx_emu.rows[i] = c[48 + i];
        if (amx_emu.colsb[i] > 64 || amx_emu.rows[i] > 16 || amx_emu.colsb[i] % 4) {
            amx_emu_fault_count++;
            return;
        }
    }
    for (int i = 8; i < 16; i++) {
        uint16_t cb;
        memcpy(&cb, c + 16 + 2 * i, 2);
        if (cb || c[48 + i]) { amx_emu_fault_count++; return; }
    }
    amx_emu.configured = 1;
}

static inline void amx_emu_release(void) { memset(&amx_emu, 0, sizeof amx_emu); }

static inline void amx_emu_zero(int tile) {
    if (amx_emu_ok(tile)) memset(amx_emu.t[tile], 0, sizeof amx_emu.t[tile]);
}

static inline void amx_emu_loadd(int tile, const void *base, long stride) {
    if (!amx_emu_ok(tile)) return;
    memset(amx_emu.t[tile], 0, sizeof amx_emu.t[tile]);
    for (int r = 0; r < amx_emu.rows[tile]; r++)
        memcpy(amx_emu.t[tile][r], (const unsigned char *)base + (long)r * stride, amx_emu.colsb[tile]);
}

static inline void amx_emu_stored(int tile, void *base, long stride) {
    if (!amx_emu_ok(tile)) return;
    for (int r = 0; r < amx_emu.rows[tile]; r++)
        memcpy((unsigned char *)base + (long)r * stride, amx_emu.t[tile][r], amx_emu.colsb[tile]);
}

static inline float amx_emu_bf16(const unsigned char *p) { /* DAZ */
    uint16_t h;
    memcpy(&h, p, 2);
    if (!(h & 0x7f80u)) h &= 0x8000u;
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float amx_emu_ftz(float v) { return fabsf(v) < FLT_MIN ? copysignf(0.0f, v) : v; }

static inline void amx_emu_dpbf16ps(int d, int a, int b) {
    if (!amx_emu_ok(d) || !amx_emu_ok(a) || !amx_emu_ok(b)) return;
    if (d == a || d == b || a == b || amx_emu.colsb[a] / 4 != amx_emu.rows[b] ||
        amx_emu.colsb[d] != amx_emu.colsb[b] || amx_emu.rows[d] != amx_emu.rows[a]) {
        amx_emu_fault_count++;
        return;
    }
    for (int m = 0; m < amx_emu.rows[d]; m++) {
        float acc[16];
        memcpy(acc, amx_emu.t[d][m], sizeof acc);
        for (int k = 0; k < amx_emu.colsb[a] / 4; k++)
            for (int n = 0; n < amx_emu.colsb[d] / 4; n++) {
                const unsigned char *pa = amx_emu.t[a][m] + 4 * k, *pb = amx_emu.t[b][k] + 4 * n;
                acc[n] = amx_emu_ftz(fmaf(amx_emu_bf16(pa), amx_emu_bf16(pb), acc[n]));
                acc[n] = amx_emu_ftz(fmaf(amx_emu_bf16(pa + 2), amx_emu_bf16(pb + 2), acc[n]));
            }
        memcpy(amx_emu.t[d][m], acc, sizeof acc);
    }
}

#define _tile_loadconfig(cfg) amx_emu_loadconfig(cfg)
#define _tile_release() amx_emu_release()
#define _tile_zero(t) amx_emu_zero(t)
#define _tile_loadd(t, base, stride) amx_emu_loadd(t, base, stride)
#define _tile_stored(t, base, stride) amx_emu_stored(t, base, stride)
#define _tile_dpbf16ps(d, a, b) amx_emu_dpbf16ps(d, a, b)

#endif
