/* forward.c — sculpt_ctx_eval: the DDPM UNet forward pass as diffusers UNet2DModel computes
 * it (unet_2d.py forward; ResnetBlock2D, AttnProcessor, Downsample2D, Upsample2D), and
 * pytorch_diffusion's Model (same network). Every buffer comes from the context's arena. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/winograd.h"
#include "profile.h"
#include "unet.h"
#include "unet_spec.h"

static int fail(sculpt_ctx *c, sculpt_status st, const char *msg) {
    snprintf(c->err, sizeof c->err, "%s: %s", sculpt_model_name(c->model), msg);
    return st;
}

/* stmt, timed into the profile row (kind, size, ic, oc) when SCULPT_PROFILE is on */
#define TIMED(kind, size, ic, oc, flops, stmt)                                                    \
    do {                                                                                          \
        const double t0_ = unet_prof_now(c->prof);                                                \
        stmt;                                                                                     \
        unet_prof_add(c->prof, kind, size, ic, oc, flops, t0_);                                   \
    } while (0)

static void conv_run(sculpt_ctx *c, const unet_conv *cv, int n, int h, int w, int stride, int pt,
                 int pl, int pb, int pr, const float *x, const float *chan_add, int64_t add_stride,
                 const float *residual, float *y) {
    conv_shape s;
    conv_shape_init(&s, cv->ic, cv->oc, cv->k, stride, pt, pl, pb, pr, h, w);
    conv_epilogue e = {cv->bias, chan_add, add_stride, residual};
    if (c->bk) { /* precision bf16: every conv */
        conv2d_bf16_run(c->bk, &s, n, x, cv->packed_bf16, &e, y, c->b.thr, c->b.thr_stride * sizeof(float),
                        c->n_threads);
        return;
    }
    if (unet_conv_wino(cv, c->algo)) { /* no packed panels in this slot: w32 is read */
        /* transforms the weights into wino_u, or panel by panel inside the GEMM when the
         * conv is one tile block (the same bits either way) */
        conv2d_winograd_run_w(c->kr, &s, n, x, cv->w32, cv->w32_packed, c->b.wino_u, c->b.wino_u_floats, &e, y, c->b.thr,
                              c->b.thr_stride, c->n_threads);
        return;
    }
    conv2d_run(c->kr, &s, n, x, cv->packed[c->slot], &e, y, c->b.thr, c->b.thr_stride, c->n_threads);
}

static void conv(sculpt_ctx *c, const unet_conv *cv, int n, int h, int w, int stride, int pt,
                 int pl, int pb, int pr, const float *x, const float *chan_add, int64_t add_stride,
                 const float *residual, float *y) {
    if (!c->prof) {
        conv_run(c, cv, n, h, w, stride, pt, pl, pb, pr, x, chan_add, add_stride, residual, y);
        return;
    }
    const int oh = (h + pt + pb - cv->k) / stride + 1, ow = (w + pl + pr - cv->k) / stride + 1;
    const double flops = 2.0 * n * cv->oc * cv->ic * cv->k * cv->k * oh * ow;
    const char *kind = cv->k == 1        ? (c->bk ? "conv1x1 bf16" : "conv1x1")
                       : stride == 2     ? (c->bk ? "conv3x3/2 bf16" : "conv3x3/2")
                       : c->bk           ? "conv3x3 bf16"
                       : unet_conv_wino(cv, c->algo) ? "conv3x3 wino"
                                                     : "conv3x3";
    TIMED(kind, h, cv->ic, cv->oc, flops,
          conv_run(c, cv, n, h, w, stride, pt, pl, pb, pr, x, chan_add, add_stride, residual, y));
}

/* a [c][c] linear applied to every position: a 1x1 convolution */
static void conv1x1(sculpt_ctx *c, const unet_conv *cv, int n, int size, const float *x,
                    const float *residual, float *y) {
    conv(c, cv, n, size, size, 1, 0, 0, 0, 0, x, NULL, 0, residual, y);
}

