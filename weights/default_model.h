/* default_model.h — the built-in default model (weights/twemoji), embedded in the binary
 * and 64-byte aligned; size 0 when the build has none. */
#ifndef SCULPT_DEFAULT_MODEL_H
#define SCULPT_DEFAULT_MODEL_H
#include <stddef.h>
extern const unsigned char sculpt_default_model_data[];
extern const size_t sculpt_default_model_size;
extern const char sculpt_default_model_name[];
#endif
