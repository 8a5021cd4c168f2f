/* fuzz_ckpt.h — the body every checkpoint-reader libFuzzer target shares: read, touch every
 * tensor byte (so AddressSanitizer checks the data pointers handed out), require a message. */
#ifndef FUZZ_CKPT_H
#define FUZZ_CKPT_H

#include "ckpt.h"

#include <stdint.h>

typedef int (*fuzz_reader)(const void *buf, size_t len, ck_file *out, char *err, size_t errlen);

static int fuzz_ckpt(fuzz_reader read, const uint8_t *data, size_t size) {
    char err[256];
    ck_file f;
    if (read(data, size, &f, err, sizeof err) == 0) {
        unsigned s = 0;
        for (int i = 0; i < f.n; i++)
            for (size_t k = 0; k < f.tensors[i].nbytes; k++) s += ((const unsigned char *)f.tensors[i].data)[k];
        volatile unsigned sink = s;
        (void)sink;
        ck_file_free(&f);
    } else if (!err[0]) {
        __builtin_trap(); /* a failure must say why */
    }
    return 0;
}

#endif
