/* test_bf16_ukr.c — every bf16 micro-kernel this machine can run (native ones the CPU
 * supports, the SIMDe-emulated AVX512-BF16 build, the AMX kernel on the C tile model)
 * against the exact sum (double) and the scalar oracle, on random packed panels: k odd and
 * even (padded to the kernel's k group), accumulate 0/1, a row stride past the tile (the
 * columns beyond it untouched), B rows through scattered step pointers with a padded row
 * stride (as the direct path passes them), NaN propagation. Also bf16_kernel_select: refuses with
 * SCULPT_E_CPU and the reasons when the CPU has neither AMX-BF16 nor AVX512-BF16, else
 * returns a kernel that runs; never picks the scalar oracle by itself. */
#include <math.h>

#include "bf16_test.h"

/* Logical A [mr][kd] and B [kd][nr] (already bf16 values) packed for kernel k: A at ap,
 * B's pair rows scattered over bbuf, 16 per step pointer bs[s], steps in reverse memory
 * order, rows bstride = 2nr + 16 apart. Returns bstride. */
static int64_t pack(const bf16_kernel *k, const float *A, const float *B, int kd, uint16_t *ap,
                    uint16_t *bbuf, const uint16_t **bs) {
    const int kp = (kd + k->kg - 1) / k->kg * k->kg, nr = k->nr, steps = (kp + 31) / 32;
    const int64_t bstride = 2 * nr + 16;
    bf16_pack_a(k, A, SCULPT_DT_F32, k->mr, kd, ap);
    float *rows = calloc((size_t)kp * nr, sizeof(float));
    uint16_t *panel = malloc(sizeof(uint16_t) * kp * nr);
    memcpy(rows, B, sizeof(float) * kd * nr);
    k->cvt_pairs(kp / 2, nr, rows, panel);
    for (int q = 0; q < steps; q++) bs[q] = bbuf + (size_t)(steps - 1 - q) * 16 * bstride;
    for (int r = 0; r < kp / 2; r++)
        memcpy((uint16_t *)bs[r / 16] + (r % 16) * bstride, panel + (size_t)r * 2 * nr, 4 * (size_t)nr);
    free(rows); free(panel);
    return bstride;
}

static size_t bbuf_len(const bf16_kernel *k, int kd) {
    return (size_t)((kd + 31) / 32 + 1) * 16 * (2 * k->nr + 16);
}

static double worst_seen = 0; /* error / (kp * 2^-24 * magnitude), over all kernels */

static void test_ukr(const bf16_kernel *k, const bf16_kernel *oracle) {
    static const int kds[] = {1, 2, 7, 31, 32, 33, 64, 255, 256};
    const int mr = k->mr, nr = k->nr, ldc = nr + 3;
    for (size_t t = 0; t < sizeof kds / sizeof kds[0]; t++) {
        const int kd = kds[t], kp = (kd + k->kg - 1) / k->kg * k->kg;
        float *A = rand_buf((size_t)mr * kd), *B = rand_buf((size_t)kd * nr);
        for (int i = 0; i < mr * kd; i++) A[i] = bf16_round_f32(A[i]);
        for (int i = 0; i < kd * nr; i++) B[i] = bf16_round_f32(4.0f * B[i]);
        uint16_t *ap = malloc(bf16_packed_a_bytes(k, mr, kd)), *bp = calloc(bbuf_len(k, kd), 2);
        const uint16_t *bs[64];
        const int64_t bstride = pack(k, A, B, kd, ap, bp, bs);
        /* the oracle's own packing (its mr may be smaller: rows in blocks of its mr) */
        const int okp = (kd + 1) / 2 * 2;
        float *c = rand_buf((size_t)mr * ldc), *c0 = malloc(sizeof(float) * mr * ldc);
        float *co = malloc(sizeof(float) * mr * ldc);
        memcpy(c0, c, sizeof(float) * mr * ldc);
        for (int acc = 0; acc < 2; acc++) {
            memcpy(c, c0, sizeof(float) * mr * ldc);
            memcpy(co, c0, sizeof(float) * mr * ldc);
            if (k->begin) k->begin(); /* the AMX tile config, per thread */
            k->ukr(kp, ap, bs, bstride, c, ldc, acc);
            if (k->end) k->end();
            for (int i0 = 0; i0 < mr; i0 += oracle->mr) {
                uint16_t *oa = malloc(bf16_packed_a_bytes(oracle, oracle->mr, kd));
                uint16_t *ob = calloc(bbuf_len(oracle, kd), 2);
                const uint16_t *obs[64];
                const int64_t ostride = pack(oracle, A + (size_t)i0 * kd, B, kd, oa, ob, obs);
                oracle->ukr(okp, oa, obs, ostride, co + (size_t)i0 * ldc, ldc, acc);
                free(oa); free(ob);
            }
            double worst = 0, worst_o = 0;
            int untouched = 1;
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < ldc; j++) {
                    if (j >= nr) {
                        untouched &= c[i * ldc + j] == c0[i * ldc + j];
                        continue;
                    }
                    double want = acc ? c0[i * ldc + j] : 0.0, mag = fabs(want);
                    for (int p = 0; p < kd; p++) {
                        want += (double)A[i * kd + p] * B[p * nr + j];
                        mag += fabs((double)A[i * kd + p] * B[p * nr + j]);
                    }
                    /* any order of kp+1 f32 additions is within (kp+1) 2^-24 mag */
                    const double unit = (kp + 1) * ldexp(1.0, -24) * (mag + 1e-30);
                    const double e = fabs(c[i * ldc + j] - want) / unit;
                    const double eo = fabs(c[i * ldc + j] - co[i * ldc + j]) / (2 * unit);
                    if (!(e <= worst)) worst = e;      /* NaN counts */
                    if (!(eo <= worst_o)) worst_o = eo;
                }
            CHECKF(worst <= 1.0, "%s ukr k=%d acc=%d: error %.3g of the bound", k->name, kd, acc, worst);
            CHECKF(worst_o <= 1.0, "%s ukr k=%d acc=%d: %.3g of the bound from the oracle", k->name, kd, acc, worst_o);
            CHECKF(untouched, "%s ukr k=%d acc=%d wrote past nr", k->name, kd, acc);
            if (worst > worst_seen) worst_seen = worst;
        }
        /* a NaN in A's row 1 reaches all of row 1 of C and no other row */
        A[1 * kd + kd / 2] = NAN;
        pack(k, A, B, kd, ap, bp, bs);
        if (k->begin) k->begin();
        k->ukr(kp, ap, bs, bstride, c, ldc, 0);
        if (k->end) k->end();
        int nan_ok = 1;
        for (int i = 0; i < mr; i++)
            for (int j = 0; j < nr; j++) nan_ok &= (i == 1) == (isnan(c[i * ldc + j]) != 0);
        CHECKF(nan_ok, "%s ukr k=%d: NaN does not propagate along its row only", k->name, kd);
        free(A); free(B); free(ap); free(bp); free(c); free(c0); free(co);
    }
}

