/* bench_open.c — not a test: writes a full-size google/ddpm-cifar10-32 shaped weight file
 * (f32, ~143 MB, deterministic data) with the test writer and times sculpt_model_open with
 * and without the data checksum, plus scw_sum_update's throughput from memory.
 * Usage: bench_open [PATH] (default /tmp/wf-bench-cifar.bin; the file is kept). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "sculpt.h"
#include "unet_spec.h"
#include "wt_writer.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "/tmp/wf-bench-cifar.bin";
    wt_spec s;
    if (wt_spec_tiny(&s, 1000)) return 1;
    free(s.tensors);
    unet_config_default(&s.config);
    int n = unet_spec_params(&s.config, NULL, 0, NULL, 0);
    unet_param *p = calloc((size_t)n, sizeof *p);
    s.tensors = calloc((size_t)n, sizeof *s.tensors);
    unet_spec_params(&s.config, p, n, NULL, 0);
    long long params = 0;
    for (int k = 0; k < n; k++) {
        snprintf(s.tensors[k].name, sizeof s.tensors[k].name, "%s", p[k].name);
        s.tensors[k].ndim = (uint32_t)p[k].ndim;
        long long c = 1;
        for (int d = 0; d < p[k].ndim; d++) c *= (s.tensors[k].shape[d] = (uint32_t)p[k].shape[d]);
        params += c;
    }
    s.n_tensors = n;
    free(p);
    size_t size;
    unsigned char *buf = wt_build(&s, &size);
    if (!buf || wt_write_file(path, buf, size)) return 1;
    printf("%s: %d tensors, %lld parameters, %zu bytes, data_offset %llu\n", path, n, params, size,
           (unsigned long long)wt_get64(buf + 64));

    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        volatile uint64_t h = scw_sum_final(scw_sum_update(SCW_SUM_INIT, buf, size));
        (void)h;
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("scw_sum_update over %zu bytes in memory: %.1f ms (%.2f GB/s)\n", size, 1e3 * best, (double)size / best / 1e9);
    free(buf);

    for (int flags = 0; flags < 2; flags++) {
        double tbest = 1e9;
        for (int r = 0; r < 5; r++) {
            char err[512];
            sculpt_model *m = NULL;
            double t0 = now();
            sculpt_status st = sculpt_model_open(path, flags ? SCULPT_OPEN_NO_CHECKSUM : 0, &m, err, sizeof err);
            double dt = now() - t0;
            if (st != SCULPT_OK) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            sculpt_model_close(m);
            if (dt < tbest) tbest = dt;
        }
        printf("sculpt_model_open(%s), file in page cache: best of 5 %.1f ms\n",
               flags ? "SCULPT_OPEN_NO_CHECKSUM" : "0", 1e3 * tbest);
    }
    wt_spec_free(&s);
    return 0;
}
