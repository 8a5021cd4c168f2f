/* args.c — parse and check the `sample` command line (GNU-style long options, `--opt v`
 * or `--opt=v`); every refusal is one line naming the option and the value. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sculpt.h"

static const char *const sampler_names[] = {"ddpm", "ddim", "euler", "heun", "euler_a", "dpmpp_2m"};
static const char *const schedule_names[] = {"discrete", "karras", "exponential"};
static const char *const spacing_names[] = {"leading", "trailing", "linspace"};
static const char *const precision_names[] = {"f32", "bf16", "f16"};
static const char *const isa_names[] = {"scalar", "avx2", "avx512", "neon"};
static const char *const conv_names[] = {"auto", "direct", "winograd"}; /* sculpt_conv_algo order */
#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *sample_sampler_name(int v) { return v >= 0 && v < COUNT_OF(sampler_names) ? sampler_names[v] : "?"; }
const char *sample_schedule_name(int v) { return v >= 0 && v < COUNT_OF(schedule_names) ? schedule_names[v] : "?"; }
const char *sample_spacing_name(int v) { return v >= 0 && v < COUNT_OF(spacing_names) ? spacing_names[v] : "?"; }
const char *sample_precision_name(int v) { return v >= 0 && v < COUNT_OF(precision_names) ? precision_names[v] : "?"; }
int sample_sampler_is_discrete(int s) { return s == SCULPT_SAMPLER_DDPM || s == SCULPT_SAMPLER_DDIM; }

int sample_args_writes_png(const sample_args *a) { return a->out != NULL || a->out_raw == NULL; }

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SAMPLE_ARGS_ERROR;
}

/* A whole-string decimal integer in [lo, hi]. */
static int parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out,
                     char *err, size_t errlen) {
    char *end;
    if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
        return fail(err, errlen, "%s: '%s' is not an integer", opt, s);
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0') return fail(err, errlen, "%s: '%s' is not an integer", opt, s);
    if (errno == ERANGE || v < lo || v > hi)
        return fail(err, errlen, "%s: %s is out of range (%lld..%lld)", opt, s, lo, hi);
    *out = v;
    return 0;
}

/* A whole-string unsigned 64-bit integer (seeds). */
static int parse_u64(const char *opt, const char *s, uint64_t *out, char *err, size_t errlen) {
    char *end;
    if (!(*s >= '0' && *s <= '9'))
        return fail(err, errlen, "%s: '%s' is not a non-negative integer", opt, s);
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') return fail(err, errlen, "%s: '%s' is not a non-negative integer", opt, s);
    if (errno == ERANGE) return fail(err, errlen, "%s: %s is out of range (0..2^64-1)", opt, s);
    *out = (uint64_t)v;
    return 0;
}

/* A whole-string finite number in [lo, hi]; "inf" only when allow_inf. */
static int parse_float(const char *opt, const char *s, double lo, double hi, int allow_inf,
                       float *out, char *err, size_t errlen) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || *s == ' ' || *s == '\t')
        return fail(err, errlen, "%s: '%s' is not a number", opt, s);
    if (isnan(v)) return fail(err, errlen, "%s: NaN is not allowed", opt);
    if (isinf(v) && !(allow_inf && v > 0))
        return fail(err, errlen, "%s: '%s' must be finite", opt, s);
    if (!isinf(v) && (v < lo || v > hi || (errno == ERANGE && v != 0.0) || fabs(v) > 3.0e38))
        return fail(err, errlen, "%s: %s is out of range (%g..%g)", opt, s, lo, hi);
    *out = (float)v;
    return 0;
}

static int parse_name(const char *opt, const char *s, const char *const *names, int n, int *out,
                      char *err, size_t errlen) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) { *out = i; return 0; }
    char list[160] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n) strncat(list, "|", sizeof list - strlen(list) - 1);
    }
    return fail(err, errlen, "%s: unknown value '%s' (expected %s)", opt, s, list);
}

