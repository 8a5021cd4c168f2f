/* pk_walk.c — walks over pickle values: dict key de-duplication (Python semantics: first
 * position, last value), flattening into named tensors (ckpt.h paths; strided views copied
 * out with checked index bounds), and the canonical text rendering used by the tests. */
#include "pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WALK_MAX_DEPTH 128
#define PATH_MAX_LEN 4096

/* ---- dict normalisation ---- */

typedef struct kref {
    const pk_value *k;
    size_t idx;
} kref;

static int key_class(const pk_value *k) {
    switch (k->type) {
    case PK_NONE: return 0;
    case PK_BOOL:
    case PK_INT: return 1;
    case PK_BIGINT: return 2;
    case PK_BIGDEC: return 3;
    case PK_FLOAT: return 4;
    case PK_STR: return 5;
    case PK_BYTES: return 6;
    default: return 7; /* identity */
    }
}

static int cmp_key(const pk_value *a, const pk_value *b) {
    int ca = key_class(a), cb = key_class(b);
    if (ca != cb) return ca < cb ? -1 : 1;
    switch (ca) {
    case 0: return 0;
    case 1: return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    case 4: {
        uint64_t x, y;
        memcpy(&x, &a->u.f, 8);
        memcpy(&y, &b->u.f, 8);
        return x < y ? -1 : x > y;
    }
    case 7: return a < b ? -1 : a > b;
    default:
        if (a->u.s.n != b->u.s.n) return a->u.s.n < b->u.s.n ? -1 : 1;
        return memcmp(a->u.s.p, b->u.s.p, a->u.s.n);
    }
}

