/* checksum.c — the flat weight file's checksum (format.h, weights/FORMAT.md): FNV-1a
 * (Fowler–Noll–Vo) applied to 64-bit little-endian words instead of bytes, sequential. */
#include <stdint.h>
#include <string.h>

#include "format.h"

#define FNV_PRIME 0x100000001b3ull

static inline uint64_t load_le64(const unsigned char *p) {
    uint64_t w;
    memcpy(&w, p, 8); /* one unaligned-safe load; compilers emit a plain mov */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* Chaining: update(update(s, a, 8k), b, n) == update(s, a||b, 8k + n), because only the
 * final call may hold a partial word. */
uint64_t scw_sum_update(uint64_t state, const void *data, uint64_t n) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = state;
    uint64_t words = n / 8;
    /* The multiply chain is the bound (one xor + mul per word); unrolling only trims the
     * loop overhead around it. */
    while (words >= 4) {
        h = (h ^ load_le64(p)) * FNV_PRIME;
        h = (h ^ load_le64(p + 8)) * FNV_PRIME;
        h = (h ^ load_le64(p + 16)) * FNV_PRIME;
        h = (h ^ load_le64(p + 24)) * FNV_PRIME;
        p += 32;
        words -= 4;
    }
    while (words--) {
        h = (h ^ load_le64(p)) * FNV_PRIME;
        p += 8;
    }
    uint64_t rest = n % 8;
    if (rest) {
        unsigned char tail[8] = {0};
        memcpy(tail, p, (size_t)rest);
        h = (h ^ load_le64(tail)) * FNV_PRIME;
    }
    return h;
}
