/* test_open.c — a valid weight file written by the test writer opens from a path and from
 * memory, and every query (config, schedule, metadata, tensors) returns what was written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sculpt.h"
#include "test.h"
#include "unet_spec.h"
#include "io/weightfile.h"
#include "wt_writer.h"

static int prepared_freed = 0;
static void free_prepared(void *p) {
    prepared_freed++;
    free(p);
}

static void check_model(const sculpt_model *m, const wt_spec *s, const unsigned char *file) {
    const sculpt_config *c = sculpt_model_config(m);
    CHECK(c && memcmp(c, &s->config, sizeof *c) == 0);
    const sculpt_schedule *sc = sculpt_model_schedule(m);
    CHECK(sc->num_train_timesteps == s->T);
    CHECK(sc->beta_schedule == s->beta_schedule && sc->variance_type == s->variance_type);
    CHECK(sc->beta_start == s->beta_start && sc->beta_end == s->beta_end);
    CHECK(sc->clip_sample == s->clip_sample && sc->clip_sample_range == s->clip_sample_range);
    CHECK(sc->prediction_type == s->prediction_type);
    float *want = malloc(2 * (size_t)s->T * sizeof *want);
    wt_schedule(s, want, want + s->T);
    CHECK(memcmp(sc->betas, want, (size_t)s->T * 4) == 0);
    CHECK(memcmp(sc->alphas_cumprod, want + s->T, (size_t)s->T * 4) == 0);
    free(want);
    CHECK(sculpt_model_checksum(m) == wt_get64(file + 80));

    CHECK(sculpt_model_metadata(m, "source") && strcmp(sculpt_model_metadata(m, "source"), "tiny test") == 0);
    CHECK(sculpt_model_metadata(m, "converter") &&
          strcmp(sculpt_model_metadata(m, "converter"), "wt_writer 1") == 0);
    CHECK(sculpt_model_metadata(m, "note") && strcmp(sculpt_model_metadata(m, "note"), "ünïcödé ok") == 0);
    CHECK(sculpt_model_metadata(m, "missing") == NULL);
    CHECK(sculpt_model_metadata(m, "sourc") == NULL);
    CHECK(sculpt_model_metadata(m, NULL) == NULL);

    CHECK(sculpt_model_tensor_count(m) == s->n_tensors);
    for (int k = 0; k < s->n_tensors; k++) {
        const wt_tensor *t = &s->tensors[k];
        sculpt_tensor_info a, b;
        CHECK(sculpt_model_tensor(m, k, &a) == 0); /* the writer keeps file order = list order */
        CHECKF(strcmp(a.name, t->name) == 0, "%d: %s vs %s", k, a.name, t->name);
        CHECK(sculpt_model_find_tensor(m, t->name, &b) == 0 && memcmp(&a, &b, sizeof a) == 0);
        CHECK(a.dtype == (int32_t)t->dtype && a.ndim == (int32_t)t->ndim);
        uint64_t count = 1;
        for (uint32_t d = 0; d < 4; d++) {
            CHECK(a.shape[d] == (int64_t)t->shape[d]);
            if (d < t->ndim) count *= t->shape[d];
        }
        CHECK(a.nbytes == count * (t->dtype == 0 ? 4 : 2));
        CHECK((uintptr_t)a.data % 64 == 0);
        unsigned char *exp = malloc(a.nbytes);
        wt_fill(k, t->dtype, exp, a.nbytes);
        CHECKF(memcmp(a.data, exp, a.nbytes) == 0, "tensor %s data", t->name);
        free(exp);
    }
    CHECK(sculpt_model_tensor(m, -1, NULL) != 0 && sculpt_model_tensor(m, s->n_tensors, NULL) != 0);
    CHECK(sculpt_model_find_tensor(m, "conv_in.weightx", NULL) != 0);
    CHECK(sculpt_model_find_tensor(m, "", NULL) != 0);
    CHECK(sculpt_model_find_tensor(m, "down_blocks.1.attentions.0.to_q.weight", NULL) == 0);
    CHECK(sculpt_model_tensor_index(m, "conv_out.bias") >= 0);
}

