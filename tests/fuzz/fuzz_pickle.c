/* fuzz_pickle.c — libFuzzer target: the pickle VM, its text rendering, and flattening with
 * every named storage bound to zero-filled bytes (so tensor views are materialised). */
#include "pickle.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    pk_vm *vm = pk_new((size_t)16 << 20);
    if (!vm) return 0;
    pk_value *v;
    size_t used;
    if (pk_load(vm, data, size, &used, &v, err, sizeof err) == 0) {
        free(pk_dump(vm, v, (size_t)1 << 20, err, sizeof err));
        static const unsigned char zeros[1 << 16];
        int ok = 1;
        for (size_t i = 0; i < pk_storage_count(vm); i++) {
            pk_storage *s = pk_storage_at(vm, i);
            uint64_t nb = s->numel * (s->untyped ? 1 : ck_dtype_size(s->dtype));
            if (s->numel > sizeof zeros || nb > sizeof zeros) ok = 0;
            s->data = zeros;
            s->nbytes = ok ? nb : 0;
        }
        ck_file f;
        if (ok && ck__begin(&f, "pickle", size, err, sizeof err) == 0) {
            pk_flatten(vm, v, &f, err, sizeof err);
            ck_file_free(&f);
        }
    }
    pk_free(vm);
    return 0;
}
