/* wf_header.c — validation of the weight file's fixed header: magic, version, sizes,
 * section layout, header checksum, arch, model config and noise schedule (FORMAT.md). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "unet_spec.h"
#include "weightfile.h"

typedef unsigned long long ull;

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + (a - 1)) / a * a; }

/* Reserved header ranges that must be zero. */
static const struct { unsigned lo, hi; } reserved_ranges[] = {
    {SCW_OFF_CONFIG + 4 * SCW_CONFIG_FIELDS, SCW_OFF_SCHED_FIELDS},
    {SCW_OFF_SCHED_FIELDS + 4 * SCW_SCHED_FIELDS, SCW_HEADER_SIZE},
};

static int32_t rdi(const unsigned char *p) { return (int32_t)scw_rd32(p); }

/* Section layout: table, schedule, metadata, data, each exactly where the previous one
 * ends rounded up (8 bytes, 64 before data), data running to the end of the file. */
static sculpt_status check_sections(sculpt_model *m, const wf_err *e) {
    const unsigned char *b = m->base;
    const uint64_t n = m->size;
    m->table_offset = scw_rd64(b + SCW_OFF_TABLE);
    uint32_t nt = scw_rd32(b + SCW_OFF_NTENSORS);
    m->schedule_offset = scw_rd64(b + SCW_OFF_SCHEDULE);
    m->meta_offset = scw_rd64(b + SCW_OFF_META);
    m->meta_size = scw_rd64(b + SCW_OFF_META_SIZE);
    m->data_offset = scw_rd64(b + SCW_OFF_DATA);
    m->data_size = scw_rd64(b + SCW_OFF_DATA_SIZE);
    int32_t T = rdi(b + SCW_OFF_SCHED_FIELDS);

    if (m->table_offset != SCW_HEADER_SIZE)
        return wf_fail(e, SCULPT_E_FORMAT, "table_offset %llu must be %u (right after the header)",
                       (ull)m->table_offset, SCW_HEADER_SIZE);
    if (nt < 1 || nt > WF_MAX_TENSORS)
        return wf_fail(e, SCULPT_E_FORMAT, "n_tensors %u must be in 1..%u", nt, WF_MAX_TENSORS);
    uint64_t table_end = m->table_offset + (uint64_t)nt * SCW_ENTRY_SIZE; /* < 2^24: no overflow */
    if (table_end > n)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor table: offset %llu + %u entries * %u > file size %llu",
                       (ull)m->table_offset, nt, SCW_ENTRY_SIZE, (ull)n);
    m->n_tensors = (int)nt;

    if (m->schedule_offset != table_end)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule_offset %llu must be %llu (end of the tensor table)",
                       (ull)m->schedule_offset, (ull)table_end);
    if (T < 1 || T > WF_MAX_TIMESTEPS)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: num_train_timesteps %d must be in 1..%d", T,
                       WF_MAX_TIMESTEPS);
    uint64_t sched_end = m->schedule_offset + 8u * (uint64_t)T;
    if (sched_end > n)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule tables: offset %llu + %llu > file size %llu",
                       (ull)m->schedule_offset, (ull)(8u * (uint64_t)T), (ull)n);

    uint64_t meta_at = align_up(sched_end, 8);
    if (m->meta_offset != meta_at)
        return wf_fail(e, SCULPT_E_FORMAT, "metadata_offset %llu must be %llu (end of the schedule tables)",
                       (ull)m->meta_offset, (ull)meta_at);
    if (m->meta_size > WF_MAX_META_SIZE)
        return wf_fail(e, SCULPT_E_FORMAT, "metadata_size %llu exceeds the limit %u",
                       (ull)m->meta_size, WF_MAX_META_SIZE);
    uint64_t meta_end = m->meta_offset + m->meta_size; /* both bounded: no overflow */
    if (meta_end > n)
        return wf_fail(e, SCULPT_E_FORMAT, "metadata: offset %llu + %llu > file size %llu",
                       (ull)m->meta_offset, (ull)m->meta_size, (ull)n);

    uint64_t data_at = align_up(meta_end, SCW_ALIGN);
    if (m->data_offset != data_at)
        return wf_fail(e, SCULPT_E_FORMAT, "data_offset %llu must be %llu (end of metadata rounded up to %u)",
                       (ull)m->data_offset, (ull)data_at, SCW_ALIGN);
    if (m->data_offset > n)
        return wf_fail(e, SCULPT_E_FORMAT, "data_offset %llu > file size %llu", (ull)m->data_offset, (ull)n);
    if (m->data_size != n - m->data_offset)
        return wf_fail(e, SCULPT_E_FORMAT, "data_offset %llu + data_size %llu != file size %llu",
                       (ull)m->data_offset, (ull)m->data_size, (ull)n);
    if (m->data_size % SCW_ALIGN)
        return wf_fail(e, SCULPT_E_FORMAT, "data_size %llu is not a multiple of %u", (ull)m->data_size,
                       SCW_ALIGN);
    for (uint64_t i = meta_end; i < m->data_offset; i++)
        if (b[i])
            return wf_fail(e, SCULPT_E_FORMAT, "padding byte at offset %llu before the data is 0x%02x, must be 0",
                           (ull)i, b[i]);
    return SCULPT_OK;
}

