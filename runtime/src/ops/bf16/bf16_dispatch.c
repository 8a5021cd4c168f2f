/* bf16_dispatch.c — the bf16 kernels this build has and whether this CPU (and OS) runs
 * them: CPUID for the features, XGETBV for the OS-enabled register state (AVX-512: XCR0
 * bits 1,2,5,6,7; AMX: bits 17,18), and Linux's per-process permission for AMX tile data
 * (arch_prctl ARCH_REQ_XCOMP_PERM, kernel >= 5.16). Nothing is cached: a check costs a few
 * CPUID instructions and one system call, and callers check once at setup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ops/bf16/bf16_kernels.h"
#include "sculpt.h"

#if defined(SCULPT_HAVE_BF16_AMX) || defined(SCULPT_HAVE_BF16_AVX512)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

/* Why a kernel cannot run here ("" when it can). */
typedef void (*why_fn)(char *why, size_t len);

static void runs_everywhere(char *why, size_t len) {
    if (len) why[0] = '\0';
}

#if defined(SCULPT_HAVE_BF16_AMX) || defined(SCULPT_HAVE_BF16_AVX512)
typedef struct x86_caps {
    int avx512f, avx512bw, avx512bf16, amx_tile, amx_bf16; /* CPUID */
    int os_zmm, os_amx;                                      /* XCR0 */
} x86_caps;

static x86_caps x86_detect(void) {
    x86_caps c = {0};
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
    const int osxsave = (cx >> 27) & 1;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        const unsigned max_sub = a;
        c.avx512f = (b >> 16) & 1;
        c.avx512bw = (b >> 30) & 1;
        c.amx_bf16 = (d >> 22) & 1;
        c.amx_tile = (d >> 24) & 1;
        if (max_sub >= 1) {
            __cpuid_count(7, 1, a, b, cx, d);
            c.avx512bf16 = (a >> 5) & 1;
        }
    }
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        const unsigned long long xcr0 = ((unsigned long long)hi << 32) | lo;
        c.os_zmm = (xcr0 & 0xe6) == 0xe6;          /* SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM */
        c.os_amx = (xcr0 & 0x60000) == 0x60000;    /* XTILECFG, XTILEDATA */
    }
    return c;
}

/* Appends "; "-separated reasons. */
static void add_why(char *why, size_t len, const char *s) {
    const size_t n = strlen(why);
    if (n + 1 < len) snprintf(why + n, len - n, "%s%s", n ? "; " : "", s);
}

static void avx512_why(const x86_caps *c, char *why, size_t len) {
    if (!c->avx512f || !c->avx512bw) add_why(why, len, "CPU lacks AVX-512F/BW");
    else if (!c->os_zmm) add_why(why, len, "the OS has not enabled AVX-512 state (XCR0)");
}

#if defined(SCULPT_HAVE_BF16_AVX512)
static void avx512bf16_why(char *why, size_t len) {
    const x86_caps c = x86_detect();
    if (len) why[0] = '\0';
    if (!c.avx512bf16) add_why(why, len, "CPU lacks AVX512-BF16");
    avx512_why(&c, why, len);
}
#endif

#if defined(SCULPT_HAVE_BF16_AMX)
static void amx_why(char *why, size_t len) {
    const x86_caps c = x86_detect();
    if (len) why[0] = '\0';
    if (!c.amx_tile || !c.amx_bf16) {
        add_why(why, len, "CPU lacks AMX-TILE/AMX-BF16");
        return;
    }
    avx512_why(&c, why, len); /* B's rounding steps are AVX-512 code */
#if defined(SCULPT_BF16_CVT_NEEDS_BF16)
    if (!c.avx512bf16) add_why(why, len, "CPU lacks AVX512-BF16 (B's rounding uses VCVTNE2PS2BF16)");
#endif
    if (!c.os_amx) {
        add_why(why, len, "the OS has not enabled AMX tile state (XCR0 bits 17-18)");
        return;
    }
#if defined(__x86_64__) && defined(__linux__)
    /* ARCH_REQ_XCOMP_PERM (0x1023) for XFEATURE_XTILEDATA (18): without it the first tile
     * instruction kills the process with SIGILL. Granting is idempotent. */
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) {
        char s[160];
        snprintf(s, sizeof s, "Linux refused AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM: %s)",
                 strerror(errno));
        add_why(why, len, s);
    }
#else
    add_why(why, len, "AMX tile permission is only requested on Linux x86-64");
