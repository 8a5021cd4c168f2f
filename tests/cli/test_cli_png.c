/* test_cli_png.c — pixels, PNG files, grids, atomic files and progress output of `sample`:
 * quantisation against torch/numpy's (fixture) and an independent formula, PNGs read back
 * with libpng (pixels, colour type, the `parameters` text), grid geometry, temp+rename. */
#include <dirent.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "png_read.h"
#include "png_out.h"
#include "progress.h"
#include "test.h"

/* The test's own formula: float32 steps, then round half to even done by hand. */
static int quant_ref(float x) {
    float t = (float)((double)x * 0.5) + 0.5f;
    if (isnan(t) || t < 0.0f) t = 0.0f;
    if (t > 1.0f) t = 1.0f;
    float v = t * 255.0f;
    double fl = floor((double)v), frac = (double)v - fl;
    int r = (int)fl;
    if (frac > 0.5 || (frac == 0.5 && (r % 2) == 1)) r++;
    return r;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void test_quantize(const char *fixdir) {
    char p1[1024], p2[1024];
    snprintf(p1, sizeof p1, "%s/cli/quant_x.f32", fixdir);
    snprintf(p2, sizeof p2, "%s/cli/quant_px.u8", fixdir);
    size_t nx = 0, np = 0;
    float *x = test_read_file(p1, &nx);
    unsigned char *px = test_read_file(p2, &np);
    CHECKF(x && px && nx == 4 * np && np > 6000, "fixtures %s, %s", p1, p2);
    if (x && px && nx == 4 * np) {
        int bad = 0, bad_ref = 0;
        for (size_t i = 0; i < np; i++) {
            if (sample_quantize(x[i]) != px[i]) {
                if (bad++ < 5) fprintf(stderr, "x=%.9g: sculpt %d torch %d\n", (double)x[i], sample_quantize(x[i]), px[i]);
            }
            if (quant_ref(x[i]) != px[i]) bad_ref++;
        }
        CHECKF(bad == 0, "%d of %zu pixels differ from torch/numpy", bad, np);
        CHECKF(bad_ref == 0, "the test's own formula disagrees with torch on %d values", bad_ref);
    }
    free(x);
    free(px);
    /* independent spot checks */
    CHECK(sample_quantize(-1.0f) == 0 && sample_quantize(1.0f) == 255 && sample_quantize(0.0f) == 128);
    CHECK(sample_quantize(NAN) == 0 && sample_quantize(INFINITY) == 255 && sample_quantize(-INFINITY) == 0);
    CHECK(sample_quantize(-5.0f) == 0 && sample_quantize(7.0f) == 255);
    for (int i = -3000; i <= 3000; i++) {
        float v = (float)i / 2500.0f;
        CHECKF(sample_quantize(v) == quant_ref(v), "x=%g", (double)v);
    }
}

static void test_png_roundtrip(const char *dir, int c, const char *text) {
    int s = 7;
    float x[3 * 7 * 7];
    for (int i = 0; i < c * s * s; i++) x[i] = -1.3f + 2.6f * (float)i / (float)(c * s * s - 1);
    unsigned char pix[3 * 7 * 7];
    sample_quantize_image(x, c, s, pix, (size_t)s * (size_t)c);
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/rt%d.png", dir, c);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECKF(sample_png_write(f, path, pix, s, s, c, (size_t)s * (size_t)c, "parameters", text, err, sizeof err) == 0, "%s", err);
    fclose(f);
    png_read r;
    CHECKF(png_read_file(path, &r) == 0, "%s unreadable", path);
    CHECK(r.w == s && r.h == s && r.depth == 8);
    CHECK(r.color == (c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY));
    int bad = 0;
    for (int y = 0; y < s && r.pix; y++)
        for (int xx = 0; xx < s; xx++)
            for (int ch = 0; ch < c; ch++) {
                int got = r.pix[((size_t)y * (size_t)s + (size_t)xx) * (size_t)c + (size_t)ch];
                if (got != quant_ref(x[(ch * s + y) * s + xx])) bad++; /* CHW in, HWC out */
            }
    CHECKF(bad == 0, "%d pixels wrong in %s", bad, path);
    CHECK(strcmp(r.text_key, "parameters") == 0);
    CHECKF(r.text && strcmp(r.text, text) == 0, "text '%s'", r.text ? r.text : "(none)");
    /* ASCII: tEXt; valid UTF-8: iTXt; other bytes (a Latin-1 file name): tEXt, as iTXt
     * must hold UTF-8 */
    int ascii = 1, utf8 = 1;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x80) continue;
        ascii = 0;
        int more = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        for (int k = 1; k <= more; k++)
            if ((p[k] & 0xc0) != 0x80) more = -1;
        if (more < 0) utf8 = 0;
        else p += more;
    }
    CHECKF(!ascii && utf8 ? r.text_compression == PNG_ITXT_COMPRESSION_NONE
                          : r.text_compression == PNG_TEXT_COMPRESSION_NONE,
           "'%s': chunk compression %d", text, r.text_compression);
    png_read_free(&r);
    unlink(path);
    /* refused: channel counts PNG cannot hold here, bad sizes */
    f = tmpfile();
    CHECK(sample_png_write(f, "x.png", pix, s, s, 4, (size_t)s * 4, NULL, NULL, err, sizeof err) == -1);
    CHECK(strstr(err, "x.png") && strstr(err, "4"));
    CHECK(sample_png_write(f, "x.png", pix, s, s, 2, (size_t)s * 2, NULL, NULL, err, sizeof err) == -1);
    CHECK(sample_png_write(f, "x.png", pix, 0, s, 3, 0, NULL, NULL, err, sizeof err) == -1);
    fclose(f);
}

