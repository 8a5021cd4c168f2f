/* profile.c — see profile.h. Rows keep the order ops first ran in. */
#include "profile.h"

#include "ops/winograd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROF_ROWS 96

typedef struct prof_row {
    const char *kind;
    int size, ic, oc;
    long calls;
    double sec, flops;
} prof_row;

struct unet_prof {
    prof_row rows[PROF_ROWS];
    int n_rows;
    long evals;
};

unet_prof *unet_prof_new(void) {
    const char *e = getenv("SCULPT_PROFILE");
    if (!e || !*e || !strcmp(e, "0")) return NULL;
    unet_prof *p = calloc(1, sizeof(unet_prof));
    if (p) {
        wino_phase_on = 1;
        memset(wino_phase_sec, 0, sizeof wino_phase_sec);
    }
    return p;
}

void unet_prof_eval(unet_prof *p) {
    if (p) p->evals++;
}

double unet_prof_now(const unet_prof *p) {
    if (!p) return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void unet_prof_add(unet_prof *p, const char *kind, int size, int ic, int oc, double flops, double t0) {
    if (!p) return;
    const double dt = unet_prof_now(p) - t0;
    prof_row *r = NULL;
    for (int i = 0; i < p->n_rows && !r; i++) {
        prof_row *q = &p->rows[i];
        if (q->size == size && q->ic == ic && q->oc == oc && !strcmp(q->kind, kind)) r = q;
    }
    if (!r) {
        if (p->n_rows == PROF_ROWS) return;
        r = &p->rows[p->n_rows++];
        r->kind = kind;
        r->size = size;
        r->ic = ic;
        r->oc = oc;
    }
    r->calls++;
    r->sec += dt;
    r->flops += flops;
}

void unet_prof_print(const unet_prof *p, const char *model, int n_threads, int batch) {
    if (!p || p->evals < 1) return;
    double total = 0;
    for (int i = 0; i < p->n_rows; i++) total += p->rows[i].sec;
    const double ev = (double)p->evals;
    fprintf(stderr, "profile: %s, %ld evaluations, %d threads, max batch %d; ms per evaluation\n",
            model, p->evals, n_threads, batch);
    fprintf(stderr, "%-14s %4s %9s %6s %9s %8s %6s\n", "op", "size", "ic->oc", "calls", "ms", "GFLOP/s", "share");
    for (int i = 0; i < p->n_rows; i++) {
        const prof_row *r = &p->rows[i];
        char ch[24];
        snprintf(ch, sizeof ch, "%d->%d", r->ic, r->oc);
        fprintf(stderr, "%-14s %4d %9s %6.1f %9.3f %8.1f %5.1f%%\n", r->kind, r->size, ch,
                (double)r->calls / ev, 1e3 * r->sec / ev, r->sec > 0 ? 1e-9 * r->flops / r->sec : 0.0,
                total > 0 ? 100.0 * r->sec / total : 0.0);
    }
    fprintf(stderr, "profile: %.3f ms per evaluation in the timed ops\n", 1e3 * total / ev);
    fprintf(stderr, "profile: Winograd phases on thread 0, ms per evaluation: input %.3f, fused "
            "weights %.3f, GEMMs %.3f, output %.3f, shared U %.3f\n", 1e3 * wino_phase_sec[0] / ev,
            1e3 * wino_phase_sec[1] / ev, 1e3 * wino_phase_sec[2] / ev, 1e3 * wino_phase_sec[3] / ev,
            1e3 * wino_phase_sec[4] / ev);
}

void unet_prof_free(unet_prof *p) {
    if (p) wino_phase_on = 0;
    free(p);
}
