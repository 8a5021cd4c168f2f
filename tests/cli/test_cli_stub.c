/* test_cli_stub.c — the `sample` command end to end over a stub runtime (stub_runtime.c):
 * every refused input (exit 2, one line, no file left), PNG/raw/grid/numbered outputs read
 * back and checked against the raw samples, the text chunk, and Ctrl-C / SIGTERM. */
#include <png.h>

#include "default_model.h"
#include "png_read.h"
#include "run_util.h"
#include "sculpt.h"

static char g_exe[1024], g_in[256], g_out[256], g_log[256];

static int quant_ref(float x) { /* the test's own formula (see test_cli_png.c) */
    float t = (float)((double)x * 0.5) + 0.5f;
    if (isnan(t) || t < 0.0f) t = 0.0f;
    if (t > 1.0f) t = 1.0f;
    float v = t * 255.0f;
    double fl = floor((double)v), frac = (double)v - fl;
    int r = (int)fl;
    if (frac > 0.5 || (frac == 0.5 && (r % 2) == 1)) r++;
    return r;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) fputs(text, f), fclose(f);
}

/* Expand %I (input dir) and %O (output dir) in a command line. */
static void expand(const char *line, char *buf, size_t len) {
    size_t o = 0;
    for (const char *p = line; *p && o + 1 < len; p++) {
        if (p[0] == '%' && (p[1] == 'I' || p[1] == 'O')) {
            o += (size_t)snprintf(buf + o, len - o, "%s", p[1] == 'I' ? g_in : g_out);
            p++;
        } else {
            buf[o++] = *p;
        }
        if (o >= len) o = len - 1;
    }
    buf[o] = '\0';
}

static void run(const char *line, run_result *r) {
    char cmd[4096];
    expand(line, cmd, sizeof cmd);
    run_line(g_exe, cmd, g_log, r);
}

/* Refused: exit 2, one line containing want, nothing in the output dir. */
static void refused(const char *line, const char *want) {
    run_result r;
    run(line, &r);
    CHECKF(r.status == 2, "'%s': exit %d (stderr: %s)", line, r.status, r.err);
    CHECKF(run_one_line(r.err), "'%s': not one line: '%s'", line, r.err);
    CHECKF(strstr(r.err, want) != NULL, "'%s': '%s' lacks '%s'", line, r.err, want);
    CHECKF(run_count_files(g_out) == 0, "'%s' left files", line);
    CHECKF(r.out[0] == '\0', "'%s' wrote to stdout", line);
    run_clear_dir(g_out);
}

/* Failed while running (after the input was accepted): exit 1, one line, no file. */
static void failed(const char *line, const char *want) {
    run_result r;
    run(line, &r);
    CHECKF(r.status == 1, "'%s': exit %d (stderr: %s)", line, r.status, r.err);
    const char *last = r.err, *nl;
    while ((nl = strchr(last, '\n')) && nl[1]) last = nl + 1; /* progress lines may precede it */
    CHECKF(strncmp(last, "sample: ", 8) == 0 && strstr(last, want) != NULL, "'%s': last line '%s' lacks '%s'", line,
           last, want);
    CHECKF(run_count_files(g_out) == 0, "'%s' left files", line);
    run_clear_dir(g_out);
}

typedef png_read png_img;

static int load_png(const char *path, png_img *im) {
    if (png_read_file(path, im)) return -1;
    if (im->pix) return 0;
    png_read_free(im);
    return -1;
}

/* Pixels of image `img` (c x s x s CHW floats) at (x0, y0) of a PNG equal the formula. */
static int compare_cell(const png_img *im, const float *img, int c, int s, int x0, int y0) {
    int bad = 0;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++)
            for (int ch = 0; ch < c; ch++)
                if (im->pix[((size_t)(y0 + y) * (size_t)im->w + (size_t)(x0 + x)) * (size_t)c + (size_t)ch] !=
                    quant_ref(img[((size_t)ch * (size_t)s + (size_t)y) * (size_t)s + (size_t)x]))
                    bad++;
    return bad;
}

static float *load_raw(const char *name, size_t want) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_out, name);
    size_t n = 0;
    float *x = test_read_file(p, &n);
    CHECKF(x && n == want * 4, "%s: %zu bytes, want %zu", p, n, want * 4);
    if (x && n != want * 4) free(x), x = NULL;
    return x;
}

