/* wf_tensors.c — validation of the weight file's tensor table: every entry's fields, order
 * and overlap, then the tensor set against unet_spec_params (weights/FORMAT.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "unet_spec.h"
#include "weightfile.h"

typedef unsigned long long ull;

static const unsigned dtype_size[] = {4, 2, 2}; /* sculpt_dtype: f32, f16, bf16 */

typedef struct {
    const char *name;
    int index;
} named;
static int cmp_named(const void *a, const void *b) {
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

int sculpt_model_tensor_index(const sculpt_model *m, const char *name) {
    if (!m || !name || !m->by_name) return -1;
    int lo = 0, hi = m->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int i = m->by_name[mid];
        int c = strcmp(m->tensors[i].name, name);
        if (c == 0) return i;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* One table entry at byte offset `at`; prev_end is where the previous tensor's data ends. */
static sculpt_status check_entry(sculpt_model *m, const wf_err *e, int k, uint64_t *prev_end) {
    const uint64_t at = m->table_offset + (uint64_t)k * SCW_ENTRY_SIZE;
    const unsigned char *p = m->base + at;
    const char *name = (const char *)p;
    const unsigned char *nul = memchr(p, 0, SCW_NAME_LEN);
    if (!nul)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor table entry %d (offset %llu): name is not NUL-terminated "
                       "within %u bytes", k, (ull)at, SCW_NAME_LEN);
    size_t len = (size_t)(nul - p);
    if (len == 0) return wf_fail(e, SCULPT_E_FORMAT, "tensor table entry %d (offset %llu): empty name", k, (ull)at);
    for (size_t i = 0; i < len; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f)
            return wf_fail(e, SCULPT_E_FORMAT, "tensor table entry %d: name byte %zu is 0x%02x (not printable "
                           "ASCII)", k, i, p[i]);
    for (size_t i = len; i < SCW_NAME_LEN; i++)
        if (p[i])
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': name padding byte %zu is 0x%02x, must be 0", name, i,
                           p[i]);
    uint32_t dtype = scw_rd32(p + 80), ndim = scw_rd32(p + 84);
    if (dtype > SCULPT_DT_BF16)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': dtype %u is unknown (0 f32, 1 f16, 2 bf16)", name, dtype);
    if (ndim < 1 || ndim > 4)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': ndim %u must be in 1..4", name, ndim);
    uint64_t count = 1;
    sculpt_tensor_info *t = &m->tensors[k];
    for (unsigned d = 0; d < 4; d++) {
        uint32_t dim = scw_rd32(p + 88 + 4 * d);
        t->shape[d] = dim;
        if (d < ndim && dim == 0)
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': shape[%u] is 0", name, d);
        if (d >= ndim && dim != 0)
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': shape[%u] = %u beyond ndim %u must be 0", name, d, dim,
                           ndim);
        if (d < ndim && __builtin_mul_overflow(count, (uint64_t)dim, &count))
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': element count overflows", name);
    }
    uint64_t offset = scw_rd64(p + 104), nbytes = scw_rd64(p + 112), reserved = scw_rd64(p + 120), want;
    if (__builtin_mul_overflow(count, (uint64_t)dtype_size[dtype], &want) || nbytes != want)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': nbytes %llu != %llu elements * %u bytes", name,
                       (ull)nbytes, (ull)count, dtype_size[dtype]);
    if (reserved)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': reserved field is 0x%llx, must be 0", name, (ull)reserved);
    if (offset % SCW_ALIGN)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': offset %llu is not a multiple of %u", name, (ull)offset,
                       SCW_ALIGN);
    if (offset < m->data_offset)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': offset %llu is before the data section at %llu", name,
                       (ull)offset, (ull)m->data_offset);
    if (offset > m->size || nbytes > m->size - offset)
        return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': offset %llu + %llu > file size %llu", name, (ull)offset,
                       (ull)nbytes, (ull)m->size);
    if (k > 0) {
        const sculpt_tensor_info *pt = &m->tensors[k - 1];
        uint64_t prev_off = (uint64_t)((const unsigned char *)pt->data - m->base);
        if (offset < prev_off)
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': offset %llu is before the previous entry '%s' at "
                           "%llu (entries must be sorted by offset)", name, (ull)offset, pt->name, (ull)prev_off);
        if (offset < *prev_end)
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s': offset %llu overlaps '%s' which ends at %llu", name,
                           (ull)offset, pt->name, (ull)*prev_end);
    }
    *prev_end = offset + nbytes;
    t->name = name;
    t->dtype = (int32_t)dtype;
    t->ndim = (int32_t)ndim;
    t->data = m->base + offset;
    t->nbytes = nbytes;
    return SCULPT_OK;
}

