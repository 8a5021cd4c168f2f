/* bench_conv.c — direct (packed GEMM, conv2d_run) vs Winograd (F(4x4,3x3) on 16x16 and up,
 * F(2x2,3x3) below, or --tile's; wino_transform_weights + conv2d_winograd_run) on the 3x3 convolutions of the full-size
 * CIFAR-10 DDPM UNet (google/ddpm-cifar10-32): ms (best of --reps), GFLOP/s counted as the
 * direct convolution's 2*oc*ic*9*h*w*n for both, the weight transform's ms alone, and each
 * path's rel L2 vs conv2d_ref on one item, and an FNV-1a checksum of the Winograd output
 * (speedtest1-style: a "faster" change that alters the results shows). Prints; never pass/fail.
 *   bench_conv [--threads N] [--batch N] [--isa scalar|avx2|avx512|neon] [--reps N] [--noref]
 *              [--shape I] (only the I-th shape of the table, 0-based)
 *              [--portable] (the transforms' portable C paths, no ISA path)
 *              [--tile 2|4] (that Winograd tile on every shape: F(2x2) against F(4x4)) */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/kernels.h"
#include "ops/ops.h"
#include "ops/winograd.h"
#include "sculpt.h"
#include "bench_util.h"

static uint32_t rng = 7;
static void fill(float *p, size_t n) { bench_fill(&rng, p, n); }