static void set_defaults(sample_args *a) {
    memset(a, 0, sizeof *a);
    a->sampler = SCULPT_SAMPLER_DDIM;
    a->steps = SAMPLE_DEFAULT_STEPS;
    a->schedule = SCULPT_SIGMAS_KARRAS;
    a->spacing = SCULPT_SPACING_LEADING;
    a->eta = 0.0f;
    a->churn = 0.0f;
    a->tmin = 0.0f;
    a->tmax = INFINITY;
    a->snoise = 1.0f;
    a->rho = 7.0f;
    a->count = 1;
    a->precision = SCULPT_PRECISION_F32;
}

/* Options that take a value; flags are handled separately. */
enum opt_id {
    O_WEIGHTS, O_SAMPLER, O_STEPS, O_SCHEDULE, O_SPACING, O_ETA, O_CHURN, O_TMIN, O_TMAX,
    O_SNOISE, O_SIGMA_MIN, O_SIGMA_MAX, O_RHO, O_SEED, O_COUNT, O_BATCH, O_THREADS, O_OUT,
    O_INIT_NOISE, O_OUT_RAW, O_ISA, O_PRECISION, O_CONV
};
static const struct { const char *name; int id; } value_opts[] = {
    {"--weights", O_WEIGHTS}, {"--sampler", O_SAMPLER}, {"--steps", O_STEPS},
    {"--schedule", O_SCHEDULE}, {"--spacing", O_SPACING}, {"--eta", O_ETA},
    {"--churn", O_CHURN}, {"--tmin", O_TMIN}, {"--tmax", O_TMAX}, {"--snoise", O_SNOISE},
    {"--sigma-min", O_SIGMA_MIN}, {"--sigma-max", O_SIGMA_MAX}, {"--rho", O_RHO},
    {"--seed", O_SEED}, {"-n", O_COUNT}, {"--count", O_COUNT}, {"--batch", O_BATCH},
    {"--threads", O_THREADS}, {"-o", O_OUT}, {"--output", O_OUT},
    {"--init-noise", O_INIT_NOISE}, {"--out-raw", O_OUT_RAW}, {"--isa", O_ISA},
    {"--precision", O_PRECISION}, {"--conv", O_CONV},
};

static int set_value(sample_args *a, int id, const char *opt, const char *v, char *err, size_t errlen) {
    long long n;
    switch (id) {
    case O_WEIGHTS:
    case O_OUT:
    case O_INIT_NOISE:
    case O_OUT_RAW:
        if (*v == '\0') return fail(err, errlen, "%s: empty file name", opt);
        if (id == O_WEIGHTS) a->weights = v;
        else if (id == O_OUT) a->out = v;
        else if (id == O_INIT_NOISE) a->init_noise = v;
        else a->out_raw = v;
        return 0;
    case O_SAMPLER: return parse_name(opt, v, sampler_names, COUNT_OF(sampler_names), &a->sampler, err, errlen);
    case O_SCHEDULE:
        a->given_schedule = 1;
        return parse_name(opt, v, schedule_names, COUNT_OF(schedule_names), &a->schedule, err, errlen);
    case O_SPACING:
        a->given_spacing = 1;
        return parse_name(opt, v, spacing_names, COUNT_OF(spacing_names), &a->spacing, err, errlen);
    case O_PRECISION: return parse_name(opt, v, precision_names, COUNT_OF(precision_names), &a->precision, err, errlen);
    case O_CONV: return parse_name(opt, v, conv_names, COUNT_OF(conv_names), &a->conv, err, errlen);
    case O_ISA: {
        int i = 0;
        if (parse_name(opt, v, isa_names, COUNT_OF(isa_names), &i, err, errlen)) return SAMPLE_ARGS_ERROR;
        a->isa = isa_names[i];
        return 0;
    }
    case O_STEPS:
        if (parse_int(opt, v, 1, SAMPLE_MAX_STEPS, &n, err, errlen)) return SAMPLE_ARGS_ERROR;
        a->steps = (int)n, a->given_steps = 1;
        return 0;
    case O_COUNT:
        if (parse_int(opt, v, 1, SAMPLE_MAX_COUNT, &n, err, errlen)) return SAMPLE_ARGS_ERROR;
        a->count = (int)n;
        return 0;
    case O_BATCH:
        if (parse_int(opt, v, 1, SAMPLE_MAX_BATCH, &n, err, errlen)) return SAMPLE_ARGS_ERROR;
        a->batch = (int)n, a->given_batch = 1;
        return 0;
    case O_THREADS:
        if (parse_int(opt, v, 0, SAMPLE_MAX_THREADS, &n, err, errlen)) return SAMPLE_ARGS_ERROR;
        a->threads = (int)n;
        return 0;
    case O_SEED: return parse_u64(opt, v, &a->seed, err, errlen);
    case O_ETA: a->given_eta = 1; return parse_float(opt, v, 0.0, 1.0e6, 0, &a->eta, err, errlen);
    case O_CHURN: a->given_churn = 1; return parse_float(opt, v, 0.0, 1.0e6, 0, &a->churn, err, errlen);
    case O_TMIN: a->given_tmin = 1; return parse_float(opt, v, 0.0, 1.0e30, 0, &a->tmin, err, errlen);
    case O_TMAX: a->given_tmax = 1; return parse_float(opt, v, 0.0, 1.0e30, 1, &a->tmax, err, errlen);
    case O_SNOISE: a->given_snoise = 1; return parse_float(opt, v, 0.0, 1.0e6, 0, &a->snoise, err, errlen);
    case O_SIGMA_MIN: a->given_sigma_min = 1; return parse_float(opt, v, 1.0e-30, 1.0e30, 0, &a->sigma_min, err, errlen);
    case O_SIGMA_MAX: a->given_sigma_max = 1; return parse_float(opt, v, 1.0e-30, 1.0e30, 0, &a->sigma_max, err, errlen);
    case O_RHO: a->given_rho = 1; return parse_float(opt, v, 1.0e-3, 1.0e3, 0, &a->rho, err, errlen);
    }
    return fail(err, errlen, "%s: internal error", opt);
}

