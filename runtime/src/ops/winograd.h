/* winograd.h — 3x3, stride-1, pad-1 convolution by Winograd F(m x m, 3x3) (Lavin & Gray 2015),
 * m = 2 or 4 (the tile, chosen from the map size by wino_tile): weights transformed to
 * P = (m+2)^2 matrices U_xi = (G g G^T)[xi], each input tile to P columns
 * V_xi = (B^T d B)[xi], then P GEMMs M_xi = U_xi V_xi on the packed micro-kernel and
 * y = A^T M A per m x m output tile, with conv2d_ref's epilogue. See winograd.c. */
#ifndef SCULPT_WINOGRAD_H
#define SCULPT_WINOGRAD_H

#include <stddef.h>

#include "kernels.h"
#include "ops.h"

/* 1 when conv2d_winograd_* can run shape s: 3x3, stride 1, pad 1 all sides (so the output
 * is the input's size), any ic, oc, h, w >= 1. */
int conv_winograd_fits(const conv_shape *s);

/* The output tile m for shape s: 4 (F(4x4,3x3): 36 GEMMs over hw/16 tiles, 2.25
 * multiplies per output against F(2x2,3x3)'s 4 (16 GEMMs over hw/4), direct's 9) where both sides are at least WINO4_MIN,
 * else 2 (small maps: F(4x4)'s few tiles would leave the GEMM panels mostly empty, e.g. 4
 * tiles on an 8x8 map at batch 1). It depends on the shape only, never on the batch or the
 * threads, so the bits do not either. wino_force_tile (tests, benchmarks): 2 or 4 forces
 * that tile for every shape; 0 (default) chooses. */
#define WINO4_MIN 16
extern int wino_force_tile;
int wino_tile(const conv_shape *s);
static inline int wino_points(int tile) { return (tile + 2) * (tile + 2); }

/* Transformed weights U = G g G^T for every (oc, ic) for tile m (2 or 4), laid out as
 * P = wino_points(m) packed-A matrices (one per transform point xi = (m+2)*i + j, i the row
 * of U, j its column), each in gemm_pack_a's
 * layout for kernel mr: ceil(oc/mr) panels of mr output channels, [ic][mr] each, rows past
 * oc zero. Matrix xi starts at u + xi * wino_u_stride(oc, ic, mr) (a few floats of padding,
 * never read, follow each matrix so the P do not share cache sets).
 * w is f32 [oc][ic][3][3]; u holds wino_u_floats(oc, ic, mr, m) floats. Runs over ops_parallel_for
 * with n_threads; the result does not depend on n_threads. Allocates nothing. */
size_t wino_u_stride(int oc, int ic, int mr);
size_t wino_u_floats(int oc, int ic, int mr, int m); /* P * wino_u_stride */
void wino_transform_weights(const float *w, int oc, int ic, int mr, int m, float *u,
                            int n_threads);

/* Per-thread scratch floats for conv2d_winograd_run(_w) of shape s with kernel kr (ic is
 * blocked, so it does not bound the scratch): the P B-panel sets of one input-channel block
 * (256 channels x 64 tiles each), the P GEMM results [oc rounded up to mr][64 tiles] and the
 * fused path's U panels: 2.3 MB at oc 256 with the 6x16 kernels for m = 2, 5.2 MB for
 * m = 4. */
size_t wino_scratch_floats(const gemm_kernel *kr, const conv_shape *s);

/* y = conv(x, w) + epilogue for conv_winograd_fits(s) shapes. x [n][ic][h][w], y [n][oc][h][w]
 * (y overlaps none of the inputs), u from wino_transform_weights with kr->mr and
 * wino_tile(s), e as
 * conv2d_ref's (may be NULL). scratch: n_threads blocks of scratch_stride
 * (>= wino_scratch_floats(kr, s->oc)) floats. Allocates nothing. The output is bit-identical
 * for any n_threads and any split of the batch into separate calls; it differs from
 * conv2d_run's in rounding (rel. L2 vs conv2d_ref on random data ~1e-7 with m = 2, a few
 * 1e-7 with m = 4). */
void conv2d_winograd_run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                         const float *u, const conv_epilogue *e, float *y, float *scratch,
                         size_t scratch_stride, int n_threads);

/* conv2d_winograd_run_w: y = conv(x, w) + epilogue from the raw weights w (f32
 * [oc][ic][3][3], or with wpacked nonzero wino_wpack's layout: mr 6 kernels, every one),
 * the transform included: where the conv has one tile block (n * ceil(h/m) * ceil(w/m) <= 64 tiles, e.g.
 * 32x32 at batch 1: wino_fused) or u is NULL, each task transforms the U panels it is about to
 * use, inside the GEMM loop, so U never goes through memory; otherwise U is transformed into
 * u (wino_u_floats(s->oc, s->ic, kr->mr, wino_tile(s)) floats, or NULL) once and shared by the tile
 * blocks. Both paths run the same arithmetic: the output is bit-identical to
 * wino_transform_weights + conv2d_winograd_run, for any n_threads and batch split. Other
 * arguments as conv2d_winograd_run's. Allocates nothing. */
/* Tests: nonzero makes the weight transform take its portable C path even where an ISA path
 * (AVX2, mr 6) exists; both give the same bits. */
extern int wino_portable_weights;
/* Tests: nonzero makes the input and output transforms take their portable C paths likewise. */
extern int wino_portable_io;
/* tests and benchmarks: 1 keeps F(4x4)'s input and output transforms at AVX2's 8 tiles where
 * the CPU has AVX-512F (the same bits) */
extern int wino_narrow_io;

/* Profiling (SCULPT_PROFILE): when wino_phase_on, thread 0 adds its time in each phase to
 * wino_phase_sec: the input transform, the fused weight transform, the P GEMMs, the output
 * transform + epilogue, and (on the calling thread) the shared U transform. Both tiles. */
enum { WINO_PH_INPUT, WINO_PH_WEIGHTS, WINO_PH_GEMM, WINO_PH_OUTPUT, WINO_PH_U, WINO_PHASES };
extern int wino_phase_on;
extern double wino_phase_sec[WINO_PHASES];

int wino_fused(const gemm_kernel *kr, const conv_shape *s, int n);
/* (documented above, with the u-based forms) */
void conv2d_winograd_run_w(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                           const float *w, int wpacked, float *u, size_t u_floats,
                           const conv_epilogue *e, float *y, float *scratch,
                           size_t scratch_stride, int n_threads);

/* The weights (sculpt_dtype dtype, [oc][ic][3][3]) in the order the weight transform reads
 * them, so it need not transpose them at every evaluation: for each panel r of 6 output
 * channels (rows past oc zero) and each chunk q of 8 input channels (channels past ic
 * zero), [9][48] floats with element (j, 6 c + i) = w[6r + i][8q + c][j] — U's lane order.
 * wino_wpack_floats(oc, ic) floats (oc rounded up to 6, ic to 8); dst 64-byte aligned. The
 * transform's arithmetic is the same, so the bits are too (test_winograd.c). */
size_t wino_wpack_floats(int oc, int ic);
void wino_wpack(const void *w, int dtype, int oc, int ic, float *dst);
/* Floats of u that let conv2d_winograd_run_w run shape s at any batch up to max_batch with
 * nothing repeated: U where the conv is several tile blocks, and where one block is split
 * over threads, room for its input transform, done once (with less room, or u NULL, each
 * task transforms the input itself: the same bits either way). */
size_t wino_work_floats(const gemm_kernel *kr, const conv_shape *s, int max_batch);

#endif
