/* fuzz_legacy.c — libFuzzer target: ck_read_torch_legacy (legacy (pre-1.6) torch.save files); the shared body
 * (fuzz_ckpt.h) touches every tensor byte. */
#include "fuzz_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ckpt(ck_read_torch_legacy, data, size); }
