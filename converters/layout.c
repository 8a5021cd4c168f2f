/* layout.c — map a weight set's names to the canonical diffusers UNet2DModel names
 * (runtime/src/unet_spec.c): diffusers (old query/key/value/proj_attn and new to_q/to_k/to_v/
 * to_out.0 attention names) and pesser/pytorch_diffusion Model (pytorch_diffusion/model.py:
 * temb.dense, down.L.block.i, 1x1-conv attention, up stored in reverse order). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

const char *cw_layout_name(cw_layout l) {
    switch (l) {
    case CW_LAYOUT_DIFFUSERS: return "diffusers";
    case CW_LAYOUT_PYTORCH_DIFFUSION: return "pytorch_diffusion";
    default: return "unknown";
    }
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

cw_layout cw_layout_detect(const cw_item *items, int n) {
    static const char *const dif[] = {"down_blocks.", "up_blocks.", "mid_block.", "time_embedding.",
                                      "conv_norm_out."};
    static const char *const pd[] = {"down.", "up.", "mid.", "temb.", "norm_out."};
    int nd = 0, np = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 5; j++) {
            nd += starts(items[i].key, dif[j]);
            np += starts(items[i].key, pd[j]);
        }
    if (nd > np) return CW_LAYOUT_DIFFUSERS;
    if (np > nd) return CW_LAYOUT_PYTORCH_DIFFUSION;
    return CW_LAYOUT_UNKNOWN;
}

/* ---- diffusers: old attention names to new ones ---- */
static int map_diffusers(const char *key, char *out) {
    static const char *const from[] = {".query.", ".key.", ".value.", ".proj_attn."};
    static const char *const to[] = {".to_q.", ".to_k.", ".to_v.", ".to_out.0."};
    if (strlen(key) >= UNET_NAME_MAX) { out[0] = 0; return 0; }
    const char *a = strstr(key, ".attentions.");
    if (a) {
        for (int i = 0; i < 4; i++) {
            const char *p = strstr(a, from[i]);
            if (p) {
                int n = snprintf(out, UNET_NAME_MAX, "%.*s%s%s", (int)(p - key), key, to[i], p + strlen(from[i]));
                if (n < 0 || n >= UNET_NAME_MAX) out[0] = 0;
                return 1;
            }
        }
    }
    snprintf(out, UNET_NAME_MAX, "%s", key);
    return 0;
}

/* ---- pytorch_diffusion ---- */
#define MAXTOK 8

static int split(const char *key, char tok[MAXTOK][40]) {
    int n = 0;
    const char *p = key;
    for (;;) {
        const char *d = strchr(p, '.');
        size_t len = d ? (size_t)(d - p) : strlen(p);
        if (n == MAXTOK || len == 0 || len >= 40) return -1;
        memcpy(tok[n], p, len);
        tok[n][len] = 0;
        n++;
        if (!d) return n;
        p = d + 1;
    }
}

static int small_index(const char *s) { /* "0".."999" without sign or leading zeros */
    size_t n = strlen(s);
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return -1;
    return atoi(s);
}

static int is_param(const char *s) { return !strcmp(s, "weight") || !strcmp(s, "bias"); }

static const char *pd_resnet(const char *s) {
    if (!strcmp(s, "temb_proj")) return "time_emb_proj";
    if (!strcmp(s, "nin_shortcut")) return "conv_shortcut";
    if (!strcmp(s, "norm1") || !strcmp(s, "conv1") || !strcmp(s, "norm2") || !strcmp(s, "conv2")) return s;
    return NULL;
}

static const char *pd_attn(const char *s) {
    if (!strcmp(s, "norm")) return "group_norm";
    if (!strcmp(s, "q")) return "to_q";
    if (!strcmp(s, "k")) return "to_k";
    if (!strcmp(s, "v")) return "to_v";
    if (!strcmp(s, "proj_out")) return "to_out.0";
    return NULL;
}

