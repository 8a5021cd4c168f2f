/* json.h — a small, strict JSON reader (RFC 8259) for config.json, scheduler_config.json
 * and safetensors headers. Depth and size bounded; never trusts the input. */
#ifndef SCULPT_JSON_H
#define SCULPT_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    int boolean;
    double number;         /* JSON_NUMBER */
    int is_integer;        /* number had no fraction/exponent and fits int64 */
    int64_t integer;       /* valid when is_integer */
    char *string;          /* JSON_STRING: UTF-8, NUL-terminated (embedded NUL rejected) */
    size_t len;            /* string length, or element count of array/object */
    json_value *items;     /* array elements / object values, [len] */
    char **keys;           /* object keys, [len] (duplicates rejected) */
};

/* Parse text[0..len). NULL on error with a message ("line 3, column 7: expected ','").
 * max_depth bounds nesting (use 64); the parsed values may take at most 16 bytes per byte of
 * text plus 1 MiB (documents of tiny values such as `[0,0,0,...]` are refused). */
json_value *json_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen);
void json_free(json_value *v);
const json_value *json_get(const json_value *obj, const char *key); /* NULL if absent or not an object */

#endif
