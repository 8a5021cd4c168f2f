/* weightfile.h — internal view of an opened flat weight file (struct sculpt_model) and the
 * validation steps weightfile.c runs at open; the layout is runtime/src/format.h. */
#ifndef SCULPT_IO_WEIGHTFILE_H
#define SCULPT_IO_WEIGHTFILE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "sculpt.h"

/* Reader limits beyond format.h (weights/FORMAT.md "Validation"). */
#define WF_MAX_TENSORS 65536
#define WF_MAX_TIMESTEPS 100000
#define WF_MAX_META_SIZE (1u << 20)
#define WF_MAX_META_ENTRIES 1024
#define WF_MAX_META_KEY 64
#define WF_MAX_META_VALUE 4096

/* An opened, fully validated weight file. Everything points into `base` (the mapping or
 * the caller's buffer) except the small tables the reader allocates. Internal: the model
 * code reads the fields directly. */
struct sculpt_model {
    char *name;                  /* path or name given at open (owned copy), used in messages */
    const unsigned char *base;   /* [size] file bytes: mmap (mapped=1) or caller buffer */
    size_t size;
    int mapped;                  /* munmap(base, size) at close */

    sculpt_config config;
    sculpt_schedule schedule;    /* betas/alphas_cumprod: into base, or into sched_copy */
    float *sched_copy;           /* [2*T] owned copy when the tables cannot be used in place */
    uint64_t data_checksum;      /* from the header (verified unless SCULPT_OPEN_NO_CHECKSUM) */
    uint64_t table_offset;       /* = header size; n_tensors entries of SCW_ENTRY_SIZE */
    uint64_t schedule_offset;
    uint64_t meta_offset, meta_size;
    uint64_t data_offset, data_size;

    int n_tensors;
    sculpt_tensor_info *tensors; /* [n_tensors] in file order (sorted by offset); names and
                                    data point into base */
    int *by_name;                /* [n_tensors] indices into tensors, sorted by name */

    int n_meta;
    char *meta_buf;              /* metadata copy with '=' and '\n' replaced by NUL */
    const char **meta_key;       /* [n_meta] into meta_buf */
    const char **meta_val;       /* [n_meta] into meta_buf */

    /* Slot for the UNet code (runtime/src/model/): packed weights or any per-model state
     * built once. sculpt_model_close calls prepared_free(prepared) when both are set. */
    void *prepared;
    void (*prepared_free)(void *);
};

/* Index of the tensor called `name` (binary search), or -1. */
int sculpt_model_tensor_index(const sculpt_model *m, const char *name);

/* ---- used by weightfile.c's validation steps (wf_*.c) ---- */
typedef struct wf_err {
    const char *name; /* file name for messages */
    char *buf;        /* caller's errbuf, may be NULL */
    size_t len;
} wf_err;

/* Write "name: <message>" to e->buf and return s. */
sculpt_status wf_fail(const wf_err *e, sculpt_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Header fields, section layout, header checksum, arch, config and schedule (fills
 * m->config, m->schedule, m->data_offset/data_size, m->data_checksum). */
sculpt_status wf_check_header(sculpt_model *m, const wf_err *e);
/* The tensor table: each entry, order and overlap, and the set against unet_spec_params. */
sculpt_status wf_check_tensors(sculpt_model *m, const wf_err *e);
/* The metadata section: "key=value\n" lines into m->meta_*. */
sculpt_status wf_parse_metadata(sculpt_model *m, const wf_err *e);

#endif
