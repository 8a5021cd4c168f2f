/* unet_spec.c — names and shapes of the DDPM UNet's parameters for a config, following
 * diffusers UNet2DModel (unet_2d.py, unet_2d_blocks.py, resnet.py, attention_processor.py). */
#include "unet_spec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    unet_param *out;
    int cap, n;
} plist;

static void add(plist *p, int ndim, int64_t a, int64_t b, int64_t c, int64_t d, const char *fmt, ...) {
    if (p->n < p->cap) {
        unet_param *q = &p->out[p->n];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q->name, sizeof q->name, fmt, ap);
        va_end(ap);
        q->ndim = ndim;
        q->shape[0] = a; q->shape[1] = b; q->shape[2] = c; q->shape[3] = d;
        for (int i = ndim; i < 4; i++) q->shape[i] = 0;
    }
    p->n++;
}

static void norm(plist *p, const char *pre, int ch) {
    add(p, 1, ch, 0, 0, 0, "%s.weight", pre);
    add(p, 1, ch, 0, 0, 0, "%s.bias", pre);
}

static void conv(plist *p, const char *pre, int oc, int ic, int k) {
    add(p, 4, oc, ic, k, k, "%s.weight", pre);
    add(p, 1, oc, 0, 0, 0, "%s.bias", pre);
}

static void linear(plist *p, const char *pre, int o, int i) {
    add(p, 2, o, i, 0, 0, "%s.weight", pre);
    add(p, 1, o, 0, 0, 0, "%s.bias", pre);
}

static void resnet(plist *p, const char *pre, int ic, int oc, int temb) {
    char b[UNET_NAME_MAX];
    snprintf(b, sizeof b, "%s.norm1", pre); norm(p, b, ic);
    snprintf(b, sizeof b, "%s.conv1", pre); conv(p, b, oc, ic, 3);
    snprintf(b, sizeof b, "%s.time_emb_proj", pre); linear(p, b, oc, temb);
    snprintf(b, sizeof b, "%s.norm2", pre); norm(p, b, oc);
    snprintf(b, sizeof b, "%s.conv2", pre); conv(p, b, oc, oc, 3);
    if (ic != oc) { snprintf(b, sizeof b, "%s.conv_shortcut", pre); conv(p, b, oc, ic, 1); }
}

