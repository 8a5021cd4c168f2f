/* fuzz_legacy.c — libFuzzer target: ck_read_torch_legacy (legacy (pre-1.6) torch.save files); every tensor byte is
 * touched so AddressSanitizer checks the data pointers a reader hands out. */
#include "ckpt.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    ck_file f;
    if (ck_read_torch_legacy(data, size, &f, err, sizeof err) == 0) {
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