static void conv3x3(sculpt_ctx *c, const unet_conv *cv, int n, int size, const float *x,
                    const float *chan_add, int64_t add_stride, const float *residual, float *y) {
    conv(c, cv, n, size, size, 1, 1, 1, 1, 1, x, chan_add, add_stride, residual, y);
}

/* ResnetBlock2D (pre-norm, time_embedding_norm "default", output_scale_factor 1):
 * out = shortcut(x) + conv2(silu(gn2(conv1(silu(gn1(x))) + proj(silu(emb))))) */
static void resnet(sculpt_ctx *c, const unet_resnet *r, int n, int size, const float *x, float *out) {
    const sculpt_config *cfg = &c->w->cfg;
    unet_buffers *b = &c->b;
    const int hw = size * size;
    TIMED("gn+silu", size, r->ic, r->ic, 0,
          groupnorm_run(n, r->ic, hw, r->norm1.groups, cfg->norm_eps, r->norm1.gamma, r->norm1.beta, 1,
                        x, b->norm, c->n_threads));
    TIMED("linear", 1, r->temb.in, r->temb.out, 2.0 * n * r->temb.in * r->temb.out,
          linear_run(n, r->temb.in, r->temb.out, b->emb_act, r->temb.w, r->temb.b, b->tproj, c->n_threads));
    conv3x3(c, &r->conv1, n, size, b->norm, b->tproj, r->oc, NULL, b->h1);
    TIMED("gn+silu", size, r->oc, r->oc, 0,
          groupnorm_run(n, r->oc, hw, r->norm2.groups, cfg->norm_eps, r->norm2.gamma, r->norm2.beta, 1,
                        b->h1, b->norm, c->n_threads));
    const float *res = x;
    if (r->has_shortcut) {
        conv1x1(c, &r->shortcut, n, size, x, NULL, b->sc);
        res = b->sc;
    }
    conv3x3(c, &r->conv2, n, size, b->norm, NULL, 0, res, out);
}

/* Attention with residual_connection: out = x + to_out(attn(gn(x))) */
static void attention(sculpt_ctx *c, const unet_attn *a, int n, int size, const float *x, float *out) {
    const sculpt_config *cfg = &c->w->cfg;
    unet_buffers *b = &c->b;
    const int hw = size * size;
    TIMED("groupnorm", size, a->c, a->c, 0,
          groupnorm_run(n, a->c, hw, a->norm.groups, cfg->norm_eps, a->norm.gamma, a->norm.beta, 0, x,
                        b->norm, c->n_threads));
    conv1x1(c, &a->q, n, size, b->norm, NULL, b->q);
    conv1x1(c, &a->k, n, size, b->norm, NULL, b->k);
    conv1x1(c, &a->v, n, size, b->norm, NULL, b->v);
    if (c->bk) /* precision bf16: both GEMMs on the bf16 kernel */
        TIMED("attention bf16", size, a->c, a->c, 4.0 * n * hw * hw * a->c,
              attention_bf16_run(c->bk, n, a->c, hw, a->heads, b->q, b->k, b->v, b->ao, b->thr,
                                 b->thr_stride * sizeof(float), c->n_threads));
    else
        TIMED("attention", size, a->c, a->c, 4.0 * n * hw * hw * a->c,
              attention_run(c->kr, n, a->c, hw, a->heads, b->q, b->k, b->v, b->ao, b->thr, b->thr_stride,
                            c->n_threads));
    conv1x1(c, &a->out, n, size, b->ao, x, out);
}