static void test_refusals(void) {
    refused("--bogus", "unknown option '--bogus'");
    refused("--weights %I/m3.stub --steps abc -o %O/x.png", "--steps: 'abc' is not an integer");
    refused("--weights %I/m3.stub --steps -5 -o %O/x.png", "--steps: -5 is out of range");
    refused("--weights %I/m3.stub --steps 0 -o %O/x.png", "--steps: 0 is out of range");
    refused("--weights %I/m3.stub --eta nan -o %O/x.png", "--eta: NaN is not allowed");
    refused("--weights %I/m3.stub --eta 2 -o %O/x.png", "--eta 2 is out of range for ddim");
    refused("--weights %I/m3.stub --sampler foo -o %O/x.png", "--sampler: unknown value 'foo'");
    refused("--weights %I/m3.stub --sampler ddim --schedule karras -o %O/x.png", "--schedule does not apply");
    refused("--weights %I/m3.stub --sampler euler --spacing leading -o %O/x.png", "--spacing does not apply");
    refused("--weights %I/m3.stub --sampler dpmpp_2m --churn 1 -o %O/x.png", "do not apply to --sampler dpmpp_2m");
    refused("--weights %I/m3.stub -n 0 -o %O/x.png", "-n: 0 is out of range");
    refused("--weights %I/m3.stub --batch 0 -o %O/x.png", "--batch: 0 is out of range");
    refused("--weights %I/m3.stub --threads -2 -o %O/x.png", "--threads: -2 is out of range");
    refused("--weights %I/m3.stub --seed -1 -o %O/x.png", "--seed: '-1' is not a non-negative integer");
    refused("--weights %I/m3.stub --steps", "--steps needs a value");
    refused("--weights %I/m3.stub stray", "unexpected argument 'stray'");
    refused("--weights %I/m3.stub -o %O/same --out-raw %O/same", "-o and --out-raw name the same file");
    refused("--weights %I/m3.stub --grid --out-raw %O/x.f32", "--grid needs a PNG output");
    /* checks that need the model */
    refused("--weights %I/m3.stub --sampler ddim --steps 101 -o %O/x.png", "--steps 101 is more than the model's 100 training steps");
    refused("--weights %I/m3.stub --sampler ddpm --steps 500 -o %O/x.png", "--steps 500 is more than the model's 100");
    refused("--weights %I/m4.stub -o %O/x.png", "4-channel images; PNG output needs 1 (grey) or 3 (RGB)");
    refused("--weights %I/m4.stub -o %O/x.png --out-raw %O/x.f32", "4-channel");
    refused("--weights %I/big.stub --grid -n 4000 -o %O/x.png", "--grid: 4000 images of 16000x16000");
    refused("--weights %I/missing.bin -o %O/x.png", "missing.bin");
    refused("--weights %I/garbage.bin -o %O/x.png", "garbage.bin");
    refused("--weights %I/m3.stub --init-noise %I/missing.f32 -o %O/x.png", "--init-noise");
    refused("--weights %I/m3.stub -n 2 --init-noise %I/noise1.f32 -o %O/x.png",
            "noise1.f32: 768 bytes, but -n 2 images of 3x8x8 need 1536 bytes (384 f32 values)");
    refused("--weights %I/m3.stub --init-noise %I -o %O/x.png", "--init-noise");
    /* a FIFO is refused at once, not waited on for a writer */
    refused("--weights %I/m3.stub --init-noise %I/noise.fifo -o %O/x.png", "noise.fifo: not a regular file");
    refused("--weights %I/m3.stub -o %O/no/such/dir/x.png", "no/such/dir/x.png");
    refused("--weights %I/m3.stub -o %O", "is a directory");
    refused("--weights %I/m3.stub -o %I/m3.stub", "m3.stub: the output would replace the --weights file");
    refused("--weights %I/m3.stub --out-raw %I/m3.stub", "the output would replace the --weights file");
    refused("--weights %I/m3.stub --init-noise %I/noise1.f32 --out-raw %I/noise1.f32", "would replace the --init-noise file");
    refused("--weights %I/m3.stub --out-raw %O/nodir/x.f32", "nodir/x.f32");
    refused("--weights %I/m3.stub --precision bf16 -o %O/x.png", "cannot set up the network (batch 1, threads 0, precision bf16, isa auto): stub: create failed");
    /* the sampler's verdict comes from sculpt_sampler_check before any work (the stub's run
     * would accept 77 steps) */
    refused("--weights %I/m3.stub --steps 77 -o %O/x.png --out-raw %O/x.f32", "stub sampler: 77 steps are not supported");
    refused("--weights %I/m3.stub -n 2 -o %O/x.png --out-raw %O/x-0001.png", "is also the name of image 1's PNG");
    /* one destination spelled two ways: the raw file would be renamed over the PNG */
    refused("--weights %I/m3.stub -o %O/x.png --out-raw %O/./x.png", "name the same file");
    refused("--weights %I/m3.stub -n 3 -o %O/x.png --out-raw %O/../out/x-0002.png", "is also the name of image 2's PNG");
    /* a network failure before the first step is a failed run (exit 1), not refused input */
    failed("--weights %I/m3.stub --steps 78 -o %O/x.png --out-raw %O/x.f32", "sampling failed");
    failed("--weights %I/m3.stub --steps 78 -n 3 --batch 1 -o %O/x.png", "stub network: evaluation failed");
    if (sculpt_default_model_size == 0)
        refused("-o %O/x.png", "no default model is built into this binary; pass --weights FILE");
}

