/* timestep.c — sinusoidal timestep embedding, diffusers embeddings.py
 * get_timestep_embedding (max_period 10000, scale 1), in float32 step by step as torch
 * evaluates it: exponent = f32(-ln 10000) * i / (half - shift), freq = exp(exponent),
 * arg = t * freq, [sin, cos] (or [cos, sin] with flip_sin_to_cos). Any float t. */
#include <math.h>

#include "ops.h"

void timestep_embedding(int n, const float *t, int dim, int flip_sin_to_cos, float shift,
                        float *out) {
    const int half = dim / 2;
    const float neg_log = (float)(-log(10000.0));
    const float denom = (float)half - shift;
    for (int b = 0; b < n; b++) {
        float *o = out + (int64_t)b * dim;
        for (int i = 0; i < half; i++) {
            float e = neg_log * (float)i;
            e = e / denom;
            const float arg = t[b] * expf(e);
            const float sv = sinf(arg), cv = cosf(arg);
            o[flip_sin_to_cos ? half + i : i] = sv;
            o[flip_sin_to_cos ? i : half + i] = cv;
        }
        if (dim % 2) o[dim - 1] = 0.0f;
    }
}
