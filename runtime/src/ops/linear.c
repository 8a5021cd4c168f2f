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

void linear_run(int n, int in, int out, const float *x, const float *w, const float *b,
                float *y, int n_threads) {
    if (n_threads < 1) n_threads = 1;
    (void)n_threads;
    const int tasks = n * out;
    const int par = (int64_t)tasks * in >= 262144;
    (void)par;
    OPS_PARALLEL_FOR(n_threads, par)
    for (int t = 0; t < tasks; t++) {
        const int i = t / out, o = t % out;
        y[(int64_t)i * out + o] = dot8(w + (int64_t)o * in, x + (int64_t)i * in, in) + (b ? b[o] : 0.0f);
    }
}
