/* test_checksum.c — scw_sum_update against values from an independent Python
 * implementation of FORMAT.md's checksum, a byte-wise C reference, and chaining. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "test.h"
#include "wt_writer.h"

static uint64_t sum(const void *p, size_t n) { return scw_sum_final(scw_sum_update(SCW_SUM_INIT, p, n)); }

int main(void) {
    /* Expected values computed with Python ints (see FORMAT.md "Checksum"). */
    unsigned char r256[256];
    for (int i = 0; i < 256; i++) r256[i] = (unsigned char)i;
    static const unsigned char zero8[8] = {0};
    CHECK(sum("", 0) == 0xcbf29ce44fd0bfc1ull);
    CHECK(sum("a", 1) == 0xaf63dc4c296230c0ull);
    CHECK(sum("SCULPTWF", 8) == 0x281481308acc69b2ull);
    CHECK(sum("abcdefghijkl", 12) == 0x919d7ab7e0f013a8ull);
    CHECK(sum(r256, 256) == 0x0e87008ccb07a0a9ull);
    CHECK(sum(zero8, 8) == 0xaf63bd4c29620a93ull);
    /* Intermediate state of the worked example in FORMAT.md. */
    CHECK(scw_sum_update(SCW_SUM_INIT, "abcdefgh", 8) == 0x3919eeb00ee1e68cull);

    /* Against the byte-wise reference at every length and misalignment. */
    enum { N = 4096 + 64 };
    unsigned char *buf = malloc(N);
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= 300; n++) CHECKF(sum(buf + off, n) == wt_checksum(buf + off, n), "off %zu n %zu", off, n);
    CHECK(sum(buf, 4096) == wt_checksum(buf, 4096));

    /* Chaining at multiples of 8 equals one call. */
    uint64_t whole = sum(buf, 4000 + 3);
    for (size_t cut = 0; cut <= 4000; cut += 8) {
        uint64_t h = scw_sum_update(SCW_SUM_INIT, buf, cut);
        h = scw_sum_update(h, buf + cut, 4003 - cut);
        CHECKF(scw_sum_final(h) == whole, "cut %zu", cut);
    }
    uint64_t h = SCW_SUM_INIT;
    for (size_t i = 0; i < 4000; i += 16) h = scw_sum_update(h, buf + i, 16);
    h = scw_sum_update(h, buf + 4000, 3);
    CHECK(scw_sum_final(h) == whole);

    /* Every single-bit change is detected (each step is a bijection of the state). */
    for (int bit = 0; bit < 8 * 64; bit++) {
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        uint64_t flipped = sum(buf, 4003);
        buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        CHECKF(flipped != whole, "bit %d", bit);
    }
    free(buf);
    TEST_DONE();
}
