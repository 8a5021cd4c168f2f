/* args.h — the `sample` command's options: one struct, a parser that refuses bad input
 * with one line before any work starts, and the --help text with every default. */
#ifndef SAMPLE_ARGS_H
#define SAMPLE_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SAMPLE_MAX_COUNT 1000000    /* -n upper bound */
#define SAMPLE_MAX_BATCH 4096       /* --batch upper bound */
#define SAMPLE_MAX_STEPS 100000     /* --steps upper bound (ddpm/ddim: also <= T) */
#define SAMPLE_MAX_THREADS 1024
#define SAMPLE_MAX_GRID 65536       /* --grid: images in one grid */
#define SAMPLE_DEFAULT_STEPS 50
#define SAMPLE_DEFAULT_OUT "sample.png"

/* Sampler/schedule/spacing values are the sculpt.h enums. A "given" flag records that the
 * user set an option, so defaults that depend on the sampler can be filled later and
 * options that do not apply to the chosen sampler are refused. */
typedef struct sample_args {
    const char *weights;     /* NULL: the built-in default model */
    int sampler;             /* sculpt_sampler_kind */
    int steps;
    int schedule;            /* sculpt_sigma_schedule (k-diffusion samplers) */
    int spacing;             /* sculpt_spacing (ddpm/ddim) */
    float eta;               /* ddim default 0, euler_a default 1 */
    float churn, tmin, tmax, snoise;
    float sigma_min, sigma_max, rho; /* 0: the model's range; rho 7 */
    uint64_t seed;
    int count;               /* -n */
    int batch;               /* 0 until resolved: min(count, 8) */
    int threads;             /* 0: OpenMP default */
    const char *out;         /* -o; NULL: sample.png unless only --out-raw is given */
    int grid;
    const char *init_noise;  /* raw LE f32 NCHW, count*c*s*s values */
    const char *out_raw;     /* raw LE f32 NCHW of the final samples */
    int quiet;
    const char *isa;         /* NULL: best for this CPU */
    int precision;           /* sculpt_precision */
    int conv;                /* sculpt_conv_algo (0: auto, SCULPT_CONV env may choose) */
    /* which options were given on the command line */
    int given_steps, given_schedule, given_spacing, given_eta, given_churn, given_tmin,
        given_tmax, given_snoise, given_sigma_min, given_sigma_max, given_rho, given_batch;
} sample_args;

enum { SAMPLE_ARGS_RUN = 0, SAMPLE_ARGS_HELP = 1, SAMPLE_ARGS_VERSION = 2, SAMPLE_ARGS_ERROR = -1 };

/* Parse argv (argv[0] is the program). Fills *a with defaults first, then the options;
 * checks every value and every combination that does not need the model. Returns
 * SAMPLE_ARGS_RUN, _HELP, _VERSION, or _ERROR with one line (no newline) in err. */
int sample_args_parse(int argc, char **argv, sample_args *a, char *err, size_t errlen);

/* Checks that need the model: steps against the training steps, PNG channel counts, the
 * grid size. c = image channels, s = image size, T = training steps. 0 or -1 with err. */
int sample_args_check_model(const sample_args *a, int c, int s, int T, char *err, size_t errlen);

/* Names of enum values, as the options spell them. */
const char *sample_sampler_name(int sampler);
const char *sample_schedule_name(int schedule);
const char *sample_spacing_name(int spacing);
const char *sample_precision_name(int precision);
/* 1 for ddpm/ddim (timestep spacing), 0 for the k-diffusion samplers (sigma schedules). */
int sample_sampler_is_discrete(int sampler);

/* The text of --help: every option and its default. */
void sample_args_help(FILE *f);

/* Whether a PNG is written: -o given, or no --out-raw. */
int sample_args_writes_png(const sample_args *a);

#endif