static int cmp_kref(const void *x, const void *y) {
    const kref *a = x, *b = y;
    int c = cmp_key(a->k, b->k);
    if (c) return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int normalize(pk_value *d, char *err, size_t errlen) {
    if (d->u.c.norm) return 0;
    size_t n = d->u.c.n / 2;
    if (n < 2) {
        d->u.c.norm = 1;
        return 0;
    }
    kref *r = malloc(n * sizeof *r);
    size_t *keep = malloc(n * sizeof *keep);  /* for each first occurrence: index of last value */
    unsigned char *first = calloc(n, 1);
    if (!r || !keep || !first) {
        free(r);
        free(keep);
        free(first);
        ck__err(err, errlen, "pickle: out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) r[i] = (kref){d->u.c.v[2 * i], i};
    qsort(r, n, sizeof *r, cmp_kref);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && cmp_key(r[j + 1].k, r[i].k) == 0) j++;
        first[r[i].idx] = 1;
        keep[r[i].idx] = r[j].idx;
        i = j + 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (!first[i]) continue;
        pk_value *k = d->u.c.v[2 * i], *v = d->u.c.v[2 * keep[i] + 1];
        d->u.c.v[2 * o] = k;
        d->u.c.v[2 * o + 1] = v;
        o++;
    }
    d->u.c.n = 2 * o;
    d->u.c.norm = 1;
    free(r);
    free(keep);
    free(first);
    return 0;
}

/* ---- flattening ---- */

typedef struct walker {
    ck_file *f;
    char path[PATH_MAX_LEN];
    size_t plen;
    size_t visits;
    char *err;
    size_t errlen;
} walker;

static int materialize(walker *w, const pk_tensor *t) {
    const char *name = w->plen ? w->path : "tensor";
    const pk_storage *st = t->storage, *root = st->root ? st->root : st;
    size_t es = ck_dtype_size(t->dtype);
    if (!root->data && root->nbytes) {
        ck__err(w->err, w->errlen, "tensor '%.200s': storage '%.64s' has no data", name, st->key);
        return -1;
    }
    /* capacity of the storage in this tensor's elements */
    uint64_t cap, voff = 0;
    if (st->untyped) {
        cap = root->nbytes / es;
    } else {
        if (st->dtype != t->dtype) {
            ck__err(w->err, w->errlen, "tensor '%.200s': dtype %s does not match its %s storage", name,
                    ck_dtype_name(t->dtype), ck_dtype_name(st->dtype));
            return -1;
        }
        cap = st->numel;
        voff = st->root ? st->view_offset : 0;
        uint64_t need;
        if (ck__add(voff, cap, &need) || ck__mul(need, es, &need) || need > root->nbytes) {
            ck__err(w->err, w->errlen, "tensor '%.200s': storage '%.64s' is smaller than declared", name, st->key);
            return -1;
        }
    }
    uint64_t numel;
    if (ck__numel(t->ndim, t->size, &numel)) {
        ck__err(w->err, w->errlen, "tensor '%.200s': element count overflows", name);
        return -1;
    }
    const unsigned char *base = root->data ? root->data + voff * es : NULL;
    if (numel == 0) {
        static const unsigned char empty[8];
        return ck__add_tensor(w->f, name, t->dtype, t->ndim, t->size, empty, 0, w->err, w->errlen);
    }
    uint64_t last = (uint64_t)t->offset, tmp;
    int contiguous = 1;
    uint64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (ck__mul((uint64_t)(t->size[i] - 1), (uint64_t)t->stride[i], &tmp) || ck__add(last, tmp, &last)) {
            ck__err(w->err, w->errlen, "tensor '%.200s': index arithmetic overflows", name);
            return -1;
        }
        if (t->size[i] != 1 && (uint64_t)t->stride[i] != expect) contiguous = 0;
        expect *= (uint64_t)t->size[i]; /* <= numel, no overflow */
    }
    if (last >= cap) {
        ck__err(w->err, w->errlen,
                "tensor '%.200s': element index %llu (offset %lld) is outside its storage '%.64s' of %llu elements",
                name, (unsigned long long)last, (long long)t->offset, st->key, (unsigned long long)cap);
        return -1;
    }
    size_t nbytes = (size_t)(numel * es); /* <= cap * es <= storage bytes */
    if (contiguous)
        return ck__add_tensor(w->f, name, t->dtype, t->ndim, t->size, base + (size_t)t->offset * es, nbytes, w->err,
                              w->errlen);
    unsigned char *dst = ck__alloc(w->f, nbytes, name, w->err, w->errlen);
    if (!dst) return -1;
    int64_t idx[CK_MAX_DIMS] = {0};
    uint64_t src = (uint64_t)t->offset;
    for (uint64_t e = 0; e < numel; e++) {
        memcpy(dst + e * es, base + src * es, es);
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->size[d]) {
                src += (uint64_t)t->stride[d];
                break;
            }
            src -= (uint64_t)t->stride[d] * (uint64_t)(t->size[d] - 1);
            idx[d] = 0;
        }
    }
    return ck__add_tensor(w->f, name, t->dtype, t->ndim, t->size, dst, nbytes, w->err, w->errlen);
}

static int walk(walker *w, const pk_value *v, int depth);

static int with_segment(walker *w, const char *seg, size_t sl, const pk_value *v, int depth) {
    size_t old = w->plen;
    size_t add = sl + (old ? 1 : 0);
    if (memchr(seg, 0, sl)) {
        ck__err(w->err, w->errlen, "pickle: key under '%.200s' contains a NUL byte", w->path);
        return -1;
    }
    if (add >= PATH_MAX_LEN - old) {
        ck__err(w->err, w->errlen, "pickle: tensor path longer than %d bytes", PATH_MAX_LEN);
        return -1;
    }
    if (old) w->path[w->plen++] = '/';
    memcpy(w->path + w->plen, seg, sl);
    w->plen += sl;
    w->path[w->plen] = 0;
    int rc = walk(w, v, depth + 1);
    w->plen = old;
    w->path[old] = 0;
    return rc;
}

static int walk_dict(walker *w, pk_value *d, int depth) {
    if (normalize(d, w->err, w->errlen)) return -1;
    for (size_t i = 0; i + 1 < d->u.c.n; i += 2) {
        const pk_value *k = d->u.c.v[i];
        char buf[64];
        const char *seg = buf;
        size_t sl;
        switch (k->type) {
        case PK_STR: seg = (const char *)k->u.s.p; sl = k->u.s.n; break;
        case PK_INT: sl = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)k->u.i); break;
        case PK_BOOL: seg = k->u.i ? "True" : "False"; sl = strlen(seg); break;
        case PK_NONE: seg = "None"; sl = 4; break;
        case PK_FLOAT: sl = (size_t)snprintf(buf, sizeof buf, "%.17g", k->u.f); break;
        default: sl = (size_t)snprintf(buf, sizeof buf, "#%zu", i / 2); break;
        }
        if (with_segment(w, seg, sl, d->u.c.v[i + 1], depth)) return -1;
    }
    return 0;
}

