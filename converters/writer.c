/* writer.c — the flat weight file of runtime/src/format.h (weights/FORMAT.md): header, table,
 * schedule, metadata, 64-aligned data, checksums; via a new PATH.tmp.XXXXXX and rename. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cw.h"
#include "format.h"

/* UTF-8 (no overlongs, surrogates or values past U+10FFFF) with no control characters but tab. */
int cw_meta_value_ok(const char *v) {
    const unsigned char *p = (const unsigned char *)v;
    while (*p) {
        unsigned c = *p;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) return 0;
            p++;
            continue;
        }
        int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
        if (n < 0 || c > 0xf4) return 0;
        uint32_t cp = c & (0x3fu >> n);
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp >= 0x80 && cp < 0xa0) return 0; /* C1 controls */
        p += n + 1;
    }
    return 1;
}

void cw_meta_clean(char *v) {
    for (char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c >= 0x7f) *p = '?';
    }
}

int cw_meta_set(cw_meta *m, const char *key, const char *val, char *err) {
    size_t kl = strlen(key), vl = strlen(val);
    if (kl < 1 || kl > 64) return cw_fail(err, "metadata key '%.70s' must be 1..64 characters", key);
    for (size_t i = 0; i < kl; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return cw_fail(err, "metadata key '%s': only letters, digits, '_', '.' and '-' are allowed", key);
    }
    if (vl > 4096) return cw_fail(err, "metadata value for '%s' is %zu bytes (at most 4096)", key, vl);
    if (!cw_meta_value_ok(val))
        return cw_fail(err, "metadata value for '%s' must be UTF-8 text without control characters", key);
    int slot = -1;
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->keys[i], key)) slot = i;
    if (slot < 0) {
        if (m->n == (int)(sizeof m->keys / sizeof m->keys[0])) return cw_fail(err, "too many metadata entries");
        slot = m->n++;
        snprintf(m->keys[slot], sizeof m->keys[slot], "%s", key);
        m->vals[slot] = NULL;
    }
    char *v = malloc(vl + 1);
    if (!v) return cw_fail(err, "out of memory");
    memcpy(v, val, vl + 1);
    free(m->vals[slot]);
    m->vals[slot] = v;
    return 0;
}

