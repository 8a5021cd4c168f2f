/* default_model_none.c — stands in until weights/twemoji holds a trained model. */
#include "default_model.h"
_Alignas(64) const unsigned char sculpt_default_model_data[64] = {0};
const size_t sculpt_default_model_size = 0;
const char sculpt_default_model_name[] = "(none)";