/* Append "name" to a bounded list string. */
static void list_add(char *buf, size_t cap, int *count, const char *fmt, const char *name, const char *extra) {
    const int shown = 4;
    size_t used = strlen(buf);
    if (*count < shown)
        snprintf(buf + used, cap - used, fmt, *count ? ", " : "", name, extra);
    else if (*count == shown)
        snprintf(buf + used, cap - used, ", ...");
    (*count)++;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t used = 0;
    buf[0] = 0;
    for (int d = 0; d < ndim && used < cap; d++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", d ? "," : "[", (long long)shape[d]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

/* The file's tensors must be exactly unet_spec_params(config): same names, same shapes. */
static sculpt_status check_set(sculpt_model *m, const wf_err *e) {
    char msg[200];
    int ns = unet_spec_params(&m->config, NULL, 0, msg, sizeof msg);
    if (ns < 0) return wf_fail(e, SCULPT_E_UNSUPPORTED, "config: %s", msg);
    unet_param *spec = malloc((size_t)(ns > 0 ? ns : 1) * sizeof *spec);
    char *seen = calloc((size_t)m->n_tensors, 1);
    if (!spec || !seen) {
        free(spec);
        free(seen);
        return wf_fail(e, SCULPT_E_NOMEM, "out of memory for %d expected tensors", ns);
    }
    unet_spec_params(&m->config, spec, ns, NULL, 0);
    char missing[320] = "", unexpected[320] = "", shaped[480] = "";
    int n_missing = 0, n_unexpected = 0, n_shaped = 0;
    for (int s = 0; s < ns; s++) {
        int i = sculpt_model_tensor_index(m, spec[s].name);
        if (i < 0) {
            list_add(missing, sizeof missing, &n_missing, "%s'%s'%s", spec[s].name, "");
            continue;
        }
        seen[i] = 1;
        const sculpt_tensor_info *t = &m->tensors[i];
        int same = t->ndim == spec[s].ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == spec[s].shape[d];
        if (!same) {
            char got[64], want[64], both[140];
            shape_str(got, sizeof got, t->ndim, t->shape);
            shape_str(want, sizeof want, spec[s].ndim, spec[s].shape);
            snprintf(both, sizeof both, " %s, expected %s", got, want);
            list_add(shaped, sizeof shaped, &n_shaped, "%s'%s'%s", spec[s].name, both);
        }
    }
    for (int i = 0; i < m->n_tensors; i++)
        if (!seen[i]) list_add(unexpected, sizeof unexpected, &n_unexpected, "%s'%s'%s", m->tensors[i].name, "");
    free(spec);
    free(seen);
    if (n_missing || n_unexpected || n_shaped)
        return wf_fail(e, SCULPT_E_FORMAT, "tensors do not match the config: %d missing%s%s%s, %d unexpected%s%s%s, "
                       "%d mis-shaped%s%s%s", n_missing, n_missing ? " (" : "", missing, n_missing ? ")" : "",
                       n_unexpected, n_unexpected ? " (" : "", unexpected, n_unexpected ? ")" : "", n_shaped,
                       n_shaped ? " (" : "", shaped, n_shaped ? ")" : "");
    return SCULPT_OK;
}

sculpt_status wf_check_tensors(sculpt_model *m, const wf_err *e) {
    const int n = m->n_tensors; /* 1..WF_MAX_TENSORS, table inside the file (wf_check_header) */
    m->tensors = calloc((size_t)n, sizeof *m->tensors);
    m->by_name = malloc((size_t)n * sizeof *m->by_name);
    if (!m->tensors || !m->by_name) return wf_fail(e, SCULPT_E_NOMEM, "out of memory for %d tensor entries", n);
    uint64_t prev_end = m->data_offset;
    for (int k = 0; k < n; k++) {
        sculpt_status st = check_entry(m, e, k, &prev_end);
        if (st != SCULPT_OK) return st;
    }
    named *order = malloc((size_t)n * sizeof *order);
    if (!order) return wf_fail(e, SCULPT_E_NOMEM, "out of memory for %d tensor entries", n);
    for (int k = 0; k < n; k++) order[k] = (named){m->tensors[k].name, k};
    qsort(order, (size_t)n, sizeof *order, cmp_named);
    for (int k = 0; k < n; k++) m->by_name[k] = order[k].index;
    free(order);
    for (int k = 1; k < n; k++)
        if (strcmp(m->tensors[m->by_name[k - 1]].name, m->tensors[m->by_name[k]].name) == 0)
            return wf_fail(e, SCULPT_E_FORMAT, "tensor '%s' appears twice in the table (entries %d and %d)",
                           m->tensors[m->by_name[k]].name, m->by_name[k - 1], m->by_name[k]);
    return check_set(m, e);
}