#endif
}
#endif
#endif

typedef struct entry {
    bf16_kernel k;
    why_fn why;
} entry;

/* Best first; the scalar oracle last. */
static const entry table[] = {
#if defined(SCULPT_HAVE_BF16_AMX)
    {{"amx", BF16_AMX_MR, BF16_AMX_NR, BF16_AMX_KG, BF16_AMX_KC, BF16_AMX_NC,
      sculpt_bf16_gemm_32x32__amx, sculpt_bf16_cvt_pairs__avx512, sculpt_bf16_shift_pairs__avx512,
      sculpt_bf16_amx_begin, sculpt_bf16_amx_end},
     amx_why},
#endif
#if defined(SCULPT_HAVE_BF16_AVX512)
    {{"avx512bf16", BF16_PAIR_MR, BF16_PAIR_NR, BF16_PAIR_KG, BF16_PAIR_KC, BF16_PAIR_NC,
      sculpt_bf16_gemm_8x32__avx512bf16, sculpt_bf16_cvt_pairs__avx512,
      sculpt_bf16_shift_pairs__avx512, NULL, NULL},
     avx512bf16_why},
#endif
    {{"scalar", BF16_PAIR_MR, BF16_PAIR_NR, BF16_PAIR_KG, BF16_PAIR_KC, BF16_PAIR_NC,
      sculpt_bf16_gemm_8x32__scalar, sculpt_bf16_cvt_pairs__scalar,
      sculpt_bf16_shift_pairs__scalar, NULL, NULL},
     runs_everywhere},
};

static const char *const hardware[] = {"amx", "avx512bf16"};

int bf16_kernel_count(void) { return (int)(sizeof table / sizeof table[0]); }

static int usable(int i, char *why, size_t len) {
    char buf[256];
    if (!why) { why = buf; len = sizeof buf; }
    table[i].why(why, len);
    return why[0] == '\0';
}

const bf16_kernel *bf16_kernel_at(int i, int *cpu_ok) {
    if (i < 0 || i >= bf16_kernel_count()) return NULL;
    if (cpu_ok) *cpu_ok = usable(i, NULL, 0);
    return &table[i].k;
}

const char *bf16_kernel_name(const bf16_kernel *k) { return k ? k->name : "(none)"; }

static void set(int *status, int code, char *err, size_t errlen, const char *msg) {
    if (status) *status = code;
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

const bf16_kernel *bf16_kernel_select(const char *want, int *status, char *err, size_t errlen) {
    const int n = bf16_kernel_count();
    char why[256], msg[768];
    if (!want || !*want) {
        /* the hardware kernels, with each one's reason when none runs */
        size_t used = 0;
        msg[0] = '\0';
        for (size_t h = 0; h < sizeof hardware / sizeof hardware[0]; h++) {
            int i = 0;
            while (i < n && strcmp(table[i].k.name, hardware[h]) != 0) i++;
            if (i < n && usable(i, why, sizeof why)) return &table[i].k;
            if (i == n) snprintf(why, sizeof why, "not built for this architecture/compiler");
            used += (size_t)snprintf(msg + used, used < sizeof msg ? sizeof msg - used : 0,
                                     "%s%s: %s", h ? "; " : "", hardware[h], why);
            if (used >= sizeof msg) used = sizeof msg - 1;
        }
        char full[1024];
        snprintf(full, sizeof full,
                 "precision bf16 needs AMX-BF16 or AVX512-BF16; this CPU has neither (%s)", msg);
        set(status, SCULPT_E_CPU, err, errlen, full);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(table[i].k.name, want) != 0) continue;
        if (usable(i, why, sizeof why)) return &table[i].k;
        snprintf(msg, sizeof msg, "bf16 kernel '%s' cannot run here: %s", want, why);
        set(status, SCULPT_E_CPU, err, errlen, msg);
        return NULL;
    }
    for (size_t h = 0; h < sizeof hardware / sizeof hardware[0]; h++) {
        if (strcmp(hardware[h], want) != 0) continue;
        snprintf(msg, sizeof msg, "bf16 kernel '%s' is not built for this architecture", want);
        set(status, SCULPT_E_CPU, err, errlen, msg);
        return NULL;
    }
    snprintf(msg, sizeof msg, "unknown bf16 kernel '%s' (known: amx, avx512bf16, scalar)", want);
    set(status, SCULPT_E_ARG, err, errlen, msg);
    return NULL;
}
