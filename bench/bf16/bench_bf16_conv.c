/* bench_bf16_conv.c — bf16 convolution (conv2d_bf16_run) against the f32 direct path
 * (conv2d_run with gemm_kernel_select(NULL)) on the convolutions of the full-size CIFAR-10
 * DDPM UNet (google/ddpm-cifar10-32), at batch 1 and 16: ms (best of --reps, weights packed
 * once, outside the timing), GFLOP/s counted as 2*oc*ic*kh*kw*oh*ow*n, the speed-up over
 * f32, and the rel L2 of each bf16 output against the f32 one (bf16's own error, ~2^-8 on
 * random data). Every bf16 kernel this CPU runs is measured (the scalar oracle only when
 * named: it is slow); the others are listed with the reason. Prints a checksum; never fails
 * on speed. Also each kernel's micro-kernel alone on cache-resident panels (its ceiling),
 * and with --pack the driver with a no-op micro-kernel (packing and loop cost alone);
 * --kc/--nc override the kernels' blocking, for tuning.
 *   bench_bf16_conv [--threads N] [--batch N] [--reps N] [--kernel amx|avx512bf16|scalar]
 *                   [--kc N] [--nc N] [--pack] */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/bf16/bf16.h"
#include "ops/kernels.h"
#include "ops/ops.h"
#include "sculpt.h"
#include "../bench_util.h"

static uint32_t rng = 7;
static void fill(float *p, size_t n) { bench_fill(&rng, p, n); }

