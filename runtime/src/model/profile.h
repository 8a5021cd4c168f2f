/* profile.h — per-layer wall time of sculpt_ctx_eval, for finding where time goes and what
 * fails to scale with threads. Off unless SCULPT_PROFILE is set when the context is created;
 * then sculpt_ctx_destroy prints one table to stderr (ms per evaluation, GFLOP/s, share).
 * Off, each op costs one NULL test. A diagnostic for one context at a time: the Winograd
 * phase times are process-wide counters (ops/winograd.h). */
#ifndef SCULPT_PROFILE_H
#define SCULPT_PROFILE_H

typedef struct unet_prof unet_prof;

unet_prof *unet_prof_new(void);            /* NULL unless SCULPT_PROFILE is set */
void unet_prof_eval(unet_prof *p);         /* one evaluation starts */
double unet_prof_now(const unet_prof *p);  /* 0 when p is NULL */
/* adds the time since t0 to the row (kind, size, ic, oc); flops per call, 0 if none */
void unet_prof_add(unet_prof *p, const char *kind, int size, int ic, int oc, double flops, double t0);
void unet_prof_print(const unet_prof *p, const char *model, int n_threads, int batch);
void unet_prof_free(unet_prof *p);

#endif