static void test_outputs(void) {
    run_result r;
    png_img im;
    char p[512];
    const int c = 3, s = 8, chw = 3 * 8 * 8;
    /* one image: PNG pixels = formula(raw), text chunk, summary, seed printed */
    run("--weights %I/m3.stub --steps 3 --seed 5 -o %O/one.png --out-raw %O/one.f32", &r);
    CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    CHECKF(strstr(r.err, "seed 5") != NULL, "seed not printed: %s", r.err);
    CHECKF(strstr(r.err, "3 steps (3 NFE per image)") != NULL, "NFE not in the start line: %s", r.err);
    CHECKF(strstr(r.err, "1 image, 3 NFE each") && strstr(r.err, "images/s"), "summary: %s", r.err);
    CHECK(run_count_files(g_out) == 2);
    float *raw = load_raw("one.f32", (size_t)chw);
    snprintf(p, sizeof p, "%s/one.png", g_out);
    CHECK(load_png(p, &im) == 0 && im.w == s && im.h == s && im.c == 3);
    if (raw && im.pix) CHECKF(compare_cell(&im, raw, c, s, 0, 0) == 0, "one.png pixels");
    const char *want[] = {"sampler: ddim", "steps: 3", "spacing: leading", "eta: 0", "seed: 5", "weights: m3.stub",
                          "checksum: 0123456789abcdef", ("sculpt: " SCULPT_VERSION_STRING), "size: 8x8"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) CHECKF(strstr(im.text, want[i]), "text lacks '%s': %s", want[i], im.text);
    png_read_free(&im);
    free(raw);
    run_clear_dir(g_out);

    /* numbered files: image i carries seed + i; batches of 2 */
    run("--weights %I/m3.stub --sampler euler --steps 4 --churn 0.5 --seed 10 -n 3 --batch 2 -o %O/num.png --out-raw %O/num.f32", &r);
    CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    CHECK(run_count_files(g_out) == 4);
    raw = load_raw("num.f32", 3u * (size_t)chw);
    for (int i = 0; i < 3; i++) {
        char seed[32];
        snprintf(p, sizeof p, "%s/num-%04d.png", g_out, i);
        snprintf(seed, sizeof seed, "seed: %d,", 10 + i);
        CHECKF(load_png(p, &im) == 0, "%s", p);
        if (raw && im.pix) CHECKF(compare_cell(&im, raw + (size_t)i * (size_t)chw, c, s, 0, 0) == 0, "%s pixels", p);
        CHECKF(strstr(im.text, seed) && strstr(im.text, "schedule: karras") && strstr(im.text, "churn: 0.5"), "%s", im.text);
        png_read_free(&im);
    }
    /* the same images with other batch sizes */
    float *raw1 = NULL;
    run("--weights %I/m3.stub --sampler euler --steps 4 --churn 0.5 --seed 10 -n 3 --batch 1 --out-raw %O/b1.f32", &r);
    CHECKF(r.status == 0 && (raw1 = load_raw("b1.f32", 3u * (size_t)chw)) != NULL, "%s", r.err);
    if (raw && raw1) CHECK(memcmp(raw, raw1, 3u * (size_t)chw * 4) == 0);
    free(raw1);
    free(raw);
    run_clear_dir(g_out);

    /* grid of 5: 3x2 cells, image i at row-major cell i */
    run("--weights %I/m3.stub --steps 2 --seed 3 -n 5 --grid -o %O/grid.png --out-raw %O/grid.f32 --quiet", &r);
    CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    CHECKF(r.err[0] == '\0', "--quiet printed: %s", r.err);
    CHECK(run_count_files(g_out) == 2);
    raw = load_raw("grid.f32", 5u * (size_t)chw);
    snprintf(p, sizeof p, "%s/grid.png", g_out);
    CHECK(load_png(p, &im) == 0 && im.w == 3 * (8 + 2) + 2 && im.h == 2 * (8 + 2) + 2);
    for (int i = 0; i < 5 && raw && im.pix; i++)
        CHECKF(compare_cell(&im, raw + (size_t)i * (size_t)chw, c, s, 2 + (i % 3) * 10, 2 + (i / 3) * 10) == 0, "cell %d", i);
    CHECKF(strstr(im.text, "seed: 3, images: 5, seeds: 3..7"), "%s", im.text);
    png_read_free(&im);
    free(raw);
    run_clear_dir(g_out);

    /* grey */
    run("--weights %I/m1.stub --steps 2 -o %O/grey.png --out-raw %O/grey.f32 -q", &r);
    CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    raw = load_raw("grey.f32", 64);
    snprintf(p, sizeof p, "%s/grey.png", g_out);
    CHECK(load_png(p, &im) == 0 && im.c == 1 && im.w == 8);
    if (raw && im.pix) CHECK(compare_cell(&im, raw, 1, 8, 0, 0) == 0);
    png_read_free(&im);
    free(raw);
    run_clear_dir(g_out);

    /* 4 channels: raw only */
    run("--weights %I/m4.stub --steps 2 -n 2 --out-raw %O/four.f32 -q", &r);
    CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    CHECK(run_count_files(g_out) == 1);
    raw = load_raw("four.f32", 2u * 4 * 64);
    free(raw);
    run_clear_dir(g_out);

    /* --init-noise replaces the starting noise: the stub maps x to 1.5 tanh(x) + a per-image constant */
    run("--weights %I/m3.stub --steps 2 -n 2 --init-noise %I/noise2.f32 --out-raw %O/init.f32 -q", &r);
    CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    raw = load_raw("init.f32", 2u * (size_t)chw);
    snprintf(p, sizeof p, "%s/noise2.f32", g_in);
    float *noise = test_read_file(p, NULL);
    for (int i = 0; i < 2 && raw && noise; i++) {
        float k0 = raw[(size_t)i * (size_t)chw] - 1.5f * tanhf(noise[(size_t)i * (size_t)chw]);
        int bad = 0;
        for (int k = 0; k < chw; k++)
            bad += fabsf(raw[(size_t)i * (size_t)chw + (size_t)k] - 1.5f * tanhf(noise[(size_t)i * (size_t)chw + (size_t)k]) - k0) > 1e-6f;
        CHECKF(bad == 0, "image %d: %d values do not follow the init noise", i, bad);
    }
    free(noise);
    free(raw);
    run_clear_dir(g_out);

    /* help and version */
    run("--help", &r);
    CHECK(r.status == 0 && strstr(r.out, "usage: sample") && strstr(r.out, "--init-noise") && r.err[0] == '\0');
    run("--version", &r);
    CHECK(r.status == 0 && strstr(r.out, SCULPT_VERSION_STRING));
    CHECK(run_count_files(g_out) == 0);
}