static void test_select(void) {
    int st = 0, any_hw = 0;
    char err[512] = "";
    for (int i = 0; i < bf16_kernel_count(); i++) {
        int ok = 0;
        const bf16_kernel *k = bf16_kernel_at(i, &ok);
        CHECK(k && !strcmp(bf16_kernel_name(k), k->name));
        if (strcmp(k->name, "scalar") != 0) any_hw |= ok;
        else CHECK(ok == 1 && i == bf16_kernel_count() - 1);
    }
    CHECK(bf16_kernel_at(bf16_kernel_count(), NULL) == NULL && bf16_kernel_at(-1, NULL) == NULL);
    const bf16_kernel *k = bf16_kernel_select(NULL, &st, err, sizeof err);
    if (any_hw) {
        int ok = 0;
        CHECKF(k != NULL, "select(NULL) refused although a hardware kernel runs: %s", err);
        for (int i = 0; k && i < bf16_kernel_count(); i++)
            if (bf16_kernel_at(i, &ok) == k) CHECK(ok == 1);
        CHECK(k == NULL || strcmp(k->name, "scalar") != 0);
        printf("select(NULL) -> %s\n", k ? k->name : "(null)");
    } else {
        CHECK(k == NULL);
        CHECKF(st == SCULPT_E_CPU, "status %d", st);
        CHECKF(strstr(err, "precision bf16 needs AMX-BF16 or AVX512-BF16; this CPU has neither") != NULL &&
                   strstr(err, "amx: ") && strstr(err, "avx512bf16: "),
               "message: %s", err);
        printf("select(NULL) refused as it should here: %s\n", err);
    }
    st = 0;
    CHECK(bf16_kernel_select("fp8", &st, err, sizeof err) == NULL && st == SCULPT_E_ARG);
    CHECK(strstr(err, "unknown bf16 kernel 'fp8'") != NULL);
    k = bf16_kernel_select("scalar", &st, err, sizeof err);
    CHECK(k && !strcmp(k->name, "scalar"));
    for (int i = 0; i < bf16_kernel_count(); i++) {
        int ok = 0;
        const bf16_kernel *ki = bf16_kernel_at(i, &ok);
        st = 0;
        const bf16_kernel *ks = bf16_kernel_select(ki->name, &st, err, sizeof err);
        CHECKF(ok ? ks == ki : (ks == NULL && st == SCULPT_E_CPU), "select('%s')", ki->name);
    }
    st = 0; /* a hardware name this build lacks (AArch64) is a CPU refusal, not an unknown one */
    if (!bf16_kernel_select("amx", &st, err, sizeof err)) CHECK(st == SCULPT_E_CPU);
}

int main(void) {
    test_select();
    const bf16_kernel *oracle = bf16_kernel_select("scalar", NULL, NULL, 0);
    bf16_kernel ks[BF16_TEST_MAX_KERNELS];
    const int nk = bf16_test_kernels(ks);
    for (int i = 0; i < nk; i++) test_ukr(&ks[i], oracle);
    printf("worst ukr error: %.3g of the (kp+1) 2^-24 sum|a b| bound\n", worst_seen);
#if defined(BF16_TEST_EMU)
    CHECKF(bf16_amx_emu_faults() == 0, "the AMX kernel did %d things the hardware faults on",
           bf16_amx_emu_faults());
#endif
    TEST_DONE();
}
