/* sculpt.h — the one public header of libsculpt: open a flat weight file, evaluate the
 * DDPM UNet, and sample images from it. See weights/FORMAT.md for the file format. */
#ifndef SCULPT_H
#define SCULPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCULPT_VERSION_STRING "0.1.0"

/* Status codes: every fallible call returns one; the words are in *_errmsg(). */
typedef enum sculpt_status {
    SCULPT_OK = 0,
    SCULPT_E_IO = 1,          /* open/read/mmap/write failed */
    SCULPT_E_FORMAT = 2,      /* the file is malformed, truncated or hostile */
    SCULPT_E_UNSUPPORTED = 3, /* well-formed, but a config/option sculpt does not implement */
    SCULPT_E_NOMEM = 4,       /* allocation failed */
    SCULPT_E_ARG = 5,         /* bad argument from the caller */
    SCULPT_E_CPU = 6,         /* requested kernel path not supported by this CPU */
    SCULPT_E_INTERRUPTED = 7  /* a progress callback asked to stop */
} sculpt_status;

const char *sculpt_status_string(sculpt_status s);

/* ---- model config (the DDPM UNet family, diffusers UNet2DModel semantics) ---- */
#define SCULPT_MAX_LEVELS 8

/* CONV: stride-2 3x3 conv down, nearest x2 + 3x3 conv up (diffusers, pytorch_diffusion's
 * resamp_with_conv=True). AVGPOOL: 2x2 average pool down, nearest x2 with no conv up
 * (pytorch_diffusion's resamp_with_conv=False). */
typedef enum { SCULPT_DOWNSAMPLE_CONV = 0, SCULPT_DOWNSAMPLE_AVGPOOL = 1 } sculpt_downsample_type;

typedef struct sculpt_config {
    int32_t in_channels;                           /* c of the input image */
    int32_t out_channels;                          /* c of the network output */
    int32_t sample_size;                           /* h = w of the image */
    int32_t n_levels;                              /* len(block_out_channels), 1..8 */
    int32_t block_out_channels[SCULPT_MAX_LEVELS]; /* channels per level */
    int32_t down_attn[SCULPT_MAX_LEVELS];          /* level l uses AttnDownBlock2D */
    int32_t up_attn[SCULPT_MAX_LEVELS];            /* up block i (level n_levels-1-i) is AttnUpBlock2D */
    int32_t layers_per_block;                      /* resnets per down block (up: +1) */
    int32_t norm_num_groups;                       /* GroupNorm groups in resnets/out */
    int32_t attn_norm_num_groups;                  /* GroupNorm groups in the mid block's attention */
    float norm_eps;                                /* GroupNorm eps (resnets, attention, out) */
    int32_t attention_head_dim;                    /* channels per head; 0 = one head */
    int32_t mid_attention;                         /* mid block has attention (add_attention) */
    int32_t flip_sin_to_cos;                       /* time embedding: cos first */
    float freq_shift;                              /* time embedding: downscale_freq_shift */
    int32_t time_embed_dim;                        /* = 4 * block_out_channels[0] */
    int32_t downsample_type;                       /* sculpt_downsample_type */
    int32_t downsample_padding;                    /* 0: pad (0,1,0,1); 1: pad 1 all round */
    int32_t center_input_sample;                   /* x -> 2x - 1 before conv_in */
} sculpt_config;

/* ---- noise schedule, as diffusers DDPMScheduler reads scheduler_config.json ---- */
typedef enum { SCULPT_BETA_LINEAR = 0, SCULPT_BETA_SCALED_LINEAR = 1,
               SCULPT_BETA_SQUAREDCOS_CAP_V2 = 2, SCULPT_BETA_TRAINED = 3 } sculpt_beta_schedule;
typedef enum { SCULPT_VAR_FIXED_SMALL = 0, SCULPT_VAR_FIXED_LARGE = 1,
               SCULPT_VAR_FIXED_SMALL_LOG = 2, SCULPT_VAR_FIXED_LARGE_LOG = 3 } sculpt_variance_type;
typedef enum { SCULPT_PRED_EPSILON = 0, SCULPT_PRED_V = 1, SCULPT_PRED_SAMPLE = 2 } sculpt_prediction_type;

typedef struct sculpt_schedule {
    int32_t num_train_timesteps; /* T */
    int32_t beta_schedule;       /* sculpt_beta_schedule (how betas were made) */
    float beta_start, beta_end;
    int32_t variance_type;       /* sculpt_variance_type */
    int32_t clip_sample;         /* 0/1 */
    float clip_sample_range;
    int32_t prediction_type;     /* sculpt_prediction_type */
    const float *betas;          /* [T], float32 as torch computes them */
    const float *alphas_cumprod; /* [T], float32 as diffusers computes them */
} sculpt_schedule;

