/* ctx_link.h — internal: the two things the sampler needs from a context beyond sculpt.h
 * (its batch limit and its error message), so that run.c need not know struct sculpt_ctx. */
#ifndef SCULPT_SAMPLER_CTX_LINK_H
#define SCULPT_SAMPLER_CTX_LINK_H

#include "sculpt.h"

/* The largest batch sculpt_ctx_eval accepts (sculpt_ctx_options.max_batch). */
int sampler_ctx_max_batch(const sculpt_ctx *c);

/* Set the message sculpt_ctx_errmsg(c) returns (printf-style, truncated to its buffer). */
void sampler_ctx_set_error(sculpt_ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
