/* context.c — sculpt_ctx: one activation arena sized at create for max_batch (nothing is
 * allocated per evaluation), the kernel path chosen (options, SCULPT_ISA, or the CPU's
 * best), and the model's weights prepared/packed on first use. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/winograd.h"
#include "profile.h"
#include "unet.h"
#include "unet_spec.h"

/* Message of the last failed sculpt_ctx_create on this thread (sculpt_ctx_errmsg(NULL)). */
static _Thread_local char create_err[512];

#define ALIGN_F 16 /* floats: 64-byte aligned buffers */

typedef struct planner {
    float *base;
    size_t used; /* floats */
} planner;

static float *take(planner *p, size_t floats) {
    size_t at = p->used, add = (floats + ALIGN_F - 1) / ALIGN_F * ALIGN_F;
    p->used = add > SIZE_MAX - at ? SIZE_MAX : at + add; /* saturate; create refuses */
    return p->base ? p->base + at : NULL;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

size_t unet_plan(const unet_weights *w, int max_batch, int n_threads, const gemm_kernel *kr,
                 int algo, const bf16_kernel *bk, float *base, unet_buffers *b) {
    const sculpt_config *c = &w->cfg;
    planner p = {base, 0};
    const size_t n = (size_t)max_batch;
    const int L = c->n_levels, S = c->sample_size, c0 = c->block_out_channels[0];
    size_t hw[SCULPT_MAX_LEVELS];
    int maxc = 0;
    for (int l = 0; l < L; l++) {
        hw[l] = (size_t)(S >> l) * (size_t)(S >> l);
        if (c->block_out_channels[l] > maxc) maxc = c->block_out_channels[l];
    }
    memset(b, 0, sizeof *b);
    b->x = take(&p, n * c->in_channels * hw[0]);
    b->tsin = take(&p, n * c0);
    b->th = take(&p, n * c->time_embed_dim);
    b->emb = take(&p, n * c->time_embed_dim);
    b->emb_act = take(&p, n * c->time_embed_dim);
    b->tproj = take(&p, n * maxc);
    /* down path outputs, kept for the skip connections */
    int s = 0;
    b->skips[s++] = take(&p, n * c0 * hw[0]);
    size_t res_max = 0, attn_max = 0, cat_max = 0, up_max = 0, attn_scr = 0;
    for (int l = 0; l < L; l++) {
        const size_t ch = (size_t)c->block_out_channels[l];
        res_max = max_sz(res_max, ch * hw[l]);
        for (int j = 0; j < c->layers_per_block; j++) b->skips[s++] = take(&p, n * ch * hw[l]);
        if (l != L - 1) b->skips[s++] = take(&p, n * ch * hw[l + 1]);
        b->down_out[l] = b->skips[s - 1];
        int attn = c->down_attn[l] || c->up_attn[L - 1 - l] || (l == L - 1 && c->mid_attention);
        if (attn) {
            const int dh = c->attention_head_dim > 0 ? c->attention_head_dim : (int)ch;
            attn_max = max_sz(attn_max, ch * hw[l]);
            attn_scr = max_sz(attn_scr, attention_scratch_floats(kr, (int)hw[l], dh));
            if (bk) attn_scr = max_sz(attn_scr, (attention_bf16_scratch_bytes(bk, (int)hw[l], dh) + 3) / 4);
        }
    }
    b->n_skips = s;
    b->mid_out = take(&p, n * (size_t)c->block_out_channels[L - 1] * hw[L - 1]);
    for (int i = 0; i < L; i++) {
        const int l = L - 1 - i;
        const size_t ch = (size_t)c->block_out_channels[l];
        for (int j = 0; j < c->layers_per_block + 1; j++) {
            int ic, sc, oc;
            unet_up_resnet_channels(c, i, j, &ic, &sc, &oc);
            cat_max = max_sz(cat_max, (size_t)(ic + sc) * hw[l]);
        }
        const size_t out_hw = l > 0 ? hw[l - 1] : hw[l];
        if (l > 0) up_max = max_sz(up_max, ch * out_hw);
        b->up_out[i] = take(&p, n * ch * out_hw);
    }
    b->conv_act = take(&p, n * c0 * hw[0]);
    const size_t in_max = max_sz(max_sz(res_max, cat_max), (size_t)c->in_channels * hw[0]);
    b->norm = take(&p, n * in_max);
    b->h1 = take(&p, n * res_max);
    b->sc = take(&p, n * res_max);
    b->cat = take(&p, n * cat_max);
    b->t0 = take(&p, n * res_max);
    b->t1 = take(&p, n * res_max);
    b->up = take(&p, n * up_max);
    b->q = take(&p, n * attn_max);
    b->k = take(&p, n * attn_max);
    b->v = take(&p, n * attn_max);
    b->ao = take(&p, n * attn_max);
    /* Winograd: one conv's transformed weights at a time, and per-thread tile buffers */
    size_t u_max = 0, wino_scr = 0;
    size_t bf16_scr = 0; /* floats */
    for (int i = 0; i < w->n_convs; i++) {
        const unet_conv *cv = w->convs[i];
        if (bk) bf16_scr = max_sz(bf16_scr, (conv2d_bf16_scratch_bytes(bk, &cv->s) + 3) / 4);
        if (bk || !unet_conv_wino(cv, algo)) continue;
        /* a conv that is one tile block even at max_batch transforms its weights inside
         * the GEMM and needs no U (fewer items are fewer tiles) */
        if (!wino_fused(kr, &cv->s, max_batch)) u_max = max_sz(u_max, wino_u_floats(cv->oc, cv->ic, kr->mr, wino_tile(&cv->s)));
        /* and where one tile block is split over threads, its input transformed once */
        if (n_threads > 1) u_max = max_sz(u_max, wino_work_floats(kr, &cv->s, max_batch));
        wino_scr = max_sz(wino_scr, wino_scratch_floats(kr, &cv->s));
    }
    b->wino_u = u_max ? take(&p, u_max) : NULL;
    b->wino_u_floats = u_max;
    size_t stride = max_sz(max_sz(conv2d_scratch_floats(kr), attn_scr), max_sz(wino_scr, bf16_scr));
    stride = (stride + ALIGN_F - 1) / ALIGN_F * ALIGN_F;
    b->thr_stride = stride;
    b->thr = take(&p, stride * (size_t)n_threads);
    return p.used;
}

static sculpt_status create_fail(sculpt_status st, const char *fmt, const char *a, const char *b) {
    snprintf(create_err, sizeof create_err, fmt, a, b);
    return st;
}

sculpt_status sculpt_ctx_create(sculpt_model *m, const sculpt_ctx_options *opt, sculpt_ctx **out) {
    if (out) *out = NULL;
    if (!m || !opt || !out)
        return create_fail(SCULPT_E_ARG, "sculpt_ctx_create: %s%s", !m ? "model is NULL" : "",
                           !opt ? " options are NULL" : (!out ? " out is NULL" : ""));
    const char *name = sculpt_model_name(m);
    char msg[400];
    if (opt->max_batch < 1 || opt->max_batch > 65536) {
        snprintf(msg, sizeof msg, "max_batch = %d must be in 1..65536", opt->max_batch);
        return create_fail(SCULPT_E_ARG, "%s: %s", name, msg);
    }
    if (opt->n_threads < 0 || opt->n_threads > 1024) {
        snprintf(msg, sizeof msg, "n_threads = %d must be in 0..1024 (0: OpenMP default)", opt->n_threads);
        return create_fail(SCULPT_E_ARG, "%s: %s", name, msg);
    }
    if (opt->precision != SCULPT_PRECISION_F32 && opt->precision != SCULPT_PRECISION_BF16) {
        snprintf(msg, sizeof msg, "precision %d (%s) is not implemented; f32, or bf16 on AMX/AVX512-BF16 CPUs", opt->precision,
                 opt->precision == SCULPT_PRECISION_F16 ? "f16" : "unknown");
        return create_fail(opt->precision == SCULPT_PRECISION_F16 ? SCULPT_E_UNSUPPORTED : SCULPT_E_ARG,
                           "%s: %s", name, msg);
    }
    /* bf16: the best AMX-BF16 / AVX512-BF16 kernel, refused where there is none; tests may
     * name one (SCULPT_BF16_KERNEL=scalar runs the oracle kernel on any CPU) */
    const bf16_kernel *bk = NULL;
    if (opt->precision == SCULPT_PRECISION_BF16) {
        const char *bw = getenv("SCULPT_BF16_KERNEL");
        int bst = SCULPT_OK;
        char berr[200];
        bk = bf16_kernel_select(bw && *bw ? bw : NULL, &bst, berr, sizeof berr);
        if (!bk) {
            snprintf(msg, sizeof msg, "%s%s", berr, bw && *bw ? " (from SCULPT_BF16_KERNEL)" : "");
            return create_fail((sculpt_status)bst, "%s: %s", name, msg);
        }
    }
    const char *want = opt->isa;
    const char *from = "options";
    if (!want || !*want) {
        want = getenv("SCULPT_ISA");
        from = "SCULPT_ISA";
        if (want && !*want) want = NULL;
    }
    int kst = SCULPT_OK;
    char kerr[200];
    const gemm_kernel *kr = gemm_kernel_select(want, &kst, kerr, sizeof kerr);
    if (!kr) {
        snprintf(msg, sizeof msg, "%s (from %s)", kerr, from);
        return create_fail((sculpt_status)kst, "%s: %s", name, msg);
    }
    /* ops index activations with int element counts: refuse what would not fit */
    const sculpt_config *mc = sculpt_model_config(m);
    double biggest = 0;
    for (int l = 0; l < mc->n_levels && l < SCULPT_MAX_LEVELS; l++)
        biggest = fmax(biggest, 3.0 * mc->block_out_channels[l]);
    biggest = fmax(biggest, (double)mc->in_channels + mc->out_channels);
    biggest *= (double)opt->max_batch * mc->sample_size * mc->sample_size;
    if (biggest > 2147483647.0) {
        snprintf(msg, sizeof msg, "max_batch %d x %dx%d images x %g channels is too large for one context",
                 opt->max_batch, mc->sample_size, mc->sample_size, biggest / ((double)opt->max_batch * mc->sample_size * mc->sample_size));
        return create_fail(SCULPT_E_UNSUPPORTED, "%s: %s", name, msg);
    }
    int algo = opt->conv_algo;
    if (algo < SCULPT_CONV_AUTO || algo > SCULPT_CONV_WINOGRAD) {
        snprintf(msg, sizeof msg, "conv_algo = %d is not one of auto (0), direct (1), winograd (2)", algo);
        return create_fail(SCULPT_E_ARG, "%s: %s", name, msg);
    }
    const char *env = algo == SCULPT_CONV_AUTO ? getenv("SCULPT_CONV") : NULL;
    if (env && *env) {
        if (!strcmp(env, "direct")) algo = SCULPT_CONV_DIRECT;
        else if (!strcmp(env, "winograd")) algo = SCULPT_CONV_WINOGRAD;
        else if (strcmp(env, "auto") != 0) {
            snprintf(msg, sizeof msg, "SCULPT_CONV='%.40s' is not auto, direct or winograd", env);
            return create_fail(SCULPT_E_ARG, "%s: %s", name, msg);
        }
    }
    unet_weights *w = NULL;
    int slot = 0;
    sculpt_status st = unet_prepare(m, kr, algo, bk, &w, &slot, create_err, sizeof create_err);
    if (st != SCULPT_OK) return st;
    const int nt = opt->n_threads ? opt->n_threads : ops_default_threads();
    unet_buffers tmp;
    size_t floats = unet_plan(w, opt->max_batch, nt, kr, algo, bk, NULL, &tmp);
    if (floats > ((size_t)-1) / sizeof(float) / 2) {
        return create_fail(SCULPT_E_NOMEM, "%s: %s", name, "activation arena size overflows");
    }
    sculpt_ctx *c = calloc(1, sizeof *c);
    float *arena = NULL;
    if (!c || posix_memalign((void **)&arena, 64, floats * sizeof(float) + 64) != 0 || !arena) {
        free(c);
        snprintf(msg, sizeof msg, "out of memory allocating the %zu-byte activation arena", floats * sizeof(float));
        return create_fail(SCULPT_E_NOMEM, "%s: %s", name, msg);
    }
    memset(arena, 0, floats * sizeof(float));
    c->model = m;
    c->w = w;
    c->kr = kr;
    c->slot = slot;
    c->algo = algo;
    c->bk = bk;
    c->max_batch = opt->max_batch;
    c->n_threads = nt;
    c->arena = arena;
    c->arena_bytes = floats * sizeof(float);
    unet_plan(w, opt->max_batch, nt, kr, algo, bk, arena, &c->b);
    c->prof = unet_prof_new();
    *out = c;
    create_err[0] = 0;
    return SCULPT_OK;
}

void sculpt_ctx_destroy(sculpt_ctx *c) {
    if (!c) return;
    unet_prof_print(c->prof, sculpt_model_name(c->model), c->n_threads, c->max_batch);
    unet_prof_free(c->prof);
    free(c->arena);
    free(c);
}

const char *sculpt_ctx_errmsg(const sculpt_ctx *c) { return c ? c->err : create_err; }
size_t sculpt_ctx_arena_bytes(const sculpt_ctx *c) { return c ? c->arena_bytes : 0; }
/* the convolutions' kernel: in bf16 the bf16 one ("amx", "avx512bf16") */
const char *sculpt_ctx_isa(const sculpt_ctx *c) { return c ? (c->bk ? bf16_kernel_name(c->bk) : c->kr->name) : NULL; }
const char *sculpt_ctx_conv(const sculpt_ctx *c) {
    static const char *const names[] = {"auto", "direct", "winograd"};
    return c ? names[c->bk ? SCULPT_CONV_DIRECT : c->algo] : NULL; /* bf16: every conv direct */
}
sculpt_model *sculpt_ctx_model(const sculpt_ctx *c) { return c ? c->model : NULL; }
