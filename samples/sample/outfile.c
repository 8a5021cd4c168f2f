/* outfile.c — temporary file + rename, so an error or Ctrl-C never leaves a partial
 * output under its final name (the classic mkstemp/fsync/rename pattern). */
#include "outfile.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary names in progress, copied where a signal handler may read them: a slot is
 * filled before the handler may need it and emptied only after the file is renamed or
 * removed (an unlink of a name already gone is harmless). */
#define LIVE_SLOTS 4
#define LIVE_NAME 4096
static char live_name[LIVE_SLOTS][LIVE_NAME];
static volatile sig_atomic_t live_used[LIVE_SLOTS];

static int live_add(const char *tmp) {
    if (strlen(tmp) >= LIVE_NAME) return 0;
    for (int i = 0; i < LIVE_SLOTS; i++)
        if (!live_used[i]) {
            memcpy(live_name[i], tmp, strlen(tmp) + 1);
            live_used[i] = 1;
            return i + 1;
        }
    return 0; /* more files at once than slots: still correct, just not signal-cleaned */
}

static void live_drop(int slot) {
    if (slot > 0) live_used[slot - 1] = 0;
}

void sample_outfile_remove_all_from_signal(void) {
    for (int i = 0; i < LIVE_SLOTS; i++)
        if (live_used[i]) unlink(live_name[i]);
}

/* "<dir>/.<base>.tmp-XXXXXX" for path "<dir>/<base>". */
static char *temp_name(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    size_t n = strlen(path) + 16;
    char *t = malloc(n);
    if (!t) return NULL;
    snprintf(t, n, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, base);
    return t;
}

int sample_outfile_open(sample_outfile *o, const char *path, char *err, size_t errlen) {
    memset(o, 0, sizeof *o);
    o->path = strdup(path);
    o->tmp = temp_name(path);
    if (!o->path || !o->tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        sample_outfile_abort(o);
        return -1;
    }
    int fd = mkstemp(o->tmp);
    if (fd >= 0) o->slot = live_add(o->tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a file in its directory: %s", path, strerror(errno));
        free(o->tmp), o->tmp = NULL;
        sample_outfile_abort(o);
        return -1;
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        sample_outfile_abort(o);
        return -1;
    }
    return 0;
}

int sample_outfile_commit(sample_outfile *o, char *err, size_t errlen) {
    int rc = 0;
    if (!o->f) {
        snprintf(err, errlen, "%s: not open", o->path ? o->path : "(output)");
        sample_outfile_abort(o);
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fflush(o->f) != 0 || ferror(o->f)) {
        snprintf(err, errlen, "%s: write failed: %s", o->path, strerror(errno));
        rc = -1;
    } else if (fchmod(fileno(o->f), 0666 & ~mask) != 0 || fsync(fileno(o->f)) != 0) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        rc = -1;
    }
    int cl = fclose(o->f);
    o->f = NULL;
    if (rc == 0 && cl != 0) {
        snprintf(err, errlen, "%s: write failed: %s", o->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(o->tmp, o->path) != 0) {
        snprintf(err, errlen, "%s: cannot rename the finished file into place: %s", o->path, strerror(errno));
        rc = -1;
    }
    if (rc == 0) {
        free(o->tmp), o->tmp = NULL; /* renamed: nothing to remove */
    }
    sample_outfile_abort(o);
    return rc;
}

void sample_outfile_abort(sample_outfile *o) {
    if (o->f) fclose(o->f);
    if (o->tmp) unlink(o->tmp);
    live_drop(o->slot); /* renamed (tmp freed by commit) or removed just now */
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}

int sample_outfile_probe(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory (give a file name)", path);
        return -1;
    }
    sample_outfile o;
    if (sample_outfile_open(&o, path, err, errlen)) return -1;
    sample_outfile_abort(&o);
    return 0;
}
