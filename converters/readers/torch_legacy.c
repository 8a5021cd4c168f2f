/* torch_legacy.c — torch.save before 1.6 (_legacy_save in torch/serialization.py): magic
 * pickle, protocol pickle (1001), sys-info pickle, the object pickle, the sorted storage-key
 * list pickle, then per key an int64 element count and the storage's raw bytes. */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

int ck_read_torch_legacy(const void *buf, size_t len, ck_file *out, char *err, size_t errlen) {
    const unsigned char *b = buf;
    pk_vm *vm = NULL;
    pk_value *v, *root, *keys;
    size_t pos = 0, used;
    if (ck__begin(out, "torch-legacy", len, err, errlen)) return -1;
    vm = pk_new(pk_budget_for(len));
    if (!vm) {
        ck__err(err, errlen, "out of memory");
        goto fail;
    }
    if (pk_load(vm, b, len, &used, &v, err, errlen)) goto fail;
    pos += used;
    if (v->type != PK_BIGINT || v->u.s.n != 10 || memcmp(v->u.s.p, legacy_magic, 10) != 0) {
        ck__err(err, errlen, "legacy torch: bad magic number");
        goto fail;
    }
    if (pk_load(vm, b + pos, len - pos, &used, &v, err, errlen)) goto fail;
    pos += used;
    if (v->type != PK_INT || v->u.i != 1001) {
        ck__err(err, errlen, "legacy torch: protocol version is not 1001");
        goto fail;
    }
    if (pk_load(vm, b + pos, len - pos, &used, &v, err, errlen)) goto fail;
    pos += used;
    if (v->type != PK_DICT) {
        ck__err(err, errlen, "legacy torch: system info is not a dict");
        goto fail;
    }
    for (size_t i = 0; i + 1 < v->u.c.n; i += 2) {
        const pk_value *k = v->u.c.v[i], *x = v->u.c.v[i + 1];
        if (k->type == PK_STR && strcmp((const char *)k->u.s.p, "little_endian") == 0 && x->type == PK_BOOL && !x->u.i) {
            ck__err(err, errlen, "legacy torch: big-endian checkpoint is not supported");
            goto fail;
        }
    }
    if (pk_load(vm, b + pos, len - pos, &used, &root, err, errlen)) goto fail;
    pos += used;
    if (pk_load(vm, b + pos, len - pos, &used, &keys, err, errlen)) goto fail;
    pos += used;
    if (keys->type != PK_LIST) {
        ck__err(err, errlen, "legacy torch: storage key list is not a list");
        goto fail;
    }
    for (size_t i = 0; i < keys->u.c.n; i++) {
        const pk_value *k = keys->u.c.v[i];
        if (k->type != PK_STR) {
            ck__err(err, errlen, "legacy torch: storage key %zu is not a string", i);
            goto fail;
        }
        pk_storage *s = pk_storage_find(vm, (const char *)k->u.s.p);
        if (!s) {
            ck__err(err, errlen, "legacy torch: storage '%.64s' in the key list is not used by the object", (const char *)k->u.s.p);
            goto fail;
        }
        if (s->data) {
            ck__err(err, errlen, "legacy torch: storage '%.64s' listed twice", s->key);
            goto fail;
        }
        if (len - pos < 8) {
            ck__err(err, errlen, "legacy torch: storage '%.64s': element count missing at offset %zu (truncated?)", s->key, pos);
            goto fail;
        }
        uint64_t count = ck__rd64(b + pos), nbytes;
        pos += 8;
        size_t es = s->untyped ? 1 : ck_dtype_size(s->dtype);
        if (count != s->numel || ck__mul(count, es, &nbytes)) {
            ck__err(err, errlen, "legacy torch: storage '%.64s' holds %llu elements, the object declared %llu", s->key,
                    (unsigned long long)count, (unsigned long long)s->numel);
            goto fail;
        }
        if (nbytes > len - pos) {
            ck__err(err, errlen, "legacy torch: storage '%.64s': %llu bytes at offset %zu run past the end (%zu)", s->key,
                    (unsigned long long)nbytes, pos, len);
            goto fail;
        }
        s->data = b + pos;
        s->nbytes = nbytes;
        pos += (size_t)nbytes;
    }
    for (size_t i = 0; i < pk_storage_count(vm); i++) {
        pk_storage *s = pk_storage_at(vm, i);
        if (!s->data && s->numel) {
            ck__err(err, errlen, "legacy torch: storage '%.64s' is not in the key list", s->key);
            goto fail;
        }
    }
    if (pk_flatten(vm, root, out, err, errlen)) goto fail;
    pk_free(vm);
    return 0;
fail:
    pk_free(vm);
    ck_file_free(out);
    return -1;
}
