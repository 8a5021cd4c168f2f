/* linear.c — torch.nn.Linear on a batch of vectors (time embedding MLP and the ResNet
 * blocks' time projections): reference and a fast path. The fast path is one task per
 * block of outputs, each weight row read once for the whole batch; every output is a
 * fixed-order 8-lane dot product, so the result is the same for any thread count (and
 * for the AVX2 copy of the task on x86-64: same lanes, no FMA; see vexp.h). */
#include "ops.h"
#include "vexp.h"

void linear_ref(int n, int in, int out, const float *x, const float *w, const float *b,
                float *y) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            float acc = 0.0f;
            for (int k = 0; k < in; k++) {
                acc += w[(int64_t)o * in + k] * x[(int64_t)i * in + k];
            }
            y[(int64_t)i * out + o] = acc + (b ? b[o] : 0.0f);
        }
}

/* sum_k a[k] b[k] in 8 lanes (lane j takes k = j mod 8, the tail goes to lane 0), the
 * lanes added pairwise: the order every output of the fast path uses. */
VEC_INLINE float dot8(const float *a, const float *b, int len) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int k = 0;
    for (; k + 8 <= len; k += 8)
        for (int j = 0; j < 8; j++) s[j] += a[k + j] * b[k + j];
    for (; k < len; k++) s[0] += a[k] * b[k];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* Outputs per task: a weight row stays in L1 while the batch's inputs pass over it. */
#define LINEAR_OB 8

typedef struct linear_job {
    int n, in, out;
    const float *x, *w, *b;
    float *y;
} linear_job;

VEC_INLINE void linear_block(const linear_job *J, int t) {
    const int o0 = t * LINEAR_OB, o1 = o0 + LINEAR_OB < J->out ? o0 + LINEAR_OB : J->out;
    for (int o = o0; o < o1; o++) {
        const float *wo = J->w + (int64_t)o * J->in, bo = J->b ? J->b[o] : 0.0f;
        for (int i = 0; i < J->n; i++)
            J->y[(int64_t)i * J->out + o] = dot8(wo, J->x + (int64_t)i * J->in, J->in) + bo;
    }
}

static void linear_task(void *arg, int t) { linear_block(arg, t); }

#ifdef VEC_HAVE_AVX2
VEC_TARGET_AVX2 static void linear_task_avx2(void *arg, int t) { linear_block(arg, t); }
#endif

void linear_run(int n, int in, int out, const float *x, const float *w, const float *b,
                float *y, int n_threads) {
    const linear_job J = {n, in, out, x, w, b, y};
    const int tasks = (out + LINEAR_OB - 1) / LINEAR_OB;
    const int par = (int64_t)n * out * in >= 65536;
    ops_task_fn fn = linear_task;
#ifdef VEC_HAVE_AVX2
    if (vec_cpu_avx2()) fn = linear_task_avx2;
#endif
    ops_parallel_for(n_threads, par, tasks, fn, (void *)&J);
}