/* ---- dtypes of stored tensors ---- */
typedef enum { SCULPT_DT_F32 = 0, SCULPT_DT_F16 = 1, SCULPT_DT_BF16 = 2 } sculpt_dtype;

/* ---- model: an opened, validated weight file ---- */
typedef struct sculpt_model sculpt_model;

enum { SCULPT_OPEN_NO_CHECKSUM = 1 }; /* skip the data checksum (trusted files) */

/* Open `path` read-only with mmap and validate every field (see FORMAT.md). On failure
 * *out is NULL and, when errbuf is given, a one-line message naming the file is written to
 * errbuf (errlen bytes). Return SCULPT_OK, SCULPT_E_IO, SCULPT_E_FORMAT, SCULPT_E_UNSUPPORTED
 * or SCULPT_E_NOMEM. */
sculpt_status sculpt_model_open(const char *path, unsigned flags, sculpt_model **out,
                                char *errbuf, size_t errlen);
/* The same from a caller-owned buffer that must outlive the model (no copy; `name` is used
 * in messages). `data` must be 64-byte aligned. */
sculpt_status sculpt_model_open_memory(const void *data, size_t size, const char *name,
                                       unsigned flags, sculpt_model **out, char *errbuf,
                                       size_t errlen);
void sculpt_model_close(sculpt_model *m); /* NULL is a no-op */

const sculpt_config *sculpt_model_config(const sculpt_model *m);
const sculpt_schedule *sculpt_model_schedule(const sculpt_model *m);
uint64_t sculpt_model_checksum(const sculpt_model *m);      /* data checksum from the header */
const char *sculpt_model_metadata(const sculpt_model *m, const char *key); /* NULL if absent */
const char *sculpt_model_name(const sculpt_model *m);        /* path or name given at open */

/* Tensor access by canonical (diffusers) name: returns 0 if found. */
typedef struct sculpt_tensor_info {
    const char *name;
    int32_t dtype;     /* sculpt_dtype */
    int32_t ndim;      /* 1..4 */
    int64_t shape[4];
    const void *data;  /* points into the mapping */
    uint64_t nbytes;
} sculpt_tensor_info;
int sculpt_model_tensor_count(const sculpt_model *m);
int sculpt_model_tensor(const sculpt_model *m, int index, sculpt_tensor_info *out);
int sculpt_model_find_tensor(const sculpt_model *m, const char *name, sculpt_tensor_info *out);

/* ---- context: activations for one batch size, allocated once ---- */
typedef struct sculpt_ctx sculpt_ctx;

typedef enum { SCULPT_PRECISION_F32 = 0, SCULPT_PRECISION_BF16 = 1, SCULPT_PRECISION_F16 = 2 } sculpt_precision;

/* How 3x3 convolutions are computed. AUTO: Winograd for the stride-1 3x3 convolutions at
 * 8x8 and larger with at least 16 input channels — F(4x4,3x3) where both sides are 16 or
 * more (4x fewer multiplies), F(2x2,3x3) below (2.25x fewer) — the direct packed GEMM
 * elsewhere. DIRECT: the packed GEMM everywhere (the results of sculpt before Winograd).
 * WINOGRAD: every stride-1 3x3 convolution (any size; for tests). The choice depends only
 * on the layer, never on batch size or thread count, so results stay reproducible. */
typedef enum { SCULPT_CONV_AUTO = 0, SCULPT_CONV_DIRECT = 1, SCULPT_CONV_WINOGRAD = 2 } sculpt_conv_algo;

typedef struct sculpt_ctx_options {
    int32_t max_batch;   /* largest batch eval() will be given, >= 1 */
    int32_t n_threads;   /* 0: OpenMP default */
    int32_t precision;   /* sculpt_precision: F32; BF16 (opt-in) runs every convolution and
                            attention's two products in bf16 on AMX-BF16 or AVX512-BF16,
                            SCULPT_E_CPU on other CPUs;
                            F16 is not implemented (SCULPT_E_UNSUPPORTED) */
    const char *isa;     /* NULL: best for this CPU (env SCULPT_ISA overrides); or "scalar",
                            "avx2", "avx512", "neon" */
    int32_t conv_algo;   /* sculpt_conv_algo; AUTO (0) lets env SCULPT_CONV=auto|direct|winograd
                            choose */
} sculpt_ctx_options;

sculpt_status sculpt_ctx_create(sculpt_model *m, const sculpt_ctx_options *opt, sculpt_ctx **out);
void sculpt_ctx_destroy(sculpt_ctx *c); /* NULL is a no-op */
/* The message of c's last failed call; with c == NULL, the message of the calling thread's
 * last failed sculpt_ctx_create (which returns no context). */
