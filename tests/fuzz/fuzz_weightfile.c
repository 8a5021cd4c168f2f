/* fuzz_weightfile.c — libFuzzer target: the flat weight file loader
 * (sculpt_model_open_memory, runtime/src/io), fed from a 64-byte aligned copy. */
#include "sculpt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    void *buf = NULL;
    if (posix_memalign(&buf, 64, size ? size : 64) != 0) return 0;
    if (size) memcpy(buf, data, size);
    char err[256];
    sculpt_model *m = NULL;
    sculpt_model_open_memory(buf, size, "fuzz", 0, &m, err, sizeof err);
    sculpt_model_close(m);
    free(buf);
    return 0;
}
