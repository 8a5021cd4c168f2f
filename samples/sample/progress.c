/* progress.c — progress bar / periodic lines for `sample`, in the spirit of tqdm's
 * "step, it/s, time left" display; the callback also turns Ctrl-C into a stop request. */
#include "progress.h"

#include <string.h>
#include <time.h>

#define PLAIN_INTERVAL_S 30.0 /* a plain line at least this often, besides every 10% */
#define BAR_WIDTH 24
#define BAR_INTERVAL_S 0.1 /* redraw the bar at most this often (and at each batch end) */

double sample_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void sample_format_duration(double s, char *buf, size_t len) {
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, len, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void sample_progress_init(sample_progress *p, FILE *out, int tty, int quiet, int steps,
                          int batches, volatile sig_atomic_t *stop, double now) {
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = tty;
    p->quiet = quiet;
    p->steps = steps > 0 ? steps : 1;
    p->batches = batches > 0 ? batches : 1;
    p->stop = stop;
    p->t0 = now;
    p->last_print = now;
}

void sample_progress_batch(sample_progress *p, int b) {
    p->batch = b;
    p->step = 0;
}

void sample_progress_batch_done(sample_progress *p) {
    p->nfe_done = p->nfe;
    p->step = p->steps;
}

static void print_status(sample_progress *p, double now) {
    long long total = (long long)p->steps * p->batches;
    long long done = (long long)p->batch * p->steps + p->step;
    double el = now - p->t0;
    double spi = done > 0 ? el / (double)done : 0.0;
    char left[32];
    sample_format_duration(done > 0 ? spi * (double)(total - done) : -1.0, left, sizeof left);
    if (p->tty) {
        int fill = (int)(done * BAR_WIDTH / (total > 0 ? total : 1));
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fprintf(p->out, "\r[%s] batch %d/%d step %d/%d  nfe %lld  %.3f s/it  %s left   ",
                bar, p->batch + 1, p->batches, p->step, p->steps, p->nfe, spi, left);
        p->bar_open = 1;
    } else {
        fprintf(p->out, "sample: batch %d/%d step %d/%d, nfe %lld, %.3f s/it, %s left\n",
                p->batch + 1, p->batches, p->step, p->steps, p->nfe, spi, left);
    }
    fflush(p->out);
}

void sample_progress_header(sample_progress *p) {
    if (!p->quiet && p->header && !p->header_done) {
        fprintf(p->out, "%s\n", p->header);
        fflush(p->out);
    }
    p->header_done = 1;
}

int sample_progress_update(sample_progress *p, int step, int steps, int nfe, double now) {
    sample_progress_header(p);
    if (steps > 0 && steps != p->steps) p->steps = steps;
    p->step = step;
    p->nfe = p->nfe_done + nfe;
    if (!p->quiet) {
        long long total = (long long)p->steps * p->batches;
        long long done = (long long)p->batch * p->steps + p->step;
        int tenth = (int)(done * 10 / (total > 0 ? total : 1));
        if (p->tty) {
            if (!p->bar_open || now - p->last_print >= BAR_INTERVAL_S || p->step >= p->steps) {
                p->last_print = now;
                print_status(p, now);
            }
        } else if (tenth > p->last_tenth || now - p->last_print >= PLAIN_INTERVAL_S) {
            p->last_tenth = tenth;
            p->last_print = now;
            print_status(p, now);
        }
    }
    return p->stop && *p->stop ? 1 : 0;
}

int sample_progress_cb(void *user, int step, int steps, int nfe) {
    return sample_progress_update((sample_progress *)user, step, steps, nfe, sample_now());
}

void sample_progress_finish(sample_progress *p) {
    if (p->bar_open) {
        fputc('\n', p->out);
        fflush(p->out);
        p->bar_open = 0;
    }
}
