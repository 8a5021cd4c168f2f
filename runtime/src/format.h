/* format.h — on-disk layout of the flat weight file (version 1); weights/FORMAT.md is the
 * prose spec and must agree with this file. Shared by the writer (converters/) and the
 * reader (runtime/src/io/weightfile.c). All integers little-endian. */
#ifndef SCULPT_FORMAT_H
#define SCULPT_FORMAT_H

#include <stdint.h>
#include <string.h>

#define SCW_MAGIC "SCULPTWF"   /* 8 bytes at offset 0 */
#define SCW_VERSION 1u
#define SCW_HEADER_SIZE 512u   /* fixed header, bytes 0..511 */
#define SCW_ALIGN 64u          /* every tensor's data and the data section start */
#define SCW_ENTRY_SIZE 128u    /* one tensor table entry */
#define SCW_NAME_LEN 80u       /* name field, NUL-padded, at least one NUL */
#define SCW_ARCH_DDPM_UNET 1u

/* Fixed header (offsets in bytes):
 *   0  char[8] magic "SCULPTWF"
 *   8  u32 version (1)
 *  12  u32 header_size (512)
 *  16  u64 file_size                 total bytes of the file
 *  24  u64 table_offset              tensor table, n_tensors * 128 bytes
 *  32  u32 n_tensors
 *  36  u32 entry_size (128)
 *  40  u64 schedule_offset           f32 betas[T] then f32 alphas_cumprod[T]
 *  48  u64 metadata_offset           UTF-8 text, "key=value\n" lines, no NUL
 *  56  u64 metadata_size
 *  64  u64 data_offset               64-aligned
 *  72  u64 data_size                 multiple of 64; data_offset + data_size == file_size
 *  80  u64 data_checksum             scw_checksum over [data_offset, file_size)
 *  88  u64 header_checksum           scw_checksum over [0, data_offset) with this field
 *                                    read as zero
 *  96  u32 arch (1 = DDPM UNet)
 * 100  config: 40 four-byte fields in sculpt_config order (int32, or f32 where the
 *      struct has float): in_channels, out_channels, sample_size, n_levels,
 *      block_out_channels[8], down_attn[8], up_attn[8], layers_per_block, norm_num_groups,
 *      attn_norm_num_groups, norm_eps, attention_head_dim, mid_attention, flip_sin_to_cos,
 *      freq_shift, time_embed_dim, downsample_type, downsample_padding, center_input_sample
 * 260  reserved, zero
 * 288  schedule: num_train_timesteps, beta_schedule, beta_start(f32), beta_end(f32),
 *      variance_type, clip_sample, clip_sample_range(f32), prediction_type
 * 320..511 reserved, zero
 *
 * Sections after the header, in this order, each starting where the previous ends
 * (the writer pads with zeros to the next 8 bytes between sections, 64 before data):
 * table, schedule tables, metadata, data. The reader requires exactly these offsets
 * (schedule_offset = 512 + 128 n, metadata_offset = schedule_offset + 8 T, data_offset =
 * round_up(metadata end, 64)) and zero padding; FORMAT.md "Validation" lists every check.
 *
 * Tensor table entry (128 bytes):
 *   0 char[80] name (canonical diffusers name), NUL-padded
 *  80 u32 dtype (sculpt_dtype: 0 f32, 1 f16, 2 bf16)
 *  84 u32 ndim (1..4)
 *  88 u32 shape[4] (unused dims 0)
 * 104 u64 offset (absolute, 64-aligned, inside the data section)
 * 112 u64 nbytes (= product(shape) * dtype size)
 * 120 u64 reserved (0)
 * Entries are sorted by offset; tensors do not overlap.
 */
#define SCW_OFF_VERSION 8
#define SCW_OFF_HEADER_SIZE 12
#define SCW_OFF_FILE_SIZE 16
#define SCW_OFF_TABLE 24
#define SCW_OFF_NTENSORS 32
#define SCW_OFF_ENTRY_SIZE 36
#define SCW_OFF_SCHEDULE 40
#define SCW_OFF_META 48
#define SCW_OFF_META_SIZE 56
#define SCW_OFF_DATA 64
#define SCW_OFF_DATA_SIZE 72
#define SCW_OFF_DATA_SUM 80
#define SCW_OFF_HEADER_SUM 88
#define SCW_OFF_ARCH 96
#define SCW_OFF_CONFIG 100
#define SCW_CONFIG_FIELDS 40
#define SCW_OFF_SCHED_FIELDS 288
#define SCW_SCHED_FIELDS 8

static inline uint32_t scw_rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t scw_rd64(const unsigned char *p) {
    return (uint64_t)scw_rd32(p) | (uint64_t)scw_rd32(p + 4) << 32;
}
static inline void scw_wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static inline void scw_wr64(unsigned char *p, uint64_t v) {
    scw_wr32(p, (uint32_t)v); scw_wr32(p + 4, (uint32_t)(v >> 32));
}
static inline float scw_rdf32(const unsigned char *p) {
    uint32_t u = scw_rd32(p); float f; memcpy(&f, &u, 4); return f;
}
static inline void scw_wrf32(unsigned char *p, float f) {
    uint32_t u; memcpy(&u, &f, 4); scw_wr32(p, u);
}

/* Checksum: FNV-1a over 64-bit little-endian words (a trailing partial word is zero
 * padded), h0 = 0xcbf29ce484222325, h = (h ^ w) * 0x100000001b3, then h ^= h >> 32.
 * `state` chains calls: pass SCW_SUM_INIT first, finish with scw_sum_final. */
#define SCW_SUM_INIT 0xcbf29ce484222325ull
uint64_t scw_sum_update(uint64_t state, const void *data, uint64_t n);
static inline uint64_t scw_sum_final(uint64_t state) { return state ^ (state >> 32); }

#endif
