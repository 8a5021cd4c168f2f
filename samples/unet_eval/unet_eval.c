/* unet_eval.c — `unet-eval`: evaluate the UNet once on raw little-endian f32 NCHW input
 * and write the raw f32 output; the hook for regression tests against reference outputs
 * (e.g. diffusers' UNet2DModel(x, t).sample saved with numpy's tofile). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sculpt.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: unet-eval --weights W --input x.f32 --t T[,T...] [--out eps.f32]\n"
            "                 [--threads N] [--isa scalar|avx2|avx512|neon] [--conv auto|direct|winograd]\n"
            "                 [--repeat R]\n"
            "  x.f32: raw little-endian f32 NCHW; the batch size is taken from its size.\n"
            "  --t: one timestep for every item, or one per item (fractional allowed).\n"
            "  --out: raw f32 NCHW network output (without it, a summary is printed).\n"
            "  --repeat: evaluate R times and report the median and best time (benchmarks).\n");
}

/* Whole file into memory; NULL with a message naming the file. */
static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "unet-eval: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 1 << 16;
            unsigned char *p = realloc(buf, nc);
            if (!p) {
                fprintf(stderr, "unet-eval: %s: out of memory\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "unet-eval: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static int write_all(const char *path, const float *y, size_t count) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "unet-eval: %s: path too long\n", path);
        return -1;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "unet-eval: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    size_t w = fwrite(y, sizeof(float), count, f);
    int bad = w != count || fflush(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "unet-eval: %s: write failed\n", path);
        remove(tmp);
        return -1;
    }
    return 0;
}

/* "T" or "T0,T1,..." -> t[0..k-1]; returns k, or -1 with a message. */
static int parse_ts(const char *s, float *t, int cap) {
    int k = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || fabs(v) > 1e30) {
            fprintf(stderr, "unet-eval: --t '%s': bad number at '%s'\n", s, p);
            return -1;
        }
        if (k == cap) {
            fprintf(stderr, "unet-eval: --t '%s': more than %d values\n", s, cap);
            return -1;
        }
        t[k++] = (float)v;
        p = end;
        if (*p == ',') p++;
        else if (*p) {
            fprintf(stderr, "unet-eval: --t '%s': unexpected '%c'\n", s, *p);
            return -1;
        }
    }
    if (k == 0) fprintf(stderr, "unet-eval: --t is empty\n");
    return k ? k : -1;
}

