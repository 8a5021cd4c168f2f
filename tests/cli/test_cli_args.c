/* test_cli_args.c — the `sample` option parser: defaults, both option spellings, and every
 * refusal (one line naming the option) for values and combinations. */
#include <math.h>

#include "args.h"
#include "sculpt.h"
#include "test.h"

#define MAXA 64

static int parse(const char *line, sample_args *a, char *err, size_t errlen) {
    static char buf[1024];
    char *argv[MAXA];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = "sample";
    for (char *t = strtok(buf, " "); t && argc < MAXA; t = strtok(NULL, " "))
        argv[argc++] = strcmp(t, "<empty>") == 0 ? "" : t;
    return sample_args_parse(argc, argv, a, err, errlen);
}

/* The line must be refused with one line containing `want`. */
static void refused(const char *line, const char *want) {
    sample_args a;
    char err[512];
    int r = parse(line, &a, err, sizeof err);
    CHECKF(r == SAMPLE_ARGS_ERROR, "'%s' was accepted", line);
    CHECKF(strstr(err, want) != NULL, "'%s': message '%s' lacks '%s'", line, err, want);
    CHECKF(strchr(err, '\n') == NULL && strlen(err) > 0 && strlen(err) < 300, "'%s': not one line: '%s'", line, err);
}

static void accepted(const char *line, sample_args *a) {
    char err[512] = "";
    int r = parse(line, a, err, sizeof err);
    CHECKF(r == SAMPLE_ARGS_RUN, "'%s' refused: %s", line, err);
}