int main(void) {
    char dir[] = "/tmp/wftest-open-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/tiny.bin", dir);

    wt_spec s;
    CHECK(wt_spec_tiny(&s, 1000) == 0);
    size_t size = 0;
    unsigned char *file = wt_build(&s, &size);
    CHECK(file != NULL);
    CHECK(wt_write_file(path, file, size) == 0);

    char err[512] = "x";
    sculpt_model *m = NULL;
    sculpt_status st = sculpt_model_open(path, 0, &m, err, sizeof err);
    CHECKF(st == SCULPT_OK && m, "%s", err);
    if (m) {
        CHECK(err[0] == 0);
        CHECK(strcmp(sculpt_model_name(m), path) == 0);
        check_model(m, &s, file);
        /* The prepared slot is freed at close. */
        m->prepared = malloc(16);
        m->prepared_free = free_prepared;
        sculpt_model_close(m);
        CHECK(prepared_freed == 1);
    }

    m = NULL;
    st = sculpt_model_open_memory(file, size, "tiny-mem", 0, &m, err, sizeof err);
    CHECKF(st == SCULPT_OK && m, "%s", err);
    if (m) {
        CHECK(strcmp(sculpt_model_name(m), "tiny-mem") == 0);
        check_model(m, &s, file);
        sculpt_tensor_info t;
        CHECK(sculpt_model_tensor(m, 0, &t) == 0 && (const unsigned char *)t.data >= file &&
              (const unsigned char *)t.data < file + size); /* no copy */
        CHECK((const unsigned char *)sculpt_model_schedule(m)->betas == file + wt_get64(file + 40));
        sculpt_model_close(m);
    }

    /* A config with avgpool resampling, no attention, all f16, no metadata, T = 1. */
    wt_spec s2 = s;
    s2.tensors = NULL;
    wt_spec_free(&s);
    CHECK(wt_spec_tiny(&s2, 1) == 0);
    s2.config.downsample_type = SCULPT_DOWNSAMPLE_AVGPOOL;
    s2.config.mid_attention = 0;
    s2.config.down_attn[1] = s2.config.up_attn[0] = 0;
    s2.metadata = NULL;
    s2.beta_start = s2.beta_end = 0.5f;
    int n = unet_spec_params(&s2.config, NULL, 0, NULL, 0);
    unet_param *p = calloc((size_t)n, sizeof *p);
    unet_spec_params(&s2.config, p, n, NULL, 0);
    free(s2.tensors);
    s2.tensors = calloc((size_t)n, sizeof *s2.tensors);
    for (int k = 0; k < n; k++) {
        snprintf(s2.tensors[k].name, sizeof s2.tensors[k].name, "%s", p[k].name);
        s2.tensors[k].dtype = 1;
        s2.tensors[k].ndim = (uint32_t)p[k].ndim;
        for (int d = 0; d < p[k].ndim; d++) s2.tensors[k].shape[d] = (uint32_t)p[k].shape[d];
    }
    s2.n_tensors = n;
    free(p);
    free(file);
    file = wt_build(&s2, &size);
    m = NULL;
    st = sculpt_model_open_memory(file, size, "avgpool", 0, &m, err, sizeof err);
    CHECKF(st == SCULPT_OK && m, "%s", err);
    if (m) {
        CHECK(sculpt_model_config(m)->downsample_type == SCULPT_DOWNSAMPLE_AVGPOOL);
        CHECK(sculpt_model_schedule(m)->num_train_timesteps == 1);
        CHECK(sculpt_model_schedule(m)->alphas_cumprod[0] == 0.5f);
        CHECK(sculpt_model_metadata(m, "source") == NULL);
        CHECK(sculpt_model_tensor_count(m) == n);
        sculpt_model_close(m);
    }

    /* A file whose data checksum is wrong: refused, but opens with SCULPT_OPEN_NO_CHECKSUM. */
    {
        unsigned char *bad = malloc(size);
        memcpy(bad, file, size);
        bad[size - 100] ^= 0x40;
        CHECK(wt_write_file(path, bad, size) == 0);
        free(bad);
        m = NULL;
        CHECK(sculpt_model_open(path, 0, &m, err, sizeof err) == SCULPT_E_FORMAT && m == NULL &&
              strstr(err, path) == err && strstr(err, "data checksum"));
        CHECK(sculpt_model_open(path, SCULPT_OPEN_NO_CHECKSUM, &m, err, sizeof err) == SCULPT_OK && m);
        sculpt_model_close(m);
    }

    /* Argument errors and NULL handling. */
    sculpt_model_close(NULL);
    CHECK(sculpt_model_config(NULL) == NULL && sculpt_model_tensor_count(NULL) == 0);
    CHECK(sculpt_model_metadata(NULL, "a") == NULL && sculpt_model_find_tensor(NULL, "a", NULL) != 0);
    m = (sculpt_model *)1;
    CHECK(sculpt_model_open(NULL, 0, &m, err, sizeof err) == SCULPT_E_ARG && m == NULL);
    CHECK(sculpt_model_open(path, 0, NULL, err, sizeof err) == SCULPT_E_ARG);
    CHECK(sculpt_model_open(path, 0x100, &m, err, sizeof err) == SCULPT_E_ARG);
    CHECK(sculpt_model_open_memory(file + 8, size - 8, "odd", 0, &m, err, sizeof err) == SCULPT_E_ARG &&
          strstr(err, "odd:") == err && strstr(err, "aligned"));
    CHECK(sculpt_model_open_memory(NULL, 0, NULL, 0, &m, err, sizeof err) == SCULPT_E_ARG);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/does-not-exist.bin", dir);
    CHECK(sculpt_model_open(missing, 0, &m, err, sizeof err) == SCULPT_E_IO && m == NULL &&
          strstr(err, missing) == err);
    CHECK(sculpt_model_open(dir, 0, &m, err, sizeof err) == SCULPT_E_IO && strstr(err, dir) == err);
    CHECK(strstr(err, "not a regular file (a directory)") != NULL);
    /* A FIFO with no writer is refused at once, not waited on (open would block without
     * O_NONBLOCK; the alarm turns a hang into a failure). */
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/weights.fifo", dir);
    if (mkfifo(fifo, 0600) == 0) {
        alarm(10);
        CHECKF(sculpt_model_open(fifo, 0, &m, err, sizeof err) == SCULPT_E_IO && m == NULL &&
                   strstr(err, fifo) == err && strstr(err, "not a regular file (a FIFO)"),
               "%s", err);
        alarm(0);
        unlink(fifo);
    }
    /* A tiny error buffer is truncated, never overrun; NULL buffers are fine. */
    char tiny[4];
    CHECK(sculpt_model_open(missing, 0, &m, tiny, sizeof tiny) == SCULPT_E_IO && strlen(tiny) == 3);
    CHECK(sculpt_model_open(missing, 0, &m, NULL, 0) == SCULPT_E_IO);

    unlink(path);
    rmdir(dir);
    wt_spec_free(&s2);
    free(file);
    TEST_DONE();
}