/* Combinations that are wrong whatever the model is. */
static int check_combinations(sample_args *a, char *err, size_t errlen) {
    const char *s = sample_sampler_name(a->sampler);
    int disc = sample_sampler_is_discrete(a->sampler);
    if (disc) {
        if (a->given_schedule) return fail(err, errlen, "--schedule does not apply to --sampler %s (it uses --spacing; --schedule is for euler, heun, euler_a, dpmpp_2m)", s);
        if (a->given_sigma_min || a->given_sigma_max || a->given_rho)
            return fail(err, errlen, "--sigma-min/--sigma-max/--rho do not apply to --sampler %s (they shape the euler, heun, euler_a and dpmpp_2m sigma schedules)", s);
    } else if (a->given_spacing) {
        return fail(err, errlen, "--spacing does not apply to --sampler %s (it uses --schedule; --spacing is for ddpm and ddim)", s);
    }
    if (a->given_eta && a->sampler != SCULPT_SAMPLER_DDIM && a->sampler != SCULPT_SAMPLER_EULER_A)
        return fail(err, errlen, "--eta does not apply to --sampler %s (only ddim and euler_a)", s);
    if (a->sampler == SCULPT_SAMPLER_DDIM && a->eta > 1.0f)
        return fail(err, errlen, "--eta %g is out of range for ddim (0..1)", (double)a->eta);
    if (a->sampler == SCULPT_SAMPLER_EULER_A && !a->given_eta) a->eta = 1.0f; /* k-diffusion default */
    if ((a->given_churn || a->given_tmin || a->given_tmax || a->given_snoise) &&
        a->sampler != SCULPT_SAMPLER_EULER && a->sampler != SCULPT_SAMPLER_HEUN)
        return fail(err, errlen, "--churn/--tmin/--tmax/--snoise do not apply to --sampler %s (only euler and heun)", s);
    if (a->tmax < a->tmin)
        return fail(err, errlen, "--tmax %g is below --tmin %g", (double)a->tmax, (double)a->tmin);
    if (!disc) {
        if (a->schedule == SCULPT_SIGMAS_DISCRETE && (a->given_sigma_min || a->given_sigma_max || a->given_rho))
            return fail(err, errlen, "--sigma-min/--sigma-max/--rho do not apply to --schedule discrete (the model's own sigmas)");
        if (a->schedule == SCULPT_SIGMAS_EXPONENTIAL && a->given_rho)
            return fail(err, errlen, "--rho applies only to --schedule karras");
        if (a->given_sigma_min && a->given_sigma_max && !(a->sigma_min < a->sigma_max))
            return fail(err, errlen, "--sigma-min %g must be below --sigma-max %g", (double)a->sigma_min, (double)a->sigma_max);
    }
    if (a->count > 1 && a->seed > UINT64_MAX - (uint64_t)(a->count - 1))
        return fail(err, errlen, "--seed %llu with -n %d: seed + %d overflows 2^64-1",
                    (unsigned long long)a->seed, a->count, a->count - 1);
    if (a->grid && a->count > SAMPLE_MAX_GRID)
        return fail(err, errlen, "--grid: -n %d is more than %d images in one grid", a->count, SAMPLE_MAX_GRID);
    if (a->grid && !sample_args_writes_png(a))
        return fail(err, errlen, "--grid needs a PNG output (-o FILE.png) besides --out-raw");
    if (a->out && a->out_raw && strcmp(a->out, a->out_raw) == 0)
        return fail(err, errlen, "-o and --out-raw name the same file '%s'", a->out);
    if (!a->out && sample_args_writes_png(a)) a->out = SAMPLE_DEFAULT_OUT;
    if (a->batch == 0) a->batch = a->count < 8 ? a->count : 8;
    if (a->batch > a->count) a->batch = a->count;
    return 0;
}

