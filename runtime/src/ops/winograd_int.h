/* winograd_int.h — inside the Winograd convolution: the transforms winograd.c's driver calls
 * per tile size, and their ISA versions (same operations, same order, same bits). Not part of
 * the ops interface. */
#ifndef SCULPT_WINOGRAD_INT_H
#define SCULPT_WINOGRAD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* A run of tiles along one tile row: tiles tx .. tx+len-1 of tile row ty of the item whose
 * input starts at x (channel planes [ic][h][w]) */
typedef struct wino_run {
    const float *x;
    int ty, tx, len;
} wino_run;

/* F(2x2,3x3), portable (winograd2.c): the weights as wino4_weights_panel below (xi = 4 i + j);
 * V of tiles tx0..tx0+len-1 (len <= GEMM_MAX_NR) of tile row ty (input rows 2ty-1 .. 2ty+2,
 * columns 2tx-1 .. 2tx+2, zero outside), V[xi] of tile t at out[xi * xs + t]; Y of tiles
 * 0..len-1, M[xi] of tile t at m[xi * xs + t], the two output rows of tile t to d0[2t ..
 * 2t+1] and d1[2t .. 2t+1]. */
void wino2_weights_panel(const float *w, int oc, int ic, int mr, int r, int k0, int kc,
                         float *d, size_t xs);
void wino2_input_run(const float *xc, int h, int w, int ty, int tx0, int len, float *out,
                     size_t xs);
void wino2_output_run(const float *m, size_t xs, int len, float *d0, float *d1);

/* F(4x4,3x3), portable (winograd4.c). Layouts as winograd.c's F(2x2) ones:
 * weights_panel: U of output-channel panel r (channels r*mr ..) for input channels
 *   k0..k0+kc-1, lane (c - k0) * mr + i of matrix xi at d + xi * xs, xi = 6 i + j;
 * input_run: V = B^T d B of tiles tx0..tx0+len-1 (len <= GEMM_MAX_NR) of tile row ty of the
 *   plane xc [h][w] (tile (ty, tx): input rows 4ty-1 .. 4ty+4, columns 4tx-1 .. 4tx+4, zero
 *   outside), V[xi] of tile t at out[xi * xs + t];
 * output_run: Y = A^T M A of tiles 0..len-1 (len <= GEMM_MAX_NR), M[xi] of tile t at
 *   m[xi * xs + t]; output row r of tile t goes to d[r][4t .. 4t+3]. */
void wino4_weights_panel(const float *w, int oc, int ic, int mr, int r, int k0, int kc,
                         float *d, size_t xs);
void wino4_input_run(const float *xc, int h, int w, int ty, int tx0, int len, float *out,
                     size_t xs);
void wino4_output_run(const float *m, size_t xs, int len, float *const d[4]);

/* wino_wpack's chunks: this many input channels x 6 output channels (winograd_wt.h's CB) */
#define WINO_WPACK_CB 8

/* The weight transform of panel r from wino_wpack's layout (wp: the panel's first chunk),
 * for input channels k0 .. k0+kc-1 (k0 a multiple of 8), into d as wino4_weights_panel
 * (mr 6): winograd_wt_sse.c (SSE on x86, NEON on AArch64, through SIMDe), and the AVX2 and
 * AVX-512 copies below. */
void sculpt_wino_weights_6p__sse(const float *wp, int k0, int kc, int m, float *d, size_t xs);

#if defined(__x86_64__) || defined(__i386__)
void sculpt_wino_weights_6p__avx2(const float *wp, int k0, int kc, int m, float *d, size_t xs);
void sculpt_wino_weights_6p__avx512(const float *wp, int k0, int kc, int m, float *d, size_t xs);
/* winograd_avx2.c: the weight transform for mr 6 panels (m 2 or 4), F(2x2)'s input (len <=
 * 32) and output (len8 a multiple of 8) transforms */
void sculpt_wino_weights_6__avx2(const float *w, int oc, int ic, int r, int k0, int kc,
                                 int m, float *d, size_t xs);
/* winograd_avx512.c: the same weight transform at 16 lanes, where the CPU has AVX-512F */
void sculpt_wino_weights_6__avx512(const float *w, int oc, int ic, int r, int k0, int kc,
                                   int m, float *d, size_t xs);
void sculpt_wino_output__avx2(const float *m, size_t xs, int len8, float *d0, float *d1);
void sculpt_wino_input__avx2(const float *xc, int h, int w, int ty, int tx0, int len, float *out,
                             size_t xs);
/* winograd4_avx2.c, F(4x4):
 * input: V of one B panel's tiles for nc channels, the tiles given as runs (each tiles
 *   tx .. tx+len-1 of tile row ty of the plane x + c * cs of channel c; at most GEMM_MAX_NR
 *   tiles in all), V[xi] of channel c's tile t at out[c * os + xi * xs + t] —
 *   wino4_input_run's values, 8 tiles at a time where each half of 8 lies
 *   in one run (so the 4-tile rows of 16x16 maps pair up), wino4_input_run elsewhere;
 * output: Y of 8 tiles (M[xi] of tile t at m[xi * xs + t]), output row r of tiles 0..3 to
 *   da[r][0..15] and of tiles 4..7 to db[r][0..15] — wino4_output_run's values. */
void sculpt_wino4_input__avx2(const wino_run *runs, int nrun, int nc, size_t cs, int h,
                              int w, float *out, size_t os, size_t xs);
void sculpt_wino4_output__avx2(const float *m, size_t xs, float *const da[4],
                               float *const db[4]);
/* winograd4_avx512.c, F(4x4) at 16 lanes, where the CPU has AVX-512F (same values):
 * input: as sculpt_wino4_input__avx2, 16 tiles at a time where each quarter of 4 lies in one
 *   run and rows have 16 columns or more, sculpt_wino4_input__avx2 on the rest;
 * output: Y of 16 tiles, output row r of tiles 4k..4k+3 to d[k][r][0..15]. */
void sculpt_wino4_input__avx512(const wino_run *runs, int nrun, int nc, size_t cs, int h,
                                int w, float *out, size_t os, size_t xs);
void sculpt_wino4_output__avx512(const float *m, size_t xs, float *const d[4][4]);
#endif

#endif
