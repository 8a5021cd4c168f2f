/* fuzz_zip.c — libFuzzer target: the zip reader (central directory, ZIP64, local headers,
 * stored and deflated entries, CRC) over the first 64 entries. */
#include "zip.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    zip_archive z;
    if (zip_open(&z, data, size, err, sizeof err) != 0) return 0;
    ck_file f;
    if (ck__begin(&f, "zip", size, err, sizeof err) == 0) {
        for (size_t i = 0; i < z.n && i < 64; i++) {
            const unsigned char *d;
            if (zip_find(&z, z.entries[i].name) != &z.entries[i]) __builtin_trap();
            if (zip_read(&z, &z.entries[i], &f, &d, err, sizeof err) == 0 && z.entries[i].size) {
                volatile unsigned char s = d[0] ^ d[z.entries[i].size - 1];
                (void)s;
            }
        }
        ck_file_free(&f);
    }
    zip_close(&z);
    return 0;
}
