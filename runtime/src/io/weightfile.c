/* weightfile.c — open a flat weight file (mmap read-only or a caller's buffer), run every
 * validation step of weights/FORMAT.md, and answer queries on the opened model. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "weightfile.h"

typedef unsigned long long ull;

sculpt_status wf_fail(const wf_err *e, sculpt_status s, const char *fmt, ...) {
    if (e->buf && e->len) {
        int k = snprintf(e->buf, e->len, "%s: ", e->name);
        if (k >= 0 && (size_t)k < e->len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(e->buf + k, e->len - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return s;
}

void sculpt_model_close(sculpt_model *m) {
    if (!m) return;
    if (m->prepared && m->prepared_free) m->prepared_free(m->prepared);
    if (m->mapped && m->base) munmap((void *)(uintptr_t)m->base, m->size);
    free(m->sched_copy);
    free(m->tensors);
    free(m->by_name);
    free(m->meta_buf);
    free(m->meta_key);
    free(m->meta_val);
    free(m->name);
    free(m);
}

static sculpt_status check_data_sum(const sculpt_model *m, const wf_err *e) {
    uint64_t h = scw_sum_final(scw_sum_update(SCW_SUM_INIT, m->base + m->data_offset, m->data_size));
    if (h != m->data_checksum)
        return wf_fail(e, SCULPT_E_FORMAT,
                       "data checksum 0x%016llx != stored 0x%016llx over bytes [%llu, %llu) (tensor data corrupt)",
                       (ull)h, (ull)m->data_checksum, (ull)m->data_offset, (ull)m->size);
    return SCULPT_OK;
}

/* Validate base[0, size) and build the model. On failure unmaps a mapping (mapped = 1). */
static sculpt_status load(const unsigned char *base, size_t size, int mapped, const char *name, unsigned flags,
                          sculpt_model **out, char *errbuf, size_t errlen) {
    wf_err e = {name, errbuf, errlen};
    sculpt_model *m = calloc(1, sizeof *m);
    char *name_copy = strdup(name);
    if (!m || !name_copy) {
        free(m);
        free(name_copy);
        if (mapped) munmap((void *)(uintptr_t)base, size);
        return wf_fail(&e, SCULPT_E_NOMEM, "out of memory opening the model");
    }
    m->name = name_copy;
    m->base = base;
    m->size = size;
    m->mapped = mapped;
    sculpt_status st = wf_check_header(m, &e);
    if (st == SCULPT_OK) st = wf_parse_metadata(m, &e);
    if (st == SCULPT_OK) st = wf_check_tensors(m, &e);
    if (st == SCULPT_OK && !(flags & SCULPT_OPEN_NO_CHECKSUM)) st = check_data_sum(m, &e);
    if (st != SCULPT_OK) {
        sculpt_model_close(m);
        return st;
    }
    *out = m;
    return SCULPT_OK;
}

