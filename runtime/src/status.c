/* status.c — words for sculpt_status codes. */
#include "sculpt.h"

const char *sculpt_status_string(sculpt_status s) {
    switch (s) {
    case SCULPT_OK: return "ok";
    case SCULPT_E_IO: return "I/O error";
    case SCULPT_E_FORMAT: return "malformed file";
    case SCULPT_E_UNSUPPORTED: return "unsupported";
    case SCULPT_E_NOMEM: return "out of memory";
    case SCULPT_E_ARG: return "bad argument";
    case SCULPT_E_CPU: return "CPU lacks the requested kernel path";
    case SCULPT_E_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}