static void map_pd(const char *key, int L, char *out) {
    char t[MAXTOK][40];
    int n = split(key, t);
    out[0] = 0;
    if (n < 2 || !is_param(t[n - 1])) return;
    const char *p = t[n - 1];
    if (n == 2 && (!strcmp(t[0], "conv_in") || !strcmp(t[0], "conv_out"))) {
        snprintf(out, UNET_NAME_MAX, "%s.%s", t[0], p);
    } else if (n == 2 && !strcmp(t[0], "norm_out")) {
        snprintf(out, UNET_NAME_MAX, "conv_norm_out.%s", p);
    } else if (n == 4 && !strcmp(t[0], "temb") && !strcmp(t[1], "dense")) {
        int d = small_index(t[2]);
        if (d == 0 || d == 1) snprintf(out, UNET_NAME_MAX, "time_embedding.linear_%d.%s", d + 1, p);
    } else if (n == 4 && !strcmp(t[0], "mid")) {
        const char *r;
        if ((!strcmp(t[1], "block_1") || !strcmp(t[1], "block_2")) && (r = pd_resnet(t[2])))
            snprintf(out, UNET_NAME_MAX, "mid_block.resnets.%c.%s.%s", t[1][6] == '1' ? '0' : '1', r, p);
        else if (!strcmp(t[1], "attn_1") && (r = pd_attn(t[2])))
            snprintf(out, UNET_NAME_MAX, "mid_block.attentions.0.%s.%s", r, p);
    } else if ((!strcmp(t[0], "down") || !strcmp(t[0], "up")) && n >= 5) {
        int up = t[0][0] == 'u', lvl = small_index(t[1]);
        if (lvl < 0 || lvl >= L) return;
        int blk = up ? L - 1 - lvl : lvl;
        const char *bn = up ? "up_blocks" : "down_blocks";
        const char *r;
        if (n == 6 && (!strcmp(t[2], "block") || !strcmp(t[2], "attn"))) {
            int i = small_index(t[3]);
            if (i < 0) return;
            if (t[2][0] == 'b' && (r = pd_resnet(t[4])))
                snprintf(out, UNET_NAME_MAX, "%s.%d.resnets.%d.%s.%s", bn, blk, i, r, p);
            else if (t[2][0] == 'a' && (r = pd_attn(t[4])))
                snprintf(out, UNET_NAME_MAX, "%s.%d.attentions.%d.%s.%s", bn, blk, i, r, p);
        } else if (n == 5 && !strcmp(t[3], "conv") &&
                   !strcmp(t[2], up ? "upsample" : "downsample")) {
            snprintf(out, UNET_NAME_MAX, "%s.%d.%s.0.conv.%s", bn, blk, up ? "upsamplers" : "downsamplers", p);
        }
    }
}

int cw_layout_map(cw_layout layout, cw_item *items, int n) {
    int old = 0;
    if (layout == CW_LAYOUT_DIFFUSERS) {
        for (int i = 0; i < n; i++) old += map_diffusers(items[i].key, items[i].canon);
    } else if (layout == CW_LAYOUT_PYTORCH_DIFFUSION) {
        int L = 0;
        for (int i = 0; i < n; i++) {
            const char *k = items[i].key;
            if (starts(k, "down.")) {
                char t[MAXTOK][40];
                int nt = split(k, t), l;
                if (nt >= 2 && (l = small_index(t[1])) >= 0 && l + 1 > L) L = l + 1;
            }
        }
        if (L > SCULPT_MAX_LEVELS) L = SCULPT_MAX_LEVELS + 1; /* so the config check refuses */
        for (int i = 0; i < n; i++) map_pd(items[i].key, L, items[i].canon);
    } else {
        for (int i = 0; i < n; i++) items[i].canon[0] = 0;
    }
    return old;
}

/* ---- matching against the parameter list of a config ---- */

static const cw_item *find(const cw_item *items, int n, const char *canon) {
    for (int i = 0; i < n; i++)
        if (items[i].canon[0] && !strcmp(items[i].canon, canon)) return &items[i];
    return NULL;
}

static int any_prefix(const cw_item *items, int n, const char *pre) {
    for (int i = 0; i < n; i++)
        if (items[i].canon[0] && starts(items[i].canon, pre)) return 1;
    return 0;
}