static sculpt_status check_header_sum(const sculpt_model *m, const wf_err *e) {
    static const unsigned char zero[8] = {0};
    uint64_t h = scw_sum_update(SCW_SUM_INIT, m->base, SCW_OFF_HEADER_SUM);
    h = scw_sum_update(h, zero, 8);
    h = scw_sum_update(h, m->base + SCW_OFF_HEADER_SUM + 8, m->data_offset - (SCW_OFF_HEADER_SUM + 8));
    h = scw_sum_final(h);
    uint64_t want = scw_rd64(m->base + SCW_OFF_HEADER_SUM);
    if (h != want)
        return wf_fail(e, SCULPT_E_FORMAT,
                       "header checksum 0x%016llx != stored 0x%016llx over bytes [0, %llu) "
                       "(header, tensor table, schedule or metadata corrupt)",
                       (ull)h, (ull)want, (ull)m->data_offset);
    return SCULPT_OK;
}

static void read_config(const unsigned char *p, sculpt_config *c) {
    memset(c, 0, sizeof *c);
    c->in_channels = rdi(p + 0);
    c->out_channels = rdi(p + 4);
    c->sample_size = rdi(p + 8);
    c->n_levels = rdi(p + 12);
    for (int i = 0; i < SCULPT_MAX_LEVELS; i++) {
        c->block_out_channels[i] = rdi(p + 16 + 4 * i);
        c->down_attn[i] = rdi(p + 48 + 4 * i);
        c->up_attn[i] = rdi(p + 80 + 4 * i);
    }
    c->layers_per_block = rdi(p + 112);
    c->norm_num_groups = rdi(p + 116);
    c->attn_norm_num_groups = rdi(p + 120);
    c->norm_eps = scw_rdf32(p + 124);
    c->attention_head_dim = rdi(p + 128);
    c->mid_attention = rdi(p + 132);
    c->flip_sin_to_cos = rdi(p + 136);
    c->freq_shift = scw_rdf32(p + 140);
    c->time_embed_dim = rdi(p + 144);
    c->downsample_type = rdi(p + 148);
    c->downsample_padding = rdi(p + 152);
    c->center_input_sample = rdi(p + 156);
}

/* Scalar schedule fields, then the betas / alphas_cumprod tables. */
static sculpt_status check_schedule(sculpt_model *m, const wf_err *e) {
    const unsigned char *p = m->base + SCW_OFF_SCHED_FIELDS;
    sculpt_schedule *s = &m->schedule;
    s->num_train_timesteps = rdi(p + 0);
    s->beta_schedule = rdi(p + 4);
    s->beta_start = scw_rdf32(p + 8);
    s->beta_end = scw_rdf32(p + 12);
    s->variance_type = rdi(p + 16);
    s->clip_sample = rdi(p + 20);
    s->clip_sample_range = scw_rdf32(p + 24);
    s->prediction_type = rdi(p + 28);
    if (s->beta_schedule < SCULPT_BETA_LINEAR || s->beta_schedule > SCULPT_BETA_TRAINED)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: beta_schedule %d is unknown (0..3)", s->beta_schedule);
    if (!(s->beta_start >= 0.0f && s->beta_start < 1.0f) || !(s->beta_end >= 0.0f && s->beta_end < 1.0f))
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: beta_start %g / beta_end %g must be in [0, 1)",
                       (double)s->beta_start, (double)s->beta_end);
    if (s->variance_type < SCULPT_VAR_FIXED_SMALL || s->variance_type > SCULPT_VAR_FIXED_LARGE_LOG)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: variance_type %d is unknown (0..3)", s->variance_type);
    if (s->clip_sample != 0 && s->clip_sample != 1)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: clip_sample %d must be 0 or 1", s->clip_sample);
    if (!(s->clip_sample_range > 0.0f && s->clip_sample_range <= 1e30f))
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: clip_sample_range %g must be finite and > 0",
                       (double)s->clip_sample_range);
    if (s->prediction_type < SCULPT_PRED_EPSILON || s->prediction_type > SCULPT_PRED_SAMPLE)
        return wf_fail(e, SCULPT_E_FORMAT, "schedule: prediction_type %d is unknown (0..2)", s->prediction_type);

    const int T = s->num_train_timesteps; /* checked in check_sections */
    const unsigned char *tb = m->base + m->schedule_offset;
    double prod = 1.0;
    float prev = 1.0f;
    for (int t = 0; t < T; t++) {
        float beta = scw_rdf32(tb + 4 * (size_t)t);
        float ac = scw_rdf32(tb + 4 * ((size_t)T + (size_t)t));
        if (!(beta > 0.0f && beta < 1.0f))
            return wf_fail(e, SCULPT_E_FORMAT, "schedule: betas[%d] = %g must be in (0, 1)", t, (double)beta);
        if (!(ac > 0.0f && ac <= 1.0f))
            return wf_fail(e, SCULPT_E_FORMAT, "schedule: alphas_cumprod[%d] = %g must be in (0, 1]", t,
                           (double)ac);
        if (ac > prev)
            return wf_fail(e, SCULPT_E_FORMAT, "schedule: alphas_cumprod[%d] = %.9g > alphas_cumprod[%d] = %.9g "
                           "(must be non-increasing)", t, (double)ac, t - 1, (double)prev);
        prod *= 1.0 - (double)beta;
        if (fabs((double)ac - prod) > 1e-3 * prod)
            return wf_fail(e, SCULPT_E_FORMAT, "schedule: alphas_cumprod[%d] = %.9g but the product of "
                           "(1 - betas[0..%d]) is %.9g", t, (double)ac, t, prod);
        prev = ac;
    }

    /* Use the tables in place when they are aligned f32 in host order; else copy once. */
    int in_place = ((uintptr_t)tb % sizeof(float)) == 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    in_place = 0;
