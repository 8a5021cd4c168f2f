/* unet_fixture.h — shared by the UNet tests: the fixture manifest (cases.txt, written by
 * tests/reference/make_unet.py) and small helpers to run one case through the public API. */
#ifndef SCULPT_TEST_UNET_FIXTURE_H
#define SCULPT_TEST_UNET_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sculpt.h"
#include "test.h"

typedef struct ucase {
    int inter;             /* 0: "case" line (whole forward), 1: "inter" line */
    char name[64], weights[128], input[128], block[64], expect[128];
    int n;
    float t[16];
    double tol;
} ucase;

/* Parse the manifest; returns the number of entries (<= cap) or -1. */
static inline int ucase_load(const char *dir, ucase *out, int cap) {
    char path[1024];
    int pl = snprintf(path, sizeof path, "%s/cases.txt", dir);
    if (pl < 0 || (size_t)pl >= sizeof path) return -1;
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "%s: cannot open\n", path); return -1; }
    char line[1024];
    int k = 0;
    while (fgets(line, sizeof line, f) && k < cap) {
        if (line[0] == '#' || line[0] == '\n') continue;
        ucase *c = &out[k];
        memset(c, 0, sizeof *c);
        char kind[16], ts[256];
        int r;
        if (strncmp(line, "case ", 5) == 0) {
            r = sscanf(line, "%15s %63s %127s %127s %d %255s %127s %lf", kind, c->name, c->weights,
                       c->input, &c->n, ts, c->expect, &c->tol);
            if (r != 8) { fprintf(stderr, "%s: bad line: %s", path, line); fclose(f); return -1; }
        } else {
            c->inter = 1;
            r = sscanf(line, "%15s %63s %127s %127s %d %255s %63s %127s %lf", kind, c->name, c->weights,
                       c->input, &c->n, ts, c->block, c->expect, &c->tol);
            if (r != 9) { fprintf(stderr, "%s: bad line: %s", path, line); fclose(f); return -1; }
        }
        if (c->n < 1 || c->n > 16) { fclose(f); return -1; }
        char *p = ts;
        for (int i = 0; i < c->n; i++) {
            c->t[i] = strtof(p, &p);
            if (*p == ',') p++;
        }
        k++;
    }
    fclose(f);
    return k;
}

/* Read a raw f32 file of exactly n floats (NULL otherwise). */
static inline float *ufloats(const char *dir, const char *file, size_t n) {
    char path[1024];
    int pl = snprintf(path, sizeof path, "%s/%s", dir, file);
    if (pl < 0 || (size_t)pl >= sizeof path) return NULL;
    size_t len = 0;
    float *p = test_read_file(path, &len);
    if (!p || len != n * sizeof(float)) {
        fprintf(stderr, "%s: expected %zu floats, got %zu bytes\n", path, n, p ? len : 0);
        free(p);
        return NULL;
    }
    return p;
}

static inline sculpt_model *uopen(const char *dir, const char *file) {
    char path[1024], err[512] = "";
    int pl = snprintf(path, sizeof path, "%s/%s", dir, file);
    if (pl < 0 || (size_t)pl >= sizeof path) return NULL;
    sculpt_model *m = NULL;
    sculpt_status st = sculpt_model_open(path, 0, &m, err, sizeof err);
    if (st != SCULPT_OK) fprintf(stderr, "open %s: %s (%s)\n", path, sculpt_status_string(st), err);
    return m;
}

static inline size_t uimage_floats(const sculpt_model *m, int n, int out) {
    const sculpt_config *c = sculpt_model_config(m);
    return (size_t)n * (size_t)(out ? c->out_channels : c->in_channels) * (size_t)c->sample_size *
           (size_t)c->sample_size;
}

#endif
