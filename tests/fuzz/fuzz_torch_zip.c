/* fuzz_torch_zip.c — libFuzzer target: ck_read_torch_zip (torch.save zip archives); the shared body
 * (fuzz_ckpt.h) touches every tensor byte. */
#include "fuzz_ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_ckpt(ck_read_torch_zip, data, size); }
