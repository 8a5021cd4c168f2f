/* prepare.c — builds the UNet's weight view once per model (hung on sculpt_model's
 * `prepared` slot): tensors looked up by their diffusers names (unet_spec.c), small f16/bf16
 * tensors converted to f32 once, convolutions packed into GEMM panels once per micro-kernel
 * shape. Follows diffusers UNet2DModel's construction (unet_2d.py, unet_2d_blocks.py). */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io/weightfile.h"
#include "ops/pack.h"
#include "ops/winograd.h"
#include "unet.h"
#include "unet_spec.h"

static pthread_mutex_t prepare_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct builder {
    sculpt_model *m;
    unet_weights *w;
    char *err;
    size_t errlen;
    sculpt_status st;
} builder;

static void fail(builder *b, sculpt_status st, const char *fmt, ...) {
    if (b->st != SCULPT_OK) return;
    b->st = st;
    int n = snprintf(b->err, b->errlen, "%s: ", sculpt_model_name(b->m));
    if (n < 0 || (size_t)n >= b->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void *own(builder *b, size_t bytes) {
    unet_weights *w = b->w;
    if (w->n_owned == w->cap_owned) {
        int cap = w->cap_owned ? 2 * w->cap_owned : 64;
        void **p = realloc(w->owned, (size_t)cap * sizeof *p);
        if (!p) { fail(b, SCULPT_E_NOMEM, "out of memory preparing weights"); return NULL; }
        w->owned = p;
        w->cap_owned = cap;
    }
    void *q = malloc(bytes ? bytes : 1);
    if (!q) { fail(b, SCULPT_E_NOMEM, "out of memory preparing weights (%zu bytes)", bytes); return NULL; }
    w->owned[w->n_owned++] = q;
    return q;
}

/* Find `name` with the expected shape (unused dims 0). */
static int find(builder *b, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2,
                int64_t d3, sculpt_tensor_info *ti) {
    if (b->st != SCULPT_OK) return -1;
    if (sculpt_model_find_tensor(b->m, name, ti) != 0) {
        fail(b, SCULPT_E_FORMAT, "tensor '%s' is missing", name);
        return -1;
    }
    const int64_t want[4] = {d0, d1, d2, d3};
    int ok = ti->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = ti->shape[i] == want[i];
    if (!ok) {
        fail(b, SCULPT_E_FORMAT, "tensor '%s' has ndim %d shape [%lld,%lld,%lld,%lld], expected ndim %d [%lld,%lld,%lld,%lld]",
             name, ti->ndim, (long long)ti->shape[0], (long long)ti->shape[1], (long long)ti->shape[2],
             (long long)ti->shape[3], ndim, (long long)d0, (long long)d1, (long long)d2, (long long)d3);
        return -1;
    }
    if (ti->dtype != SCULPT_DT_F32 && ti->dtype != SCULPT_DT_F16 && ti->dtype != SCULPT_DT_BF16) {
        fail(b, SCULPT_E_UNSUPPORTED, "tensor '%s' has unknown dtype %d", name, ti->dtype);
        return -1;
    }
    return 0;
}

/* An f32 view of a small tensor (biases, norms, linears): in place in a caller's buffer
 * when stored as aligned f32, else an f32 copy. Mapped files are always copied: after
 * prepare the forward pass reads nothing from the mapping, whose pages are then dropped
 * (a read there would fault in whole page-cache folios, up to 2 MB each, and with them
 * the pages of the big tensors already packed). */
static const float *f32_view(builder *b, const sculpt_tensor_info *ti, size_t n) {
    if (!b->m->mapped && ti->dtype == SCULPT_DT_F32 && ((uintptr_t)ti->data % sizeof(float)) == 0)
        return (const float *)ti->data;
    float *d = own(b, n * sizeof(float));
    if (d) pack_convert(ti->data, ti->dtype, n, d);
    return d;
}

static const float *vec(builder *b, const char *pre, const char *suffix, int c) {
    char name[UNET_NAME_MAX + 16];
    snprintf(name, sizeof name, "%s.%s", pre, suffix);
    sculpt_tensor_info ti;
    if (find(b, name, 1, c, 0, 0, 0, &ti)) return NULL;
    return f32_view(b, &ti, (size_t)c);
}

static void norm(builder *b, unet_norm *n, const char *pre, int c, int groups) {
    n->c = c;
    n->groups = groups;
    n->gamma = vec(b, pre, "weight", c);
    n->beta = vec(b, pre, "bias", c);
}

static void linear(builder *b, unet_linear *l, const char *pre, int out, int in) {
    char name[UNET_NAME_MAX + 16];
    sculpt_tensor_info ti;
    l->out = out;
    l->in = in;
    snprintf(name, sizeof name, "%s.weight", pre);
    if (find(b, name, 2, out, in, 0, 0, &ti) == 0) l->w = f32_view(b, &ti, (size_t)out * in);
    l->b = vec(b, pre, "bias", out);
}

static void add_conv(builder *b, unet_conv *c) {
    unet_weights *w = b->w;
    if (b->st != SCULPT_OK) return;
    if (w->n_convs == w->cap_convs) {
        int cap = w->cap_convs ? 2 * w->cap_convs : 64;
        unet_conv **p = realloc(w->convs, (size_t)cap * sizeof *p);
        if (!p) { fail(b, SCULPT_E_NOMEM, "out of memory preparing weights"); return; }
        w->convs = p;
        w->cap_convs = cap;
    }
    w->convs[w->n_convs++] = c;
}

/* Winograd under AUTO: big enough maps (the transforms cost per tile and per weight) and
 * enough input channels to fill the GEMM's k loop (conv_in's 3 do not). Few output channels
 * are no reason against it: the input transform writes 2.25 (F(4x4)) or 4 (F(2x2)) floats
 * per input value where the direct conv's patch packing writes 9, whatever oc is (conv_out,
 * 128 -> 3 at 32x32: 1.4 -> ~0.3 ms at batch 1 on the EPYC). */
#define WINO_MIN_SIZE 8
#define WINO_MIN_CHANNELS 16

int unet_conv_wino(const unet_conv *cv, int algo) {
    if (!cv->wino_ok || algo == SCULPT_CONV_DIRECT) return 0;
    if (algo == SCULPT_CONV_WINOGRAD) return 1;
    return cv->size >= WINO_MIN_SIZE && cv->ic >= WINO_MIN_CHANNELS;
}

/* linear_as_1x1: a [oc][ic] linear weight used as a 1x1 convolution. size: the input's
 * height and width; stride 2 only for downsamplers. Every 3x3 stride-1 conv of the UNet
 * pads by 1 (diffusers' padding=1), so those can run by Winograd. */
static void conv(builder *b, unet_conv *c, const char *pre, int oc, int ic, int k, int linear_as_1x1,
                 int size, int stride) {
    char name[UNET_NAME_MAX + 16];
    sculpt_tensor_info ti;
    c->oc = oc;
    c->ic = ic;
    c->k = k;
    c->size = size;
    c->stride = stride;
    c->wino_ok = k == 3 && stride == 1 && !linear_as_1x1;
    /* padding as the forward pass uses it: k/2 all round, or a downsampler's
     * (downsample_padding 0: F.pad (0,1,0,1) then the stride-2 conv; 1: pad 1) */
    const int p = stride == 2 ? (b->w->cfg.downsample_padding ? 1 : 0) : k / 2;
    conv_shape_init(&c->s, ic, oc, k, stride, p, p, stride == 2 ? 1 : p, stride == 2 ? 1 : p, size, size);
    snprintf(name, sizeof name, "%s.weight", pre);
    int r = linear_as_1x1 ? find(b, name, 2, oc, ic, 0, 0, &ti) : find(b, name, 4, oc, ic, k, k, &ti);
    if (r == 0) {
        c->w = ti.data;
        c->w_dtype = ti.dtype;
        c->w_bytes = (size_t)ti.nbytes;

    }
    c->bias = vec(b, pre, "bias", oc);
    add_conv(b, c);
}

static void resnet(builder *b, unet_resnet *r, const char *pre, int ic, int oc, int size) {
    const sculpt_config *c = &b->w->cfg;
    char p[UNET_NAME_MAX];
    r->ic = ic;
    r->oc = oc;
    snprintf(p, sizeof p, "%s.norm1", pre); norm(b, &r->norm1, p, ic, c->norm_num_groups);
    snprintf(p, sizeof p, "%s.conv1", pre); conv(b, &r->conv1, p, oc, ic, 3, 0, size, 1);
    snprintf(p, sizeof p, "%s.time_emb_proj", pre); linear(b, &r->temb, p, oc, c->time_embed_dim);
    snprintf(p, sizeof p, "%s.norm2", pre); norm(b, &r->norm2, p, oc, c->norm_num_groups);
    snprintf(p, sizeof p, "%s.conv2", pre); conv(b, &r->conv2, p, oc, oc, 3, 0, size, 1);
    r->has_shortcut = ic != oc;
    if (r->has_shortcut) {
        snprintf(p, sizeof p, "%s.conv_shortcut", pre);
        conv(b, &r->shortcut, p, oc, ic, 1, 0, size, 1);
    }
}

/* Down/up attentions use norm_num_groups, the mid block's attn_norm_num_groups
 * (diffusers: attn_norm_num_groups only reaches UNetMidBlock2D). */
static void attention(builder *b, unet_attn *a, const char *pre, int ch, int groups, int size) {
    const sculpt_config *c = &b->w->cfg;
    char p[UNET_NAME_MAX];
    a->c = ch;
    a->heads = c->attention_head_dim > 0 ? ch / c->attention_head_dim : 1;
    snprintf(p, sizeof p, "%s.group_norm", pre); norm(b, &a->norm, p, ch, groups);
    snprintf(p, sizeof p, "%s.to_q", pre); conv(b, &a->q, p, ch, ch, 1, 1, size, 1);
    snprintf(p, sizeof p, "%s.to_k", pre); conv(b, &a->k, p, ch, ch, 1, 1, size, 1);
    snprintf(p, sizeof p, "%s.to_v", pre); conv(b, &a->v, p, ch, ch, 1, 1, size, 1);
    snprintf(p, sizeof p, "%s.to_out.0", pre); conv(b, &a->out, p, ch, ch, 1, 1, size, 1);
}

static unet_block *block_alloc(builder *b, unet_block *blk, int n, int attn) {
    blk->n = n;
    blk->res = own(b, (size_t)n * sizeof *blk->res);
    blk->attn = attn ? own(b, (size_t)n * sizeof *blk->attn) : NULL;
    if (blk->res) memset(blk->res, 0, (size_t)n * sizeof *blk->res);
    if (blk->attn) memset(blk->attn, 0, (size_t)n * sizeof *blk->attn);
    return b->st == SCULPT_OK ? blk : NULL;
}

static void weights_free(void *p) {
    unet_weights *w = p;
    if (!w) return;
    for (int i = 0; i < w->n_convs; i++) {
        for (int s = 0; s < UNET_PACK_SLOTS; s++) free(w->convs[i]->packed[s]);
        free(w->convs[i]->packed_bf16);
        free(w->convs[i]->w32_owned);
    }
    for (int i = 0; i < w->n_owned; i++) free(w->owned[i]);
    free(w->owned);
    free(w->convs);
    free(w);
}

/* Options this code implements beyond unet_config_check, refused with a clear message. */
static void check_supported(builder *b) {
    const sculpt_config *c = &b->w->cfg;
    const int half = c->block_out_channels[0] / 2;
    if ((float)half - c->freq_shift == 0.0f)
        fail(b, SCULPT_E_UNSUPPORTED, "freq_shift = %g equals half the embedding size %d (division by zero in the timestep embedding)",
             (double)c->freq_shift, half);
}

static void build(builder *b) {
    unet_weights *w = b->w;
    const sculpt_config *c = &w->cfg;
    char p[UNET_NAME_MAX];
    char err[256];
    if (unet_config_check(c, err, sizeof err)) {
        fail(b, SCULPT_E_UNSUPPORTED, "config: %s", err);
        return;
    }
    check_supported(b);
    const int L = c->n_levels, c0 = c->block_out_channels[0];
    conv(b, &w->conv_in, "conv_in", c0, c->in_channels, 3, 0, c->sample_size, 1);
    linear(b, &w->t1, "time_embedding.linear_1", c->time_embed_dim, c0);
    linear(b, &w->t2, "time_embedding.linear_2", c->time_embed_dim, c->time_embed_dim);
    int ch = c0, size = c->sample_size;
    for (int l = 0; l < L && b->st == SCULPT_OK; l++) {
        unet_block *blk = block_alloc(b, &w->down[l], c->layers_per_block, c->down_attn[l]);
        if (!blk) return;
        const int oc = c->block_out_channels[l];
        blk->c = oc;
        blk->size = size;
        for (int j = 0; j < blk->n; j++) {
            snprintf(p, sizeof p, "down_blocks.%d.resnets.%d", l, j);
            resnet(b, &blk->res[j], p, ch, oc, size);
            ch = oc;
            if (blk->attn) {
                snprintf(p, sizeof p, "down_blocks.%d.attentions.%d", l, j);
                attention(b, &blk->attn[j], p, oc, c->norm_num_groups, size);
            }
        }
        blk->has_resample = l != L - 1;
        blk->resample_conv = c->downsample_type == SCULPT_DOWNSAMPLE_CONV;
        if (blk->has_resample) {
            if (blk->resample_conv) {
                snprintf(p, sizeof p, "down_blocks.%d.downsamplers.0.conv", l);
                conv(b, &blk->conv, p, oc, oc, 3, 0, size, 2);
            }
            size /= 2;
        }
    }
    const int top = c->block_out_channels[L - 1];
    resnet(b, &w->mid_res[0], "mid_block.resnets.0", top, top, size);
    if (c->mid_attention) attention(b, &w->mid_attn, "mid_block.attentions.0", top, c->attn_norm_num_groups, size);
    resnet(b, &w->mid_res[1], "mid_block.resnets.1", top, top, size);
    for (int i = 0; i < L && b->st == SCULPT_OK; i++) {
        unet_block *blk = block_alloc(b, &w->up[i], c->layers_per_block + 1, c->up_attn[i]);
        if (!blk) return;
        const int oc = c->block_out_channels[L - 1 - i];
        blk->c = oc;
        blk->size = size;
        for (int j = 0; j < blk->n; j++) {
            int ic, sc, occ;
            unet_up_resnet_channels(c, i, j, &ic, &sc, &occ);
            snprintf(p, sizeof p, "up_blocks.%d.resnets.%d", i, j);
            resnet(b, &blk->res[j], p, ic + sc, occ, size);
            if (blk->attn) {
                snprintf(p, sizeof p, "up_blocks.%d.attentions.%d", i, j);
                attention(b, &blk->attn[j], p, oc, c->norm_num_groups, size);
            }
        }
        blk->has_resample = i != L - 1;
        blk->resample_conv = c->downsample_type == SCULPT_DOWNSAMPLE_CONV;
        if (blk->has_resample) {
            if (blk->resample_conv) {
                snprintf(p, sizeof p, "up_blocks.%d.upsamplers.0.conv", i);
                conv(b, &blk->conv, p, oc, oc, 3, 0, 2 * size, 1);
            }
            size *= 2;
        }
    }
    norm(b, &w->norm_out, "conv_norm_out", c0, c->norm_num_groups);
    conv(b, &w->conv_out, "conv_out", c->out_channels, c0, 3, 0, c->sample_size, 1);
}

/* The packed panels are the only copy of a convolution's weights the forward pass reads:
 * drop the whole pages of the raw tensor from this process's memory (the file stays in
 * the page cache; a later read faults them back in). Only for mmapped files. */
static void release_pages(const sculpt_model *m, const void *p, size_t bytes) {
    if (!m->mapped) return;
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t a = (uintptr_t)p, e = a + bytes;
    uintptr_t lo = (a + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    uintptr_t hi = e / (uintptr_t)page * (uintptr_t)page;
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void pack_slot(builder *b, int slot, int mr, int algo) {
    unet_weights *w = b->w;
    for (int i = 0; i < w->n_convs && b->st == SCULPT_OK; i++) {
        unet_conv *cv = w->convs[i];
        if (unet_conv_wino(cv, algo)) {
            /* Winograd transforms the weights at every evaluation (a cached transform would
             * be 16/9 of them), from an f32 copy (see f32_view: not the mapping) laid out as
             * the transform reads them (wino_wpack: no transpose per evaluation; every
             * kernel's mr is 6, the layout's) */
            if (!cv->w32) {
                const int pk = mr == 6; /* the layout is for 6-row panels */
                const size_t n = pk ? wino_wpack_floats(cv->oc, cv->ic) : (size_t)cv->oc * cv->ic * 9;
                float *d = NULL;
                if (!b->m->mapped && cv->w_dtype == SCULPT_DT_F32 && (uintptr_t)cv->w % sizeof(float) == 0) {
                    cv->w32 = cv->w; /* the caller's buffer: zero copy */
                } else if (posix_memalign((void **)&d, 64, n * sizeof(float)) != 0 || !d) {
                    fail(b, SCULPT_E_NOMEM, "out of memory copying weights (%zu bytes)", n * sizeof(float));
                    return;
                } else {
                    if (pk) wino_wpack(cv->w, cv->w_dtype, cv->oc, cv->ic, d);
                    else pack_convert(cv->w, cv->w_dtype, n, d);
                    cv->w32 = d;
                    cv->w32_owned = d;
                    cv->w32_packed = pk;
                    release_pages(b->m, cv->w, cv->w_bytes);
                }
            } else if (cv->w32_packed && mr != 6) {
                fail(b, SCULPT_E_UNSUPPORTED, "kernel with %d-row panels after 6-row ones (Winograd weights laid out for 6)", mr);
                return;
            }
            continue;
        }
        const int K = cv->ic * cv->k * cv->k;
        size_t n = gemm_packed_a_floats(cv->oc, K, mr);
        float *d = NULL;
        if (posix_memalign((void **)&d, 64, n * sizeof(float)) != 0 || !d) {
            fail(b, SCULPT_E_NOMEM, "out of memory packing weights (%zu bytes)", n * sizeof(float));
            return;
        }
        gemm_pack_a(cv->w, cv->w_dtype, cv->oc, K, mr, d);
        cv->packed[slot] = d;
        /* (a context that runs this conv by Winograd faults the pages back in) */
        release_pages(b->m, cv->w, cv->w_bytes);
    }
}

/* Every conv in bf16 for kernel bk (the raw pages are dropped: bf16 contexts never read
 * them; an f32 context that does faults them back in). */
static void pack_bf16(builder *b, const bf16_kernel *bk) {
    unet_weights *w = b->w;
    for (int i = 0; i < w->n_convs && b->st == SCULPT_OK; i++) {
        unet_conv *cv = w->convs[i];
        const size_t bytes = bf16_conv_packed_bytes(bk, &cv->s);
        void *d = NULL;
        if (posix_memalign(&d, 64, bytes ? bytes : 64) != 0 || !d) {
            fail(b, SCULPT_E_NOMEM, "out of memory packing bf16 weights (%zu bytes)", bytes);
            return;
        }
        bf16_conv_pack(bk, &cv->s, cv->w, cv->w_dtype, d);
        cv->packed_bf16 = d;
        release_pages(b->m, cv->w, cv->w_bytes);
    }
    if (b->st == SCULPT_OK) w->bf16_kr = bk;
}

sculpt_status unet_prepare(sculpt_model *m, const gemm_kernel *kr, int algo, const bf16_kernel *bk,
                           unet_weights **out, int *slot_out, char *err, size_t errlen) {
    builder b = {m, NULL, err, errlen, SCULPT_OK};
    pthread_mutex_lock(&prepare_lock);
    unet_weights *w = m->prepared;
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) {
            pthread_mutex_unlock(&prepare_lock);
            fail(&b, SCULPT_E_NOMEM, "out of memory preparing weights");
            return b.st;
        }
        w->cfg = *sculpt_model_config(m);
        b.w = w;
        build(&b);
        if (b.st != SCULPT_OK) {
            weights_free(w);
            pthread_mutex_unlock(&prepare_lock);
            return b.st;
        }
        m->prepared = w;
        m->prepared_free = weights_free;
    }
    b.w = w;
    int slot = -1;
    if (bk) {
        if (!w->bf16_kr) {
            pack_bf16(&b, bk);
            if (b.st != SCULPT_OK)
                for (int i = 0; i < w->n_convs; i++) {
                    free(w->convs[i]->packed_bf16);
        free(w->convs[i]->w32_owned);
                    w->convs[i]->packed_bf16 = NULL;
                }
        } else if (w->bf16_kr != bk) {
            fail(&b, SCULPT_E_UNSUPPORTED, "weights are already packed for bf16 kernel '%s'; one bf16 kernel per open model (asked: '%s')",
                 bf16_kernel_name(w->bf16_kr), bf16_kernel_name(bk));
        }
        if (b.st == SCULPT_OK) release_pages(m, m->base, m->size);
        pthread_mutex_unlock(&prepare_lock);
        if (b.st != SCULPT_OK) return b.st;
        *out = w;
        *slot_out = -1;
        return SCULPT_OK;
    }
    for (int s = 0; s < w->n_slots; s++)
        if (w->slot_mr[s] == kr->mr && w->slot_algo[s] == algo) slot = s;
    if (slot < 0) {
        if (w->n_slots == UNET_PACK_SLOTS) {
            fail(&b, SCULPT_E_UNSUPPORTED, "too many distinct kernel shapes packed (%d)", UNET_PACK_SLOTS);
        } else {
            slot = w->n_slots;
            pack_slot(&b, slot, kr->mr, algo);
            if (b.st == SCULPT_OK) {
                w->slot_mr[slot] = kr->mr;
                w->slot_algo[slot] = algo;
                w->n_slots++;
            } else {
                for (int i = 0; i < w->n_convs; i++) {
                    free(w->convs[i]->packed[slot]);
                    w->convs[i]->packed[slot] = NULL;
                }
            }
        }
    }
    /* everything the forward pass reads is in this process's memory now */
    if (b.st == SCULPT_OK) release_pages(m, m->base, m->size);
    pthread_mutex_unlock(&prepare_lock);
    if (b.st != SCULPT_OK) return b.st;
    *out = w;
    *slot_out = slot;
    return SCULPT_OK;
}