sculpt_status sculpt_model_open(const char *path, unsigned flags, sculpt_model **out, char *errbuf,
                                size_t errlen) {
    wf_err e = {path ? path : "(null)", errbuf, errlen};
    if (out) *out = NULL;
    if (errbuf && errlen) errbuf[0] = 0;
    if (!path || !out) return wf_fail(&e, SCULPT_E_ARG, "sculpt_model_open: path and out must not be NULL");
    if (flags & ~(unsigned)SCULPT_OPEN_NO_CHECKSUM)
        return wf_fail(&e, SCULPT_E_ARG, "sculpt_model_open: unknown flags 0x%x", flags);
    /* O_NONBLOCK: opening a FIFO (or a device) for reading would otherwise wait for a
     * writer forever; it has no effect on the regular files accepted below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return wf_fail(&e, SCULPT_E_IO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return wf_fail(&e, SCULPT_E_IO, "cannot stat: %s", strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return wf_fail(&e, SCULPT_E_IO, "not a regular file (%s)",
                       S_ISDIR(sb.st_mode) ? "a directory" : S_ISFIFO(sb.st_mode) ? "a FIFO" : "a device or socket");
    }
    if (sb.st_size < (off_t)SCW_HEADER_SIZE) {
        /* Too small to map usefully: validate a copy so the message says what is wrong. */
        unsigned char small[SCW_HEADER_SIZE];
        ssize_t got = read(fd, small, sizeof small);
        close(fd);
        if (got < 0) return wf_fail(&e, SCULPT_E_IO, "read failed: %s", strerror(errno));
        unsigned char *copy = malloc(got > 0 ? (size_t)got : 1);
        if (!copy) return wf_fail(&e, SCULPT_E_NOMEM, "out of memory");
        memcpy(copy, small, (size_t)got);
        sculpt_model *m = NULL;
        sculpt_status st = load(copy, (size_t)got, 0, path, flags, &m, errbuf, errlen);
        if (st == SCULPT_OK) { /* unreachable: a valid file is larger than its header */
            sculpt_model_close(m);
            st = wf_fail(&e, SCULPT_E_FORMAT, "file is smaller than the header");
        }
        free(copy);
        return st;
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return wf_fail(&e, SCULPT_E_IO, "file size %llu does not fit in memory", (ull)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd);
    if (p == MAP_FAILED) return wf_fail(&e, SCULPT_E_IO, "mmap of %zu bytes failed: %s", size, strerror(err));
    /* Start reading the whole file ahead: the data checksum, or else the first forward
     * pass, touches every page. Advice only; failure is harmless. */
    (void)madvise(p, size, MADV_WILLNEED);
    return load(p, size, 1, path, flags, out, errbuf, errlen);
}

sculpt_status sculpt_model_open_memory(const void *data, size_t size, const char *name, unsigned flags,
                                       sculpt_model **out, char *errbuf, size_t errlen) {
    if (!name) name = "(memory)";
    wf_err e = {name, errbuf, errlen};
    if (out) *out = NULL;
    if (errbuf && errlen) errbuf[0] = 0;
    if (!data || !out) return wf_fail(&e, SCULPT_E_ARG, "sculpt_model_open_memory: data and out must not be NULL");
    if (flags & ~(unsigned)SCULPT_OPEN_NO_CHECKSUM)
        return wf_fail(&e, SCULPT_E_ARG, "sculpt_model_open_memory: unknown flags 0x%x", flags);
    if ((uintptr_t)data % SCW_ALIGN)
        return wf_fail(&e, SCULPT_E_ARG, "buffer at %p is not %u-byte aligned", data, SCW_ALIGN);
    return load(data, size, 0, name, flags, out, errbuf, errlen);
}

const sculpt_config *sculpt_model_config(const sculpt_model *m) { return m ? &m->config : NULL; }
const sculpt_schedule *sculpt_model_schedule(const sculpt_model *m) { return m ? &m->schedule : NULL; }
uint64_t sculpt_model_checksum(const sculpt_model *m) { return m ? m->data_checksum : 0; }
const char *sculpt_model_name(const sculpt_model *m) { return m ? m->name : NULL; }
int sculpt_model_tensor_count(const sculpt_model *m) { return m ? m->n_tensors : 0; }

const char *sculpt_model_metadata(const sculpt_model *m, const char *key) {
    if (!m || !key) return NULL;
    for (int i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta_key[i], key) == 0) return m->meta_val[i];
    return NULL;
}

int sculpt_model_tensor(const sculpt_model *m, int index, sculpt_tensor_info *out) {
    if (!m || index < 0 || index >= m->n_tensors) return -1;
    if (out) *out = m->tensors[index];
    return 0;
}

int sculpt_model_find_tensor(const sculpt_model *m, const char *name, sculpt_tensor_info *out) {
    int i = sculpt_model_tensor_index(m, name);
    if (i < 0) return -1;
    if (out) *out = m->tensors[i];
    return 0;
}
