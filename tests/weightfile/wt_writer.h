/* wt_writer.h — a test-only writer of flat weight files, written from weights/FORMAT.md
 * alone (its own byte helpers, checksum and layout arithmetic; it does not use format.h). */
#ifndef WT_WRITER_H
#define WT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "sculpt.h"

typedef struct wt_tensor {
    char name[96];      /* longer than the 80-byte field so tests can write overlong names */
    uint32_t dtype;     /* sculpt_dtype */
    uint32_t ndim;
    uint32_t shape[4];
} wt_tensor;

typedef struct wt_spec {
    sculpt_config config;
    int32_t T;                  /* num_train_timesteps; betas linear beta_start..beta_end */
    int32_t beta_schedule, variance_type, clip_sample, prediction_type;
    float beta_start, beta_end, clip_sample_range;
    const char *metadata;       /* written verbatim (may be NULL) */
    int n_tensors;
    wt_tensor *tensors;         /* data of tensor k is wt_fill(k, ...) */
} wt_spec;

/* A tiny valid spec: a 2-level DDPM UNet config with attention, T = `T`, tensors from
 * unet_spec_params with every 3rd tensor stored as f16 and every 5th as bf16. Free with
 * wt_spec_free. */
int wt_spec_tiny(wt_spec *s, int T);
void wt_spec_free(wt_spec *s);

/* Lay out and write the file into a 64-aligned buffer of exactly *size bytes (free()). */
unsigned char *wt_build(const wt_spec *s, size_t *size);

/* Recompute both checksums of a built file from its (possibly edited) header fields.
 * Ignores out-of-range section offsets (then nothing is changed). */
void wt_reseal(unsigned char *buf, size_t size);

/* The expected betas / alphas_cumprod (float32, alphas_cumprod as a float64 running
 * product rounded at each step, as diffusers computes it). */
void wt_schedule(const wt_spec *s, float *betas, float *alphas_cumprod);

/* Deterministic content of tensor k: nbytes bytes into dst. */
void wt_fill(int k, uint32_t dtype, unsigned char *dst, uint64_t nbytes);

/* Byte-at-a-time reference of the FORMAT.md checksum (finalised). */
uint64_t wt_checksum(const void *data, size_t n);

/* Little-endian field access for tests that edit a built file. */
void wt_put32(unsigned char *p, uint32_t v);
void wt_put64(unsigned char *p, uint64_t v);
uint32_t wt_get32(const unsigned char *p);
uint64_t wt_get64(const unsigned char *p);

/* Write buf to path; 0 on success. */
int wt_write_file(const char *path, const void *buf, size_t n);

#endif