int main(int argc, char **argv) {
    const char *weights = NULL, *input = NULL, *ts = NULL, *outp = NULL, *isa = NULL;
    int threads = 0, repeat = 1, conv = SCULPT_CONV_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "unet-eval: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--weights")) weights = v;
        else if (!strcmp(a, "--input")) input = v;
        else if (!strcmp(a, "--t")) ts = v;
        else if (!strcmp(a, "--out")) outp = v;
        else if (!strcmp(a, "--isa")) isa = v;
        else if (!strcmp(a, "--conv")) {
            if (!strcmp(v, "auto")) conv = SCULPT_CONV_AUTO;
            else if (!strcmp(v, "direct")) conv = SCULPT_CONV_DIRECT;
            else if (!strcmp(v, "winograd")) conv = SCULPT_CONV_WINOGRAD;
            else {
                fprintf(stderr, "unet-eval: --conv '%s' must be auto, direct or winograd\n", v);
                return 2;
            }
        }
        else if (!strcmp(a, "--threads")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 1024) {
                fprintf(stderr, "unet-eval: --threads '%s' must be 0..1024\n", v);
                return 2;
            }
            threads = (int)n;
        } else if (!strcmp(a, "--repeat")) {
            char *end;
            long r = strtol(v, &end, 10);
            if (*end || r < 1 || r > 100000) {
                fprintf(stderr, "unet-eval: --repeat '%s' must be 1..100000\n", v);
                return 2;
            }
            repeat = (int)r;
        } else {
            fprintf(stderr, "unet-eval: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!weights || !input || !ts) {
        fprintf(stderr, "unet-eval: --weights, --input and --t are required\n");
        usage(stderr);
        return 2;
    }
    int rc = 1;
    sculpt_model *m = NULL;
    sculpt_ctx *ctx = NULL;
    unsigned char *xin = NULL;
    float *x = NULL, *y = NULL, *t = NULL;
    double *times = NULL;
    char err[1024] = "";
    sculpt_status st = sculpt_model_open(weights, 0, &m, err, sizeof err);
    if (st != SCULPT_OK) {
        fprintf(stderr, "unet-eval: %s\n", err[0] ? err : sculpt_status_string(st));
        goto done;
    }
    const sculpt_config *cfg = sculpt_model_config(m);
    const size_t item = (size_t)cfg->in_channels * cfg->sample_size * cfg->sample_size;
    const size_t oitem = (size_t)cfg->out_channels * cfg->sample_size * cfg->sample_size;
    size_t len = 0;
    xin = read_all(input, &len);
    if (!xin) goto done;
    if (len == 0 || len % (item * sizeof(float)) != 0) {
        fprintf(stderr, "unet-eval: %s: %zu bytes is not a whole number of images [%d,%d,%d] f32 (%zu bytes each)\n",
                input, len, cfg->in_channels, cfg->sample_size, cfg->sample_size, item * sizeof(float));
        goto done;
    }
    const size_t nb = len / (item * sizeof(float));
    if (nb > 4096) {
        fprintf(stderr, "unet-eval: %s: %zu images is more than 4096\n", input, nb);
        goto done;
    }
    const int n = (int)nb;
    t = malloc(sizeof(float) * (size_t)n);
    x = malloc(len);
    y = malloc(oitem * sizeof(float) * (size_t)n);
    if (!t || !x || !y) {
        fprintf(stderr, "unet-eval: out of memory\n");
        goto done;
    }
    memcpy(x, xin, len); /* the host is little-endian (x86-64, AArch64) */
    float tv[4096];
    int k = parse_ts(ts, tv, 4096);
    if (k < 0) goto done;
    if (k != 1 && k != n) {
        fprintf(stderr, "unet-eval: --t has %d values but %s holds %d images (give 1 or %d)\n", k, input, n, n);
        goto done;
    }
    for (int i = 0; i < n; i++) t[i] = tv[k == 1 ? 0 : i];
    sculpt_ctx_options o = {n, threads, SCULPT_PRECISION_F32, isa, conv};
    st = sculpt_ctx_create(m, &o, &ctx);
    if (st != SCULPT_OK) {
        fprintf(stderr, "unet-eval: %s\n", sculpt_ctx_errmsg(NULL));
        goto done;
    }
    times = malloc(sizeof(double) * (size_t)repeat);
    if (!times) {
        fprintf(stderr, "unet-eval: out of memory\n");
        goto done;
    }
    for (int r = 0; r < repeat; r++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        st = sculpt_ctx_eval(ctx, n, x, t, y);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (st != SCULPT_OK) {
            fprintf(stderr, "unet-eval: %s\n", sculpt_ctx_errmsg(ctx));
            goto done;
        }
        times[r] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    }
    qsort(times, (size_t)repeat, sizeof(double), cmp_double);
    const double ms = times[repeat / 2];
    if (outp) {
        if (write_all(outp, y, oitem * (size_t)n)) goto done;
    }
    double sum = 0, sq = 0;
    for (size_t i = 0; i < oitem * (size_t)n; i++) {
        sum += y[i];
        sq += (double)y[i] * y[i];
    }
    char timing[96];
    if (repeat > 1)
        snprintf(timing, sizeof timing, "median %.2f ms, best %.2f ms over %d evals", ms, times[0], repeat);
    else
        snprintf(timing, sizeof timing, "%.1f ms", ms);
    char thr[32];
    if (threads) snprintf(thr, sizeof thr, "%d", threads);
    else snprintf(thr, sizeof thr, "default");
    fprintf(outp ? stderr : stdout, "unet-eval: %d image(s) [%d,%d,%d], %s, conv %s, %s thread(s), %s, output mean %.6g rms %.6g%s%s\n",
            n, cfg->out_channels, cfg->sample_size, cfg->sample_size, sculpt_ctx_isa(ctx), sculpt_ctx_conv(ctx),
            thr, timing,
            sum / (double)(oitem * n), sqrt(sq / (double)(oitem * n)), outp ? " -> " : "", outp ? outp : "");
    rc = 0;
done:
    sculpt_ctx_destroy(ctx);
    sculpt_model_close(m);
    free(xin);
    free(x);
    free(y);
    free(t);
    free(times);
    return rc;
}
