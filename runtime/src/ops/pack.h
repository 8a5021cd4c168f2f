/* pack.h — internal helpers of pack.c shared with conv2d.c and the model's prepare step:
 * dtype loads (f16/bf16 -> f32) and B-panel packing straight from the image. */
#ifndef SCULPT_PACK_H
#define SCULPT_PACK_H

#include <stddef.h>

#include "ops.h"

/* Element i of a tensor stored as dtype (sculpt_dtype), as f32. */
float pack_load(const void *p, int dtype, size_t i);
/* n elements of src (dtype) to f32. */
void pack_convert(const void *src, int dtype, size_t n, float *dst);
/* B panels for columns n0..n0+nc-1 and k rows k0..k0+kc-1 of item x: ceil(nc/nr) panels
 * of [kc][nr] at dst. */
void pack_b(const conv_shape *s, const float *x, int k0, int kc, int n0, int nc, int nr,
            float *dst);

#endif