static void *xmalloc(size_t floats) {
    void *p = malloc((floats ? floats : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_conv: out of memory (%zu floats)\n", floats);
        exit(1);
    }
    return p;
}

typedef struct shape { int ic, oc, hw; } shape;

int main(int argc, char **argv) {
    int threads = 1, batch = 1, reps = 5, ref = 1, only = -1;
    const char *isa = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads")) { if (bench_parse_int("bench_conv", a, v, 1, 256, &threads)) return 2; i++; }
        else if (!strcmp(a, "--batch")) { if (bench_parse_int("bench_conv", a, v, 1, 1024, &batch)) return 2; i++; }
        else if (!strcmp(a, "--reps")) { if (bench_parse_int("bench_conv", a, v, 1, 1000, &reps)) return 2; i++; }
        else if (!strcmp(a, "--isa") && v) { isa = v; i++; }
        else if (!strcmp(a, "--noref")) ref = 0;
        else if (!strcmp(a, "--portable")) wino_portable_weights = wino_portable_io = 1;
        else if (!strcmp(a, "--shape")) { if (bench_parse_int("bench_conv", a, v, 0, 8, &only)) return 2; i++; }
        else if (!strcmp(a, "--tile")) {
            if (bench_parse_int("bench_conv", a, v, 2, 4, &wino_force_tile) || wino_force_tile == 3) {
                if (wino_force_tile == 3) fprintf(stderr, "bench_conv: --tile must be 2 or 4\n");
                return 2;
            }
            i++;
        }
        else {
            fprintf(stderr, "usage: bench_conv [--threads N] [--batch N] [--isa NAME] [--reps N]"
                            " [--noref] [--shape I] [--portable] [--tile 2|4]\n");
            return 2;
        }
    }
    char err[256] = "";
    int st = 0;
    const gemm_kernel *kr = gemm_kernel_select(isa, &st, err, sizeof err);
    if (!kr) {
        fprintf(stderr, "bench_conv: %s\n", err);
        return 2;
    }
    static const shape shapes[] = {{128, 128, 32}, {256, 128, 32}, {256, 256, 32},
                                   {256, 256, 16}, {512, 256, 16}, {128, 256, 16},
                                   {256, 256, 8},  {512, 256, 8},  {256, 256, 4}};
    const int ns = (int)(sizeof shapes / sizeof shapes[0]);
    printf("bench_conv: kernel %s (%dx%d), batch %d, threads %d, best of %d\n", kr->name, kr->mr,
           kr->nr, batch, threads, reps);
    printf("%-15s %9s %7s | %9s %7s | %8s %6s | %8s %8s %5s | %7s | %9s %9s | %8s\n", "ic->oc @hw",
           "direct ms", "GF/s", "U+run ms", "GF/s", "U ms", "U %", "fused ms", "auto ms", "same",
           "speedup", "err dir", "err wino", "checksum");
    double sum_d = 0, sum_w = 0, sum_a = 0;
    for (int t = 0; t < ns; t++) {
        if (only >= 0 && t != only) continue;
        const shape *sh = &shapes[t];
        conv_shape s;
        conv_shape_init(&s, sh->ic, sh->oc, 3, 1, 1, 1, 1, 1, sh->hw, sh->hw);
        const size_t hw = (size_t)sh->hw * sh->hw, nx = (size_t)batch * sh->ic * hw;
        const size_t ny = (size_t)batch * sh->oc * hw, nw = (size_t)sh->oc * sh->ic * 9;
        float *x = xmalloc(nx), *w = xmalloc(nw), *bias = xmalloc((size_t)sh->oc);
        float *y = xmalloc(ny), *yw = xmalloc(ny);
        fill(x, nx); fill(w, nw); fill(bias, (size_t)sh->oc);
        const conv_epilogue e = {bias, NULL, 0, NULL};
        float *pa = xmalloc(gemm_packed_a_floats(sh->oc, sh->ic * 9, kr->mr));
        gemm_pack_a(w, SCULPT_DT_F32, sh->oc, sh->ic * 9, kr->mr, pa);
        /* the weights as the model keeps them for Winograd (wino_wpack; every kernel's mr is 6) */
        float *wp = NULL; /* 64-byte aligned: the transform loads it with aligned loads */
        if (posix_memalign((void **)&wp, 64, wino_wpack_floats(sh->oc, sh->ic) * sizeof(float)) != 0) {
            fprintf(stderr, "bench_conv: out of memory (packed weights)\n");
            return 1;
        }
        wino_wpack(w, SCULPT_DT_F32, sh->oc, sh->ic, wp);
        const size_t ds = conv2d_scratch_floats(kr), ws = wino_scratch_floats(kr, &s);
        float *dscr = xmalloc(ds * threads), *wscr = xmalloc(ws * threads);
        const size_t uf = wino_work_floats(kr, &s, batch);
        const size_t un = wino_u_floats(sh->oc, sh->ic, kr->mr, wino_tile(&s));
        float *u = xmalloc(uf > un ? uf : un);
        float *yf = xmalloc(ny), *ya = xmalloc(ny);
        double td = 1e30, tw = 1e30, tu = 1e30, tf = 1e30, ta = 1e30;
        for (int r = 0; r <= reps; r++) { /* rep 0 warms up; the paths interleave */
            double t0 = now_ms();
            conv2d_run(kr, &s, batch, x, pa, &e, y, dscr, ds, threads);
            double t1 = now_ms();
            wino_transform_weights(w, sh->oc, sh->ic, kr->mr, wino_tile(&s), u, threads);
            double t2 = now_ms();
            conv2d_winograd_run(kr, &s, batch, x, u, &e, yw, wscr, ws, threads);
            double t3 = now_ms();
            conv2d_winograd_run_w(kr, &s, batch, x, wp, 1, NULL, 0, &e, yf, wscr, ws, threads);
            double t4 = now_ms();
            conv2d_winograd_run_w(kr, &s, batch, x, wp, 1, u, uf, &e, ya, wscr, ws, threads);
            double t5 = now_ms();
            if (r == 0) continue;
            if (t1 - t0 < td) td = t1 - t0;
            if (t3 - t1 < tw) tw = t3 - t1;
            if (t2 - t1 < tu) tu = t2 - t1;
            if (t4 - t3 < tf) tf = t4 - t3;
            if (t5 - t4 < ta) ta = t5 - t4;
        }
        const int same = !memcmp(yw, yf, ny * sizeof(float)) && !memcmp(yw, ya, ny * sizeof(float));
        char ed[16] = "n/a", ew[16] = "n/a";
        if (ref) { /* one item against the scalar oracle */
            const size_t n1 = (size_t)sh->oc * hw;
            float *y0 = xmalloc(n1);
            conv2d_ref(&s, 1, x, w, &e, y0);
            snprintf(ed, sizeof ed, "%.2g", bench_rel_l2(y, y0, n1));
            snprintf(ew, sizeof ew, "%.2g", bench_rel_l2(yw, y0, n1));
            free(y0);
        }
        const double gf = 2.0 * sh->oc * sh->ic * 9.0 * (double)hw * batch * 1e-6;
        char name[32];
        snprintf(name, sizeof name, "%d->%d @%d", sh->ic, sh->oc, sh->hw);
        printf("%-15s %9.3f %7.1f | %9.3f %7.1f | %8.3f %5.1f%% | %8.3f %8.3f %5s | %6.2fx | %9s "
               "%9s | %08x\n", name, td, gf / td, tw, gf / tw, tu, 100.0 * tu / tw, tf, ta,
               same ? "yes" : "NO", td / ta, ed, ew, (uint32_t)bench_fnv64(yw, ny));
        sum_d += td;
        sum_w += tw;
        sum_a += ta;
        free(yf); free(ya);
        free(x); free(w); free(wp); free(bias); free(y); free(yw); free(pa); free(dscr); free(wscr); free(u);
    }
    printf("total: direct %.3f ms, winograd U+run %.3f ms, auto (run_w) %.3f ms (%.2fx direct)\n",
           sum_d, sum_w, sum_a, sum_d / sum_a);
    return 0;
}