void cw_meta_free(cw_meta *m) {
    for (int i = 0; i < m->n; i++) free(m->vals[i]);
    m->n = 0;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

static void put_config(unsigned char *h, const sculpt_config *c) {
    unsigned char *p = h + SCW_OFF_CONFIG;
    int32_t f[SCW_CONFIG_FIELDS];
    int k = 0;
    f[k++] = c->in_channels;
    f[k++] = c->out_channels;
    f[k++] = c->sample_size;
    f[k++] = c->n_levels;
    for (int i = 0; i < SCULPT_MAX_LEVELS; i++) f[k++] = c->block_out_channels[i];
    for (int i = 0; i < SCULPT_MAX_LEVELS; i++) f[k++] = c->down_attn[i];
    for (int i = 0; i < SCULPT_MAX_LEVELS; i++) f[k++] = c->up_attn[i];
    f[k++] = c->layers_per_block;
    f[k++] = c->norm_num_groups;
    f[k++] = c->attn_norm_num_groups;
    int eps_at = k++;
    f[k++] = c->attention_head_dim;
    f[k++] = c->mid_attention;
    f[k++] = c->flip_sin_to_cos;
    int shift_at = k++;
    f[k++] = c->time_embed_dim;
    f[k++] = c->downsample_type;
    f[k++] = c->downsample_padding;
    f[k++] = c->center_input_sample;
    for (int i = 0; i < SCW_CONFIG_FIELDS; i++) {
        if (i == eps_at) scw_wrf32(p + 4 * i, c->norm_eps);
        else if (i == shift_at) scw_wrf32(p + 4 * i, c->freq_shift);
        else scw_wr32(p + 4 * i, (uint32_t)f[i]);
    }
}

static void put_schedule(unsigned char *h, const sculpt_schedule *s) {
    unsigned char *p = h + SCW_OFF_SCHED_FIELDS;
    scw_wr32(p + 0, (uint32_t)s->num_train_timesteps);
    scw_wr32(p + 4, (uint32_t)s->beta_schedule);
    scw_wrf32(p + 8, s->beta_start);
    scw_wrf32(p + 12, s->beta_end);
    scw_wr32(p + 16, (uint32_t)s->variance_type);
    scw_wr32(p + 20, (uint32_t)s->clip_sample);
    scw_wrf32(p + 24, s->clip_sample_range);
    scw_wr32(p + 28, (uint32_t)s->prediction_type);
}

int cw_write_flat(const char *path, const cw_match *m, const cw_schedule *s, sculpt_dtype dtype,
                  const cw_meta *meta, uint64_t *bytes_written, char *err) {
    const int n = m->n_params;
    const uint64_t T = (uint64_t)s->s.num_train_timesteps;
    const uint64_t es = cw_sdtype_size(dtype);
    char *tmp = NULL, *metatext = NULL;
    unsigned char *pre = NULL, *buf = NULL;
    FILE *f = NULL;
    int ret = -1;

    /* metadata text */
    size_t mlen = 0;
    for (int i = 0; i < meta->n; i++) mlen += strlen(meta->keys[i]) + strlen(meta->vals[i]) + 2;
    metatext = malloc(mlen + 1);
    if (!metatext) { cw_fail(err, "%s: out of memory", path); goto done; }
    metatext[0] = 0;
    for (int i = 0, u = 0; i < meta->n; i++)
        u += sprintf(metatext + u, "%s=%s\n", meta->keys[i], meta->vals[i]);

    /* section layout (sizes here are bounded by the config check and T <= 100000) */
    uint64_t table_off = SCW_HEADER_SIZE;
    uint64_t sched_off = align_up(table_off + (uint64_t)n * SCW_ENTRY_SIZE, 8);
    uint64_t meta_off = align_up(sched_off + 2 * T * 4, 8);
    uint64_t data_off = align_up(meta_off + mlen, SCW_ALIGN);
    uint64_t data_size = 0, max_tensor = 0;
    for (int i = 0; i < n; i++) {
        uint64_t numel = 1;
        for (int d = 0; d < m->params[i].ndim; d++) numel *= (uint64_t)m->params[i].shape[d];
        uint64_t nb = numel * es;
        if (nb > max_tensor) max_tensor = nb;
        data_size += align_up(nb, SCW_ALIGN);
    }
    uint64_t file_size = data_off + data_size;

    pre = calloc(1, (size_t)data_off);
    buf = malloc((size_t)align_up(max_tensor ? max_tensor : 1, SCW_ALIGN));
    tmp = malloc(strlen(path) + 12);
    if (!pre || !buf || !tmp) { cw_fail(err, "%s: out of memory", path); goto done; }
    sprintf(tmp, "%s.tmp.XXXXXX", path);

    memcpy(pre, SCW_MAGIC, 8);
    scw_wr32(pre + SCW_OFF_VERSION, SCW_VERSION);
    scw_wr32(pre + SCW_OFF_HEADER_SIZE, SCW_HEADER_SIZE);
    scw_wr64(pre + SCW_OFF_FILE_SIZE, file_size);
    scw_wr64(pre + SCW_OFF_TABLE, table_off);
    scw_wr32(pre + SCW_OFF_NTENSORS, (uint32_t)n);
    scw_wr32(pre + SCW_OFF_ENTRY_SIZE, SCW_ENTRY_SIZE);
    scw_wr64(pre + SCW_OFF_SCHEDULE, sched_off);
    scw_wr64(pre + SCW_OFF_META, meta_off);
    scw_wr64(pre + SCW_OFF_META_SIZE, mlen);
    scw_wr64(pre + SCW_OFF_DATA, data_off);
    scw_wr64(pre + SCW_OFF_DATA_SIZE, data_size);
    scw_wr32(pre + SCW_OFF_ARCH, SCW_ARCH_DDPM_UNET);
    put_config(pre, &m->config);
    put_schedule(pre, &s->s);

    uint64_t off = data_off;
    for (int i = 0; i < n; i++) {
        unsigned char *e = pre + table_off + (uint64_t)i * SCW_ENTRY_SIZE;
        const unet_param *p = &m->params[i];
        uint64_t numel = 1;
        for (int d = 0; d < p->ndim; d++) numel *= (uint64_t)p->shape[d];
        memcpy(e, p->name, strlen(p->name)); /* < SCW_NAME_LEN: NUL padded by calloc */
        scw_wr32(e + 80, (uint32_t)dtype);
        scw_wr32(e + 84, (uint32_t)p->ndim);
        for (int d = 0; d < p->ndim; d++) scw_wr32(e + 88 + 4 * d, (uint32_t)p->shape[d]);
        scw_wr64(e + 104, off);
        scw_wr64(e + 112, numel * es);
        off += align_up(numel * es, SCW_ALIGN);
    }
    for (uint64_t i = 0; i < T; i++) {
        scw_wrf32(pre + sched_off + 4 * i, s->s.betas[i]);
        scw_wrf32(pre + sched_off + 4 * (T + i), s->s.alphas_cumprod[i]);
    }
    memcpy(pre + meta_off, metatext, mlen);

    /* a new file of our own: never truncates an existing one (the input, or another
     * conversion's temporary file) */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cw_fail(err, "%s: cannot create a file in its folder: %s", path, strerror(errno));
        free(tmp);
        tmp = NULL; /* nothing to unlink */
        goto done;
    }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0 || !(f = fdopen(fd, "wb"))) {
        cw_fail(err, "%s: cannot write %s: %s", path, tmp, strerror(errno));
        if (!f) close(fd);
        goto done;
    }
    if (fwrite(pre, 1, (size_t)data_off, f) != data_off) goto write_error;
    uint64_t dsum = SCW_SUM_INIT;
    for (int i = 0; i < n; i++) {
        const ck_tensor *t = m->src[i];
        uint64_t nb = scw_rd64(pre + table_off + (uint64_t)i * SCW_ENTRY_SIZE + 112);
        uint64_t padded = align_up(nb, SCW_ALIGN);
        uint64_t numel = nb / es;
        if ((uint64_t)t->nbytes != numel * ck_dtype_size(t->dtype)) {
            cw_fail(err, "%s: internal: tensor '%s' has %zu bytes for %llu elements", path, m->params[i].name,
                    t->nbytes, (unsigned long long)numel);
            goto done;
        }
        cw_convert(t->data, t->dtype, (size_t)numel, dtype, buf);
        memset(buf + nb, 0, (size_t)(padded - nb));
        dsum = scw_sum_update(dsum, buf, padded);
        if (fwrite(buf, 1, (size_t)padded, f) != padded) goto write_error;
    }
    scw_wr64(pre + SCW_OFF_DATA_SUM, scw_sum_final(dsum));
    scw_wr64(pre + SCW_OFF_HEADER_SUM, 0);
    scw_wr64(pre + SCW_OFF_HEADER_SUM, scw_sum_final(scw_sum_update(SCW_SUM_INIT, pre, data_off)));
    if (fseek(f, 0, SEEK_SET) != 0 || fwrite(pre, 1, 512, f) != 512) goto write_error;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) goto write_error; /* durable before the rename */
    if (fclose(f) != 0) { f = NULL; goto write_error; }
    f = NULL;
    if (rename(tmp, path) != 0) { cw_fail(err, "%s: cannot rename %s: %s", path, tmp, strerror(errno)); goto done; }
    if (bytes_written) *bytes_written = file_size;
    ret = 0;
    goto done;
write_error:
    cw_fail(err, "%s: write failed: %s", path, strerror(errno ? errno : EIO));
done:
    if (f) fclose(f);
    if (ret && tmp) unlink(tmp);
    free(tmp);
    free(metatext);
    free(pre);
    free(buf);
    return ret;
}
