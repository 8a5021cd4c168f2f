/* progress.h — progress on stderr while sampling: a one-line bar on a terminal, plain
 * periodic lines otherwise, nothing when quiet; also where Ctrl-C is noticed. */
#ifndef SAMPLE_PROGRESS_H
#define SAMPLE_PROGRESS_H

#include <signal.h>
#include <stdio.h>

typedef struct sample_progress {
    FILE *out;            /* stderr, or a test's file */
    int tty;              /* draw a \r bar instead of lines */
    int quiet;            /* print nothing */
    int steps;            /* steps per batch */
    int batches;          /* batches in the run */
    int batch;            /* current batch, 0-based */
    int step;             /* steps done in the current batch */
    long long nfe_done;   /* network evaluations of finished batches */
    long long nfe;        /* ... including the current batch */
    double t0;            /* time sampling started (seconds) */
    double last_print;    /* time of the last plain line */
    int last_tenth;       /* tenths of the run reported so far by plain lines */
    int bar_open;         /* a \r bar is on the line and needs a newline */
    volatile sig_atomic_t *stop; /* non-zero: ask the sampler to stop */
    const char *header;   /* printed once before the first progress output (or NULL) */
    int header_done;
} sample_progress;

/* Monotonic seconds. */
double sample_now(void);

void sample_progress_init(sample_progress *p, FILE *out, int tty, int quiet, int steps,
                          int batches, volatile sig_atomic_t *stop, double now);
/* Start batch b (0-based). */
void sample_progress_batch(sample_progress *p, int b);
/* One step done (step of steps, nfe network evaluations so far in this batch) at time
 * `now`; prints as configured. Returns non-zero when *stop is set. */
int sample_progress_update(sample_progress *p, int step, int steps, int nfe, double now);
/* A sculpt_progress_fn: sample_progress_update at the current time. */
int sample_progress_cb(void *user, int step, int steps, int nfe);
/* Print the header now if it has not been printed (and not quiet). */
void sample_progress_header(sample_progress *p);
/* End of the batch (adds its evaluations to the total). */
void sample_progress_batch_done(sample_progress *p);
/* Close the bar line if one is open. */
void sample_progress_finish(sample_progress *p);

/* "1:02:03" or "2:03" for s seconds. */
void sample_format_duration(double s, char *buf, size_t len);

#endif
