/* bench_unet.c — sculpt's side of bench/run.sh: ms per evaluation of a UNet weight file at
 * one batch size and thread count through the public API (sculpt.h), peak memory, and a
 * checksum of the output (speedtest1-style: a "faster" change that alters results shows). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sculpt.h"
#include "bench_util.h"

typedef struct opts {
    const char *weights, *ref, *isa, *precision, *conv;
    int batch, threads, warmup, iters;
    int scaling; /* > 0: also a context with this many threads, evaluations alternating */
} opts;

static long rss_kb(void) { /* current resident set, from /proc (0 where there is none) */
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

/* bench/bench_input.py, bit for bit: a murmur-style mixer of the element index. */
static uint32_t hash32(uint32_t i) {
    uint32_t u = i * 0x9E3779B1u + 0x7F4A7C15u;
    u ^= u >> 15;
    u *= 0x2C1B3C6Du;
    u ^= u >> 12;
    u *= 0x297A2D39u;
    return u ^ (u >> 15);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Relative L2 distance of out[n] to the raw f32 file `path`; -1 when it cannot be compared. */
static double rel_l2_vs(const char *path, const float *out, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1.0;
    long size = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    if (size < 0 || (unsigned long)size != n * 4 || fseek(f, 0, SEEK_SET)) {
        fprintf(stderr, "bench_unet: %s: %ld bytes, not %zu f32 values; no comparison\n", path, size, n);
        fclose(f);
        return -1.0;
    }
    double num = 0.0, den = 0.0;
    float buf[4096];
    size_t i = 0, got;
    while (i < n && (got = fread(buf, 4, 4096, f)) > 0)
        for (size_t k = 0; k < got && i < n; k++, i++) {
            double d = (double)out[i] - buf[k];
            num += d * d;
            den += (double)buf[k] * buf[k];
        }
    fclose(f);
    return i == n && den > 0.0 ? sqrt(num / den) : -1.0;
}

static void usage(void) {
    fprintf(stderr, "usage: bench_unet --weights W [--batch 1] [--threads 1] [--warmup 1] [--iters 3]\n"
                    "                  [--scaling T2] (also T2 threads, evaluations alternating: a SCALING line)\n"
                    "                  [--isa scalar|avx2|avx512|neon] [--precision f32|bf16|f16] [--ref out.f32]\n"
                    "                  [--conv auto|direct|winograd]\n"
                    "prints one 'RESULT runtime=sculpt ...' line (ms per evaluation, peak RSS, checksum)\n");
}

int main(int argc, char **argv) {
    opts o = {NULL, NULL, NULL, "f32", "auto", 1, 1, 1, 3, 0};
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!v) rc = -1;
        else if (!strcmp(a, "--weights")) o.weights = v;
        else if (!strcmp(a, "--ref")) o.ref = v;
        else if (!strcmp(a, "--isa")) o.isa = v;
        else if (!strcmp(a, "--precision")) o.precision = v;
        else if (!strcmp(a, "--conv")) o.conv = v;
        else if (!strcmp(a, "--batch")) rc = bench_parse_int("bench_unet", a, v, 1, 4096, &o.batch);
        else if (!strcmp(a, "--threads")) rc = bench_parse_int("bench_unet", a, v, 0, 1024, &o.threads);
        else if (!strcmp(a, "--warmup")) rc = bench_parse_int("bench_unet", a, v, 0, 1000, &o.warmup);
        else if (!strcmp(a, "--iters")) rc = bench_parse_int("bench_unet", a, v, 1, 100000, &o.iters);
        else if (!strcmp(a, "--scaling")) rc = bench_parse_int("bench_unet", a, v, 1, 1024, &o.scaling);
        else rc = -1;
        if (rc) {
            usage();
            return 2;
        }
    }
    if (!o.weights) {
        usage();
        return 2;
    }
    int precision;
    if (!strcmp(o.precision, "f32")) precision = SCULPT_PRECISION_F32;
    else if (!strcmp(o.precision, "bf16")) precision = SCULPT_PRECISION_BF16;
    else if (!strcmp(o.precision, "f16")) precision = SCULPT_PRECISION_F16;
    else {
        fprintf(stderr, "bench_unet: --precision '%s' must be f32, bf16 or f16\n", o.precision);
        return 2;
    }

    int conv;
    if (!strcmp(o.conv, "auto")) conv = SCULPT_CONV_AUTO;
    else if (!strcmp(o.conv, "direct")) conv = SCULPT_CONV_DIRECT;
    else if (!strcmp(o.conv, "winograd")) conv = SCULPT_CONV_WINOGRAD;
    else {
        fprintf(stderr, "bench_unet: --conv '%s' must be auto, direct or winograd\n", o.conv);
        return 2;
    }

    long base_rss = rss_kb();
    int status = 1;
    sculpt_model *m = NULL;
    sculpt_ctx *c = NULL, *c2 = NULL;
    float *x = NULL, *t = NULL, *out = NULL, *out2 = NULL;
    double *ms = NULL, *ms2 = NULL;
    char err[512] = "";
    sculpt_status st = sculpt_model_open(o.weights, 0, &m, err, sizeof err);
    if (st != SCULPT_OK) {
        fprintf(stderr, "bench_unet: %s\n", err[0] ? err : sculpt_status_string(st));
        goto done;
    }
    const sculpt_config *cfg = sculpt_model_config(m);
    sculpt_ctx_options co = {o.batch, o.threads, precision, o.isa, conv};
    double t0 = now_ms();
    st = sculpt_ctx_create(m, &co, &c);
    double create_ms = now_ms() - t0;
    if (st != SCULPT_OK) {
        fprintf(stderr, "bench_unet: sculpt_ctx_create(batch %d, threads %d, %s, isa %s): %s\n", o.batch,
                o.threads, o.precision, o.isa ? o.isa : "auto",
                sculpt_ctx_errmsg(c)[0] ? sculpt_ctx_errmsg(c) : sculpt_status_string(st));
        goto done;
    }
    if (o.scaling) {
        sculpt_ctx_options co2 = co;
        co2.n_threads = o.scaling;
        st = sculpt_ctx_create(m, &co2, &c2);
        if (st != SCULPT_OK) {
            fprintf(stderr, "bench_unet: sculpt_ctx_create(threads %d): %s\n", o.scaling,
                    sculpt_ctx_errmsg(c2)[0] ? sculpt_ctx_errmsg(c2) : sculpt_status_string(st));
            goto done;
        }
    }
    size_t in_n = (size_t)o.batch * (size_t)cfg->in_channels * (size_t)cfg->sample_size * (size_t)cfg->sample_size;
    size_t out_n = in_n / (size_t)cfg->in_channels * (size_t)cfg->out_channels;
    x = malloc(in_n * sizeof *x);
    t = malloc((size_t)o.batch * sizeof *t);
    out = malloc(out_n * sizeof *out);
    ms = malloc((size_t)o.iters * sizeof *ms);
    ms2 = malloc((size_t)o.iters * sizeof *ms2);
    out2 = malloc(out_n * sizeof *out2);
    if (!x || !t || !out || !ms || !ms2 || !out2) {
        fprintf(stderr, "bench_unet: out of memory for batch %d\n", o.batch);
        goto done;
    }
    for (size_t i = 0; i < in_n; i++)
        x[i] = (float)((int32_t)(hash32((uint32_t)i) >> 8) - (1 << 23)) / (float)(1 << 23);
    for (int j = 0; j < o.batch; j++) t[j] = (float)(((999 - 137 * j) % 1000 + 1000) % 1000);
    for (int i = 0; i < o.warmup + o.iters; i++) {
        double a = now_ms();
        st = sculpt_ctx_eval(c, o.batch, x, t, out);
        double b = now_ms();
        if (st != SCULPT_OK) {
            fprintf(stderr, "bench_unet: sculpt_ctx_eval(batch %d): %s\n", o.batch, sculpt_ctx_errmsg(c));
            goto done;
        }
        if (i >= o.warmup) ms[i - o.warmup] = b - a;
        if (!c2) continue;
        /* --scaling: the other thread count right after, so both see the same machine */
        a = now_ms();
        st = sculpt_ctx_eval(c2, o.batch, x, t, out2);
        b = now_ms();
        if (st != SCULPT_OK) {
            fprintf(stderr, "bench_unet: sculpt_ctx_eval(batch %d, %d threads): %s\n", o.batch, o.scaling,
                    sculpt_ctx_errmsg(c2));
            goto done;
        }
        if (i >= o.warmup) ms2[i - o.warmup] = b - a;
    }
    qsort(ms, (size_t)o.iters, sizeof *ms, cmp_double);
    double med = o.iters % 2 ? ms[o.iters / 2] : 0.5 * (ms[o.iters / 2 - 1] + ms[o.iters / 2]);
    if (c2) {
        qsort(ms2, (size_t)o.iters, sizeof *ms2, cmp_double);
        const double med2 = o.iters % 2 ? ms2[o.iters / 2] : 0.5 * (ms2[o.iters / 2 - 1] + ms2[o.iters / 2]);
        printf("SCALING runtime=sculpt batch=%d threads=%d,%d ms_med=%.2f,%.2f ms_min=%.2f,%.2f iters=%d "
               "speedup_med=%.3f speedup_min=%.3f same_bits=%d\n",
               o.batch, o.threads, o.scaling, med, med2, ms[0], ms2[0], o.iters, med / med2, ms[0] / ms2[0],
               memcmp(out, out2, out_n * sizeof *out) == 0);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char rel[64] = "";
    if (o.ref) {
        double r = rel_l2_vs(o.ref, out, out_n);
        if (r >= 0) snprintf(rel, sizeof rel, " rel_l2_vs_torch=%.2e", r);
    }
    printf("RESULT runtime=sculpt batch=%d threads=%d ms_med=%.2f ms_min=%.2f iters=%d maxrss_kb=%ld "
           "base_rss_kb=%ld arena_mb=%.1f create_ms=%.0f isa=%s precision=%s conv=%s checksum=%016" PRIx64 "%s\n",
           o.batch, o.threads, med, ms[0], o.iters, ru.ru_maxrss, base_rss,
           (double)sculpt_ctx_arena_bytes(c) / (1 << 20), create_ms, sculpt_ctx_isa(c), o.precision, sculpt_ctx_conv(c),
           bench_fnv64(out, out_n), rel);
    status = 0;
done:
    free(ms);
    free(ms2);
    free(out2);
    sculpt_ctx_destroy(c2);
    free(out);
    free(t);
    free(x);
    sculpt_ctx_destroy(c);
    sculpt_model_close(m);
    return status;
}
