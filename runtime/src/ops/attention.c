/* attention.c — the core of diffusers' AttnProcessor over H*W tokens (attention_processor.py):
 * per head, o = softmax(q^T k * dh^-0.5) v with the row max subtracted before exp. Inputs
 * are the projected q, k, v in channel-major [n][c][hw]; heads split c into equal slices.
 * Reference and fast path (OpenMP over (item, head, query row), fixed-order sums). */
#include <math.h>

#include "ops.h"

/* One scaled score in double (the reference recomputes instead of buffering a row). */
static double score(const float *q, const float *k, int64_t base, int dh, int hw, int i, int j,
                    double scale) {
    double d = 0.0;
    for (int cc = 0; cc < dh; cc++)
        d += (double)q[base + (int64_t)cc * hw + i] * (double)k[base + (int64_t)cc * hw + j];
    return d * scale;
}

void attention_ref(int n, int c, int hw, int heads, const float *q, const float *k,
                   const float *v, float *o) {
    const int dh = c / heads;
    const double scale = 1.0 / sqrt((double)dh);
    for (int b = 0; b < n; b++)
        for (int h = 0; h < heads; h++) {
            const int64_t base = ((int64_t)b * c + (int64_t)h * dh) * hw;
            for (int i = 0; i < hw; i++) {
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j < hw; j++) {
                    double sj = score(q, k, base, dh, hw, i, j, scale);
                    if (sj > mx) mx = sj;
                }
                for (int j = 0; j < hw; j++) sum += exp(score(q, k, base, dh, hw, i, j, scale) - mx);
                for (int cc = 0; cc < dh; cc++) {
                    double acc = 0.0;
                    for (int j = 0; j < hw; j++)
                        acc += exp(score(q, k, base, dh, hw, i, j, scale) - mx) / sum *
                               (double)v[base + (int64_t)cc * hw + j];
                    o[base + (int64_t)cc * hw + i] = (float)acc;
                }
            }
        }
}

size_t attention_scratch_floats(int hw) { return (size_t)hw + 16; }

void attention_run(int n, int c, int hw, int heads, const float *q, const float *k,
                   const float *v, float *o, float *scratch, size_t scratch_stride,
                   int n_threads) {
    const int dh = c / heads;
    const float scale = (float)(1.0 / sqrt((double)dh));
    const int tasks = n * heads * hw;
    if (n_threads < 1) n_threads = 1;
    (void)n_threads;
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int t = 0; t < tasks; t++) {
        const int b = t / (heads * hw), h = (t / hw) % heads, i = t % hw;
        const int64_t base = ((int64_t)b * c + (int64_t)h * dh) * hw;
        float *s = scratch + (size_t)ops_thread_id() * scratch_stride;
        for (int j = 0; j < hw; j++) s[j] = 0.0f;
        for (int cc = 0; cc < dh; cc++) {
            const float qi = q[base + (int64_t)cc * hw + i];
            const float *kc = k + base + (int64_t)cc * hw;
            for (int j = 0; j < hw; j++) s[j] += qi * kc[j];
        }
        float mx = -INFINITY;
        for (int j = 0; j < hw; j++) {
            s[j] *= scale;
            mx = s[j] > mx ? s[j] : mx;
        }
        float sum = 0.0f;
        for (int j = 0; j < hw; j++) {
            s[j] = expf(s[j] - mx);
            sum += s[j];
        }
        const float inv = 1.0f / sum;
        for (int j = 0; j < hw; j++) s[j] *= inv;
        for (int cc = 0; cc < dh; cc++) {
            const float *vc = v + base + (int64_t)cc * hw;
            float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int j = 0;
            for (; j + 8 <= hw; j += 8)
                for (int l = 0; l < 8; l++) acc[l] += s[j + l] * vc[j + l];
            for (; j < hw; j++) acc[0] += s[j] * vc[j];
            o[base + (int64_t)cc * hw + i] =
                ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        }
    }
}
