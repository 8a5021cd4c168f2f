/* wt_writer.c — test-only flat weight file writer, an independent implementation of
 * weights/FORMAT.md (byte offsets spelled out here, not taken from format.h). */
#include "wt_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unet_spec.h"

void wt_put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
void wt_put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
uint32_t wt_get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
uint64_t wt_get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void putf(unsigned char *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    wt_put32(p, u);
}

/* FORMAT.md: FNV-1a over 64-bit little-endian words, last word zero padded,
 * h = (h ^ w) * prime, final h ^ (h >> 32). Assembled byte by byte here. */
static uint64_t sum_bytes(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        for (size_t j = 0; j < 8; j++) w |= (uint64_t)(i + j < n ? p[i + j] : 0) << (8 * j);
        h = (h ^ w) * 0x100000001b3ull;
    }
    return h;
}
uint64_t wt_checksum(const void *data, size_t n) {
    uint64_t h = sum_bytes(0xcbf29ce484222325ull, data, n);
    return h ^ (h >> 32);
}

static uint64_t up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

void wt_schedule(const wt_spec *s, float *betas, float *ac) {
    double prod = 1.0;
    for (int t = 0; t < s->T; t++) {
        double frac = s->T > 1 ? (double)t / (s->T - 1) : 0.0;
        betas[t] = (float)(s->beta_start + frac * (s->beta_end - s->beta_start));
        prod *= 1.0 - (double)betas[t];
        ac[t] = (float)prod;
        prod = ac[t];
    }
}

void wt_fill(int k, uint32_t dtype, unsigned char *dst, uint64_t nbytes) {
    uint32_t x = 2166136261u ^ (uint32_t)k * 16777619u;
    if (dtype == 0) {
        for (uint64_t i = 0; i + 4 <= nbytes; i += 4) {
            x = x * 1664525u + 1013904223u;
            putf(dst + i, (float)((int32_t)(x >> 8) - (1 << 23)) / (float)(1 << 23));
        }
    } else {
        for (uint64_t i = 0; i + 2 <= nbytes; i += 2) {
            x = x * 1664525u + 1013904223u;
            /* magnitudes in [0.5, 1): f16 0x38xx-0x3bxx, bf16 0x3f00-0x3f7f */
            uint16_t v = dtype == 1 ? (uint16_t)(0x3800 + (x >> 22)) : (uint16_t)(0x3f00 + (x >> 25));
            if (x & 0x100) v |= 0x8000;
            dst[i] = (unsigned char)v;
            dst[i + 1] = (unsigned char)(v >> 8);
        }
    }
}

int wt_spec_tiny(wt_spec *s, int T) {
    memset(s, 0, sizeof *s);
    sculpt_config *c = &s->config;
    c->in_channels = 3;
    c->out_channels = 3;
    c->sample_size = 8;
    c->n_levels = 2;
    c->block_out_channels[0] = 16;
    c->block_out_channels[1] = 32;
    c->down_attn[1] = 1;
    c->up_attn[0] = 1;
    c->layers_per_block = 1;
    c->norm_num_groups = 8;
    c->attn_norm_num_groups = 8;
    c->norm_eps = 1e-6f;
    c->attention_head_dim = 8;
    c->mid_attention = 1;
    c->flip_sin_to_cos = 1;
    c->freq_shift = 0.0f;
    c->time_embed_dim = 64;
    c->downsample_type = SCULPT_DOWNSAMPLE_CONV;
    c->downsample_padding = 1;
    c->center_input_sample = 0;
    s->T = T;
    s->beta_schedule = SCULPT_BETA_LINEAR;
    s->beta_start = 1e-4f;
    s->beta_end = 0.02f;
    s->variance_type = SCULPT_VAR_FIXED_LARGE;
    s->clip_sample = 1;
    s->clip_sample_range = 1.0f;
    s->prediction_type = SCULPT_PRED_EPSILON;
    s->metadata = "source=tiny test\nconverter=wt_writer 1\nnote=ünïcödé ok\n";
    int n = unet_spec_params(c, NULL, 0, NULL, 0);
    if (n <= 0) return -1;
    unet_param *p = malloc((size_t)n * sizeof *p);
    s->tensors = calloc((size_t)n + 1, sizeof *s->tensors); /* +1: room for an extra one */
    if (!p || !s->tensors) {
        free(p);
        return -1;
    }
    unet_spec_params(c, p, n, NULL, 0);
    for (int k = 0; k < n; k++) {
        wt_tensor *t = &s->tensors[k];
        snprintf(t->name, sizeof t->name, "%s", p[k].name);
        t->dtype = k % 5 == 4 ? 2 : k % 3 == 2 ? 1 : 0;
        t->ndim = (uint32_t)p[k].ndim;
        for (int d = 0; d < p[k].ndim; d++) t->shape[d] = (uint32_t)p[k].shape[d];
    }
    s->n_tensors = n;
    free(p);
    return 0;
}

void wt_spec_free(wt_spec *s) {
    free(s->tensors);
    s->tensors = NULL;
}

static uint64_t tensor_bytes(const wt_tensor *t) {
    uint64_t n = t->dtype == 0 ? 4 : 2;
    for (uint32_t d = 0; d < t->ndim && d < 4; d++) n *= t->shape[d];
    return n;
}

