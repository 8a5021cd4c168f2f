/* ops.h — the UNet's operators: each family has a plain scalar reference (*_ref, the test
 * oracle) beside its fast path (*_run: packed GEMM micro-kernels, OpenMP over outer tiles).
 * Tensors are f32, NCHW, contiguous; "hw" is h*w. Semantics follow PyTorch's F.* ops. */
#ifndef SCULPT_OPS_H
#define SCULPT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

/* ---- conv2d (conv2d.c, pack.c): cross-correlation as torch.nn.Conv2d ---- */
typedef struct conv_shape {
    int ic, oc;                       /* channels in / out */
    int kh, kw, stride;               /* kernel and stride (same in y and x) */
    int pad_t, pad_l, pad_b, pad_r;   /* zero padding; (0,1,0,1) is F.pad's (l,r,t,b) order */
    int h, w;                         /* input size */
    int oh, ow;                       /* output size, filled by conv_shape_init */
} conv_shape;

/* Fill s; returns -1 if the output would be empty. */
int conv_shape_init(conv_shape *s, int ic, int oc, int k, int stride, int pad_t, int pad_l,
                    int pad_b, int pad_r, int h, int w);

/* Added after the accumulation, in this order (torch's order in the ResNet block):
 * y = ((acc + bias[o]) + chan_add[b][o]) + residual[b][o][p]. Any may be NULL. */
typedef struct conv_epilogue {
    const float *bias;       /* [oc] */
    const float *chan_add;   /* [n][chan_add_stride], first oc used */
    int64_t chan_add_stride;
    const float *residual;   /* [n][oc][oh*ow] */
} conv_epilogue;

/* Reference: x [n][ic][h][w], w [oc][ic][kh][kw] (f32), y [n][oc][oh][ow]. */
void conv2d_ref(const conv_shape *s, int n, const float *x, const float *w,
                const conv_epilogue *e, float *y);

/* Packed weights: panels of kr->mr rows (output channels), each [K][mr], K = ic*kh*kw,
 * rows past m zero. w is [m][K] in dtype (sculpt_dtype): converted while packing. */
size_t gemm_packed_a_floats(int m, int k, int mr);
void gemm_pack_a(const void *w, int dtype, int m, int k, int mr, float *dst);

/* Per-thread scratch floats conv2d_run needs for kernel kr. */
size_t conv2d_scratch_floats(const gemm_kernel *kr);

/* Fast path: packed A from gemm_pack_a with kr->mr; scratch holds n_threads blocks of
 * scratch_stride (>= conv2d_scratch_floats) floats. Output does not depend on n_threads. */
void conv2d_run(const gemm_kernel *kr, const conv_shape *s, int n, const float *x,
                const float *packed_a, const conv_epilogue *e, float *y, float *scratch,
                size_t scratch_stride, int n_threads);

/* ---- GroupNorm (+ SiLU) (groupnorm.c): torch.nn.GroupNorm, affine ---- */
void groupnorm_ref(int n, int c, int hw, int groups, float eps, const float *gamma,
                   const float *beta, int silu, const float *x, float *y);
void groupnorm_run(int n, int c, int hw, int groups, float eps, const float *gamma,
                   const float *beta, int silu, const float *x, float *y, int n_threads);

/* ---- linear (linear.c): y[n][out] = x[n][in] W^T + b (b may be NULL), W [out][in] ---- */
void linear_ref(int n, int in, int out, const float *x, const float *w, const float *b,
                float *y);
void linear_run(int n, int in, int out, const float *x, const float *w, const float *b,
                float *y, int n_threads);

/* ---- attention core (attention.c): q, k, v, o [n][c][hw]; heads split c evenly;
 * o = softmax(q^T k * dh^-0.5) v per head, softmax with the row max subtracted ---- */
void attention_ref(int n, int c, int hw, int heads, const float *q, const float *k,
                   const float *v, float *o);
