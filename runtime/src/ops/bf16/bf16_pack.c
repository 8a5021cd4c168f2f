/* bf16_pack.c — weights packed once, at prepare, into a bf16 kernel's A layout
 * (bf16_kernels.h): panels of mr output channels, each [Kp/kg][mr][kg] bf16 with
 * Kp = K rounded up to kg, values rounded to nearest even, padding zero.
 *
 *   panel r (rows r*mr ..):  group 0: row 0 [k 0..kg-1], row 1 [k 0..kg-1], .. row mr-1
 *                            group 1: row 0 [k kg..2kg-1], ..
 *
 * A conv's k order follows the path conv2d_bf16_run takes (bf16_conv_direct_block):
 *   general: conv2d_ref's, k = c*T + t (T = kh*kw taps, t = ky*kw + kx)
 *   direct:  channel blocks of cb, then taps, then channels: k = (blk*T + t)*cb + c % cb,
 *            so each 32-k group is 32 channels of one tap (ic is a multiple of 32) */
#include <string.h>

#include "ops/bf16/bf16_kernels.h"
#include "ops/pack.h"

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

size_t bf16_packed_a_bytes(const bf16_kernel *k, int m, int kdim) {
    const size_t panels = (size_t)((m + k->mr - 1) / k->mr);
    return panels * (size_t)k->mr * (size_t)round_up(kdim, k->kg) * sizeof(uint16_t);
}

/* Column of w [m][kdim] that packed k takes: the identity, or the direct order for
 * channel blocks of cb (> 0) of ic channels with T taps. */
static size_t source_k(int p, int cb, int ic, int taps) {
    if (cb <= 0) return (size_t)p;
    const int blk = p / (cb * taps), nch = ic - blk * cb < cb ? ic - blk * cb : cb;
    const int r = p - blk * cb * taps, t = r / nch, c = blk * cb + r % nch;
    return (size_t)c * taps + t;
}

static void pack(const bf16_kernel *k, const void *w, int dtype, int m, int kdim, int cb,
                 int ic, int taps, void *dst) {
    const int mr = k->mr, g = k->kg, kp = round_up(kdim, g), panels = (m + mr - 1) / mr;
    for (int r = 0; r < panels; r++) {
        unsigned char *d = (unsigned char *)dst + (size_t)r * mr * kp * sizeof(uint16_t);
        for (int i = 0; i < mr; i++) {
            const int row = r * mr + i;
            for (int p = 0; p < kp; p++) {
                const uint16_t v =
                    row < m && p < kdim
                        ? bf16_from_f32(pack_load(w, dtype, (size_t)row * kdim + source_k(p, cb, ic, taps)))
                        : 0;
                const size_t at = (size_t)(p / g) * mr * g + (size_t)i * g + (size_t)(p % g);
                memcpy(d + at * sizeof v, &v, sizeof v);
            }
        }
    }
}

void bf16_pack_a(const bf16_kernel *k, const void *w, int dtype, int m, int kdim, void *dst) {
    pack(k, w, dtype, m, kdim, 0, 0, 1, dst);
}

size_t bf16_conv_packed_bytes(const bf16_kernel *k, const conv_shape *s) {
    return bf16_packed_a_bytes(k, s->oc, s->ic * s->kh * s->kw);
}

void bf16_conv_pack(const bf16_kernel *k, const conv_shape *s, const void *w, int dtype,
                    void *dst) {
    const int taps = s->kh * s->kw;
    pack(k, w, dtype, s->oc, s->ic * taps, bf16_conv_direct_block(k, s), s->ic, taps, dst);
}