/* A destination that fills up (every file limited to 8 KiB, as a full disk): the write
 * fails with a line naming the file and the system's reason, exit 1, and no file is left,
 * neither the output nor its temporary. */
static void test_disk_full(void) {
    run_fsize_limit = 8192;
    failed("--weights %I/m3.stub --steps 2 -n 40 --batch 8 -q --out-raw %O/big.f32", "--out-raw");
    failed("--weights %I/m3.stub --steps 2 -n 40 --batch 8 -q --out-raw %O/big.f32", "big.f32: write failed: File too large");
    failed("--weights %I/m3.stub --steps 2 -n 400 --batch 64 --grid -q -o %O/grid.png", "grid.png: PNG encoding failed");
    failed("--weights %I/m3.stub --steps 2 -n 400 --batch 64 --grid -q -o %O/grid.png", "(File too large)");
    /* numbered images that fit are kept and counted; the raw file that does not is gone */
    run_result r;
    run("--weights %I/m3.stub --steps 2 -n 20 --batch 4 -q -o %O/k.png --out-raw %O/k.f32", &r);
    CHECKF(r.status == 1 && strstr(r.err, "k.f32: write failed") && strstr(r.err, "complete images of 20 kept"),
           "exit %d: %s", r.status, r.err);
    int kept = run_count_files(g_out);
    char want[64];
    snprintf(want, sizeof want, "(%d complete images of 20 kept)", kept);
    CHECKF(kept > 0 && kept < 20 && strstr(r.err, want), "%d files left: %s", kept, r.err);
    run_clear_dir(g_out);
    run_fsize_limit = 0;
}

/* Send sig once the run has printed a progress line; expect exit 128+sig and no file. */
/* twice: a second signal right after the first ends the process at once (killed by the
 * signal), and the temporary files in progress are still removed. */