int sample_args_parse(int argc, char **argv, sample_args *a, char *err, size_t errlen) {
    set_defaults(a);
    if (err && errlen) err[0] = '\0';
    int want_help = 0, want_version = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) { want_help = 1; continue; }
        if (strcmp(arg, "--version") == 0) { want_version = 1; continue; }
        if (strcmp(arg, "--grid") == 0) { a->grid = 1; continue; }
        if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) { a->quiet = 1; continue; }
        if (arg[0] != '-' || arg[1] == '\0')
            return fail(err, errlen, "unexpected argument '%s' (options start with --; see --help)", arg);
        /* split --opt=value */
        const char *eq = strchr(arg, '=');
        size_t nlen = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
        int id = -1;
        const char *name = NULL;
        for (int k = 0; k < COUNT_OF(value_opts); k++)
            if (strlen(value_opts[k].name) == nlen && strncmp(arg, value_opts[k].name, nlen) == 0) {
                id = value_opts[k].id, name = value_opts[k].name;
                break;
            }
        if (id < 0) {
            static const char *const flags[] = {"--grid", "--quiet", "--help", "--version"};
            for (int k = 0; nlen < strlen(arg) && k < COUNT_OF(flags); k++)
                if (strlen(flags[k]) == nlen && strncmp(arg, flags[k], nlen) == 0)
                    return fail(err, errlen, "%.*s takes no value", (int)nlen, arg);
            return fail(err, errlen, "unknown option '%.*s' (see --help)", (int)nlen, arg);
        }
        const char *val;
        if (nlen < strlen(arg)) val = arg + nlen + 1;
        else if (i + 1 < argc) val = argv[++i];
        else return fail(err, errlen, "%s needs a value", name);
        if (set_value(a, id, name, val, err, errlen)) return SAMPLE_ARGS_ERROR;
    }
    if (want_help) return SAMPLE_ARGS_HELP;
    if (want_version) return SAMPLE_ARGS_VERSION;
    if (check_combinations(a, err, errlen)) return SAMPLE_ARGS_ERROR;
    return SAMPLE_ARGS_RUN;
}

int sample_args_check_model(const sample_args *a, int c, int s, int T, char *err, size_t errlen) {
    if (sample_sampler_is_discrete(a->sampler) && a->steps > T)
        return fail(err, errlen, "--steps %d is more than the model's %d training steps (%s needs steps <= %d)",
                    a->steps, T, sample_sampler_name(a->sampler), T);
    if (sample_args_writes_png(a) && c != 1 && c != 3)
        return fail(err, errlen, "the model makes %d-channel images; PNG output needs 1 (grey) or 3 (RGB): use --out-raw FILE alone", c);
    if (a->grid && sample_args_writes_png(a)) {
        /* near-square grid of s-pixel cells with 2-pixel borders must fit PNG's 2^31-1 */
        double side = ceil(sqrt((double)a->count)) * ((double)s + 2.0) + 2.0;
        if (side > 1.0e6)
            return fail(err, errlen, "--grid: %d images of %dx%d make a grid %.0f pixels wide (limit 1000000)", a->count, s, s, side);
    }
    return 0;
}

