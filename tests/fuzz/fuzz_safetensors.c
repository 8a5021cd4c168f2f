/* fuzz_safetensors.c — libFuzzer target: ck_read_safetensors (safetensors files); the shared body
 * (fuzz_ckpt.h) touches every tensor byte. */
#include "fuzz_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ckpt(ck_read_safetensors, data, size); }