const char *sculpt_ctx_errmsg(const sculpt_ctx *c);
size_t sculpt_ctx_arena_bytes(const sculpt_ctx *c);
const char *sculpt_ctx_isa(const sculpt_ctx *c); /* kernel path in use */
const char *sculpt_ctx_conv(const sculpt_ctx *c); /* "auto", "direct" or "winograd" (bf16: "direct") */
sculpt_model *sculpt_ctx_model(const sculpt_ctx *c);

/* Evaluate the network: x [n, in_channels, s, s] f32 NCHW, t[n] one (possibly fractional)
 * timestep per item, out [n, out_channels, s, s]. Allocates nothing. n <= max_batch. */
sculpt_status sculpt_ctx_eval(sculpt_ctx *c, int n, const float *x, const float *t, float *out);

/* Debug hook for golden tests: after eval, copy the named intermediate activation
 * (e.g. "conv_in", "down_blocks.0", "mid_block", "up_blocks.1", "conv_norm_out") for
 * item 0..n-1; returns element count or -1 if unknown. */
int64_t sculpt_ctx_intermediate(sculpt_ctx *c, const char *name, float *dst, int64_t cap);

/* ---- torch-compatible random numbers (torch.manual_seed + torch.randn on the CPU) ---- */
typedef struct sculpt_rng {
    uint32_t mt[624];
    int32_t mti;
    int32_t has_next_double; /* cached normal for the n < 16 path */
    double next_double;
} sculpt_rng;
void sculpt_rng_seed(sculpt_rng *r, uint64_t seed);
/* Equal to torch.randn(n) bit for bit (continuing the stream as torch does). */
void sculpt_rng_randn(sculpt_rng *r, float *dst, size_t n);

/* ---- samplers ---- */
typedef enum {
    SCULPT_SAMPLER_DDPM = 0, SCULPT_SAMPLER_DDIM, SCULPT_SAMPLER_EULER, SCULPT_SAMPLER_HEUN,
    SCULPT_SAMPLER_EULER_A, SCULPT_SAMPLER_DPMPP_2M
} sculpt_sampler_kind;
typedef enum { SCULPT_SIGMAS_DISCRETE = 0, SCULPT_SIGMAS_KARRAS, SCULPT_SIGMAS_EXPONENTIAL } sculpt_sigma_schedule;
typedef enum { SCULPT_SPACING_LEADING = 0, SCULPT_SPACING_TRAILING, SCULPT_SPACING_LINSPACE } sculpt_spacing;

typedef struct sculpt_sampler_options {
    int32_t sampler;        /* sculpt_sampler_kind */
    int32_t steps;
    int32_t sigma_schedule; /* sculpt_sigma_schedule (euler/heun/euler_a/dpmpp_2m) */
    int32_t spacing;        /* sculpt_spacing (ddpm/ddim) */
    int32_t steps_offset;
    float eta;              /* ddim eta; euler_a eta */
    float churn, tmin, tmax, snoise; /* Karras churn (euler/heun) */
    float sigma_min, sigma_max, rho; /* 0: model's range; rho default 7 */
    int32_t set_alpha_to_one; /* ddim */
    int32_t clip_sample;      /* -1: from the model's schedule */
} sculpt_sampler_options;
void sculpt_sampler_defaults(sculpt_sampler_options *o);

/* Progress: called after each step; return non-zero to stop (SCULPT_E_INTERRUPTED). */
typedef int (*sculpt_progress_fn)(void *user, int step, int steps, int nfe);

/* Sample n images (n <= the context's max_batch): x [n, c, s, s] holds the starting noise
 * (unit variance) on entry and the result on exit. rngs[i] is image i's own stream, seeded
 * with seed + i and already used to draw that image's starting noise; the noise that
 * ancestral/stochastic samplers add continues it, as torch's generator does in diffusers and
 * k-diffusion, so a batch never changes an image. */
sculpt_status sculpt_sampler_run(sculpt_ctx *c, const sculpt_sampler_options *o, int n,
                                 sculpt_rng *rngs, float *x, sculpt_progress_fn fn,
                                 void *user);

/* Check options against a model before any work starts, with the same verdicts and
 * messages sculpt_sampler_run gives (SCULPT_E_ARG / SCULPT_E_UNSUPPORTED); *nfe (may be
 * NULL) gets the network evaluations per image the run will take. */
sculpt_status sculpt_sampler_check(const sculpt_model *m, const sculpt_sampler_options *o, int *nfe,
                                   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
