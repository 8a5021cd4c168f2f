/* run_util.h — run the `sample` binary from a test: fork/exec with stdout/stderr captured
 * to files, a time limit, signals mid-run, and a look at which files a run left behind. */
#ifndef SCULPT_TEST_RUN_UTIL_H
#define SCULPT_TEST_RUN_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

#define RUN_MAX_ARGS 64
#define RUN_TIME_LIMIT_S 60.0

typedef struct run_result {
    int status;      /* exit code, or 128 + signal if killed, or -1 */
    char err[8192];  /* stderr */
    char out[8192];  /* stdout */
} run_result;

static double run_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_slurp(const char *path, char *buf, size_t len) {
    size_t n = 0;
    char *t = test_read_file(path, &n);
    buf[0] = '\0';
    if (t) {
        if (n >= len) n = len - 1;
        memcpy(buf, t, n);
        buf[n] = '\0';
        free(t);
    }
}

/* Non-zero: children started by run_start may write files of at most this many bytes
 * (RLIMIT_FSIZE, SIGXFSZ ignored, so a longer write fails with EFBIG as a full disk fails
 * with ENOSPC). */
static long run_fsize_limit;

/* Start argv[0] with argv; stdout/stderr go to <logdir>/stdout, <logdir>/stderr. */
static pid_t run_start(char *const argv[], const char *logdir) {
    char o[1024], e[1024];
    snprintf(o, sizeof o, "%s/stdout", logdir);
    snprintf(e, sizeof e, "%s/stderr", logdir);
    pid_t pid = fork();
    if (pid == 0) {
        int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fo < 0 || fe < 0) _exit(127);
        if (run_fsize_limit > 0) {
            struct rlimit rl = {(rlim_t)run_fsize_limit, (rlim_t)run_fsize_limit};
            signal(SIGXFSZ, SIG_IGN);
            if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(127);
        }
        dup2(fo, 1), dup2(fe, 2);
        close(fo), close(fe);
        test_execv(argv);
        _exit(127);
    }
    return pid;
}

/* Wait (at most RUN_TIME_LIMIT_S) and collect the result. */
static void run_finish(pid_t pid, const char *logdir, run_result *r) {
    int st = 0;
    double t0 = run_now();
    r->status = -1;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (w < 0) return;
        if (run_now() - t0 > RUN_TIME_LIMIT_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fprintf(stderr, "run: killed after %.0f s\n", RUN_TIME_LIMIT_S);
            break;
        }
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    char p[1024];
    snprintf(p, sizeof p, "%s/stdout", logdir);
    run_slurp(p, r->out, sizeof r->out);
    snprintf(p, sizeof p, "%s/stderr", logdir);
    run_slurp(p, r->err, sizeof r->err);
}

/* Run a space-separated command line (no quoting; "<empty>" is an empty argument). */
static void run_line(const char *exe, const char *line, const char *logdir, run_result *r) {
    static char buf[4096];
    char *argv[RUN_MAX_ARGS];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", line);
    argv[argc++] = (char *)exe;
    for (char *t = strtok(buf, " "); t && argc < RUN_MAX_ARGS - 1; t = strtok(NULL, " "))
        argv[argc++] = strcmp(t, "<empty>") == 0 ? (char *)"" : t;
    argv[argc] = NULL;
    pid_t pid = run_start(argv, logdir);
    run_finish(pid, logdir, r);
}

/* 0 if `exe --version` runs; else a message and 1 (for example a cross build whose
 * binaries the test, itself under an emulator, cannot start: the caller skips, exit 77). */
static int run_cannot_start(const char *exe, const char *logdir) {
    run_result r;
    run_line(exe, "--version", logdir, &r);
    if (r.status == 0 && strstr(r.out, "sculpt")) return 0;
    fprintf(stderr, "cannot start %s (exit %d: %s%s); skipping\n", exe, r.status, r.out, r.err);
    return 1;
}

/* Number of entries in dir (not . and ..). */
static int run_count_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Remove every plain file in dir. */
static void run_clear_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char p[2048];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}


/* stderr is exactly one line starting with "sample: ". */
static int run_one_line(const char *s) {
    size_t n = strlen(s);
    return n > 9 && strncmp(s, "sample: ", 8) == 0 && s[n - 1] == '\n' && strchr(s, '\n') == s + n - 1;
}

#endif
