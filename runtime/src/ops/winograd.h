/* winograd.h — 3x3, stride-1, pad-1 convolution by Winograd F(2x2, 3x3) (Lavin & Gray 2015):
 * weights transformed to 16 matrices U_xi = (G g G^T)[xi], each input tile to 16 columns
 * V_xi = (B^T d B)[xi], then 16 GEMMs M_xi = U_xi V_xi on the packed micro-kernel and
 * y = A^T M A per 2x2 output tile, with conv2d_ref's epilogue. See winograd.c. */
#ifndef SCULPT_WINOGRAD_H
#define SCULPT_WINOGRAD_H

#include <stddef.h>

#include "kernels.h"
#include "ops.h"

/* 1 when conv2d_winograd_* can run shape s: 3x3, stride 1, pad 1 all sides (so the output
 * is the input's size), any ic, oc, h, w >= 1. */
int conv_winograd_fits(const conv_shape *s);

/* Transformed weights U = G g G^T for every (oc, ic), laid out as 16 packed-A matrices (one
 * per transform point xi = 4*i + j, i the row of U, j its column), each in gemm_pack_a's
 * layout for kernel mr: ceil(oc/mr) panels of mr output channels, [ic][mr] each, rows past
 * oc zero. Matrix xi starts at u + xi * wino_u_stride(oc, ic, mr) (a few floats of padding,
 * never read, follow each matrix so the 16 do not share cache sets).
 * w is f32 [oc][ic][3][3]; u holds wino_u_floats(oc, ic, mr) floats. Runs over ops_parallel_for
 * with n_threads; the result does not depend on n_threads. Allocates nothing. */
size_t wino_u_stride(int oc, int ic, int mr);
size_t wino_u_floats(int oc, int ic, int mr); /* 16 * wino_u_stride */
void wino_transform_weights(const float *w, int oc, int ic, int mr, float *u, int n_threads);

/* Per-thread scratch floats for conv2d_winograd_run(_w) with kernel kr and up to oc_max output
 * channels (ic is blocked, so it does not bound the scratch): the 16 B-panel sets of one
 * input-channel block (256 channels x 64 tiles each), the 16 GEMM results
 * [oc_max rounded up to mr][64 tiles] and the fused path's U panels: 2.3 MB at oc_max 256
 * with the 6x16 kernels. */
size_t wino_scratch_floats(const gemm_kernel *kr, int oc_max);

/* y = conv(x, w) + epilogue for conv_winograd_fits(s) shapes. x [n][ic][h][w], y [n][oc][h][w]
 * (y overlaps none of the inputs), u from wino_transform_weights with kr->mr, e as
 * conv2d_ref's (may be NULL). scratch: n_threads blocks of scratch_stride
 * (>= wino_scratch_floats(kr, s->oc)) floats. Allocates nothing. The output is bit-identical
 * for any n_threads and any split of the batch into separate calls; it differs from
 * conv2d_run's in rounding (rel. L2 ~1e-6 vs conv2d_ref on random data). */
void conv2d_winograd_run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                         const float *u, const conv_epilogue *e, float *y, float *scratch,
                         size_t scratch_stride, int n_threads);

/* y = conv(x, w) + epilogue from the raw weights w (f32 [oc][ic][3][3]), the transform
 * included: where the conv has one tile block (n * ceil(h/2) * ceil(w/2) <= 64 tiles, e.g.
 * 16x16 at batch 1: wino_fused) or u is NULL, each task transforms the U panels it is about to
 * use, inside the GEMM loop, so U never goes through memory; otherwise U is transformed into
 * u (wino_u_floats(s->oc, s->ic, kr->mr) floats, or NULL) once and shared by the tile
 * blocks. Both paths run the same arithmetic: the output is bit-identical to
 * wino_transform_weights + conv2d_winograd_run, for any n_threads and batch split. Other
 * arguments as conv2d_winograd_run's. Allocates nothing. */
/* Tests: nonzero makes the weight transform take its portable C path even where an ISA path
 * (AVX2, mr 6) exists; both give the same bits. */
extern int wino_portable_weights;
/* Tests: nonzero makes the input and output transforms take their portable C paths likewise. */
extern int wino_portable_io;

/* Profiling (SCULPT_PROFILE): when wino_phase_on, thread 0 adds its time in each phase to
 * wino_phase_sec: the input transform, the fused weight transform, the 16 GEMMs, the output
 * transform + epilogue, and (on the calling thread) the shared U transform. */
enum { WINO_PH_INPUT, WINO_PH_WEIGHTS, WINO_PH_GEMM, WINO_PH_OUTPUT, WINO_PH_U, WINO_PHASES };
extern int wino_phase_on;
extern double wino_phase_sec[WINO_PHASES];

int wino_fused(const gemm_kernel *kr, const conv_shape *s, int n);
void conv2d_winograd_run_w(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                           const float *w, float *u, size_t u_floats, const conv_epilogue *e,
                           float *y, float *scratch, size_t scratch_stride, int n_threads);
/* Floats of u that let conv2d_winograd_run_w run shape s at any batch up to max_batch with
 * nothing repeated: U where the conv is several tile blocks, and where one block is split
 * over threads, room for its input transform, done once (with less room, or u NULL, each
 * task transforms the input itself: the same bits either way). */
size_t wino_work_floats(const gemm_kernel *kr, const conv_shape *s, int max_batch);

#endif
