/* cw_test.h — helpers for the converter tests: run convert-weights as a child process with
 * captured output, and read the expected-tensor manifests tests/reference/make_checkpoints.py
 * wrote with PyTorch. */
#ifndef CW_TEST_H
#define CW_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* Run argv (NULL-terminated); stdout/stderr into the files given. Exit status, or -1. */
static int cw_run(char *const *argv, const char *out_path, const char *err_path) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0) _exit(126);
        dup2(fo, 1);
        dup2(fe, 2);
        close(fo);
        close(fe);
        test_execv(argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) return -1;
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int cw_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

/* Lines in a text file (0 if it cannot be read). */
static int cw_count_lines(const char *path) {
    size_t len = 0;
    char *t = test_read_file(path, &len);
    if (!t) return 0;
    int n = 0;
    for (size_t i = 0; i < len; i++) n += t[i] == '\n';
    if (len && t[len - 1] != '\n') n++;
    free(t);
    return n;
}

static int cw_file_contains(const char *path, const char *needle) {
    size_t len = 0;
    char *t = test_read_file(path, &len);
    if (!t) return 0;
    t[len] = 0;
    int r = strstr(t, needle) != NULL;
    free(t);
    return r;
}

/* One expected tensor of a manifest: "name dtype offset nbytes d0,d1,..." */
typedef struct cw_exp {
    char name[96];
    char dtype[8];
    size_t off, nbytes;
    int ndim;
    long long shape[4];
} cw_exp;

typedef struct cw_manifest {
    int n;
    cw_exp *t;
    unsigned char *raw;
    size_t raw_len;
} cw_manifest;

static int cw_manifest_load(const char *dir, const char *stem, cw_manifest *m) {
    char p[2048];
    memset(m, 0, sizeof *m);
    snprintf(p, sizeof p, "%s/%s.raw", dir, stem);
    m->raw = test_read_file(p, &m->raw_len);
    snprintf(p, sizeof p, "%s/%s.txt", dir, stem);
    FILE *f = fopen(p, "r");
    if (!m->raw || !f) {
        if (f) fclose(f);
        fprintf(stderr, "cannot read manifest %s\n", p);
        return -1;
    }
    char line[512];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (m->n == cap) {
            cap = cap ? 2 * cap : 256;
            m->t = realloc(m->t, (size_t)cap * sizeof *m->t);
        }
        cw_exp *e = &m->t[m->n];
        char shp[128];
        if (sscanf(line, "%95s %7s %zu %zu %127s", e->name, e->dtype, &e->off, &e->nbytes, shp) != 5) continue;
        e->ndim = 0;
        for (char *s = strtok(shp, ","); s && e->ndim < 4; s = strtok(NULL, ",")) e->shape[e->ndim++] = atoll(s);
        if (e->off + e->nbytes > m->raw_len) { fclose(f); return -1; }
        m->n++;
    }
    fclose(f);
    return 0;
}

static void cw_manifest_free(cw_manifest *m) {
    free(m->t);
    free(m->raw);
    memset(m, 0, sizeof *m);
}

#endif
