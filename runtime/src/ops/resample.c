/* resample.c — nearest x2 upsampling (F.interpolate(scale_factor=2, mode="nearest")) and
 * 2x2 average pooling (F.avg_pool2d(2, 2), summed row by row then divided by 4, as torch).
 * Memory-bound and exact, so the reference is the fast path (upsampling split over threads). */
#include "ops.h"

typedef struct up_job {
    int h, w, per; /* planes per task */
    const float *x;
    float *y;
} up_job;

static void up_task(void *arg, int t) {
    const up_job *J = arg;
    const int h = J->h, w = J->w;
    const int64_t W = 2 * (int64_t)w;
    for (int64_t pl = (int64_t)t * J->per, e = pl + J->per; pl < e; pl++) {
        const float *xp = J->x + pl * h * w;
        float *yp = J->y + pl * 4 * h * w;
        for (int iy = 0; iy < h; iy++) {
            float *r0 = yp + (2 * (int64_t)iy) * W, *r1 = r0 + W;
            for (int ix = 0; ix < w; ix++) {
                float v = xp[(int64_t)iy * w + ix];
                r0[2 * ix] = v; r0[2 * ix + 1] = v;
            }
            for (int64_t j = 0; j < W; j++) r1[j] = r0[j];
        }
    }
}

void upsample_nearest2x(int n, int c, int h, int w, const float *x, float *y, int n_threads) {
    const int64_t planes = (int64_t)n * c;
    int64_t tasks = planes * h * w / 4096; /* 64 KiB written a task */
    const int64_t cap = 4 * (int64_t)(n_threads > 1 ? n_threads : 1);
    tasks = tasks < 1 ? 1 : tasks > cap ? cap : tasks;
    while (planes % tasks) tasks--;
    up_job J = {h, w, (int)(planes / tasks), x, y};
    ops_parallel_for(n_threads, tasks > 1, (int)tasks, up_task, &J);
}

void avgpool2x2(int n, int c, int h, int w, const float *x, float *y) {
    const int64_t planes = (int64_t)n * c;
    const int oh = h / 2, ow = w / 2;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * h * w;
        float *yp = y + pl * oh * ow;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                const float *r0 = xp + (int64_t)(2 * oy) * w + 2 * ox, *r1 = r0 + w;
                float s = r0[0];
                s += r0[1];
                s += r1[0];
                s += r1[1];
                yp[(int64_t)oy * ow + ox] = s / 4.0f;
            }
    }
}