static void test_grid(const char *dir) {
    int cols, rows, w, h;
    /* near-square: cols = ceil(sqrt(n)), rows = ceil(n / cols) */
    for (int n = 1; n <= 50; n++) {
        sample_grid_dims(n, 5, &cols, &rows, &w, &h);
        int k = (int)ceil(sqrt((double)n));
        CHECKF(cols == k && rows == (n + k - 1) / k, "n=%d: %dx%d", n, cols, rows);
        CHECK(cols * rows >= n && (cols - 1) * rows < n + cols);
        CHECK(w == cols * (5 + 2) + 2 && h == rows * (5 + 2) + 2);
    }
    sample_grid_dims(16, 32, &cols, &rows, &w, &h);
    CHECK(cols == 4 && rows == 4 && w == 138 && h == 138);
    sample_grid_dims(10, 32, &cols, &rows, &w, &h);
    CHECK(cols == 4 && rows == 3);
    CHECK(sample_grid_cell_offset(0, 4, 32, 138, 3) == (2 * 138 + 2) * 3);
    CHECK(sample_grid_cell_offset(5, 4, 32, 138, 3) == ((2 + 34) * 138 + 2 + 34) * 3);

    /* build a 3-channel grid of 7 images of 4x4, image i filled with a value of its own */
    int n = 7, s = 4, c = 3;
    sample_grid_dims(n, s, &cols, &rows, &w, &h);
    CHECK(cols == 3 && rows == 3 && w == 20 && h == 20);
    unsigned char *g = calloc((size_t)w * (size_t)h, (size_t)c);
    float img[3 * 4 * 4];
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < c * s * s; k++) img[k] = -0.9f + 0.25f * (float)i + 0.01f * (float)(k / (s * s));
        sample_quantize_image(img, c, s, g + sample_grid_cell_offset(i, cols, s, w, c), (size_t)w * (size_t)c);
    }
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/grid.png", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && sample_png_write(f, path, g, w, h, c, (size_t)w * (size_t)c, "parameters", "grid", err, sizeof err) == 0);
    if (f) fclose(f);
    png_read r;
    CHECK(png_read_file(path, &r) == 0 && r.w == 20 && r.h == 20);
    int bad = 0;
    for (int y = 0; y < h && r.pix; y++)
        for (int x = 0; x < w; x++)
            for (int ch = 0; ch < c; ch++) {
                int want = 0; /* border and empty cells */
                int cx = (x - 2) / (s + 2), cy = (y - 2) / (s + 2), ox = (x - 2) % (s + 2), oy = (y - 2) % (s + 2);
                if (x >= 2 && y >= 2 && ox < s && oy < s && cy * cols + cx < n)
                    want = quant_ref(-0.9f + 0.25f * (float)(cy * cols + cx) + 0.01f * (float)ch);
                if (r.pix[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)ch] != want) bad++;
            }
    CHECKF(bad == 0, "%d grid pixels wrong", bad);
    png_read_free(&r);
    free(g);
    unlink(path);
}

