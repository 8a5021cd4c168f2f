/* config.c — diffusers UNet2DModel config.json (models/unets/unet_2d.py __init__ arguments
 * and defaults) to sculpt_config: every key that changes the network is honoured or refused. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cw.h"

#define JSON_MAX_BYTES (16u << 20)

json_value *cw_json_load(const char *path, char *err) {
    struct stat st;
    if (stat(path, &st) != 0) { cw_fail(err, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    if (!S_ISREG(st.st_mode)) { cw_fail(err, "%s: not a regular file", path); return NULL; } /* a FIFO would block */
    FILE *f = fopen(path, "rb");
    if (!f) { cw_fail(err, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= JSON_MAX_BYTES) { cw_fail(err, "%s: larger than %u bytes", path, JSON_MAX_BYTES); goto fail; }
            cap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, cap);
            if (!nb) { cw_fail(err, "%s: out of memory", path); goto fail; }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) { cw_fail(err, "%s: read error", path); goto fail; }
    fclose(f);
    char jerr[256];
    json_value *v = json_parse(buf, len, 64, jerr, sizeof jerr);
    free(buf);
    if (!v) cw_fail(err, "%s: %s", path, jerr);
    return v;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

static int want_int(const json_value *v, const char *file, const char *key, int lo, int hi, int32_t *out,
                    char *err) {
    if (v->type != JSON_NUMBER || !v->is_integer || v->integer < lo || v->integer > hi)
        return cw_fail(err, "%s: '%s' must be an integer in %d..%d", file, key, lo, hi);
    *out = (int32_t)v->integer;
    return 0;
}

static int want_bool(const json_value *v, const char *file, const char *key, int32_t *out, char *err) {
    if (v->type != JSON_BOOL) return cw_fail(err, "%s: '%s' must be true or false", file, key);
    *out = v->boolean;
    return 0;
}

/* A string key that sculpt implements for exactly one (or two) values. */
static int want_str(const json_value *v, const char *file, const char *key, const char *ok1,
                    const char *ok2, char *err) {
    if (v->type != JSON_STRING)
        return cw_fail(err, "%s: '%s' must be a string", file, key);
    if (strcmp(v->string, ok1) && (!ok2 || strcmp(v->string, ok2)))
        return cw_fail(err, "%s: %s = \"%s\" is not supported (only \"%s\")", file, key, v->string, ok1);
    return 0;
}

static int block_list(const json_value *v, const char *file, const char *key, const char *plain,
                      const char *attn, int32_t *flags, int *n, char *err) {
    if (v->type != JSON_ARRAY || v->len < 1 || v->len > SCULPT_MAX_LEVELS)
        return cw_fail(err, "%s: '%s' must be a list of 1..%d block names", file, key, SCULPT_MAX_LEVELS);
    for (size_t i = 0; i < v->len; i++) {
        const json_value *s = &v->items[i];
        if (s->type != JSON_STRING) return cw_fail(err, "%s: %s[%zu] must be a string", file, key, i);
        if (!strcmp(s->string, plain)) flags[i] = 0;
        else if (!strcmp(s->string, attn)) flags[i] = 1;
        else return cw_fail(err, "%s: %s[%zu] = \"%s\" is not supported (only %s and %s)", file, key, i,
                            s->string, plain, attn);
    }
    *n = (int)v->len;
    return 0;
}