static int walk(walker *w, const pk_value *v, int depth) {
    if (depth > WALK_MAX_DEPTH) {
        ck__err(w->err, w->errlen, "pickle: containers nested deeper than %d levels", WALK_MAX_DEPTH);
        return -1;
    }
    if (w->visits == 0) {
        ck__err(w->err, w->errlen, "pickle: object graph too large to walk (shared references?)");
        return -1;
    }
    w->visits--;
    char buf[32];
    switch (v->type) {
    case PK_TENSOR: return materialize(w, v->u.t);
    case PK_DICT: return walk_dict(w, (pk_value *)v, depth);
    case PK_LIST:
    case PK_TUPLE:
        for (size_t i = 0; i < v->u.c.n; i++) {
            size_t sl = (size_t)snprintf(buf, sizeof buf, "%zu", i);
            if (with_segment(w, buf, sl, v->u.c.v[i], depth)) return -1;
        }
        return 0;
    case PK_OBJECT:
        if (v->u.o.state && walk(w, v->u.o.state, depth + 1)) return -1;
        if (v->u.o.dict && walk(w, v->u.o.dict, depth + 1)) return -1;
        if (v->u.o.list && walk(w, v->u.o.list, depth + 1)) return -1;
        return 0;
    default: return 0;
    }
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((*(ck_tensor *const *)a)->name, (*(ck_tensor *const *)b)->name);
}

int pk_flatten(pk_vm *vm, const pk_value *v, ck_file *f, char *err, size_t errlen) {
    walker *w = calloc(1, sizeof *w);
    if (!w) {
        ck__err(err, errlen, "out of memory");
        return -1;
    }
    w->f = f;
    w->err = err;
    w->errlen = errlen;
    w->visits = pk_walk_budget(vm);
    int rc = walk(w, v, 0);
    free(w);
    if (rc) return -1;
    /* Distinct keys can still render alike (1 and "1"): refuse duplicate names. */
    if (f->n > 1) {
        ck_tensor **s = malloc((size_t)f->n * sizeof *s);
        if (!s) {
            ck__err(err, errlen, "out of memory");
            return -1;
        }
        for (int i = 0; i < f->n; i++) s[i] = &f->tensors[i];
        qsort(s, (size_t)f->n, sizeof *s, cmp_name);
        for (int i = 1; i < f->n; i++) {
            if (strcmp(s[i - 1]->name, s[i]->name) == 0) {
                ck__err(err, errlen, "pickle: two tensors are both named '%.200s'", s[i]->name);
                free(s);
                return -1;
            }
        }
        free(s);
    }
    return 0;
}