static void attention(plist *p, const char *pre, int ch) {
    char b[UNET_NAME_MAX];
    snprintf(b, sizeof b, "%s.group_norm", pre); norm(p, b, ch);
    snprintf(b, sizeof b, "%s.to_q", pre); linear(p, b, ch, ch);
    snprintf(b, sizeof b, "%s.to_k", pre); linear(p, b, ch, ch);
    snprintf(b, sizeof b, "%s.to_v", pre); linear(p, b, ch, ch);
    snprintf(b, sizeof b, "%s.to_out.0", pre); linear(p, b, ch, ch);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void unet_config_default(sculpt_config *c) {
    memset(c, 0, sizeof *c);
    c->in_channels = 3;
    c->out_channels = 3;
    c->sample_size = 32;
    c->n_levels = 4;
    const int ch[4] = {128, 256, 256, 256};
    for (int i = 0; i < 4; i++) c->block_out_channels[i] = ch[i];
    c->down_attn[1] = 1;
    c->up_attn[2] = 1;
    c->layers_per_block = 2;
    c->norm_num_groups = 32;
    c->attn_norm_num_groups = 32;
    c->norm_eps = 1e-6f;
    c->attention_head_dim = 0;
    c->mid_attention = 1;
    c->flip_sin_to_cos = 0;
    c->freq_shift = 1.0f;
    c->time_embed_dim = 512;
    c->downsample_type = SCULPT_DOWNSAMPLE_CONV;
    c->downsample_padding = 0;
    c->center_input_sample = 0;
}

int unet_config_check(const sculpt_config *c, char *err, size_t errlen) {
    const int64_t big = 1 << 16;
    if (c->in_channels < 1 || c->in_channels > 64)
        return fail(err, errlen, "in_channels = %d must be in 1..64", c->in_channels);
    if (c->out_channels < 1 || c->out_channels > 64)
        return fail(err, errlen, "out_channels = %d must be in 1..64", c->out_channels);
    if (c->n_levels < 1 || c->n_levels > SCULPT_MAX_LEVELS)
        return fail(err, errlen, "n_levels = %d must be in 1..%d", c->n_levels, SCULPT_MAX_LEVELS);
    if (c->sample_size < 1 || c->sample_size > 4096)
        return fail(err, errlen, "sample_size = %d must be in 1..4096", c->sample_size);
    if (c->sample_size % (1 << (c->n_levels - 1)) != 0)
        return fail(err, errlen, "sample_size = %d is not divisible by 2^(n_levels-1) = %d",
                    c->sample_size, 1 << (c->n_levels - 1));
    if (c->layers_per_block < 1 || c->layers_per_block > 16)
        return fail(err, errlen, "layers_per_block = %d must be in 1..16", c->layers_per_block);
    if (c->norm_num_groups < 1) return fail(err, errlen, "norm_num_groups = %d must be >= 1", c->norm_num_groups);
    if (c->attn_norm_num_groups < 1)
        return fail(err, errlen, "attn_norm_num_groups = %d must be >= 1", c->attn_norm_num_groups);
    if (!(c->norm_eps > 0.0f && c->norm_eps < 1.0f))
        return fail(err, errlen, "norm_eps = %g must be in (0, 1)", (double)c->norm_eps);
    if (!(c->freq_shift >= -1e6f && c->freq_shift <= 1e6f))
        return fail(err, errlen, "freq_shift = %g is out of range", (double)c->freq_shift);
    for (int l = 0; l < c->n_levels; l++) {
        int ch = c->block_out_channels[l];
        if (ch < 1 || ch > big)
            return fail(err, errlen, "block_out_channels[%d] = %d must be in 1..%d", l, ch, (int)big);
        if (ch % c->norm_num_groups)
            return fail(err, errlen, "block_out_channels[%d] = %d is not divisible by norm_num_groups = %d",
                        l, ch, c->norm_num_groups);
        int mid_attn = l == c->n_levels - 1 && c->mid_attention;
        int attn = c->down_attn[l] || c->up_attn[c->n_levels - 1 - l] || mid_attn;
        /* diffusers gives attn_norm_num_groups to the mid block's attention only; down and
         * up attentions normalise with norm_num_groups (checked above) */
        if (mid_attn && ch % c->attn_norm_num_groups)
            return fail(err, errlen, "block_out_channels[%d] = %d is not divisible by attn_norm_num_groups = %d",
                        l, ch, c->attn_norm_num_groups);
        if (attn && c->attention_head_dim > 0 && ch % c->attention_head_dim)
            return fail(err, errlen, "block_out_channels[%d] = %d is not divisible by attention_head_dim = %d",
                        l, ch, c->attention_head_dim);
        if ((c->down_attn[l] | c->up_attn[l]) & ~1)
            return fail(err, errlen, "attention flags for level %d must be 0 or 1", l);
    }
    for (int l = c->n_levels; l < SCULPT_MAX_LEVELS; l++)
        if (c->block_out_channels[l] || c->down_attn[l] || c->up_attn[l])
            return fail(err, errlen, "level %d is set but n_levels = %d", l, c->n_levels);
    if (c->block_out_channels[0] % 2)
        return fail(err, errlen, "block_out_channels[0] = %d must be even (sinusoidal embedding)",
                    c->block_out_channels[0]);
    if (c->time_embed_dim < 1 || c->time_embed_dim > 4 * big)
        return fail(err, errlen, "time_embed_dim = %d is out of range", c->time_embed_dim);
    if (c->attention_head_dim < 0) return fail(err, errlen, "attention_head_dim = %d must be >= 0", c->attention_head_dim);
    if (c->mid_attention & ~1 || c->flip_sin_to_cos & ~1 || c->center_input_sample & ~1)
        return fail(err, errlen, "boolean config fields must be 0 or 1");
    if (c->downsample_type != SCULPT_DOWNSAMPLE_CONV && c->downsample_type != SCULPT_DOWNSAMPLE_AVGPOOL)
        return fail(err, errlen, "downsample_type = %d is unknown", c->downsample_type);
    if (c->downsample_padding != 0 && c->downsample_padding != 1)
        return fail(err, errlen, "downsample_padding = %d must be 0 or 1", c->downsample_padding);
    return 0;
}

void unet_up_resnet_channels(const sculpt_config *c, int i, int j, int *in_ch, int *skip_ch, int *out_ch) {
    int L = c->n_levels;
    int out = c->block_out_channels[L - 1 - i];
    int prev = c->block_out_channels[L - 1 - (i > 0 ? i - 1 : 0)];
    int in = c->block_out_channels[L - 1 - (i + 1 < L ? i + 1 : L - 1)];
    int nl = c->layers_per_block + 1;
    *skip_ch = (j == nl - 1) ? in : out;
    *in_ch = (j == 0) ? prev : out;
    *out_ch = out;
}

int unet_spec_params(const sculpt_config *c, unet_param *out, int cap, char *err, size_t errlen) {
    if (unet_config_check(c, err, errlen)) return -1;
    plist p = {out, out ? cap : 0, 0};
    char b[UNET_NAME_MAX];
    const int L = c->n_levels, c0 = c->block_out_channels[0], temb = c->time_embed_dim;
    conv(&p, "conv_in", c0, c->in_channels, 3);
    linear(&p, "time_embedding.linear_1", temb, c0);
    linear(&p, "time_embedding.linear_2", temb, temb);
    int ch = c0;
    for (int l = 0; l < L; l++) {
        int oc = c->block_out_channels[l];
        for (int j = 0; j < c->layers_per_block; j++) {
            snprintf(b, sizeof b, "down_blocks.%d.resnets.%d", l, j);
            resnet(&p, b, ch, oc, temb);
            ch = oc;
            if (c->down_attn[l]) {
                snprintf(b, sizeof b, "down_blocks.%d.attentions.%d", l, j);
                attention(&p, b, oc);
            }
        }
        if (l != L - 1 && c->downsample_type == SCULPT_DOWNSAMPLE_CONV) {
            snprintf(b, sizeof b, "down_blocks.%d.downsamplers.0.conv", l);
            conv(&p, b, oc, oc, 3);
        }
    }
    int top = c->block_out_channels[L - 1];
    resnet(&p, "mid_block.resnets.0", top, top, temb);
    if (c->mid_attention) attention(&p, "mid_block.attentions.0", top);
    resnet(&p, "mid_block.resnets.1", top, top, temb);
    for (int i = 0; i < L; i++) {
        for (int j = 0; j < c->layers_per_block + 1; j++) {
            int ic, sc, oc;
            unet_up_resnet_channels(c, i, j, &ic, &sc, &oc);
            snprintf(b, sizeof b, "up_blocks.%d.resnets.%d", i, j);
            resnet(&p, b, ic + sc, oc, temb);
            if (c->up_attn[i]) {
                snprintf(b, sizeof b, "up_blocks.%d.attentions.%d", i, j);
                attention(&p, b, oc);
            }
        }
        if (i != L - 1 && c->downsample_type == SCULPT_DOWNSAMPLE_CONV) {
            snprintf(b, sizeof b, "up_blocks.%d.upsamplers.0.conv", i);
            int oc = c->block_out_channels[L - 1 - i];
            conv(&p, b, oc, oc, 3);
        }
    }
    norm(&p, "conv_norm_out", c0);
    conv(&p, "conv_out", c->out_channels, c0, 3);
    return p.n;
}
