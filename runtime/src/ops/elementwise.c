/* elementwise.c — channel concatenation (torch.cat(dim=1)), add, and SiLU
 * (F.silu: x / (1 + exp(-x)), as torch's CPU kernel computes it). */
#include <math.h>
#include <string.h>

#include "ops.h"

typedef struct cat_job {
    int ca, cb, per;   /* planes of a and b per item; planes per task */
    int64_t hw;
    const float *a, *b;
    float *y;
} cat_job;

/* task: planes [p0, p0 + per) of the flattened (item, output channel) list */
static void cat_task(void *arg, int t) {
    const cat_job *J = arg;
    const int c = J->ca + J->cb;
    for (int64_t p = (int64_t)t * J->per, e = p + J->per; p < e; p++) {
        const int64_t i = p / c;
        const int ch = (int)(p % c);
        const float *src = ch < J->ca ? J->a + (i * J->ca + ch) * J->hw
                                      : J->b + (i * J->cb + (ch - J->ca)) * J->hw;
        memcpy(J->y + p * J->hw, src, (size_t)J->hw * sizeof(float));
    }
}

void concat_channels(int n, int ca, int cb, int64_t hw, const float *a, const float *b, float *y,
                     int n_threads) {
    const int64_t planes = (int64_t)n * (ca + cb);
    /* about 64 KiB a task, at most 4 tasks a thread; small copies stay on this thread */
    int64_t tasks = planes * hw / 16384;
    const int64_t cap = 4 * (int64_t)(n_threads > 1 ? n_threads : 1);
    tasks = tasks < 1 ? 1 : tasks > cap ? cap : tasks;
    while (planes % tasks) tasks--; /* whole, equal plane ranges */
    cat_job J = {ca, cb, (int)(planes / tasks), hw, a, b, y};
    ops_parallel_for(n_threads, tasks > 1, (int)tasks, cat_task, &J);
}

void add_f32(int64_t len, const float *a, const float *b, float *y) {
    for (int64_t i = 0; i < len; i++) y[i] = a[i] + b[i];
}

float silu_f32(float x) { return x / (1.0f + expf(-x)); }

void silu_inplace(int64_t len, float *x) {
    for (int64_t i = 0; i < len; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}
