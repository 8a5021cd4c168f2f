/* fuzz_json.c — libFuzzer target: the strict JSON reader (converters/readers/json.c). */
#include "json.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256];
    json_value *v = json_parse((const char *)data, size, 64, err, sizeof err);
    if (v && v->type == JSON_OBJECT && v->len) (void)json_get(v, v->keys[v->len - 1]);
    json_free(v);
    return 0;
}