sculpt_status sculpt_ctx_eval(sculpt_ctx *c, int n, const float *x, const float *t, float *out) {
    if (!c) return SCULPT_E_ARG;
    char msg[200];
    if (n < 1 || n > c->max_batch) {
        snprintf(msg, sizeof msg, "batch %d is outside 1..%d (the context's max_batch)", n, c->max_batch);
        return fail(c, SCULPT_E_ARG, msg);
    }
    if (!x || !t || !out) return fail(c, SCULPT_E_ARG, "eval: x, t and out must not be NULL");
    for (int i = 0; i < n; i++)
        if (!isfinite(t[i])) {
            snprintf(msg, sizeof msg, "timestep t[%d] = %g is not finite", i, (double)t[i]);
            return fail(c, SCULPT_E_ARG, msg);
        }
    const unet_weights *w = c->w;
    const sculpt_config *cfg = &w->cfg;
    unet_buffers *b = &c->b;
    const int L = cfg->n_levels, S = cfg->sample_size, c0 = cfg->block_out_channels[0];
    const int temb = cfg->time_embed_dim, nt = c->n_threads;
    const int64_t in_len = (int64_t)n * cfg->in_channels * S * S;

    /* 0. centre the input (2x - 1) */
    if (cfg->center_input_sample)
        for (int64_t i = 0; i < in_len; i++) b->x[i] = 2.0f * x[i] - 1.0f;
    else
        memcpy(b->x, x, (size_t)in_len * sizeof(float));

    unet_prof_eval(c->prof);
    const double t_emb = unet_prof_now(c->prof);
    /* 1. time: sinusoidal -> linear_1 -> SiLU -> linear_2; every resnet uses SiLU(emb) */
    timestep_embedding(n, t, c0, cfg->flip_sin_to_cos, cfg->freq_shift, b->tsin);
    linear_run(n, c0, temb, b->tsin, w->t1.w, w->t1.b, b->th, nt);
    silu_inplace((int64_t)n * temb, b->th);
    linear_run(n, temb, temb, b->th, w->t2.w, w->t2.b, b->emb, nt);
    memcpy(b->emb_act, b->emb, (size_t)n * temb * sizeof(float));
    silu_inplace((int64_t)n * temb, b->emb_act);
    unet_prof_add(c->prof, "time embed", 1, c0, temb, 0, t_emb);

    /* 2. conv_in */
    conv3x3(c, &w->conv_in, n, S, b->x, NULL, 0, NULL, b->skips[0]);

    /* 3. down: every resnet(+attention) output and every downsampled map is a skip */
    const float *h = b->skips[0];
    int si = 1;
    for (int l = 0; l < L; l++) {
        const unet_block *blk = &w->down[l];
        for (int j = 0; j < blk->n; j++) {
            float *dst = b->skips[si++];
            if (blk->attn) {
                resnet(c, &blk->res[j], n, blk->size, h, b->t0);
                attention(c, &blk->attn[j], n, blk->size, b->t0, dst);
            } else {
                resnet(c, &blk->res[j], n, blk->size, h, dst);
            }
            h = dst;
        }
        if (blk->has_resample) {
            float *dst = b->skips[si++];
            if (blk->resample_conv) {
                /* downsample_padding 0: F.pad (0,1,0,1) then a stride-2 conv; 1: pad 1 */
                const int p0 = cfg->downsample_padding ? 1 : 0;
                conv(c, &blk->conv, n, blk->size, blk->size, 2, p0, p0, 1, 1, h, NULL, 0, NULL, dst);
            } else {
                avgpool2x2(n, blk->c, blk->size, blk->size, h, dst);
            }
            h = dst;
        }
    }

    /* 4. mid */
    const int top = cfg->block_out_channels[L - 1], ms = S >> (L - 1);
    resnet(c, &w->mid_res[0], n, ms, h, b->t0);
    const float *mh = b->t0;
    if (cfg->mid_attention) {
        attention(c, &w->mid_attn, n, ms, b->t0, b->t1);
        mh = b->t1;
    }
    resnet(c, &w->mid_res[1], n, ms, mh, b->mid_out);
    (void)top;

    /* 5. up: resnet j takes cat([h, skip]) with skips popped in reverse */
    h = b->mid_out;
    for (int i = 0; i < L; i++) {
        const unet_block *blk = &w->up[i];
        const int size = blk->size, hw = size * size;
        for (int j = 0; j < blk->n; j++) {
            int ic, sc, oc;
            unet_up_resnet_channels(cfg, i, j, &ic, &sc, &oc);
            const float *skip = b->skips[--si];
            TIMED("concat", size, ic, ic + sc, 0, concat_channels(n, ic, sc, hw, h, skip, b->cat, nt));
            const int last = j == blk->n - 1 && !blk->has_resample;
            float *rdst = (last && !blk->attn) ? b->up_out[i] : b->t0;
            resnet(c, &blk->res[j], n, size, b->cat, rdst);
            h = rdst;
            if (blk->attn) {
                float *adst = last ? b->up_out[i] : b->t1;
                attention(c, &blk->attn[j], n, size, rdst, adst);
                h = adst;
            }
        }
        if (blk->has_resample) {
            if (blk->resample_conv) {
                TIMED("upsample", size, blk->c, blk->c, 0, upsample_nearest2x(n, blk->c, size, size, h, b->up, nt));
                conv3x3(c, &blk->conv, n, 2 * size, b->up, NULL, 0, NULL, b->up_out[i]);
            } else {
                upsample_nearest2x(n, blk->c, size, size, h, b->up_out[i], nt);
            }
        }
        h = b->up_out[i];
    }

    /* 6. conv_norm_out -> SiLU -> conv_out */
    TIMED("gn+silu", S, c0, c0, 0,
          groupnorm_run(n, c0, S * S, w->norm_out.groups, cfg->norm_eps, w->norm_out.gamma,
                        w->norm_out.beta, 1, h, b->conv_act, nt));
    conv3x3(c, &w->conv_out, n, S, b->conv_act, NULL, 0, NULL, out);
    c->last_n = n;
    return SCULPT_OK;
}