void sample_args_help(FILE *f) {
    fprintf(f,
"usage: sample [options]\n"
"Sample images from a DDPM UNet weight file (made by convert-weights) and write PNGs.\n"
"\n"
"Model and sampler:\n"
"  --weights FILE        flat weight file (default: the built-in default model)\n"
"  --sampler NAME        ddpm|ddim|euler|heun|euler_a|dpmpp_2m (default: ddim)\n"
"  --steps N             sampling steps, 1..%d; ddpm/ddim: at most the model's training\n"
"                        steps (default: %d)\n"
"  --spacing NAME        ddpm/ddim timestep spacing: leading|trailing|linspace\n"
"                        (default: leading)\n"
"  --schedule NAME       euler/heun/euler_a/dpmpp_2m sigmas: karras|discrete|exponential\n"
"                        (default: karras)\n"
"  --sigma-min S         karras/exponential: smallest sigma (default: the model's)\n"
"  --sigma-max S         karras/exponential: largest sigma (default: the model's)\n"
"  --rho R               karras: rho (default: 7)\n"
"  --eta E               ddim: 0..1 (default: 0); euler_a: >= 0 (default: 1)\n"
"  --churn C             euler/heun: Karras churn (default: 0)\n"
"  --tmin A              euler/heun: churn only for sigma >= A (default: 0)\n"
"  --tmax B              euler/heun: churn only for sigma <= B (default: inf)\n"
"  --snoise S            euler/heun: churn noise scale (default: 1)\n"
"\n"
"Images:\n"
"  --seed S              image i uses seed S + i, as torch.manual_seed(S + i) (default: 0)\n"
"  -n, --count N         number of images, 1..%d (default: 1)\n"
"  --batch B             images per network call, 1..%d; never changes an image\n"
"                        (default: min(N, 8))\n"
"  --threads T           threads, 0 = all cores (default: 0); never changes an image\n"
"  -o, --output FILE     PNG to write; several images become FILE-0000.png, ...\n"
"                        (default: %s, none when only --out-raw is given)\n"
"  --grid                write the N images as one near-square grid PNG (default: off)\n"
"  --init-noise FILE     starting noise: raw little-endian f32 NCHW, N*c*s*s values,\n"
"                        used instead of the seeded noise (default: none)\n"
"  --out-raw FILE        also write the final samples as raw little-endian f32 NCHW,\n"
"                        before quantisation (default: none)\n"
"  --isa NAME            kernel path: scalar|avx2|avx512|neon (default: best for this CPU)\n"
"  --precision P         f32|bf16|f16 network arithmetic (default: f32)\n"
"  --conv ALGO           3x3 convolutions: auto|direct|winograd (default: auto = Winograd\n"
"                        F(4x4,3x3) at 16x16 and larger, F(2x2,3x3) at 8x8 to 15x15,\n"
"                        direct = packed GEMM everywhere)\n"
"\n"
"Other:\n"
"  -q, --quiet           no progress or summary on stderr (default: off)\n"
"  -h, --help            this text\n"
"  --version             print the version\n"
"\n"
"Pixels are round(clamp(x/2 + 0.5, 0, 1) * 255) as diffusers converts; the PNG's\n"
"'parameters' text chunk records the sampler, options, seed and weights checksum.\n"
"Files are written under a temporary name and renamed when complete.\n"
"Exit status: 0 done, 2 refused input (nothing written), 1 failed while sampling or\n"
"writing, 130/143 stopped by Ctrl-C/SIGTERM (no partial file left).\n",
        SAMPLE_MAX_STEPS, SAMPLE_DEFAULT_STEPS, SAMPLE_MAX_COUNT, SAMPLE_MAX_BATCH, SAMPLE_DEFAULT_OUT);
}