size_t attention_scratch_floats(const gemm_kernel *kr, int hw, int dh);
void attention_run(const gemm_kernel *kr, int n, int c, int hw, int heads, const float *q,
                   const float *k, const float *v, float *o, float *scratch,
                   size_t scratch_stride, int n_threads);
/* The fast paths' plan (attention.c, bf16_attention.c): a task is an (item, head) and a run
 * of its blocks of br query rows, split only as far as the threads need (each run packs K^T
 * and V again); which run computes a block never changes its result. */
typedef struct att_plan {
    int c, hw, heads, dh, br, blocks; /* blocks of br query rows per (item, head) */
    int runs, tasks, par;             /* runs per (item, head); tasks; par: run in parallel */
    float scale;                      /* dh^-1/2 */
} att_plan;
att_plan attention_plan(int n, int c, int hw, int heads, int br, int n_threads);
/* Task t's offset of its (item, head) in q, k, v and o, and its blocks [*blk0, *blk1): an
 * even split, the first runs one longer. */
int64_t attention_task(const att_plan *p, int t, int *blk0, int *blk1);
/* The fast path's softmax, for the bf16 attention (bf16.h): in place down each of the nr
 * columns of each panel [k][nr] of st, e = exp((s - column max) * scale) / column sum. */
void attention_softmax_panels(float *st, int panels, int k, int nr, float scale);

/* ---- resampling (resample.c) ---- */
/* F.interpolate(scale_factor=2, mode="nearest"): x [n][c][h][w] -> y [n][c][2h][2w], on up
 * to n_threads threads (planes split among them; copies, so the same bits) */
void upsample_nearest2x(int n, int c, int h, int w, const float *x, float *y, int n_threads);
/* F.avg_pool2d(kernel 2, stride 2): x [n][c][h][w] (h, w even) -> y [n][c][h/2][w/2] */
void avgpool2x2(int n, int c, int h, int w, const float *x, float *y);

/* ---- elementwise (elementwise.c) ---- */
/* torch.cat([a, b], dim=1): a [n][ca][hw], b [n][cb][hw] -> y [n][ca+cb][hw], on up to
 * n_threads threads (channel planes split among them) */
void concat_channels(int n, int ca, int cb, int64_t hw, const float *a, const float *b, float *y,
                     int n_threads);
/* y = a + b over len floats */
void add_f32(int64_t len, const float *a, const float *b, float *y);
/* x / (1 + exp(-x)), as torch.nn.functional.silu */
float silu_f32(float x);
void silu_inplace(int64_t len, float *x);

/* ---- timestep embedding (timestep.c): diffusers get_timestep_embedding, f32 ---- */
/* out [n][dim]; dim even. half = dim/2, freq_i = exp(-ln(10000) i / (half - shift)),
 * [sin(t freq), cos(t freq)] (cos first when flip). */
void timestep_embedding(int n, const float *t, int dim, int flip_sin_to_cos, float shift,
                        float *out);

/* ---- threads (threads.c) ---- */
int ops_thread_id(void);     /* omp_get_thread_num() or 0 */
/* fn(arg, task) for task = 0..tasks-1: an OpenMP static loop when par and n_threads > 1,
 * else a plain loop on the calling thread. The plain loop opens no OpenMP region, so
 * serial ops cost no libgomp team (libgomp mallocs and frees a one-thread team per
 * region). Tasks must be independent; which thread runs one never changes its result. */
typedef void (*ops_task_fn)(void *arg, int task);
void ops_parallel_for(int n_threads, int par, int tasks, ops_task_fn fn, void *arg);
/* The same, each thread taking the next task when it is done with one (OpenMP dynamic, 1):
 * for regions of several tasks per thread, which then finish together when the cores run at
 * different speeds (big.LITTLE and hybrid CPUs, a busy neighbour on a shared host). */
void ops_parallel_for_dyn(int n_threads, int par, int tasks, ops_task_fn fn, void *arg);
int ops_default_threads(void);

#endif
