/* test_cli.c — the unet-eval tool end to end (llama2.c style: run the real CLI on a tiny
 * model and compare its output file with the PyTorch reference), plus its error paths:
 * one line naming the file and a non-zero exit, no output file left behind. */
#include <sys/wait.h>
#include <unistd.h>

#include "unet_fixture.h"

static const char *exe, *dir;
static char tmpdir[256];

/* Run unet-eval with args; return its exit code, stderr in err (first line). */
static int run(const char *args, char *err, size_t errlen) {
    char cmd[4096], errpath[512];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmpdir);
    /* cross builds: meson names the emulator (qemu-user) that runs target binaries */
    const char *wrap = getenv("MESON_EXE_WRAPPER");
    int n = snprintf(cmd, sizeof cmd, "%s '%s' %s 2>'%s' >/dev/null", wrap ? wrap : "", exe, args, errpath);
    if (n < 0 || (size_t)n >= sizeof cmd) return -1;
    int st = system(cmd);
    err[0] = 0;
    FILE *f = fopen(errpath, "r");
    if (f) {
        if (!fgets(err, (int)errlen, f)) err[0] = 0;
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void compare(const char *out, const char *expect, size_t n, double tol) {
    size_t len = 0;
    float *got = test_read_file(out, &len);
    CHECKF(got && len == n * sizeof(float), "%s: %zu bytes, want %zu", out, len, n * sizeof(float));
    float *want = ufloats(dir, expect, n);
    if (got && want && len == n * sizeof(float)) {
        double e = test_rel_l2(got, want, n);
        CHECKF(e <= tol, "%s vs %s: rel L2 %.3g", out, expect, e);
    }
    free(got);
    free(want);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s UNET_EVAL FIXTURE_DIR\n", argv[0]); return 2; }
    exe = argv[1];
    dir = argv[2];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sculpt-unet-cli-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    char args[4096], err[1024], out[512];
    snprintf(out, sizeof out, "%s/eps.f32", tmpdir);

    /* batch of 2 with one timestep each, then the same with 2 threads and scalar */
    const char *variants[] = {"", "--threads 2", "--isa scalar --threads 1"};
    for (int v = 0; v < 3; v++) {
        snprintf(args, sizeof args, "--weights '%s/tiny.bin' --input '%s/tiny_b2.in.f32' --t 10,765.25 --out '%s' %s",
                 dir, dir, out, variants[v]);
        CHECKF(run(args, err, sizeof err) == 0, "%s: %s", args, err);
        compare(out, "tiny_b2.out.f32", 2 * 3 * 16 * 16, 1e-5);
        remove(out);
    }
    /* one timestep broadcast over the batch: equals the single-image cases */
    snprintf(args, sizeof args, "--weights '%s/tiny.bin' --input '%s/tiny_t500.in.f32' --t 500 --out '%s'", dir, dir, out);
    CHECKF(run(args, err, sizeof err) == 0, "%s", err);
    compare(out, "tiny_t500.out.f32", 3 * 16 * 16, 1e-5);
    remove(out);
    /* pytorch_diffusion layout with avg-pool resampling */
    snprintf(args, sizeof args, "--weights '%s/pd_avgpool.bin' --input '%s/pd_avgpool_b2.in.f32' --t 17,802 --out '%s'", dir, dir, out);
    CHECKF(run(args, err, sizeof err) == 0, "%s", err);
    compare(out, "pd_avgpool_b2.out.f32", 2 * 3 * 16 * 16, 1e-5);
    remove(out);

    /* errors: exit 1 or 2, a message naming the culprit, no output file */
    struct { const char *args, *word; int code; } bad[] = {
        {"--weights '%s/missing.bin' --input '%s/tiny_b2.in.f32' --t 1 --out '%s'", "missing.bin", 1},
        {"--weights '%s/tiny.bin' --input '%s/tiny_b2.time_embedding.f32' --t 1 --out '%s'", "tiny_b2.time_embedding.f32", 1},
        {"--weights '%s/tiny.bin' --input '%s/tiny_b2.in.f32' --t 1,2,3 --out '%s'", "3 values", 1},
        {"--weights '%s/tiny.bin' --input '%s/tiny_b2.in.f32' --t abc --out '%s'", "abc", 1},
        {"--weights '%s/tiny.bin' --input '%s/tiny_b2.in.f32' --t 1 --out '%s' --isa sse9", "sse9", 1},
        {"--weights '%s/tiny.bin' --input '%s/nothere.f32' --t 1 --out '%s'", "nothere.f32", 1},
        {"--weights '%s/tiny.bin' --input '%s/tiny_b2.in.f32' --out '%s'", "required", 2},
        {"--weights '%s/tiny.bin' --input '%s/tiny_b2.in.f32' --t 1 --out '%s' --frobnicate 1", "frobnicate", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, bad[i].args, dir, dir, out);
        int code = run(args, err, sizeof err);
        CHECKF(code == bad[i].code, "'%s': exit %d, want %d", args, code, bad[i].code);
        CHECKF(strstr(err, bad[i].word) != NULL, "'%s': message '%s' lacks '%s'", args, err, bad[i].word);
        CHECKF(strchr(err, '\n') == err + strlen(err) - 1, "message is not one line: '%s'", err);
        CHECKF(access(out, F_OK) != 0, "'%s' left an output file", args);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/stderr.txt", tmpdir);
    remove(path);
    rmdir(tmpdir);
    TEST_DONE();
}
