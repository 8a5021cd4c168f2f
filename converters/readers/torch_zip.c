/* torch_zip.c — torch.save's zip format (torch/serialization.py _save/_load, caffe2
 * serialize/inline_container.cc): <top>/data.pkl plus one <top>/data/<key> record per
 * storage, optional <top>/byteorder ("little" only) and <top>/version. */
#include "pickle.h"
#include "zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ck_read_torch_zip(const void *buf, size_t len, ck_file *out, char *err, size_t errlen) {
    zip_archive z;
    pk_vm *vm = NULL;
    char *name = NULL;
    memset(&z, 0, sizeof z);
    if (ck__begin(out, "torch-zip", len, err, errlen)) return -1;
    if (zip_open(&z, buf, len, err, errlen)) goto fail;
    size_t tl = strlen(z.top), cap = tl + 64;
    /* the longest storage key is checked below before it is used */
    name = malloc(cap);
    if (!name) {
        ck__err(err, errlen, "out of memory");
        goto fail;
    }
    const char *sep = tl ? "/" : "";
    const unsigned char *d;
    snprintf(name, cap, "%s%sbyteorder", z.top, sep);
    const zip_entry *e = zip_find(&z, name);
    if (e) {
        if (zip_read(&z, e, out, &d, err, errlen)) goto fail;
        size_t n = (size_t)e->size;
        while (n && (d[n - 1] == '\n' || d[n - 1] == ' ')) n--;
        if (n == 3 && memcmp(d, "big", 3) == 0) {
            ck__err(err, errlen, "torch zip: big-endian checkpoint (byteorder 'big') is not supported");
            goto fail;
        }
        if (n != 6 || memcmp(d, "little", 6) != 0) {
            ck__err(err, errlen, "torch zip: unrecognised byteorder record");
            goto fail;
        }
    }
    snprintf(name, cap, "%s%sversion", z.top, sep);
    e = zip_find(&z, name);
    if (e) {
        /* torch writes "3\n"; readers refuse versions they do not know (1.13 knows <= 10) */
        if (zip_read(&z, e, out, &d, err, errlen)) goto fail;
        uint64_t ver = 0;
        size_t i = 0;
        while (i < e->size && d[i] >= '0' && d[i] <= '9' && ver < 1000) ver = ver * 10 + (uint64_t)(d[i++] - '0');
        while (i < e->size && (d[i] == '\n' || d[i] == '\r' || d[i] == ' ')) i++;
        if (i != e->size || ver == 0 || ver > 20) {
            ck__err(err, errlen, "torch zip: unsupported or malformed version record");
            goto fail;
        }
    }
    snprintf(name, cap, "%s%sdata.pkl", z.top, sep);
    e = zip_find(&z, name);
    if (!e) {
        ck__err(err, errlen, "torch zip: no '%.200s' record (not a torch.save archive?)", name);
        goto fail;
    }
    const unsigned char *pkl;
    if (zip_read(&z, e, out, &pkl, err, errlen)) goto fail;
    vm = pk_new(pk_budget_for((size_t)e->size));
    if (!vm) {
        ck__err(err, errlen, "out of memory");
        goto fail;
    }
    pk_value *root;
    size_t used;
    if (pk_load(vm, pkl, (size_t)e->size, &used, &root, err, errlen)) goto fail;
    for (size_t i = 0; i < pk_storage_count(vm); i++) {
        pk_storage *s = pk_storage_at(vm, i);
        size_t kl = strlen(s->key);
        if (kl > 1024) {
            ck__err(err, errlen, "torch zip: storage key longer than 1024 bytes");
            goto fail;
        }
        if (cap < tl + kl + 16) {
            char *nn = realloc(name, tl + kl + 16);
            if (!nn) {
                ck__err(err, errlen, "out of memory");
                goto fail;
            }
            name = nn;
            cap = tl + kl + 16;
        }
        snprintf(name, cap, "%s%sdata/%s", z.top, sep, s->key);
        e = zip_find(&z, name);
        if (!e) {
            ck__err(err, errlen, "torch zip: storage '%.64s' has no record '%.200s'", s->key, name);
            goto fail;
        }
        uint64_t want;
        if (ck__mul(s->numel, s->untyped ? 1 : ck_dtype_size(s->dtype), &want) || want != e->size) {
            ck__err(err, errlen,
                    "torch zip: storage '%.64s' declares %llu %s elements but its record holds %llu bytes", s->key,
                    (unsigned long long)s->numel, s->untyped ? "byte" : ck_dtype_name(s->dtype),
                    (unsigned long long)e->size);
            goto fail;
        }
        if (zip_read(&z, e, out, &d, err, errlen)) goto fail;
        s->data = d;
        s->nbytes = e->size;
    }
    if (pk_flatten(vm, root, out, err, errlen)) goto fail;
    pk_free(vm);
    zip_close(&z);
    free(name);
    return 0;
fail:
    pk_free(vm);
    zip_close(&z);
    free(name);
    ck_file_free(out);
    return -1;
}