int cw_config_from_json(const json_value *root, const char *file, sculpt_config *c,
                        int *has_sample_size, char *err) {
    if (!root || root->type != JSON_OBJECT) return cw_fail(err, "%s: not a JSON object", file);
    /* UNet2DModel.__init__ defaults for anything the file leaves out */
    memset(c, 0, sizeof *c);
    static const int32_t def_ch[4] = {224, 448, 672, 896};
    int32_t down_flags[SCULPT_MAX_LEVELS] = {0, 1, 1, 1}, up_flags[SCULPT_MAX_LEVELS] = {1, 1, 1, 0};
    int n_down = 4, n_up = 4, n_ch = 4;
    for (int i = 0; i < 4; i++) c->block_out_channels[i] = def_ch[i];
    c->in_channels = 3;
    c->out_channels = 3;
    c->sample_size = 32;
    c->layers_per_block = 2;
    c->norm_num_groups = 32;
    c->norm_eps = 1e-5f;
    c->attention_head_dim = 8;
    c->mid_attention = 1;
    c->flip_sin_to_cos = 1;
    c->freq_shift = 0.0f;
    c->downsample_type = SCULPT_DOWNSAMPLE_CONV;
    c->downsample_padding = 1;
    int attn_groups = -1; /* null: follows norm_num_groups */
    *has_sample_size = 0;

    for (size_t i = 0; i < root->len; i++) {
        const char *k = root->keys[i];
        const json_value *v = &root->items[i];
        int bad = 0;
        if (k[0] == '_') continue; /* _class_name, _diffusers_version, _name_or_path */
        if (!strcmp(k, "sample_size")) {
            if (v->type == JSON_NULL) continue;
            if (v->type == JSON_ARRAY) {
                if (v->len != 2 || v->items[0].type != JSON_NUMBER || v->items[1].type != JSON_NUMBER ||
                    v->items[0].number != v->items[1].number)
                    return cw_fail(err, "%s: sample_size must be one size or [h, w] with h = w", file);
                v = &v->items[0];
            }
            bad = want_int(v, file, k, 1, 4096, &c->sample_size, err);
            *has_sample_size = 1;
        } else if (!strcmp(k, "in_channels")) bad = want_int(v, file, k, 1, 64, &c->in_channels, err);
        else if (!strcmp(k, "out_channels")) bad = want_int(v, file, k, 1, 64, &c->out_channels, err);
        else if (!strcmp(k, "center_input_sample")) bad = want_bool(v, file, k, &c->center_input_sample, err);
        else if (!strcmp(k, "time_embedding_type")) bad = want_str(v, file, k, "positional", NULL, err);
        else if (!strcmp(k, "freq_shift")) {
            if (v->type != JSON_NUMBER || !(fabs(v->number) <= 1e6))
                return cw_fail(err, "%s: 'freq_shift' must be a number", file);
            c->freq_shift = (float)v->number;
        } else if (!strcmp(k, "flip_sin_to_cos")) bad = want_bool(v, file, k, &c->flip_sin_to_cos, err);
        else if (!strcmp(k, "down_block_types"))
            bad = block_list(v, file, k, "DownBlock2D", "AttnDownBlock2D", down_flags, &n_down, err);
        else if (!strcmp(k, "up_block_types"))
            bad = block_list(v, file, k, "UpBlock2D", "AttnUpBlock2D", up_flags, &n_up, err);
        else if (!strcmp(k, "block_out_channels")) {
            if (v->type != JSON_ARRAY || v->len < 1 || v->len > SCULPT_MAX_LEVELS)
                return cw_fail(err, "%s: 'block_out_channels' must be a list of 1..%d integers", file,
                               SCULPT_MAX_LEVELS);
            memset(c->block_out_channels, 0, sizeof c->block_out_channels);
            for (size_t j = 0; j < v->len && !bad; j++)
                bad = want_int(&v->items[j], file, "block_out_channels[]", 1, 65536, &c->block_out_channels[j], err);
            n_ch = (int)v->len;
        } else if (!strcmp(k, "layers_per_block")) bad = want_int(v, file, k, 1, 16, &c->layers_per_block, err);
        else if (!strcmp(k, "mid_block_scale_factor")) {
            if (v->type != JSON_NUMBER || v->number != 1.0)
                return cw_fail(err, "%s: mid_block_scale_factor must be 1 (sculpt does not scale the mid block)",
                               file);
        } else if (!strcmp(k, "downsample_padding")) bad = want_int(v, file, k, 0, 1, &c->downsample_padding, err);
        else if (!strcmp(k, "downsample_type")) bad = want_str(v, file, k, "conv", NULL, err);
        else if (!strcmp(k, "upsample_type")) bad = want_str(v, file, k, "conv", NULL, err);
        else if (!strcmp(k, "dropout")) {
            if (v->type != JSON_NUMBER) return cw_fail(err, "%s: 'dropout' must be a number", file);
        } else if (!strcmp(k, "act_fn")) bad = want_str(v, file, k, "silu", "swish", err);
        else if (!strcmp(k, "attention_head_dim")) {
            if (v->type == JSON_NULL) c->attention_head_dim = 0;
            else bad = want_int(v, file, k, 1, 65536, &c->attention_head_dim, err);
        } else if (!strcmp(k, "norm_num_groups")) bad = want_int(v, file, k, 1, 65536, &c->norm_num_groups, err);
        else if (!strcmp(k, "attn_norm_num_groups")) {
            if (v->type == JSON_NULL) attn_groups = -1;
            else { int32_t g; bad = want_int(v, file, k, 1, 65536, &g, err); attn_groups = g; }
        } else if (!strcmp(k, "norm_eps")) {
            if (v->type != JSON_NUMBER || !(v->number > 0 && v->number < 1))
                return cw_fail(err, "%s: 'norm_eps' must be a number in (0, 1)", file);
            c->norm_eps = (float)v->number;
        } else if (!strcmp(k, "resnet_time_scale_shift")) bad = want_str(v, file, k, "default", NULL, err);
        else if (!strcmp(k, "add_attention")) bad = want_bool(v, file, k, &c->mid_attention, err);
        else if (!strcmp(k, "class_embed_type") || !strcmp(k, "num_class_embeds")) {
            if (v->type != JSON_NULL)
                return cw_fail(err, "%s: %s is set: class-conditional UNets are not supported", file, k);
        } else if (!strcmp(k, "num_train_timesteps")) {
            /* used only by time_embedding_type "learned", which is refused above */
        } else if (!strcmp(k, "mid_block_type")) bad = want_str(v, file, k, "UNetMidBlock2D", NULL, err);
        else if (!strcmp(k, "attention_legacy_order")) {
            if (v->type != JSON_BOOL || v->boolean)
                return cw_fail(err, "%s: attention_legacy_order must be false", file);
        } else
            return cw_fail(err, "%s: unknown key '%s' (sculpt cannot tell whether it changes the network)",
                           file, k);
        if (bad) return -1;
    }
    if (n_down != n_ch || n_up != n_ch)
        return cw_fail(err, "%s: block_out_channels has %d levels, down_block_types %d, up_block_types %d",
                       file, n_ch, n_down, n_up);
    c->n_levels = n_ch;
    for (int l = 0; l < n_ch; l++) {
        c->down_attn[l] = down_flags[l];
        c->up_attn[l] = up_flags[l];
    }
    c->time_embed_dim = 4 * c->block_out_channels[0];
    /* diffusers gives attn_norm_num_groups to the mid block only; attention inside the
     * down/up blocks always uses norm_num_groups. sculpt has one value for all. */
    if (attn_groups < 0) c->attn_norm_num_groups = c->norm_num_groups;
    else {
        int other = 0;
        for (int l = 0; l < n_ch; l++) other |= c->down_attn[l] | c->up_attn[l];
        if (attn_groups != c->norm_num_groups && other && c->mid_attention)
            return cw_fail(err, "%s: attn_norm_num_groups = %d differs from norm_num_groups = %d while "
                           "down/up blocks have attention: not supported", file, attn_groups,
                           c->norm_num_groups);
        c->attn_norm_num_groups = c->mid_attention ? attn_groups : c->norm_num_groups;
    }
    char e2[CW_ERR];
    if (unet_config_check(c, e2, sizeof e2)) return cw_fail(err, "%s: %s", file, e2);
    return 0;
}
