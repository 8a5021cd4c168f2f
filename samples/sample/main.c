/* main.c — the `sample` command: open a weight file (or the built-in default model), draw
 * torch-compatible noise per image (seed + i), run a sculpt sampler, write PNGs/raw f32. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "default_model.h"
#include "outfile.h"
#include "png_out.h"
#include "progress.h"
#include "sculpt.h"

#define EXIT_RUNTIME 1 /* a file or the model failed */
#define EXIT_USAGE 2   /* refused arguments */

static volatile sig_atomic_t g_stop = 0;
static volatile sig_atomic_t g_signal = 0;

/* The first Ctrl-C/SIGTERM asks the run to stop at the next step; a second one ends the
 * process at once, after removing the temporary files in progress (async-signal-safe), so
 * no partial file is left either way. */
static void on_signal(int sig) {
    if (g_stop) {
        sample_outfile_remove_all_from_signal();
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_stop = 1;
    g_signal = sig;
}

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static void swap_f32(float *x, size_t n) {
    unsigned char *b = (unsigned char *)x;
    for (size_t i = 0; i < n; i++, b += 4) {
        unsigned char t = b[0];
        b[0] = b[3], b[3] = t;
        t = b[1], b[1] = b[2], b[2] = t;
    }
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* "<out minus .png>-0007.png" for image i of a numbered run. */
static void numbered_name(const char *out, int i, char *buf, size_t len) {
    size_t n = strlen(out);
    if (n >= 4 && strcmp(out + n - 4, ".png") == 0)
        snprintf(buf, len, "%.*s-%04d.png", (int)(n - 4), out, i);
    else
        snprintf(buf, len, "%s-%04d.png", out, i);
}

/* Sampler options as text, for the PNG chunk and the start line. */
static void describe_options(const sample_args *a, char *buf, size_t len) {
    char sig[128];
    if (sample_sampler_is_discrete(a->sampler)) {
        int n = snprintf(buf, len, "spacing: %s", sample_spacing_name(a->spacing));
        if (a->sampler == SCULPT_SAMPLER_DDIM && n > 0 && (size_t)n < len)
            snprintf(buf + n, len - (size_t)n, ", eta: %g", (double)a->eta);
        return;
    }
    int n = snprintf(buf, len, "schedule: %s", sample_schedule_name(a->schedule));
    if (a->schedule != SCULPT_SIGMAS_DISCRETE) {
        char lo[24] = "model", hi[24] = "model";
        if (a->given_sigma_min) snprintf(lo, sizeof lo, "%g", (double)a->sigma_min);
        if (a->given_sigma_max) snprintf(hi, sizeof hi, "%g", (double)a->sigma_max);
        if (a->schedule == SCULPT_SIGMAS_KARRAS)
            snprintf(sig, sizeof sig, ", sigma_min: %s, sigma_max: %s, rho: %g", lo, hi, (double)a->rho);
        else
            snprintf(sig, sizeof sig, ", sigma_min: %s, sigma_max: %s", lo, hi);
        if (n > 0 && (size_t)n < len) n += snprintf(buf + n, len - (size_t)n, "%s", sig);
    }
    if (n < 0 || (size_t)n >= len) return;
    if (a->sampler == SCULPT_SAMPLER_EULER || a->sampler == SCULPT_SAMPLER_HEUN)
        snprintf(buf + n, len - (size_t)n, ", churn: %g, tmin: %g, tmax: %g, snoise: %g",
                 (double)a->churn, (double)a->tmin, (double)a->tmax, (double)a->snoise);
    else if (a->sampler == SCULPT_SAMPLER_EULER_A)
        snprintf(buf + n, len - (size_t)n, ", eta: %g", (double)a->eta);
}

/* The sculpt sampler options for the command's arguments (one place for the pre-flight
 * check and the run). */
static void sampler_options(const sample_args *a, sculpt_sampler_options *so) {
    sculpt_sampler_defaults(so);
    so->sampler = a->sampler;
    so->steps = a->steps;
    so->sigma_schedule = a->schedule;
    so->spacing = a->spacing;
    so->eta = a->eta;
    so->churn = a->churn, so->tmin = a->tmin, so->tmax = a->tmax, so->snoise = a->snoise;
    so->sigma_min = a->given_sigma_min ? a->sigma_min : 0.0f;
    so->sigma_max = a->given_sigma_max ? a->sigma_max : 0.0f;
    so->rho = a->rho;
}

typedef struct run_state {
    const sample_args *a;
    sculpt_model *model;
    sculpt_ctx *ctx;
    int c, s;
    size_t chw;            /* c * s * s */
    FILE *init;            /* --init-noise, open for reading */
    float *x;              /* [batch, c, s, s] */
    float *raw_le;         /* [batch, c, s, s] byte-swapped copy (big-endian hosts) */
    sculpt_rng *rngs;      /* [batch] */
    uint8_t *pix;          /* one image [s, s, c] or the grid [H, W, c] */
    int grid_cols, grid_rows, grid_w, grid_h;
    sample_outfile raw;    /* --out-raw in progress */
    sample_outfile png;    /* the PNG being written */
    char weights_name[256];
    char checksum[24];
    char options[512];
    long long nonfinite;   /* NaN/inf values in the samples (0 pixels) */
    int nfe_per_image;     /* network evaluations per image (sculpt_sampler_check) */
    int images_written;    /* PNG files renamed into place (numbered runs) */
} run_state;

static void run_free(run_state *r) {
    sample_outfile_abort(&r->raw);
    sample_outfile_abort(&r->png);
    if (r->init) fclose(r->init);
    free(r->x);
    free(r->raw_le);
    free(r->rngs);
    free(r->pix);
    sculpt_ctx_destroy(r->ctx);
    sculpt_model_close(r->model);
}

static int open_model(run_state *r, char *err, size_t errlen) {
    const sample_args *a = r->a;
    sculpt_status st;
    if (a->weights) {
        st = sculpt_model_open(a->weights, 0, &r->model, err, errlen);
        snprintf(r->weights_name, sizeof r->weights_name, "%s", base_name(a->weights));
    } else {
        if (sculpt_default_model_size == 0) {
            snprintf(err, errlen, "no default model is built into this binary; pass --weights FILE "
                                  "(a flat weight file made by convert-weights)");
            return -1;
        }
        st = sculpt_model_open_memory(sculpt_default_model_data, sculpt_default_model_size,
                                      sculpt_default_model_name, 0, &r->model, err, errlen);
        snprintf(r->weights_name, sizeof r->weights_name, "%s (built-in)", sculpt_default_model_name);
    }
    if (st != SCULPT_OK) {
        if (err[0] == '\0')
            snprintf(err, errlen, "%s: %s", a->weights ? a->weights : sculpt_default_model_name,
                     sculpt_status_string(st));
        return -1;
    }
    snprintf(r->checksum, sizeof r->checksum, "%016llx", (unsigned long long)sculpt_model_checksum(r->model));
    return 0;
}

/* Refuse an output name that is one of the input files (a typo like `-o cifar.bin`
 * would otherwise replace the weights at the end of the run). */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Whether two output names are one destination even when spelled apart ("x.png" and
 * "./x.png"): the same base name in the same directory (neither file need exist yet). */
static int same_destination(const char *a, const char *b) {
    if (strcmp(a, b) == 0) return 1;
    const char *ba = base_name(a), *bb = base_name(b);
    if (strcmp(ba, bb) != 0) return 0;
    char da[4096], db[4096];
    snprintf(da, sizeof da, "%.*s", ba > a ? (int)(ba - a) : 1, ba > a ? a : ".");
    snprintf(db, sizeof db, "%.*s", bb > b ? (int)(bb - b) : 1, bb > b ? b : ".");
    struct stat sa, sb;
    return stat(da, &sa) == 0 && stat(db, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int check_not_input(const sample_args *a, const char *out, char *err, size_t errlen) {
    const char *in = same_file(out, a->weights) ? "--weights" : same_file(out, a->init_noise) ? "--init-noise" : NULL;
    if (!in) return 0;
    snprintf(err, errlen, "%.600s: the output would replace the %s file", out, in);
    return -1;
}

/* Everything that can be refused before sampling: model-dependent options, input sizes,
 * writable destinations. */
static int check_inputs(run_state *r, char *err, size_t errlen) {
    const sample_args *a = r->a;
    const sculpt_config *cfg = sculpt_model_config(r->model);
    const sculpt_schedule *sch = sculpt_model_schedule(r->model);
    r->c = cfg->in_channels;
    r->s = cfg->sample_size;
    if (r->c <= 0 || r->s <= 0 || r->c > 64 || r->s > 16384) {
        snprintf(err, errlen, "%s: image shape %dx%dx%d is not supported", r->weights_name, r->c, r->s, r->s);
        return -1;
    }
    r->chw = (size_t)r->c * (size_t)r->s * (size_t)r->s;
    if (sample_args_check_model(a, r->c, r->s, sch->num_train_timesteps, err, errlen)) return -1;
    /* the sampler's own verdict before the network is set up (packing weights and the
     * arena cost time and memory that a refused option should not) */
    sculpt_sampler_options so;
    sampler_options(a, &so);
    if (sculpt_sampler_check(r->model, &so, &r->nfe_per_image, err, errlen) != SCULPT_OK) return -1;
    if (!sample_sampler_is_discrete(a->sampler) && a->schedule != SCULPT_SIGMAS_DISCRETE &&
        (a->given_sigma_min != a->given_sigma_max) && sch->alphas_cumprod && sch->num_train_timesteps > 0) {
        /* one end given: the other is the model's (k-diffusion DiscreteSchedule sigmas) */
        double a0 = sch->alphas_cumprod[0], a1 = sch->alphas_cumprod[sch->num_train_timesteps - 1];
        double lo = a->given_sigma_min ? (double)a->sigma_min : sqrt((1.0 - a0) / a0);
        double hi = a->given_sigma_max ? (double)a->sigma_max : sqrt((1.0 - a1) / a1);
        if (!(lo < hi)) {
            snprintf(err, errlen, "%s %g is not %s the model's %s sigma %g", a->given_sigma_min ? "--sigma-min" : "--sigma-max",
                     a->given_sigma_min ? lo : hi, a->given_sigma_min ? "below" : "above",
                     a->given_sigma_min ? "largest" : "smallest", a->given_sigma_min ? hi : lo);
            return -1;
        }
    }
    uint64_t total_bytes = (uint64_t)a->count * (uint64_t)r->chw * 4u;
    if (a->init_noise) {
        struct stat st;
        /* O_NONBLOCK: a FIFO with no writer would otherwise block the open forever */
        int fd = open(a->init_noise, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) != 0) {
            snprintf(err, errlen, "--init-noise %s: %s", a->init_noise, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
        if (!S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "--init-noise %s: not a regular file", a->init_noise);
            close(fd);
            return -1;
        }
        r->init = fdopen(fd, "rb");
        if (!r->init) {
            snprintf(err, errlen, "--init-noise %s: %s", a->init_noise, strerror(errno));
            close(fd);
            return -1;
        }
        if ((uint64_t)st.st_size != total_bytes) {
            snprintf(err, errlen, "--init-noise %s: %lld bytes, but -n %d images of %dx%dx%d need %llu bytes "
                     "(%llu f32 values)", a->init_noise, (long long)st.st_size, a->count, r->c, r->s, r->s,
                     (unsigned long long)total_bytes, (unsigned long long)(total_bytes / 4));
            return -1;
        }
    }
    if (a->out_raw && (check_not_input(a, a->out_raw, err, errlen) || sample_outfile_probe(a->out_raw, err, errlen)))
        return -1;
    if (sample_args_writes_png(a)) {
        char name[4096];
        int numbered = a->count > 1 && !a->grid;
        for (int i = 0; i < (numbered ? a->count : 1); i++) {
            if (numbered) numbered_name(a->out, i, name, sizeof name);
            else snprintf(name, sizeof name, "%s", a->out);
            if (check_not_input(a, name, err, errlen)) return -1;
            if (a->out_raw && same_destination(name, a->out_raw)) {
                if (numbered)
                    snprintf(err, errlen, "--out-raw %.300s is also the name of image %d's PNG (-o %.300s)",
                             a->out_raw, i, a->out);
                else
                    snprintf(err, errlen, "-o %.300s and --out-raw %.300s name the same file", a->out, a->out_raw);
                return -1;
            }
        }
        if (numbered) numbered_name(a->out, 0, name, sizeof name);
        if (sample_outfile_probe(name, err, errlen)) return -1;
    }
    return 0;
}

static int setup(run_state *r, char *err, size_t errlen) {
    const sample_args *a = r->a;
    sculpt_ctx_options co;
    memset(&co, 0, sizeof co);
    co.max_batch = a->batch;
    co.n_threads = a->threads;
    co.precision = a->precision;
    co.isa = a->isa;
    co.conv_algo = a->conv;
    sculpt_status st = sculpt_ctx_create(r->model, &co, &r->ctx);
    if (st != SCULPT_OK) {
        /* sculpt_ctx_errmsg(NULL): the message of the failed create */
        const char *why = sculpt_ctx_errmsg(r->ctx);
        snprintf(err, errlen, "cannot set up the network (batch %d, threads %d, precision %s, isa %s): %s",
                 a->batch, a->threads, sample_precision_name(a->precision), a->isa ? a->isa : "auto",
                 why && why[0] ? why : sculpt_status_string(st));
        /* options this build or CPU cannot do are refused input; memory is a failure */
        return st == SCULPT_E_NOMEM || st == SCULPT_E_IO ? -1 : -2;
    }
    size_t nx = (size_t)a->batch * r->chw;
    r->x = malloc(nx * sizeof *r->x);
    r->rngs = malloc((size_t)a->batch * sizeof *r->rngs);
    if (!host_is_little_endian()) r->raw_le = malloc(nx * sizeof *r->raw_le);
    if (sample_args_writes_png(a)) {
        if (a->grid) {
            sample_grid_dims(a->count, r->s, &r->grid_cols, &r->grid_rows, &r->grid_w, &r->grid_h);
            r->pix = calloc((size_t)r->grid_w * (size_t)r->grid_h, (size_t)r->c);
        } else {
            r->pix = malloc(r->chw);
        }
    }
    if (!r->x || !r->rngs || (!host_is_little_endian() && !r->raw_le) ||
        (sample_args_writes_png(a) && !r->pix)) {
        snprintf(err, errlen, "out of memory for batch %d of %dx%dx%d images", a->batch, r->c, r->s, r->s);
        return -1;
    }
    describe_options(a, r->options, sizeof r->options);
    if (a->out_raw && sample_outfile_open(&r->raw, a->out_raw, err, errlen)) return -1;
    return 0;
}

static void parameters_text(const run_state *r, uint64_t seed, int n, char *buf, size_t len) {
    const sample_args *a = r->a;
    char seeds[192];
    if (n > 1)
        snprintf(seeds, sizeof seeds, "seed: %llu, images: %d, seeds: %llu..%llu (row-major)",
                 (unsigned long long)seed, n, (unsigned long long)seed, (unsigned long long)(seed + (uint64_t)n - 1));
    else
        snprintf(seeds, sizeof seeds, "seed: %llu", (unsigned long long)seed);
    snprintf(buf, len,
             "sampler: %s, steps: %d, %s, %s%s%s, size: %dx%d, precision: %s, isa: %s, conv: %s, weights: %s, "
             "checksum: %s, sculpt: %s",
             sample_sampler_name(a->sampler), a->steps, r->options, seeds,
             a->init_noise ? ", init-noise: " : "", a->init_noise ? base_name(a->init_noise) : "", r->s, r->s,
             sample_precision_name(a->precision), sculpt_ctx_isa(r->ctx), sculpt_ctx_conv(r->ctx), r->weights_name, r->checksum,
             SCULPT_VERSION_STRING);
}

static int write_png(run_state *r, const char *path, const uint8_t *pix, int w, int h, size_t stride,
                     uint64_t seed, int n, char *err, size_t errlen) {
    char text[1536];
    parameters_text(r, seed, n, text, sizeof text);
    if (sample_outfile_open(&r->png, path, err, errlen)) return -1;
    if (sample_png_write(r->png.f, path, pix, w, h, r->c, stride, "parameters", text, err, errlen) || g_stop) {
        sample_outfile_abort(&r->png);
        return -1;
    }
    if (sample_outfile_commit(&r->png, err, errlen)) return -1;
    r->images_written += n == 1 && !r->a->grid;
    return 0;
}

/* Starting noise for images first..first+n-1: torch.manual_seed(seed + i); torch.randn(c, s, s)
 * per image; --init-noise then overwrites it (the stream has still been advanced, so
 * stochastic samplers add the same noise as without it). */
static int start_noise(run_state *r, int first, int n, char *err, size_t errlen) {
    for (int i = 0; i < n; i++) {
        sculpt_rng_seed(&r->rngs[i], r->a->seed + (uint64_t)(first + i));
        sculpt_rng_randn(&r->rngs[i], r->x + (size_t)i * r->chw, r->chw);
    }
    if (r->init) {
        size_t want = (size_t)n * r->chw;
        if (fread(r->x, sizeof(float), want, r->init) != want) {
            snprintf(err, errlen, "--init-noise %s: read failed at image %d", r->a->init_noise, first);
            return -1;
        }
        if (!host_is_little_endian()) swap_f32(r->x, want);
    }
    return 0;
}

static int write_raw(run_state *r, int n, char *err, size_t errlen) {
    size_t cnt = (size_t)n * r->chw;
    const float *src = r->x;
    if (r->raw_le) {
        memcpy(r->raw_le, r->x, cnt * sizeof(float));
        swap_f32(r->raw_le, cnt);
        src = r->raw_le;
    }
    if (fwrite(src, sizeof(float), cnt, r->raw.f) != cnt) {
        snprintf(err, errlen, "--out-raw %s: write failed: %s", r->a->out_raw, strerror(errno));
        return -1;
    }
    return 0;
}

/* The sampling loop. Returns 0, -1 (error in err) or 1 (interrupted). */
static int run_batches(run_state *r, sample_progress *prog, long long *nfe_per_image, char *err, size_t errlen) {
    const sample_args *a = r->a;
    sculpt_sampler_options so;
    sampler_options(a, &so);
    int batches = (a->count + a->batch - 1) / a->batch;
    for (int b = 0; b < batches; b++) {
        int first = b * a->batch;
        int n = a->count - first < a->batch ? a->count - first : a->batch;
        if (g_stop) return 1;
        if (start_noise(r, first, n, err, errlen)) return -1;
        sample_progress_batch(prog, b);
        sculpt_status st = sculpt_sampler_run(r->ctx, &so, n, r->rngs, r->x, sample_progress_cb, prog);
        if (st == SCULPT_E_INTERRUPTED || g_stop) return 1;
        /* the options passed sculpt_sampler_check in check_inputs: any failure now, even
         * before the first step, is a failure of the run (exit 1), not refused input */
        if (st != SCULPT_OK) {
            sample_progress_finish(prog);
            snprintf(err, errlen, "sampling failed (%s, images %d..%d): %s: %s", sample_sampler_name(a->sampler),
                     first, first + n - 1, sculpt_status_string(st), sculpt_ctx_errmsg(r->ctx));
            return -1;
        }
        *nfe_per_image = prog->nfe - prog->nfe_done;
        sample_progress_batch_done(prog);
        for (size_t k = 0; k < (size_t)n * r->chw; k++) r->nonfinite += !isfinite(r->x[k]);
        if (a->out_raw && write_raw(r, n, err, errlen)) return -1;
        if (!sample_args_writes_png(a)) continue;
        for (int i = 0; i < n; i++) {
            const float *xi = r->x + (size_t)i * r->chw;
            if (a->grid) {
                size_t off = sample_grid_cell_offset(first + i, r->grid_cols, r->s, r->grid_w, r->c);
                sample_quantize_image(xi, r->c, r->s, r->pix + off, (size_t)r->grid_w * (size_t)r->c);
                continue;
            }
            char name[4096];
            if (a->count > 1) numbered_name(a->out, first + i, name, sizeof name);
            else snprintf(name, sizeof name, "%s", a->out);
            sample_quantize_image(xi, r->c, r->s, r->pix, (size_t)r->s * (size_t)r->c);
            if (write_png(r, name, r->pix, r->s, r->s, (size_t)r->s * (size_t)r->c, a->seed + (uint64_t)(first + i),
                          1, err, errlen))
                return g_stop ? 1 : -1;
        }
    }
    if (g_stop) return 1;
    if (a->grid && sample_args_writes_png(a) &&
        write_png(r, a->out, r->pix, r->grid_w, r->grid_h, (size_t)r->grid_w * (size_t)r->c, a->seed, a->count,
                  err, errlen))
        return g_stop ? 1 : -1;
    if (a->out_raw) {
        if (g_stop) return 1;
        if (sample_outfile_commit(&r->raw, err, errlen)) return -1;
    }
    return 0;
}

static int run(const sample_args *a) {
    char err[1024] = "";
    run_state r;
    memset(&r, 0, sizeof r);
    r.a = a;
    install_signals();
    int rc = 0;
    if (open_model(&r, err, sizeof err) || check_inputs(&r, err, sizeof err)) {
        fprintf(stderr, "sample: %s\n", err);
        run_free(&r);
        return EXIT_USAGE;
    }
    int su = setup(&r, err, sizeof err);
    if (su != 0) {
        fprintf(stderr, "sample: %s\n", err);
        run_free(&r);
        return su == -2 ? EXIT_USAGE : EXIT_RUNTIME;
    }
    int batches = (a->count + a->batch - 1) / a->batch;
    /* the start line waits for the first step, so a sampler that refuses the options
     * leaves its one line alone */
    char header[2048];
    int hn = snprintf(header, sizeof header, "sample: %s, %d steps (%d NFE per image), %s; seed %llu",
                      sample_sampler_name(a->sampler), a->steps, r.nfe_per_image, r.options,
                      (unsigned long long)a->seed);
    if (a->count > 1 && hn > 0 && (size_t)hn < sizeof header)
        hn += snprintf(header + hn, sizeof header - (size_t)hn, " (images use seeds %llu..%llu)",
                       (unsigned long long)a->seed, (unsigned long long)(a->seed + (uint64_t)a->count - 1));
    if (hn > 0 && (size_t)hn < sizeof header)
        snprintf(header + hn, sizeof header - (size_t)hn, "; %d image%s of %dx%dx%d in %d batch%s of %d; weights %s [%s]; isa %s",
                 a->count, a->count > 1 ? "s" : "", r.c, r.s, r.s, batches, batches > 1 ? "es" : "", a->batch,
                 r.weights_name, r.checksum, sculpt_ctx_isa(r.ctx));
    sample_progress prog;
    double t0 = sample_now();
    sample_progress_init(&prog, stderr, isatty(fileno(stderr)), a->quiet, a->steps, batches, &g_stop, t0);
    prog.header = header;
    long long nfe = 0;
    int res = run_batches(&r, &prog, &nfe, err, sizeof err);
    sample_progress_finish(&prog);
    double wall = sample_now() - t0;
    char kept[96] = "";
    if (res != 0 && r.images_written > 0) /* numbered runs: finished images stay */
        snprintf(kept, sizeof kept, " (%d complete image%s of %d kept)", r.images_written,
                 r.images_written > 1 ? "s" : "", a->count);
    if (res == 1) {
        fprintf(stderr, "sample: interrupted by %s; no partial file left%s\n",
                g_signal == SIGTERM ? "SIGTERM" : "SIGINT", kept);
        rc = 128 + (g_signal ? (int)g_signal : SIGINT);
    } else if (res != 0) {
        fprintf(stderr, "sample: %s%s\n", err, kept);
        rc = EXIT_RUNTIME;
    } else if (!a->quiet) {
        char what[4200];
        sample_progress_header(&prog);
        if (!sample_args_writes_png(a)) snprintf(what, sizeof what, "%s", a->out_raw);
        else if (a->grid || a->count == 1) snprintf(what, sizeof what, "%s%s%s", a->out, a->out_raw ? ", " : "",
                                                   a->out_raw ? a->out_raw : "");
        else {
            char first[2048], last[2048];
            numbered_name(a->out, 0, first, sizeof first);
            numbered_name(a->out, a->count - 1, last, sizeof last);
            snprintf(what, sizeof what, "%s .. %s%s%s", first, last, a->out_raw ? ", " : "", a->out_raw ? a->out_raw : "");
        }
        fprintf(stderr, "sample: %d image%s, %lld NFE each (%lld network calls), %.2f s, %.3f images/s -> %s\n",
                a->count, a->count > 1 ? "s" : "", nfe, prog.nfe, wall, wall > 0 ? a->count / wall : 0.0, what);
    }
    if (res == 0 && r.nonfinite > 0)
        fprintf(stderr, "sample: warning: %lld sample values are NaN or infinite (NaN is written as pixel 0)\n", r.nonfinite);
    run_free(&r);
    return rc;
}

int main(int argc, char **argv) {
    sample_args a;
    char err[512];
    switch (sample_args_parse(argc, argv, &a, err, sizeof err)) {
    case SAMPLE_ARGS_HELP: sample_args_help(stdout); return 0;
    case SAMPLE_ARGS_VERSION: printf("sample (sculpt) %s\n", SCULPT_VERSION_STRING); return 0;
    case SAMPLE_ARGS_RUN: return run(&a);
    default: fprintf(stderr, "sample: %s\n", err); return EXIT_USAGE;
    }
}
