/* cw.h — convert-weights internals: dtype conversion, schedules, diffusers config.json,
 * layout maps, weight-set choice and the flat-file writer (runtime/src/format.h). */
#ifndef SCULPT_CW_H
#define SCULPT_CW_H

#include <stddef.h>
#include <stdint.h>

#include "ckpt.h"
#include "json.h"
#include "sculpt.h"
#include "unet_spec.h"

#define CW_ERR 1024 /* size of every message buffer */

/* Format a message into err (never NULL); returns -1 so callers can `return cw_fail(...)`. */
int cw_fail(char *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Notes ("note: ...") go to this stream; NULL silences them (tests). */
void cw_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void cw_set_note_stream(void *file); /* FILE*; default stdout */

/* ---- dtype.c: element conversion with PyTorch's rounding (RNE; f64 goes through f32 as
 * torch's casts do; NaN -> f16 sign|0x7E00, NaN -> bf16 0xFFFF as torch's CPU kernels). ---- */
int cw_dtype_is_float(ck_dtype d);
uint16_t cw_f32_to_f16(float f);
uint16_t cw_f32_to_bf16(float f);
float cw_f16_to_f32(uint16_t h);
float cw_bf16_to_f32(uint16_t b);
/* Convert n elements of src (dtype sdt, must be cw_dtype_is_float) to dst in odt. */
void cw_convert(const void *src, ck_dtype sdt, size_t n, sculpt_dtype odt, void *dst);
size_t cw_sdtype_size(sculpt_dtype d);
const char *cw_sdtype_name(sculpt_dtype d);

/* ---- schedule.c: diffusers DDPMScheduler's betas and alphas_cumprod in float32 (tables
 * from runtime/src/sampler/schedule.c: sampler_betas, sampler_alphas_cumprod) ---- */
typedef struct cw_schedule {
    sculpt_schedule s;   /* betas/alphas_cumprod point at the arrays below */
    float *betas;        /* [T] owned */
    float *alphas_cumprod; /* [T] owned */
    char extra[1024];    /* sampler-relevant keys kept as metadata lines ("key=value\n") */
    char source[256];    /* where it came from, for messages and metadata */
    double beta_start, beta_end; /* as written in the JSON (double, as Python holds them) */
} cw_schedule;

/* Defaults (DDPM CIFAR-10: linear 1e-4..0.02, 1000, fixed_large, clip [-1,1], epsilon). */
int cw_schedule_default(cw_schedule *s, char *err);
/* From a parsed scheduler_config.json; `file` is used in messages. */
int cw_schedule_from_json(cw_schedule *s, const json_value *root, const char *file, char *err);
/* Recompute tables from s->s's scalar fields (not for trained betas). */
int cw_schedule_tables(cw_schedule *s, char *err);
void cw_schedule_free(cw_schedule *s);

/* ---- config.c: diffusers UNet2DModel config.json -> sculpt_config ---- */
/* Every key that changes the network is honoured or refused. has_sample_size is set to
 * whether the file named a sample size. */
int cw_config_from_json(const json_value *root, const char *file, sculpt_config *c,
                        int *has_sample_size, char *err);

/* Read and parse a JSON file (bounded size). NULL with err "file: ..." on failure. */
json_value *cw_json_load(const char *path, char *err);

/* ---- layout.c: source names -> canonical diffusers names; config inference; checks ---- */
typedef enum { CW_LAYOUT_UNKNOWN = 0, CW_LAYOUT_DIFFUSERS, CW_LAYOUT_PYTORCH_DIFFUSION } cw_layout;
const char *cw_layout_name(cw_layout l);

/* One tensor of a candidate weight set. */
typedef struct cw_item {
    const ck_tensor *t;
    const char *key;            /* name with the set's prefix stripped (state-dict form) */
    char canon[UNET_NAME_MAX];  /* canonical name, "" when the name maps to nothing */
} cw_item;

/* Options for inference when there is no config.json. */
typedef struct cw_infer_opts {
    int sample_size;     /* 0: 32 with a note */
    int norm_groups;     /* 0: 32 with a note */
    float norm_eps;      /* 0: 1e-6 with a note */
} cw_infer_opts;

/* The outcome of checking a set against a layout and config. */
typedef struct cw_match {
    cw_layout layout;
    sculpt_config config;
    int n_params;
    unet_param *params;         /* [n_params] canonical order, owned */
    const ck_tensor **src;      /* [n_params] matching source tensors, owned array */
    int n_old_names;            /* old diffusers attention names seen */
    char config_source[256];    /* "config.json", "inferred from tensor shapes", ... */
    char notes[1024];           /* inference notes, '\n' separated */
} cw_match;

/* Detect the layout of a set (keys already stripped). */
cw_layout cw_layout_detect(const cw_item *items, int n);
/* Fill items[i].canon for a layout; returns count of old diffusers attention names. */
int cw_layout_map(cw_layout layout, cw_item *items, int n);
/* Match a set: map names, build the config (json when given, else inferred), check every
 * expected tensor. 0, or -1 with a message listing missing / unexpected / mis-shaped
 * tensors. json_file names the config in messages. */
int cw_match_set(cw_item *items, int n, cw_layout forced, const json_value *config_json,
                 const char *json_file, const cw_infer_opts *io, cw_match *m, char *err);
void cw_match_free(cw_match *m);
/* Infer a config from canonical names and shapes. */
int cw_infer_config(const cw_item *items, int n, cw_layout layout, const cw_infer_opts *io,
                    sculpt_config *c, char *notes, size_t notes_len, char *err);

/* ---- weightset.c: group a checkpoint's tensors into candidate weight sets ---- */
typedef struct cw_set {
    char prefix[256];   /* path prefix stripped from every member ("ema/", "model/module.") */
    char key[256];      /* display name: prefix without the trailing separator */
    int is_ema;
    int n;
    cw_item *items;     /* [n] owned */
    int ok;             /* matched a layout */
    cw_match match;     /* valid when ok */
    char err[CW_ERR];   /* why not, when !ok */
} cw_set;

typedef struct cw_sets {
    int n;
    cw_set *sets;       /* [n] owned, in file order of their anchors */
    char **names;       /* [n_names] rewritten tensor names (pickled nn.Module paths), or NULL entries */
    int n_names;
} cw_sets;

int cw_sets_build(const ck_file *f, cw_sets *out, char *err);
void cw_sets_free(cw_sets *s);
/* Evaluate every set and pick one: --weights-key when given, else the EMA set among those
 * that match, else the first that matches. Returns the index, or -1 with err. */
int cw_sets_choose(cw_sets *s, const char *weights_key, cw_layout forced,
                   const json_value *config_json, const char *json_file,
                   const cw_infer_opts *io, char *err);

/* ---- writer.c: the flat weight file ---- */
typedef struct cw_meta {
    int n;
    char keys[128][65];
    char *vals[128];    /* owned */
} cw_meta;
int cw_meta_set(cw_meta *m, const char *key, const char *val, char *err);
int cw_meta_value_ok(const char *v); /* what weights/FORMAT.md allows in a value */
void cw_meta_clean(char *v);         /* replace anything but printable ASCII with '?' */
void cw_meta_free(cw_meta *m);

/* Write `path` (through a new path.tmp.XXXXXX + rename). Tensors in m's canonical order,
 * converted to dtype. On failure no temporary file is left and path is untouched. */
int cw_write_flat(const char *path, const cw_match *m, const cw_schedule *s, sculpt_dtype dtype,
                  const cw_meta *meta, uint64_t *bytes_written, char *err);

#endif