static void test_signal(int sig, const char *extra, int twice) {
    char line[1024], cmd[1024];
    snprintf(line, sizeof line, "--weights %%I/slow.stub --steps 200 %s", extra);
    expand(line, cmd, sizeof cmd);
    char *argv[RUN_MAX_ARGS];
    int argc = 0;
    argv[argc++] = g_exe;
    for (char *t = strtok(cmd, " "); t && argc < RUN_MAX_ARGS - 1; t = strtok(NULL, " ")) argv[argc++] = t;
    argv[argc] = NULL;
    pid_t pid = run_start(argv, g_log);
    char errp[512], txt[8192] = "";
    snprintf(errp, sizeof errp, "%s/stderr", g_log);
    double t0 = run_now();
    int seen = 0;
    while (!seen && run_now() - t0 < 20.0) {
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
        run_slurp(errp, txt, sizeof txt);
        seen = strstr(txt, " step ") != NULL;
    }
    CHECKF(seen, "no progress line before the signal: %s", txt);
    kill(pid, sig);
    if (twice) { /* after the first was handled, while the step (20 ms) still runs */
        struct timespec ts = {0, 3000000L};
        nanosleep(&ts, NULL);
        kill(pid, sig);
    }
    run_result r;
    run_finish(pid, g_log, &r);
    CHECKF(r.status == 128 + sig, "signal %d: exit %d (%s)", sig, r.status, r.err);
    if (!twice) CHECKF(strstr(r.err, "interrupted") != NULL, "%s", r.err);
    CHECKF(run_count_files(g_out) == 0, "signal %d%s left %d files", sig, twice ? " twice" : "",
           run_count_files(g_out));
    run_clear_dir(g_out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_cli_stub SAMPLE_STUB_EXE\n");
        return 2;
    }
    snprintf(g_exe, sizeof g_exe, "%s", argv[1]);
    char root[] = "/tmp/sculpt-cli-stub-XXXXXX";
    if (!mkdtemp(root)) return 1;
    snprintf(g_in, sizeof g_in, "%s/in", root);
    snprintf(g_out, sizeof g_out, "%s/out", root);
    snprintf(g_log, sizeof g_log, "%s/log", root);
    mkdir(g_in, 0755), mkdir(g_out, 0755), mkdir(g_log, 0755);
    char p[512];
    const char *models[][2] = {{"m3.stub", "sculpt-stub c=3 s=8 T=100 delay_ms=0"},
                               {"m1.stub", "sculpt-stub c=1 s=8 T=100 delay_ms=0"},
                               {"m4.stub", "sculpt-stub c=4 s=8 T=100 delay_ms=0"},
                               {"big.stub", "sculpt-stub c=3 s=16000 T=100 delay_ms=0"},
                               {"slow.stub", "sculpt-stub c=3 s=8 T=1000 delay_ms=20"},
                               {"garbage.bin", "not a model"}};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_in, models[i][0]);
        write_text(p, models[i][1]);
    }
    float noise[2 * 192];
    for (int i = 0; i < 2 * 192; i++) noise[i] = (float)sin(0.37 * i) * 1.7f;
    snprintf(p, sizeof p, "%s/noise1.f32", g_in);
    FILE *f = fopen(p, "wb");
    if (f) fwrite(noise, 4, 192, f), fclose(f);
    snprintf(p, sizeof p, "%s/noise2.f32", g_in);
    f = fopen(p, "wb");
    if (f) fwrite(noise, 4, 2 * 192, f), fclose(f);
    snprintf(p, sizeof p, "%s/noise.fifo", g_in);
    CHECK(mkfifo(p, 0600) == 0);

    if (run_cannot_start(g_exe, g_log)) {
        run_clear_dir(g_in), rmdir(g_in), run_clear_dir(g_log), rmdir(g_log), rmdir(g_out), rmdir(root);
        return 77;
    }
    test_refusals();
    test_outputs();
    test_disk_full();
    test_signal(SIGINT, "-o %O/int.png", 0);
    test_signal(SIGTERM, "-n 3 --grid -o %O/term.png --out-raw %O/term.f32", 0);
    test_signal(SIGINT, "-n 4 --batch 1 -o %O/num.png --out-raw %O/num.f32", 0);
    test_signal(SIGINT, "-n 2 -o %O/twice.png --out-raw %O/twice.f32", 1);
    test_signal(SIGTERM, "--out-raw %O/twice.f32", 1);
    run_clear_dir(g_in), run_clear_dir(g_out), run_clear_dir(g_log);
    rmdir(g_in), rmdir(g_out), rmdir(g_log), rmdir(root);
    TEST_DONE();
}