unsigned char *wt_build(const wt_spec *s, size_t *size) {
    const uint64_t table = 512, nt = (uint64_t)s->n_tensors;
    const uint64_t sched = table + 128 * nt;
    const uint64_t meta = up(sched + 8 * (uint64_t)s->T, 8);
    const uint64_t meta_size = s->metadata ? strlen(s->metadata) : 0;
    const uint64_t data = up(meta + meta_size, 64);
    uint64_t end = data;
    for (int k = 0; k < s->n_tensors; k++) end = up(end, 64) + tensor_bytes(&s->tensors[k]);
    end = up(end, 64);
    void *mem = NULL;
    if (posix_memalign(&mem, 64, (size_t)end)) return NULL;
    unsigned char *b = mem;
    memset(b, 0, (size_t)end);

    memcpy(b, "SCULPTWF", 8);
    wt_put32(b + 8, 1);
    wt_put32(b + 12, 512);
    wt_put64(b + 16, end);
    wt_put64(b + 24, table);
    wt_put32(b + 32, (uint32_t)nt);
    wt_put32(b + 36, 128);
    wt_put64(b + 40, sched);
    wt_put64(b + 48, meta);
    wt_put64(b + 56, meta_size);
    wt_put64(b + 64, data);
    wt_put64(b + 72, end - data);
    wt_put32(b + 96, 1);
    const sculpt_config *c = &s->config;
    unsigned char *q = b + 100;
    int32_t head[4] = {c->in_channels, c->out_channels, c->sample_size, c->n_levels};
    for (int i = 0; i < 4; i++, q += 4) wt_put32(q, (uint32_t)head[i]);
    for (int i = 0; i < 8; i++, q += 4) wt_put32(q, (uint32_t)c->block_out_channels[i]);
    for (int i = 0; i < 8; i++, q += 4) wt_put32(q, (uint32_t)c->down_attn[i]);
    for (int i = 0; i < 8; i++, q += 4) wt_put32(q, (uint32_t)c->up_attn[i]);
    wt_put32(b + 212, (uint32_t)c->layers_per_block);
    wt_put32(b + 216, (uint32_t)c->norm_num_groups);
    wt_put32(b + 220, (uint32_t)c->attn_norm_num_groups);
    putf(b + 224, c->norm_eps);
    wt_put32(b + 228, (uint32_t)c->attention_head_dim);
    wt_put32(b + 232, (uint32_t)c->mid_attention);
    wt_put32(b + 236, (uint32_t)c->flip_sin_to_cos);
    putf(b + 240, c->freq_shift);
    wt_put32(b + 244, (uint32_t)c->time_embed_dim);
    wt_put32(b + 248, (uint32_t)c->downsample_type);
    wt_put32(b + 252, (uint32_t)c->downsample_padding);
    wt_put32(b + 256, (uint32_t)c->center_input_sample);
    wt_put32(b + 288, (uint32_t)s->T);
    wt_put32(b + 292, (uint32_t)s->beta_schedule);
    putf(b + 296, s->beta_start);
    putf(b + 300, s->beta_end);
    wt_put32(b + 304, (uint32_t)s->variance_type);
    wt_put32(b + 308, (uint32_t)s->clip_sample);
    putf(b + 312, s->clip_sample_range);
    wt_put32(b + 316, (uint32_t)s->prediction_type);

    uint64_t off = data;
    for (int k = 0; k < s->n_tensors; k++) {
        const wt_tensor *t = &s->tensors[k];
        unsigned char *e = b + table + 128 * (uint64_t)k;
        size_t len = strlen(t->name);
        memcpy(e, t->name, len < 80 ? len : 80);
        wt_put32(e + 80, t->dtype);
        wt_put32(e + 84, t->ndim);
        for (int d = 0; d < 4; d++) wt_put32(e + 88 + 4 * d, t->shape[d]);
        off = up(off, 64);
        uint64_t nb = tensor_bytes(t);
        wt_put64(e + 104, off);
        wt_put64(e + 112, nb);
        wt_fill(k, t->dtype, b + off, nb);
        off += nb;
    }
    float *betas = malloc(2 * (size_t)(s->T > 0 ? s->T : 1) * sizeof *betas);
    if (!betas) {
        free(b);
        return NULL;
    }
    wt_schedule(s, betas, betas + s->T);
    for (int i = 0; i < 2 * s->T; i++) putf(b + sched + 4 * (uint64_t)i, betas[i]);
    free(betas);
    if (meta_size) memcpy(b + meta, s->metadata, (size_t)meta_size);
    wt_reseal(b, (size_t)end);
    *size = (size_t)end;
    return b;
}

void wt_reseal(unsigned char *b, size_t size) {
    if (size < 512) return;
    uint64_t data = wt_get64(b + 64);
    if (data < 96 || data > size) return;
    wt_put64(b + 88, 0);
    wt_put64(b + 80, wt_checksum(b + data, size - (size_t)data));
    wt_put64(b + 88, wt_checksum(b, (size_t)data));
}

int wt_write_file(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(buf, 1, n, f);
    return (fclose(f) != 0 || w != n) ? -1 : 0;
}