static void test_outfile(const char *dir) {
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    sample_outfile o;
    /* abort leaves nothing */
    CHECKF(sample_outfile_open(&o, path, err, sizeof err) == 0, "%s", err);
    CHECK(o.f && o.tmp && strstr(o.tmp, dir) == o.tmp && access(o.tmp, F_OK) == 0);
    fputs("partial", o.f);
    CHECK(access(path, F_OK) != 0); /* nothing under the final name while writing */
    sample_outfile_abort(&o);
    CHECK(count_entries(dir) == 0);
    sample_outfile_abort(&o); /* no-op twice */
    /* commit renames, with 0666 & ~umask */
    mode_t old = umask(022);
    CHECK(sample_outfile_open(&o, path, err, sizeof err) == 0);
    fputs("complete", o.f);
    CHECKF(sample_outfile_commit(&o, err, sizeof err) == 0, "%s", err);
    umask(old);
    CHECK(count_entries(dir) == 1);
    size_t len = 0;
    char *txt = test_read_file(path, &len);
    CHECK(txt && len == 8 && memcmp(txt, "complete", 8) == 0);
    free(txt);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    unlink(path);
    /* refusals: missing directory, a directory as the target */
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.png", dir);
    CHECK(sample_outfile_probe(bad, err, sizeof err) == -1 && strstr(err, "no/such/dir/x.png"));
    CHECK(sample_outfile_probe(dir, err, sizeof err) == -1 && strstr(err, "is a directory"));
    CHECK(sample_outfile_probe(path, err, sizeof err) == 0);
    CHECK(count_entries(dir) == 0);
}

static int count_char(const char *s, char ch) {
    int n = 0;
    for (; *s; s++) n += *s == ch;
    return n;
}

static char *progress_text(int tty, int quiet, int steps, int batches, volatile sig_atomic_t *stop, int *rc_out) {
    FILE *f = tmpfile();
    sample_progress p;
    sample_progress_init(&p, f, tty, quiet, steps, batches, stop, 100.0);
    double t = 100.0;
    int rc = 0;
    for (int b = 0; b < batches; b++) {
        sample_progress_batch(&p, b);
        for (int k = 1; k <= steps; k++) {
            t += 0.5;
            rc |= sample_progress_update(&p, k, steps, 2 * k, t);
        }
        sample_progress_batch_done(&p);
    }
    sample_progress_finish(&p);
    CHECK(p.nfe == 2LL * steps * batches);
    long n = ftell(f);
    rewind(f);
    char *txt = calloc(1, (size_t)n + 1);
    if (txt && n > 0 && fread(txt, 1, (size_t)n, f) != (size_t)n) txt[0] = '\0';
    fclose(f);
    *rc_out = rc;
    return txt;
}

static void test_progress(void) {
    volatile sig_atomic_t stop = 0;
    int rc;
    /* plain lines: one per tenth of the run (steps x batches = 40 steps) */
    char *t = progress_text(0, 0, 20, 2, &stop, &rc);
    CHECK(rc == 0);
    CHECKF(count_char(t, '\n') == 10 && count_char(t, '\r') == 0, "plain:\n%s", t);
    CHECK(strstr(t, "sample: batch 1/2 step 4/20, nfe 8, 0.500 s/it, 0:18 left\n") != NULL);
    CHECK(strstr(t, "sample: batch 2/2 step 20/20, nfe 80, 0.500 s/it, 0:00 left\n") != NULL);
    free(t);
    /* a terminal: a \r bar per step, one newline at the end */
    t = progress_text(1, 0, 5, 1, &stop, &rc);
    CHECK(count_char(t, '\r') == 5 && count_char(t, '\n') == 1);
    CHECK(strstr(t, "step 5/5  nfe 10  0.500 s/it  0:00 left") != NULL);
    CHECK(strstr(t, "[########################]") != NULL);
    free(t);
    /* quiet: nothing */
    t = progress_text(0, 1, 5, 3, &stop, &rc);
    CHECK(t && t[0] == '\0');
    free(t);
    /* the stop flag makes the callback ask to stop */
    stop = 1;
    t = progress_text(0, 1, 3, 1, &stop, &rc);
    CHECK(rc != 0);
    free(t);
    char buf[32];
    sample_format_duration(3725.0, buf, sizeof buf);
    CHECK(strcmp(buf, "1:02:05") == 0);
    sample_format_duration(65.4, buf, sizeof buf);
    CHECK(strcmp(buf, "1:05") == 0);
    sample_format_duration(-1.0, buf, sizeof buf);
    CHECK(strcmp(buf, "?") == 0);
}

int main(int argc, char **argv) {
    const char *fixdir = argc > 1 ? argv[1] : "tests/fixtures";
    char dir[] = "/tmp/sculpt-cli-png-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_quantize(fixdir);
    test_png_roundtrip(dir, 3, "sampler: ddim, steps: 50, seed: 0");
    test_png_roundtrip(dir, 1, "sampler: heun, weights: m\xc3\xa9lange.bin");
    test_png_roundtrip(dir, 3, "sampler: heun, weights: m\xe9lange.bin"); /* not UTF-8 */
    test_grid(dir);
    test_outfile(dir);
    test_progress();
    CHECKF(count_entries(dir) == 0, "files left in %s", dir);
    rmdir(dir);
    TEST_DONE();
}
