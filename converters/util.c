/* util.c — convert-weights' message helpers: one-line errors into a caller's buffer and
 * "note:" lines on a chosen stream. */
#include <stdarg.h>
#include <stdio.h>

#include "cw.h"

static FILE *note_stream;
static int note_stream_set;

int cw_fail(char *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, CW_ERR, fmt, ap);
    va_end(ap);
    return -1;
}

void cw_set_note_stream(void *file) {
    note_stream = file;
    note_stream_set = 1;
}

void cw_note(const char *fmt, ...) {
    FILE *f = note_stream_set ? note_stream : stdout;
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("note: ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
}