int main(void) {
    sample_args a;
    char err[512];

    /* defaults */
    accepted("", &a);
    CHECK(a.weights == NULL);
    CHECK(a.sampler == SCULPT_SAMPLER_DDIM);
    CHECK(a.steps == SAMPLE_DEFAULT_STEPS);
    CHECK(a.spacing == SCULPT_SPACING_LEADING);
    CHECK(a.schedule == SCULPT_SIGMAS_KARRAS);
    CHECK(a.eta == 0.0f);
    CHECK(a.churn == 0.0f && a.tmin == 0.0f && isinf(a.tmax) && a.snoise == 1.0f);
    CHECK(a.rho == 7.0f && a.sigma_min == 0.0f && a.sigma_max == 0.0f);
    CHECK(a.seed == 0 && a.count == 1 && a.batch == 1 && a.threads == 0);
    CHECK(a.out && strcmp(a.out, "sample.png") == 0);
    CHECK(!a.grid && !a.quiet && !a.init_noise && !a.out_raw && !a.isa);
    CHECK(a.precision == SCULPT_PRECISION_F32);

    /* every option, both spellings */
    accepted("--weights m.bin --sampler heun --steps 25 --schedule exponential --sigma-min 0.01 --sigma-max 80 "
             "--churn 0.5 --tmin 0.1 --tmax 10 --snoise 1.003 --seed 42 -n 5 --batch 2 --threads 3 -o x.png "
             "--grid --init-noise in.f32 --out-raw out.f32 --quiet --isa scalar --precision bf16", &a);
    CHECK(a.weights && strcmp(a.weights, "m.bin") == 0);
    CHECK(a.sampler == SCULPT_SAMPLER_HEUN && a.steps == 25 && a.schedule == SCULPT_SIGMAS_EXPONENTIAL);
    CHECK(a.sigma_min == 0.01f && a.sigma_max == 80.0f);
    CHECK(a.churn == 0.5f && a.tmin == 0.1f && a.tmax == 10.0f && a.snoise == 1.003f);
    CHECK(a.seed == 42 && a.count == 5 && a.batch == 2 && a.threads == 3);
    CHECK(strcmp(a.out, "x.png") == 0 && a.grid && a.quiet);
    CHECK(strcmp(a.init_noise, "in.f32") == 0 && strcmp(a.out_raw, "out.f32") == 0);
    CHECK(a.isa && strcmp(a.isa, "scalar") == 0 && a.precision == SCULPT_PRECISION_BF16);
    accepted("--sampler=ddpm --steps=1000 --spacing=trailing --seed=18446744073709551615 --count=1 --output=y.png", &a);
    CHECK(a.sampler == SCULPT_SAMPLER_DDPM && a.steps == 1000 && a.spacing == SCULPT_SPACING_TRAILING);
    CHECK(a.seed == UINT64_MAX && a.count == 1 && strcmp(a.out, "y.png") == 0);
    accepted("--sampler ddim --eta 1 --spacing linspace", &a);
    CHECK(a.eta == 1.0f && a.spacing == SCULPT_SPACING_LINSPACE);
    accepted("--sampler euler_a", &a);
    CHECK(a.eta == 1.0f); /* k-diffusion's default */
    accepted("--sampler euler_a --eta 0.5", &a);
    CHECK(a.eta == 0.5f);
    accepted("--sampler dpmpp_2m --schedule karras --rho 5 --sigma-max 14.6", &a);
    CHECK(a.rho == 5.0f && a.sigma_max == 14.6f);
    accepted("--sampler euler --tmax inf --schedule discrete", &a);
    CHECK(isinf(a.tmax) && a.schedule == SCULPT_SIGMAS_DISCRETE);
    accepted("-n 20", &a);
    CHECK(a.batch == 8); /* min(N, 8) */
    accepted("-n 3 --batch 16", &a);
    CHECK(a.batch == 3);
    accepted("--out-raw r.f32", &a);
    CHECK(a.out == NULL && !sample_args_writes_png(&a));
    accepted("--out-raw r.f32 -o p.png", &a);
    CHECK(sample_args_writes_png(&a));
    accepted("--seed 100 -n 5", &a);
    accepted("--seed 18446744073709551611 -n 5", &a);
    CHECK(parse("--help --bogus-later", &a, err, sizeof err) == SAMPLE_ARGS_ERROR);
    CHECK(parse("--steps 5 --help", &a, err, sizeof err) == SAMPLE_ARGS_HELP);
    CHECK(parse("-h", &a, err, sizeof err) == SAMPLE_ARGS_HELP);
    CHECK(parse("--version", &a, err, sizeof err) == SAMPLE_ARGS_VERSION);

    /* refusals: unknown options and arguments */
    refused("--bogus", "unknown option '--bogus'");
    refused("--steps=5 --stpes 4", "unknown option '--stpes'");
    refused("-x", "unknown option '-x'");
    /* flags take no value; a prefix of a flag with a value is an unknown option, not a flag */
    refused("--grid=1", "--grid takes no value");
    refused("--quiet=yes", "--quiet takes no value");
    refused("--g=1", "unknown option '--g'");
    refused("--qu=1", "unknown option '--qu'");
    refused("picture.png", "unexpected argument 'picture.png'");
    refused("-", "unexpected argument '-'");
    refused("--grid=1", "--grid takes no value");
    refused("--quiet=yes", "--quiet takes no value");
    refused("--steps", "--steps needs a value");
    refused("-o", "-o needs a value");
    /* bad numbers */
    refused("--steps abc", "--steps: 'abc' is not an integer");
    refused("--steps 12x", "--steps: '12x' is not an integer");
    refused("--steps 1e3", "--steps: '1e3' is not an integer");
    refused("--steps 2.5", "is not an integer");
    refused("--steps=", "--steps: '' is not an integer");
    refused("--steps -5", "--steps: -5 is out of range");
    refused("--steps 0", "--steps: 0 is out of range");
    refused("--steps 100001", "--steps: 100001 is out of range");
    refused("--steps 99999999999999999999999", "out of range");
    refused("-n 0", "-n: 0 is out of range");
    refused("-n -1", "-n: -1 is out of range");
    refused("-n 1000001", "out of range");
    refused("-n many", "-n: 'many' is not an integer");
    refused("--batch 0", "--batch: 0 is out of range");
    refused("--batch 4097", "--batch: 4097 is out of range");
    refused("--threads -1", "--threads: -1 is out of range");
    refused("--threads 1025", "--threads: 1025 is out of range");
    refused("--seed -1", "--seed: '-1' is not a non-negative integer");
    refused("--seed 18446744073709551616", "--seed: 18446744073709551616 is out of range");
    refused("--seed 0x10", "--seed: '0x10' is not a non-negative integer");
    refused("--seed 18446744073709551615 -n 2", "overflows");
    refused("--eta nan", "--eta: NaN is not allowed");
    refused("--eta NaN", "--eta: NaN is not allowed");
    refused("--eta -0.5", "--eta: -0.5 is out of range");
    refused("--eta inf", "--eta: 'inf' must be finite");
    refused("--eta 0.5x", "--eta: '0.5x' is not a number");
    refused("--eta <empty>", "--eta: '' is not a number");
    refused("--eta 1.5", "--eta 1.5 is out of range for ddim");
    refused("--sampler euler --churn -1", "--churn: -1 is out of range");
    refused("--sampler euler --snoise inf", "--snoise: 'inf' must be finite");
    refused("--sampler euler --tmax -inf", "--tmax: '-inf' must be finite");
    refused("--sampler euler --tmin 5 --tmax 1", "--tmax 1 is below --tmin 5");
    refused("--sampler euler --sigma-min 0", "--sigma-min: 0 is out of range");
    refused("--sampler euler --sigma-max 1e40", "--sigma-max");
    refused("--sampler euler --sigma-min 5 --sigma-max 5", "--sigma-min 5 must be below --sigma-max 5");
    refused("--sampler euler --rho 0", "--rho: 0 is out of range");
    refused("--sampler euler --rho nan", "--rho: NaN is not allowed");
    /* bad names */
    refused("--sampler foo", "--sampler: unknown value 'foo' (expected ddpm|ddim|euler|heun|euler_a|dpmpp_2m)");
    refused("--sampler DDIM", "--sampler: unknown value 'DDIM'");
    refused("--sampler euler --schedule linear", "--schedule: unknown value 'linear'");
    refused("--spacing middle", "--spacing: unknown value 'middle'");
    refused("--isa sse9", "--isa: unknown value 'sse9'");
    refused("--precision f64", "--precision: unknown value 'f64'");
    refused("--weights <empty>", "--weights: empty file name");
    refused("-o <empty>", "-o: empty file name");
    refused("--out-raw=", "--out-raw: empty file name");
    refused("-o=x.png", "unknown option '-o=x.png'");
    /* combinations */
    refused("--sampler ddim --schedule karras", "--schedule does not apply to --sampler ddim");
    refused("--sampler ddpm --sigma-max 10", "do not apply to --sampler ddpm");
    refused("--rho 7", "do not apply to --sampler ddim");
    refused("--sampler euler --spacing trailing", "--spacing does not apply to --sampler euler");
    refused("--sampler dpmpp_2m --spacing leading", "--spacing does not apply to --sampler dpmpp_2m");
    refused("--sampler ddpm --eta 0.5", "--eta does not apply to --sampler ddpm");
    refused("--sampler heun --eta 0.5", "--eta does not apply to --sampler heun");
    refused("--sampler ddim --churn 1", "do not apply to --sampler ddim");
    refused("--sampler euler_a --snoise 1", "do not apply to --sampler euler_a");
    refused("--sampler dpmpp_2m --tmax 3", "do not apply to --sampler dpmpp_2m");
    refused("--sampler euler --schedule discrete --rho 3", "do not apply to --schedule discrete");
    refused("--sampler euler --schedule discrete --sigma-min 0.1", "do not apply to --schedule discrete");
    refused("--sampler heun --schedule exponential --rho 3", "--rho applies only to --schedule karras");
    refused("--out-raw r.f32 --grid", "--grid needs a PNG output");
    refused("-o same.f32 --out-raw same.f32", "-o and --out-raw name the same file 'same.f32'");
    refused("--grid -n 65537", "--grid: -n 65537 is more than 65536");

    /* model-dependent checks */
    accepted("--sampler ddim --steps 1000", &a);
    CHECK(sample_args_check_model(&a, 3, 32, 1000, err, sizeof err) == 0);
    accepted("--sampler ddpm --steps 1001", &a);
    CHECK(sample_args_check_model(&a, 3, 32, 1000, err, sizeof err) == -1);
    CHECK(strstr(err, "--steps 1001 is more than the model's 1000 training steps") != NULL);
    accepted("--sampler euler --steps 1001", &a);
    CHECK(sample_args_check_model(&a, 3, 32, 1000, err, sizeof err) == 0);
    accepted("", &a);
    CHECK(sample_args_check_model(&a, 1, 32, 1000, err, sizeof err) == 0);
    CHECK(sample_args_check_model(&a, 4, 32, 1000, err, sizeof err) == -1);
    CHECK(strstr(err, "4-channel") != NULL);
    CHECK(sample_args_check_model(&a, 2, 32, 1000, err, sizeof err) == -1);
    accepted("--out-raw r.f32", &a);
    CHECK(sample_args_check_model(&a, 4, 32, 1000, err, sizeof err) == 0);
    accepted("--grid -n 65536", &a);
    CHECK(sample_args_check_model(&a, 3, 32, 1000, err, sizeof err) == 0);
    CHECK(sample_args_check_model(&a, 3, 8000, 1000, err, sizeof err) == -1);
    CHECK(strstr(err, "--grid") != NULL);

    /* names */
    CHECK(strcmp(sample_sampler_name(SCULPT_SAMPLER_DPMPP_2M), "dpmpp_2m") == 0);
    CHECK(strcmp(sample_schedule_name(SCULPT_SIGMAS_EXPONENTIAL), "exponential") == 0);
    CHECK(strcmp(sample_spacing_name(SCULPT_SPACING_LINSPACE), "linspace") == 0);
    CHECK(strcmp(sample_sampler_name(99), "?") == 0);

    /* --help lists every option with a default */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f) {
        sample_args_help(f);
        long n = ftell(f);
        rewind(f);
        char *txt = calloc(1, (size_t)n + 1);
        if (txt && fread(txt, 1, (size_t)n, f) == (size_t)n) {
            const char *opts[] = {"--weights", "--sampler", "--steps", "--schedule", "--spacing", "--eta",
                                  "--churn", "--tmin", "--tmax", "--snoise", "--sigma-min", "--sigma-max",
                                  "--rho", "--seed", "--count", "--batch", "--threads", "--output",
                                  "--grid", "--init-noise", "--out-raw", "--quiet", "--help", "--version",
                                  "--isa", "--precision"};
            for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) CHECKF(strstr(txt, opts[i]), "%s", opts[i]);
            /* every option line (starts with "  -") except help/version carries "(default" */
            int lines = 0;
            for (char *l = strtok(txt, "\n"); l; l = strtok(NULL, "\n")) {
                if (strncmp(l, "  -", 3) != 0 || strstr(l, "--help") || strstr(l, "--version")) continue;
                lines++;
                /* a wrapped description continues on the next line */
                char *next = l + strlen(l) + 1, *nl = strchr(next, '\n');
                size_t nextlen = nl ? (size_t)(nl - next) : strlen(next);
                char *d = strstr(next, "(default");
                CHECKF(strstr(l, "(default") || (d && d < next + nextlen), "no default: %s", l);
            }
            CHECK(lines >= 24);
        }
        free(txt);
        fclose(f);
    }
    TEST_DONE();
}
