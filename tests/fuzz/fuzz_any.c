/* fuzz_any.c — libFuzzer target: ck_read_any (format sniffing and every reader); the shared body
 * (fuzz_ckpt.h) touches every tensor byte. */
#include "fuzz_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ckpt(ck_read_any, data, size); }