/* ---- canonical text ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap, max;
    int failed;
    size_t visits;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (n > b->max - b->n) {
        b->failed = 1;
        return;
    }
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_hex(sbuf *b, const char *pre, const unsigned char *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    puts_(b, pre);
    for (size_t i = 0; i < n && !b->failed; i++) {
        char two[2] = {hx[p[i] >> 4], hx[p[i] & 15]};
        put(b, two, 2);
    }
    if (pre[strlen(pre) - 1] == '"') put(b, "\"", 1);
}

static int dump(sbuf *b, const pk_value *v, int depth, char *err, size_t errlen);

static int dump_items(sbuf *b, const char *open, const char *close, pk_value *const *items, size_t n, size_t step,
                      int depth, char *err, size_t errlen) {
    puts_(b, open);
    for (size_t i = 0; i < n; i += step) {
        if (i) put(b, ",", 1);
        if (dump(b, items[i], depth + 1, err, errlen)) return -1;
        if (step == 2) {
            put(b, ":", 1);
            if (dump(b, items[i + 1], depth + 1, err, errlen)) return -1;
        }
    }
    puts_(b, close);
    return 0;
}

static int dump(sbuf *b, const pk_value *v, int depth, char *err, size_t errlen) {
    char buf[64];
    if (depth > WALK_MAX_DEPTH || b->visits == 0) {
        ck__err(err, errlen, "pickle: value too deep or too large to render");
        return -1;
    }
    b->visits--;
    switch (v->type) {
    case PK_NONE: puts_(b, "None"); break;
    case PK_BOOL: puts_(b, v->u.i ? "True" : "False"); break;
    case PK_INT: snprintf(buf, sizeof buf, "%lld", (long long)v->u.i); puts_(b, buf); break;
    case PK_BIGINT: put_hex(b, "L", v->u.s.p, v->u.s.n); break;
    case PK_BIGDEC: puts_(b, "D"); put(b, (const char *)v->u.s.p, v->u.s.n); break;
    case PK_FLOAT: snprintf(buf, sizeof buf, "f%.17g", v->u.f); puts_(b, buf); break;
    case PK_STR: put_hex(b, "s\"", v->u.s.p, v->u.s.n); break;
    case PK_BYTES: put_hex(b, "b\"", v->u.s.p, v->u.s.n); break;
    case PK_BYTEARRAY: put_hex(b, "ba\"", v->u.s.p, v->u.s.n); break;
    case PK_LIST: return dump_items(b, "[", "]", v->u.c.v, v->u.c.n, 1, depth, err, errlen);
    case PK_TUPLE: return dump_items(b, "(", ")", v->u.c.v, v->u.c.n, 1, depth, err, errlen);
    case PK_SET: return dump_items(b, "set{", "}", v->u.c.v, v->u.c.n, 1, depth, err, errlen);
    case PK_FROZENSET: return dump_items(b, "fset{", "}", v->u.c.v, v->u.c.n, 1, depth, err, errlen);
    case PK_DICT:
        if (normalize((pk_value *)v, err, errlen)) return -1;
        return dump_items(b, "{", "}", v->u.c.v, v->u.c.n, 2, depth, err, errlen);
    case PK_GLOBAL:
        puts_(b, "G(");
        puts_(b, v->u.g.module);
        puts_(b, ".");
        puts_(b, v->u.g.name);
        puts_(b, ")");
        break;
    case PK_OBJECT:
        puts_(b, "O(");
        if (dump(b, v->u.o.cls, depth + 1, err, errlen)) return -1;
        puts_(b, ",");
        if (dump(b, v->u.o.args, depth + 1, err, errlen)) return -1;
        puts_(b, ",");
        if (v->u.o.state) {
            if (dump(b, v->u.o.state, depth + 1, err, errlen)) return -1;
        } else {
            puts_(b, "None");
        }
        if (v->u.o.dict) {
            puts_(b, ",+");
            if (dump(b, v->u.o.dict, depth + 1, err, errlen)) return -1;
        }
        if (v->u.o.list) {
            puts_(b, ",+");
            if (dump(b, v->u.o.list, depth + 1, err, errlen)) return -1;
        }
        puts_(b, ")");
        break;
    case PK_TENSOR: {
        const pk_tensor *t = v->u.t;
        puts_(b, "T(");
        puts_(b, ck_dtype_name(t->dtype));
        puts_(b, ",[");
        for (int i = 0; i < t->ndim; i++) {
            snprintf(buf, sizeof buf, "%s%lld", i ? "," : "", (long long)t->size[i]);
            puts_(b, buf);
        }
        puts_(b, "])");
        break;
    }
    case PK_STORAGE:
        puts_(b, "S(");
        puts_(b, v->u.st->key);
        puts_(b, ")");
        break;
    }
    return 0;
}

char *pk_dump(pk_vm *vm, const pk_value *v, size_t max_len, char *err, size_t errlen) {
    sbuf b = {0};
    b.max = max_len;
    b.visits = pk_walk_budget(vm);
    int rc = dump(&b, v, 0, err, errlen);
    if (rc == 0 && (b.failed || !b.p)) {
        ck__err(err, errlen, "pickle: rendering longer than %zu bytes or out of memory", max_len);
        rc = -1;
    }
    if (rc) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