#endif
    if (in_place) {
        s->betas = (const float *)(const void *)tb;
        s->alphas_cumprod = s->betas + T;
    } else {
        m->sched_copy = malloc(2 * (size_t)T * sizeof(float));
        if (!m->sched_copy) return wf_fail(e, SCULPT_E_NOMEM, "schedule: out of memory copying %d entries", 2 * T);
        for (size_t i = 0; i < 2 * (size_t)T; i++) m->sched_copy[i] = scw_rdf32(tb + 4 * i);
        s->betas = m->sched_copy;
        s->alphas_cumprod = m->sched_copy + T;
    }
    return SCULPT_OK;
}

sculpt_status wf_check_header(sculpt_model *m, const wf_err *e) {
    const unsigned char *b = m->base;
    const uint64_t n = m->size;
    sculpt_status st;
    if (n < 8) return wf_fail(e, SCULPT_E_FORMAT, "file size %llu is smaller than the 8-byte magic", (ull)n);
    if (memcmp(b, SCW_MAGIC, 8) != 0)
        return wf_fail(e, SCULPT_E_FORMAT, "bad magic: not a sculpt weight file (expected \"%s\")", SCW_MAGIC);
    if (n < SCW_OFF_VERSION + 4)
        return wf_fail(e, SCULPT_E_FORMAT, "file size %llu ends inside the header (truncated)", (ull)n);
    uint32_t version = scw_rd32(b + SCW_OFF_VERSION);
    if (version == 0)
        return wf_fail(e, SCULPT_E_FORMAT, "format version 0 is invalid");
    if (version != SCW_VERSION)
        return wf_fail(e, SCULPT_E_UNSUPPORTED,
                       "format version %u is newer than this reader supports (%u); update sculpt or "
                       "reconvert the checkpoint", version, SCW_VERSION);
    if (n < SCW_HEADER_SIZE)
        return wf_fail(e, SCULPT_E_FORMAT, "file size %llu is smaller than the %u-byte header (truncated)",
                       (ull)n, SCW_HEADER_SIZE);
    uint32_t hs = scw_rd32(b + SCW_OFF_HEADER_SIZE);
    if (hs != SCW_HEADER_SIZE)
        return wf_fail(e, SCULPT_E_FORMAT, "header_size %u must be %u", hs, SCW_HEADER_SIZE);
    uint64_t fs = scw_rd64(b + SCW_OFF_FILE_SIZE);
    if (fs != n)
        return wf_fail(e, SCULPT_E_FORMAT, "header says file size %llu but the file has %llu bytes%s",
                       (ull)fs, (ull)n, fs > n ? " (truncated)" : "");
    uint32_t es = scw_rd32(b + SCW_OFF_ENTRY_SIZE);
    if (es != SCW_ENTRY_SIZE)
        return wf_fail(e, SCULPT_E_FORMAT, "entry_size %u must be %u", es, SCW_ENTRY_SIZE);
    for (size_t r = 0; r < sizeof reserved_ranges / sizeof reserved_ranges[0]; r++)
        for (unsigned i = reserved_ranges[r].lo; i < reserved_ranges[r].hi; i++)
            if (b[i])
                return wf_fail(e, SCULPT_E_FORMAT, "reserved header byte %u is 0x%02x, must be 0", i, b[i]);
    if ((st = check_sections(m, e)) != SCULPT_OK) return st;
    if ((st = check_header_sum(m, e)) != SCULPT_OK) return st;

    uint32_t arch = scw_rd32(b + SCW_OFF_ARCH);
    if (arch != SCW_ARCH_DDPM_UNET)
        return wf_fail(e, SCULPT_E_UNSUPPORTED, "arch %u is unknown (this reader knows %u = DDPM UNet)", arch,
                       SCW_ARCH_DDPM_UNET);
    read_config(b + SCW_OFF_CONFIG, &m->config);
    char msg[200];
    if (unet_config_check(&m->config, msg, sizeof msg))
        return wf_fail(e, SCULPT_E_UNSUPPORTED, "config: %s", msg);
    if ((st = check_schedule(m, e)) != SCULPT_OK) return st;
    m->data_checksum = scw_rd64(b + SCW_OFF_DATA_SUM);
    return SCULPT_OK;
}