int64_t sculpt_ctx_intermediate(sculpt_ctx *c, const char *name, float *dst, int64_t cap) {
    if (!c || !name || c->last_n < 1) return -1;
    const sculpt_config *cfg = &c->w->cfg;
    const int L = cfg->n_levels, S = cfg->sample_size;
    const float *src = NULL;
    int64_t per = 0;
    int idx = -1;
    char tail = 0;
    if (strcmp(name, "time_embedding") == 0) {
        src = c->b.emb;
        per = cfg->time_embed_dim;
    } else if (strcmp(name, "conv_in") == 0) {
        src = c->b.skips[0];
        per = (int64_t)cfg->block_out_channels[0] * S * S;
    } else if (sscanf(name, "down_blocks.%d%c", &idx, &tail) == 1 && idx >= 0 && idx < L) {
        const int size = (idx == L - 1) ? S >> idx : S >> (idx + 1);
        src = c->b.down_out[idx];
        per = (int64_t)cfg->block_out_channels[idx] * size * size;
    } else if (strcmp(name, "mid_block") == 0) {
        const int ms = S >> (L - 1);
        src = c->b.mid_out;
        per = (int64_t)cfg->block_out_channels[L - 1] * ms * ms;
    } else if (sscanf(name, "up_blocks.%d%c", &idx, &tail) == 1 && idx >= 0 && idx < L) {
        const int l = L - 1 - idx, size = l > 0 ? S >> (l - 1) : S;
        src = c->b.up_out[idx];
        per = (int64_t)cfg->block_out_channels[l] * size * size;
    } else if (strcmp(name, "conv_act") == 0 || strcmp(name, "conv_norm_out") == 0) {
        src = c->b.conv_act;
        per = (int64_t)cfg->block_out_channels[0] * S * S;
    } else {
        return -1;
    }
    const int64_t total = per * c->last_n;
    if (dst && cap >= total) memcpy(dst, src, (size_t)total * sizeof(float));
    return total;
}