static void *xmalloc(size_t bytes) { /* 64-byte aligned, as the model's arena */
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!p) {
        fprintf(stderr, "bench_bf16_conv: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

typedef struct shape { const char *what; int ic, oc, k, stride, hw; } shape;

/* The UNet's convolutions (block_out_channels 128, 256, 256, 256; 32 -> 4 pixels). */
static const shape shapes[] = {
    {"conv_in", 3, 128, 3, 1, 32},      {"res 32", 128, 128, 3, 1, 32},
    {"down 32", 128, 128, 3, 2, 32},    {"res 16", 128, 256, 3, 1, 16},
    {"res 16", 256, 256, 3, 1, 16},     {"up 16", 512, 256, 3, 1, 16},
    {"skip 16", 512, 256, 1, 1, 16},    {"1x1 16", 256, 256, 1, 1, 16},
    {"res 8", 256, 256, 3, 1, 8},       {"up 8", 512, 256, 3, 1, 8},
    {"res 4", 256, 256, 3, 1, 4},       {"conv_out", 128, 3, 3, 1, 32},
};

#define MAX_K 8

static void no_ukr(int kc, const uint16_t *a, const uint16_t *const *b, int64_t bstride,
                   float *c, int64_t ldc, int acc) {
    (void)kc; (void)a; (void)b; (void)bstride; (void)ldc; (void)acc;
    c[0] = 0.0f;
}

/* GFLOP/s of k's micro-kernel alone, one thread, on L1/L2-resident panels. */
static double ukr_gflops(const bf16_kernel *k) {
    const int kc = k->kc, reps = 4000;
    uint16_t *a = xmalloc((size_t)k->mr * kc * 2), *b = xmalloc((size_t)k->nr * kc * 2);
    float *c = xmalloc((size_t)k->mr * k->nr * 4);
    memset(a, 0, (size_t)k->mr * kc * 2);
    memset(b, 0, (size_t)k->nr * kc * 2);
    memset(c, 0, (size_t)k->mr * k->nr * 4);
    const uint16_t *bs[64];
    for (int q = 0; q < kc / 32 && q < 64; q++) bs[q] = b + (size_t)q * 32 * k->nr;
    if (k->begin) k->begin();
    /* warm up ~50 ms: AMX and AVX-512 units run slow for a while after they wake */
    for (const double t0 = now_ms(); now_ms() - t0 < 50.0;)
        for (int i = 0; i < 100; i++) k->ukr(kc, a, bs, 2 * k->nr, c, k->nr, i & 1);
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        const double t0 = now_ms();
        for (int i = 0; i < reps; i++) k->ukr(kc, a, bs, 2 * k->nr, c, k->nr, i & 1);
        const double t = now_ms() - t0;
        if (t < best) best = t;
    }
    if (k->end) k->end();
    free(a); free(b); free(c);
    return 2.0 * k->mr * k->nr * kc * reps * 1e-6 / best;
}

int main(int argc, char **argv) {
    int threads = 1, reps = 5, only_batch = 0, kc = 0, nc = 0, pack = 0;
    const char *want = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--threads")) { if (bench_parse_int("bench_bf16_conv", a, v, 1, 256, &threads)) return 2; i++; }
        else if (!strcmp(a, "--batch")) { if (bench_parse_int("bench_bf16_conv", a, v, 1, 1024, &only_batch)) return 2; i++; }
        else if (!strcmp(a, "--reps")) { if (bench_parse_int("bench_bf16_conv", a, v, 1, 1000, &reps)) return 2; i++; }
        else if (!strcmp(a, "--kernel") && v) { want = v; i++; }
        else if (!strcmp(a, "--kc")) { if (bench_parse_int("bench_bf16_conv", a, v, 32, 1024, &kc) || kc % 32) return 2; i++; }
        else if (!strcmp(a, "--nc")) { if (bench_parse_int("bench_bf16_conv", a, v, 32, 8192, &nc) || nc % 32) return 2; i++; }
        else if (!strcmp(a, "--pack")) pack = 1;
        else {
            fprintf(stderr, "usage: bench_bf16_conv [--threads N] [--batch N] [--reps N] "
                            "[--kernel amx|avx512bf16|scalar] [--kc N] [--nc N] [--pack]\n"
                            "  (--kc: a multiple of 32 up to 1024; --nc: a multiple of 32)\n");
            return 2;
        }
    }
    char err[512] = "";
    int st = 0;
    const gemm_kernel *fk = gemm_kernel_select(NULL, &st, err, sizeof err);
    bf16_kernel ks_store[2 * MAX_K];
    const bf16_kernel *ks[2 * MAX_K];
    int nk = 0;
    for (int i = 0; i < bf16_kernel_count() && nk < MAX_K; i++) {
        int ok = 0;
        const bf16_kernel *k = bf16_kernel_at(i, &ok);
        const int named = want && !strcmp(want, k->name);
        if (want ? !named : !strcmp(k->name, "scalar")) continue;
        if (ok) {
            ks_store[nk] = *k;
            if (kc) ks_store[nk].kc = kc;
            if (nc) ks_store[nk].nc = nc;
            ks[nk] = &ks_store[nk];
            nk++;
        } else {
            bf16_kernel_select(k->name, &st, err, sizeof err);
            printf("bf16 kernel %s: not measured (%s)\n", k->name, err);
        }
    }
    if (!bf16_kernel_select(NULL, &st, err, sizeof err)) printf("bf16_kernel_select(NULL): %s\n", err);
    printf("bench_bf16_conv: f32 kernel %s (%dx%d); bf16 kernels:", fk->name, fk->mr, fk->nr);
    for (int j = 0; j < nk; j++) printf(" %s (%dx%d, kc %d, nc %d)", ks[j]->name, ks[j]->mr, ks[j]->nr, ks[j]->kc, ks[j]->nc);
    printf("%s; threads %d, best of %d\n", nk ? "" : " none runs here", threads, reps);
    for (int j = 0; j < nk; j++)
        printf("micro-kernel %s alone (kc %d, one thread, cached panels): %.1f GFLOP/s\n",
               ks[j]->name, ks[j]->kc, ukr_gflops(ks[j]));
    if (pack) { /* the same kernels with a no-op micro-kernel: packing and loops alone */
        const int n0 = nk;
        for (int j = 0; j < n0 && nk < 2 * MAX_K; j++) {
            ks_store[nk] = *ks[j];
            ks_store[nk].ukr = no_ukr;
            ks_store[nk].begin = ks_store[nk].end = NULL;
            ks_store[nk].name = "(pack only)";
            ks[nk] = &ks_store[nk];
            nk++;
        }
    }

    const int batches[2] = {1, 16};
    double checksum = 0;
    for (int bi = 0; bi < 2; bi++) {
        const int n = only_batch ? only_batch : batches[bi];
        if (only_batch && bi) break;
        double tot_f = 0, tot_b[2 * MAX_K] = {0};
        printf("\nbatch %d\n%-9s %-20s %9s %8s", n, "layer", "ic->oc k/s @hw", "f32 ms", "GF/s");
        for (int j = 0; j < nk; j++) printf(" | %10s ms %8s %7s %9s", ks[j]->name, "GF/s", "x f32", "rel L2");
        printf("\n");
        for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
            const shape *sh = &shapes[t];
            conv_shape s;
            const int pad = sh->k / 2;
            if (sh->stride == 2) conv_shape_init(&s, sh->ic, sh->oc, sh->k, 2, 0, 0, 1, 1, sh->hw, sh->hw);
            else conv_shape_init(&s, sh->ic, sh->oc, sh->k, 1, pad, pad, pad, pad, sh->hw, sh->hw);
            const int K = sh->ic * sh->k * sh->k;
            const size_t nx = (size_t)n * sh->ic * sh->hw * sh->hw, nw = (size_t)sh->oc * K;
            const size_t ny = (size_t)n * sh->oc * s.oh * s.ow;
            float *x = xmalloc(nx * 4), *w = xmalloc(nw * 4), *bias = xmalloc((size_t)sh->oc * 4);
            float *yf = xmalloc(ny * 4), *yb = xmalloc(ny * 4);
            fill(x, nx); fill(w, nw); fill(bias, (size_t)sh->oc);
            const conv_epilogue e = {bias, NULL, 0, NULL};
            float *pa = xmalloc(gemm_packed_a_floats(sh->oc, K, fk->mr) * 4);
            gemm_pack_a(w, SCULPT_DT_F32, sh->oc, K, fk->mr, pa);
            const size_t fs = conv2d_scratch_floats(fk);
            float *fscr = xmalloc(fs * threads * 4);
            double tf = 1e30;
            for (int r = 0; r <= reps; r++) { /* rep 0 warms up */
                const double t0 = now_ms();
                conv2d_run(fk, &s, n, x, pa, &e, yf, fscr, fs, threads);
                const double t1 = now_ms() - t0;
                if (r && t1 < tf) tf = t1;
            }
            const double gf = 2.0 * sh->oc * K * (double)s.oh * s.ow * n * 1e-6;
            char name[40];
            snprintf(name, sizeof name, "%d->%d %dx%d/%d @%d", sh->ic, sh->oc, sh->k, sh->k, sh->stride, sh->hw);
            printf("%-9s %-20s %9.3f %8.1f", sh->what, name, tf, gf / tf);
            tot_f += tf;
            for (int j = 0; j < nk; j++) {
                const bf16_kernel *k = ks[j];
                void *pb = xmalloc(bf16_conv_packed_bytes(k, &s));
                bf16_conv_pack(k, &s, w, SCULPT_DT_F32, pb);
                const size_t bs = conv2d_bf16_scratch_bytes(k, &s);
                void *bscr = xmalloc(bs * threads);
                double tb = 1e30;
                for (int r = 0; r <= reps; r++) {
                    const double t0 = now_ms();
                    conv2d_bf16_run(k, &s, n, x, pb, &e, yb, bscr, bs, threads);
                    const double t1 = now_ms() - t0;
                    if (r && t1 < tb) tb = t1;
                }
                if (k->ukr != no_ukr)
                    for (size_t i = 0; i < ny; i++) checksum += yb[i];
                if (k->ukr != no_ukr)
                    printf(" | %13.3f %8.1f %6.2fx %9.2g", tb, gf / tb, tf / tb, bench_rel_l2(yb, yf, ny));
                else
                    printf(" | %13.3f %8.1f %6.2fx %9s", tb, gf / tb, tf / tb, "-");
                tot_b[j] += tb;
                free(pb); free(bscr);
            }
            printf("\n");
            free(x); free(w); free(bias); free(yf); free(yb); free(pa); free(fscr);
        }
        printf("%-30s %9.3f %8s", "total", tot_f, "");
        for (int j = 0; j < nk; j++) printf(" | %13.3f %8s %6.2fx %9s", tot_b[j], "", tot_f / tot_b[j], "");
        printf("\n");
    }
    printf("checksum %.9g\n", checksum);
    return 0;
}
