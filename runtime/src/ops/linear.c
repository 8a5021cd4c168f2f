/* linear.c — torch.nn.Linear on a batch of vectors (time embedding MLP and the ResNet
 * blocks' time projections): reference and a fast path (OpenMP over outputs, fixed-order
 * 8-lane dot products, so the result is the same for any thread count). */
#include "ops.h"

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

static float dot8(const float *a, const float *b, int len) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int k = 0;
    for (; k + 8 <= len; k += 8)
        for (int j = 0; j < 8; j++) s[j] += a[k + j] * b[k + j];
    for (; k < len; k++) s[0] += a[k] * b[k];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

typedef struct linear_job {
    int in, out;
    const float *x, *w, *b;
    float *y;
} linear_job;

static void linear_task(void *arg, int t) {
    const linear_job *J = arg;
    const int i = t / J->out, o = t % J->out;
    J->y[(int64_t)i * J->out + o] =
        dot8(J->w + (int64_t)o * J->in, J->x + (int64_t)i * J->in, J->in) + (J->b ? J->b[o] : 0.0f);
}

void linear_run(int n, int in, int out, const float *x, const float *w, const float *b,
                float *y, int n_threads) {
    const linear_job J = {in, out, x, w, b, y};
    const int tasks = n * out;
    const int par = (int64_t)tasks * in >= 262144;
    ops_parallel_for(n_threads, par, tasks, linear_task, (void *)&J);
}
