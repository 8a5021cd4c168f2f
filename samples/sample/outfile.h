/* outfile.h — files that appear complete or not at all: written under a hidden temporary
 * name in the destination's directory, fsync'd and renamed over the final name. */
#ifndef SAMPLE_OUTFILE_H
#define SAMPLE_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct sample_outfile {
    char *path; /* final name (owned copy) */
    char *tmp;  /* temporary name in the same directory (owned) */
    FILE *f;    /* open for writing while in progress; NULL otherwise */
    int slot;   /* its entry in the table of live temporary names (+1; 0 = none) */
} sample_outfile;

/* Create the temporary file for `path`. 0, or -1 with one line in err (nothing left). */
int sample_outfile_open(sample_outfile *o, const char *path, char *err, size_t errlen);
/* Flush, sync, give the file the usual permissions (0666 & ~umask) and rename it to its
 * final name. 0, or -1 with err; on failure the temporary file is removed. Frees o. */
int sample_outfile_commit(sample_outfile *o, char *err, size_t errlen);
/* Close and remove the temporary file; a zeroed or committed o is a no-op. Frees o. */
void sample_outfile_abort(sample_outfile *o);

/* Async-signal-safe: remove every temporary file still in progress (for a signal handler
 * that is about to end the process). */
void sample_outfile_remove_all_from_signal(void);

/* Check that files can be created next to `path` (create and remove a temporary one),
 * so an unwritable destination is refused before any work. 0 or -1 with err. */
int sample_outfile_probe(const char *path, char *err, size_t errlen);

#endif
