/* unet.h — internal structures of the DDPM UNet (diffusers UNet2DModel for this family):
 * the prepared weights hung on sculpt_model (built once, shared by contexts) and the
 * context with its single activation arena. */
#ifndef SCULPT_MODEL_UNET_H
#define SCULPT_MODEL_UNET_H

#include <stddef.h>
#include <stdint.h>

#include "ops/kernels.h"
#include "ops/bf16/bf16.h"
#include "ops/ops.h"
#include "sculpt.h"

#define UNET_PACK_SLOTS 4 /* distinct micro-kernel mr values packed for */

/* A convolution (or a [C, C] linear used as a 1x1 convolution over H*W tokens). */
typedef struct unet_conv {
    int oc, ic, k;                    /* weight [oc][ic][k][k] */
    const void *w;                    /* raw weights in the mapping */
    int w_dtype;                      /* sculpt_dtype of w */
    size_t w_bytes;                   /* bytes of w */
    const float *bias;                /* [oc] f32 (mapping or converted copy) */
    float *packed[UNET_PACK_SLOTS];   /* gemm_pack_a panels per slot (owned; NULL for a
                                         slot whose algorithm runs this conv by Winograd) */
    int size;                         /* input h = w */
    int stride;                       /* 1, or 2 for a downsampler */
    int wino_ok;                      /* 3x3, stride 1, pad 1: Winograd can run it */
    const float *w32;                 /* f32 weights for Winograd, made when a slot first
                                         runs this conv by Winograd (NULL before): the
                                         caller's [oc][ic][3][3] buffer, or a copy in
                                         wino_wpack's layout */
    float *w32_owned;                 /* w32 when it is a copy */
    int w32_packed;                   /* w32 in wino_wpack's layout */
    conv_shape s;                     /* the conv as the forward pass runs it (h = w = size) */
    void *packed_bf16;                /* bf16_conv_pack for the model's bf16 kernel (owned) */
} unet_conv;

/* Whether conv cv runs by Winograd under algorithm algo (sculpt_conv_algo, not AUTO-env). */
int unet_conv_wino(const unet_conv *cv, int algo);

typedef struct unet_norm {
    int c, groups;
    const float *gamma, *beta;        /* [c] */
} unet_norm;

typedef struct unet_linear {
    int out, in;
    const float *w;                   /* [out][in] f32 */
    const float *b;                   /* [out] */
} unet_linear;

typedef struct unet_resnet {
    int ic, oc;
    unet_norm norm1, norm2;
    unet_conv conv1, conv2;
    unet_linear temb;                 /* time_emb_proj */
    int has_shortcut;
    unet_conv shortcut;               /* 1x1 conv_shortcut when ic != oc */
} unet_resnet;

typedef struct unet_attn {
    int c, heads;
    unet_norm norm;
    unet_conv q, k, v, out;           /* [c][c] linears as 1x1 convolutions */
} unet_attn;

typedef struct unet_block {
    int n;                            /* resnets (down: layers_per_block, up: +1) */
    unet_resnet *res;                 /* [n] */
    unet_attn *attn;                  /* [n] or NULL */
    int has_resample;                 /* downsampler / upsampler present */
    int resample_conv;                /* 1: with conv (CONV type), 0: avgpool / plain nearest */
    unet_conv conv;                   /* down/upsampler conv */
    int c, size;                      /* channels out, spatial size of the block's resnets */
} unet_block;

/* Everything the forward pass reads, built once per model (prepare.c). */
typedef struct unet_weights {
    sculpt_config cfg;
    unet_conv conv_in, conv_out;
    unet_linear t1, t2;               /* time_embedding.linear_1/2 */
    unet_block down[SCULPT_MAX_LEVELS], up[SCULPT_MAX_LEVELS];
    unet_resnet mid_res[2];
    unet_attn mid_attn;
    unet_norm norm_out;
    unet_conv **convs;                /* [n_convs] every conv above, for packing */
    int n_convs, cap_convs;
    int n_slots;
    int slot_mr[UNET_PACK_SLOTS];     /* mr packed for in each slot */
    int slot_algo[UNET_PACK_SLOTS];   /* sculpt_conv_algo packed for in each slot */
    const bf16_kernel *bf16_kr;       /* kernel the convs are packed for in bf16, or NULL */
    void **owned;                     /* converted f32 copies (f16/bf16 files) */
    int n_owned, cap_owned;
} unet_weights;

/* Build (once) the model's prepared weights and make sure convolutions are packed for
 * kernel kr; returns SCULPT_OK or an error with a message in err. Thread-safe. */
/* With bk (precision bf16): every conv packed once for bk instead (slot -1). */
sculpt_status unet_prepare(sculpt_model *m, const gemm_kernel *kr, int algo, const bf16_kernel *bk,
                           unet_weights **out, int *slot, char *err, size_t errlen);

/* The activation arena: every buffer the forward pass touches, for max_batch items. */
typedef struct unet_buffers {
    float *x;                          /* [n][in][s][s] centred input */
    float *tsin;                       /* [n][c0] sinusoidal embedding */
    float *th;                         /* [n][temb] linear_1 output (SiLU applied in place) */
    float *emb;                        /* [n][temb] time embedding */
    float *emb_act;                    /* [n][temb] SiLU(emb), input of every time_emb_proj */
    float *tproj;                      /* [n][max c] one resnet's time projection */
    float *skips[1 + 2 * 16 * SCULPT_MAX_LEVELS]; /* down path outputs (res_samples) */
    int n_skips;
    float *down_out[SCULPT_MAX_LEVELS]; /* aliases into skips */
    float *mid_out, *up_out[SCULPT_MAX_LEVELS], *conv_act;
    float *norm, *h1, *sc, *cat, *t0, *t1, *up;   /* per-op scratch */
    float *q, *k, *v, *ao;             /* attention */
    float *wino_u;                     /* transformed weights of one Winograd conv, or
                                          one tile block's transformed input */
    size_t wino_u_floats;              /* its size */
    float *thr;                        /* per-thread scratch: n_threads * thr_stride */
    size_t thr_stride;
} unet_buffers;

struct sculpt_ctx {
    sculpt_model *model;
    unet_weights *w;
    const gemm_kernel *kr;
    int slot;                          /* packing slot for (kr->mr, algo) */
    int algo;                          /* sculpt_conv_algo in effect (never env-AUTO) */
    const bf16_kernel *bk;             /* precision bf16: every conv through this kernel */
    int max_batch, n_threads, last_n;
    float *arena;
    size_t arena_bytes;
    unet_buffers b;
    struct unet_prof *prof;            /* SCULPT_PROFILE: per-layer times (else NULL) */
    char err[512];
};

/* Lay out the buffers for cfg at base (NULL: just count); returns the floats needed. */
size_t unet_plan(const unet_weights *w, int max_batch, int n_threads, const gemm_kernel *kr,
                 int algo, const bf16_kernel *bk, float *base, unet_buffers *b);

#endif