static void note_add(char *notes, size_t len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void note_add(char *notes, size_t len, const char *fmt, ...) {
    size_t used = strlen(notes);
    if (used + 2 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + used, len - used, fmt, ap);
    va_end(ap);
    used = strlen(notes);
    if (used + 1 < len) { notes[used] = '\n'; notes[used + 1] = 0; }
}

int cw_infer_config(const cw_item *items, int n, cw_layout layout, const cw_infer_opts *io,
                    sculpt_config *c, char *notes, size_t notes_len, char *err) {
    char b[UNET_NAME_MAX];
    memset(c, 0, sizeof *c);
    const cw_item *ci = find(items, n, "conv_in.weight");
    if (!ci || ci->t->ndim != 4) return cw_fail(err, "cannot infer the config: no 4-D conv_in.weight");
    const cw_item *co = find(items, n, "conv_out.weight");
    if (!co || co->t->ndim != 4) return cw_fail(err, "cannot infer the config: no 4-D conv_out.weight");
    int L = 0;
    while (L <= SCULPT_MAX_LEVELS) {
        snprintf(b, sizeof b, "down_blocks.%d.", L);
        if (!any_prefix(items, n, b)) break;
        L++;
    }
    if (L < 1 || L > SCULPT_MAX_LEVELS)
        return cw_fail(err, "cannot infer the config: %d levels (down_blocks.*) must be 1..%d", L, SCULPT_MAX_LEVELS);
    c->n_levels = L;
    c->in_channels = (int32_t)ci->t->shape[1];
    c->out_channels = (int32_t)co->t->shape[0];
    for (int l = 0; l < L; l++) {
        snprintf(b, sizeof b, "down_blocks.%d.resnets.0.conv1.weight", l);
        const cw_item *r = find(items, n, b);
        if (!r || r->t->ndim != 4 || r->t->shape[0] < 1 || r->t->shape[0] > 65536)
            return cw_fail(err, "cannot infer the config: no usable %s", b);
        c->block_out_channels[l] = (int32_t)r->t->shape[0];
        snprintf(b, sizeof b, "down_blocks.%d.attentions.", l);
        c->down_attn[l] = any_prefix(items, n, b);
        snprintf(b, sizeof b, "up_blocks.%d.attentions.", l);
        c->up_attn[l] = any_prefix(items, n, b);
    }
    int j = 0;
    for (;;) {
        snprintf(b, sizeof b, "down_blocks.0.resnets.%d.conv1.weight", j);
        if (!find(items, n, b) || j > 16) break;
        j++;
    }
    c->layers_per_block = j;
    c->mid_attention = any_prefix(items, n, "mid_block.attentions.");
    const cw_item *te = find(items, n, "time_embedding.linear_1.weight");
    c->time_embed_dim = te && te->t->ndim == 2 && te->t->shape[0] <= (1 << 18) ? (int32_t)te->t->shape[0]
                                                                               : 4 * c->block_out_channels[0];
    c->downsample_type = SCULPT_DOWNSAMPLE_CONV;
    if (L > 1 && !any_prefix(items, n, "down_blocks.0.downsamplers.") &&
        !any_prefix(items, n, "up_blocks.0.upsamplers.")) {
        c->downsample_type = SCULPT_DOWNSAMPLE_AVGPOOL;
        note_add(notes, notes_len, "no resampling convolutions: 2x2 average-pool down, nearest up "
                 "(pytorch_diffusion resamp_with_conv=False)");
    }
    /* GroupNorm's groups and eps leave no trace in the tensors */
    if (io->norm_groups > 0) c->norm_num_groups = io->norm_groups;
    else {
        c->norm_num_groups = 32;
        for (int l = 0; l < L; l++)
            if (c->block_out_channels[l] % 32)
                return cw_fail(err, "cannot infer the config: norm_num_groups cannot be read from tensors and "
                               "the DDPM default 32 does not divide block_out_channels[%d] = %d; give --config "
                               "or --norm-groups", l, c->block_out_channels[l]);
        note_add(notes, notes_len, "norm_num_groups = 32 (DDPM default: groups cannot be read from tensors; "
                 "--norm-groups or --config to change)");
    }
    c->attn_norm_num_groups = c->norm_num_groups;
    if (io->norm_eps > 0) c->norm_eps = io->norm_eps;
    else {
        c->norm_eps = 1e-6f;
        note_add(notes, notes_len, "norm_eps = 1e-6 (DDPM default: cannot be read from tensors; --norm-eps "
                 "or --config to change)");
    }
    c->attention_head_dim = 0;
    c->flip_sin_to_cos = 0;
    c->freq_shift = 1.0f;
    c->downsample_padding = 0;
    c->center_input_sample = 0;
    if (layout == CW_LAYOUT_DIFFUSERS)
        note_add(notes, notes_len, "no config.json: one attention head, flip_sin_to_cos false, freq_shift 1, "
                 "downsample_padding 0 assumed (google/ddpm-* values); give --config to be sure");
    if (io->sample_size > 0) c->sample_size = io->sample_size;
    else {
        c->sample_size = 32;
        note_add(notes, notes_len, "sample_size = 32 (default: image size cannot be read from tensors; "
                 "--sample-size to change)");
    }
    char e2[CW_ERR];
    if (unet_config_check(c, e2, sizeof e2)) return cw_fail(err, "inferred config: %s", e2);
    return 0;
}

/* ---- the check ---- */

typedef struct { int n; char text[400]; } plist;

static void plist_add(plist *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void plist_add(plist *p, const char *fmt, ...) {
    if (p->n < 3) {
        size_t used = strlen(p->text);
        if (used < sizeof p->text - 1) {
            if (p->n) { snprintf(p->text + used, sizeof p->text - used, ", "); used = strlen(p->text); }
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->text + used, sizeof p->text - used, fmt, ap);
            va_end(ap);
        }
    }
    p->n++;
}

static void shape_str(char *b, size_t len, int ndim, const int64_t *s) {
    size_t u = 0;
    b[0] = 0;
    u += (size_t)snprintf(b, len, "[");
    for (int i = 0; i < ndim && u < len; i++)
        u += (size_t)snprintf(b + u, len - u, "%s%lld", i ? "," : "", (long long)s[i]);
    if (u < len) snprintf(b + u, len - u, "]");
}

static int shape_ok(const unet_param *p, const ck_tensor *t) {
    if (t->ndim == p->ndim) {
        for (int i = 0; i < p->ndim; i++)
            if (t->shape[i] != p->shape[i]) return 0;
        return 1;
    }
    /* 1x1 convolutions standing for linear attention projections (pytorch_diffusion) */
    if (p->ndim == 2 && t->ndim == 4 && strstr(p->name, ".attentions.") && t->shape[0] == p->shape[0] &&
        t->shape[1] == p->shape[1] && t->shape[2] == 1 && t->shape[3] == 1)
        return 1;
    return 0;
}

static const unet_param *sort_base;
static int by_name(const void *a, const void *b) {
    return strcmp(sort_base[*(const int *)a].name, sort_base[*(const int *)b].name);
}

/* Index of the parameter called name in order[] (sorted by name), or -1. */
static int lookup(const unet_param *p, const int *order, int np, const char *name) {
    int lo = 0, hi = np - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(p[order[mid]].name, name);
        if (!c) return order[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

void cw_match_free(cw_match *m) {
    free(m->params);
    free(m->src);
    m->params = NULL;
    m->src = NULL;
}

int cw_match_set(cw_item *items, int n, cw_layout forced, const json_value *config_json,
                 const char *json_file, const cw_infer_opts *io, cw_match *m, char *err) {
    memset(m, 0, sizeof *m);
    cw_layout layout = forced != CW_LAYOUT_UNKNOWN ? forced : cw_layout_detect(items, n);
    if (layout == CW_LAYOUT_UNKNOWN) {
        char first[200] = "";
        for (int i = 0; i < n && i < 3; i++) {
            size_t u = strlen(first);
            snprintf(first + u, sizeof first - u, "%s'%.50s'", i ? ", " : "", items[i].key);
        }
        return cw_fail(err, "unknown layout: the %d tensor names look like neither a diffusers UNet2DModel nor "
                       "a pytorch_diffusion Model (first: %s)", n, first);
    }
    m->layout = layout;
    m->n_old_names = cw_layout_map(layout, items, n);
    if (config_json) {
        int has_size = 0;
        if (cw_config_from_json(config_json, json_file, &m->config, &has_size, err)) return -1;
        snprintf(m->config_source, sizeof m->config_source, "%s", json_file);
        if (io->sample_size > 0) m->config.sample_size = io->sample_size;
        else if (!has_size)
            note_add(m->notes, sizeof m->notes, "%s has no sample_size: 32 (--sample-size to change)", json_file);
        if (io->norm_groups > 0) m->config.norm_num_groups = m->config.attn_norm_num_groups = io->norm_groups;
        if (io->norm_eps > 0) m->config.norm_eps = io->norm_eps;
        char e2[CW_ERR];
        if (unet_config_check(&m->config, e2, sizeof e2)) return cw_fail(err, "%s: %s", json_file, e2);
    } else {
        if (cw_infer_config(items, n, layout, io, &m->config, m->notes, sizeof m->notes, err)) return -1;
        snprintf(m->config_source, sizeof m->config_source, "inferred from tensor shapes");
    }
    if (layout == CW_LAYOUT_PYTORCH_DIFFUSION) {
        const sculpt_config *c = &m->config;
        if (c->flip_sin_to_cos || c->freq_shift != 1.0f || c->downsample_padding != 0 || c->attention_head_dim)
            return cw_fail(err, "a pytorch_diffusion Model has flip_sin_to_cos false, freq_shift 1, "
                           "downsample_padding 0 and one attention head; the config says otherwise");
    }
    char e2[CW_ERR];
    int np = unet_spec_params(&m->config, NULL, 0, e2, sizeof e2);
    if (np < 0) return cw_fail(err, "config: %s", e2);
    m->params = calloc((size_t)np, sizeof *m->params);
    m->src = calloc((size_t)np, sizeof *m->src);
    if (!m->params || !m->src) { cw_match_free(m); return cw_fail(err, "out of memory"); }
    unet_spec_params(&m->config, m->params, np, e2, sizeof e2);
    m->n_params = np;
    int *order = malloc((size_t)np * sizeof *order); /* names sorted: n log np lookups */
    if (!order) { cw_match_free(m); return cw_fail(err, "out of memory"); }
    for (int k = 0; k < np; k++) order[k] = k;
    sort_base = m->params;
    qsort(order, (size_t)np, sizeof *order, by_name);

    plist missing = {0, ""}, unexpected = {0, ""}, shaped = {0, ""}, typed = {0, ""}, dup = {0, ""};
    char s1[64], s2[64];
    for (int i = 0; i < n; i++) {
        const ck_tensor *t = items[i].t;
        int j = items[i].canon[0] ? lookup(m->params, order, np, items[i].canon) : -1;
        if (j < 0) { plist_add(&unexpected, "%.80s", items[i].key); continue; }
        if (m->src[j]) { plist_add(&dup, "%.80s", items[i].key); continue; }
        if (!shape_ok(&m->params[j], t)) {
            shape_str(s1, sizeof s1, t->ndim, t->shape);
            shape_str(s2, sizeof s2, m->params[j].ndim, m->params[j].shape);
            plist_add(&shaped, "%.80s %s (expected %s)", items[i].key, s1, s2);
            m->src[j] = t;
            continue;
        }
        if (!cw_dtype_is_float(t->dtype)) plist_add(&typed, "%.80s is %s", items[i].key, ck_dtype_name(t->dtype));
        m->src[j] = t;
    }
    free(order);
    for (int k = 0; k < np; k++)
        if (!m->src[k]) plist_add(&missing, "%s", m->params[k].name);
    if (missing.n || unexpected.n || shaped.n || typed.n || dup.n) {
        char msg[CW_ERR];
        size_t u = 0;
        msg[0] = 0;
        const plist *ls[5] = {&missing, &unexpected, &shaped, &typed, &dup};
        const char *what[5] = {"missing", "unexpected", "mis-shaped", "not floating point", "duplicate"};
        for (int i = 0; i < 5; i++) {
            if (!ls[i]->n || u >= sizeof msg) continue;
            u += (size_t)snprintf(msg + u, sizeof msg - u, "%s%d %s (%s%s)", u ? "; " : "", ls[i]->n, what[i],
                                  ls[i]->text, ls[i]->n > 3 ? ", ..." : "");
        }
        int ret = cw_fail(err, "%s layout, config %s: %d expected tensors, %s", cw_layout_name(layout),
                          m->config_source, np, msg);
        cw_match_free(m);
        return ret;
    }
    return 0;
}
