/* ctx_link.c — ctx_link.h over runtime/src/model's struct sculpt_ctx: the one file of the
 * sampler that sees the context's layout (its natural home is model/context.c). */
#include <stdarg.h>
#include <stdio.h>

#include "ctx_link.h"
#include "model/unet.h"

int sampler_ctx_max_batch(const sculpt_ctx *c) { return c ? c->max_batch : 0; }

void sampler_ctx_set_error(sculpt_ctx *c, const char *fmt, ...) {
    if (!c) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}
