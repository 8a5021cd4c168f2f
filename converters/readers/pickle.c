/* pickle.c — the non-executing pickle VM: every opcode of protocols 0-5 as CPython's
 * Lib/pickle.py (_Unpickler) defines it, with bounded memory, memo and stack; nothing is
 * imported or called: known torch/builtin reductions are recognised, the rest stay opaque. */
#include "pickle.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_MAX_STACK ((size_t)1 << 24)
#define PK_MAX_BIGDEC_DIGITS 1024

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

struct pk_vm {
    chunk *chunks;
    size_t used, budget;       /* bytes from the arena and the growable arrays */
    pk_value **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    pk_value **memo;
    size_t memo_cap, memo_count, memo_limit;
    pk_storage **st;           /* storages in first-seen order */
    size_t nst, capst;
    pk_storage **st_hash;      /* open addressing on key */
    size_t hcap;
    pk_value *none, *t, *f;
    uint64_t bigwork;          /* decimal conversion work left */
    size_t nvalues, consumed;  /* values made, pickle bytes run: bound the later walks */
    char *err;
    size_t errlen;
};

static int vfail(pk_vm *vm, const char *fmt, ...) {
    if (vm->err && vm->errlen) {
        int n = snprintf(vm->err, vm->errlen, "pickle: ");
        va_list ap;
        va_start(ap, fmt);
        if (n > 0 && (size_t)n < vm->errlen) vsnprintf(vm->err + n, vm->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- memory ---- */

static void *arena(pk_vm *vm, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n > vm->budget - vm->used) {
        vfail(vm, "allocation budget of %zu bytes exhausted (input too large or hostile)", vm->budget);
        return NULL;
    }
    chunk *c = vm->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = malloc(sizeof *c + cap);
        if (!c) {
            vfail(vm, "out of memory");
            return NULL;
        }
        c->cap = cap;
        c->used = 0;
        c->next = vm->chunks;
        vm->chunks = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    vm->used += n;
    memset(p, 0, n);
    return p;
}

/* Grow a malloc'd array to hold at least need elements; counted against the budget. */
static int grow(pk_vm *vm, void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem) return vfail(vm, "array too large");
        nc *= 2;
    }
    size_t extra = (nc - *cap) * elem;
    if (extra > vm->budget - vm->used)
        return vfail(vm, "allocation budget of %zu bytes exhausted (input too large or hostile)", vm->budget);
    void *p = realloc(*arr, nc * elem);
    if (!p) return vfail(vm, "out of memory");
    memset((char *)p + *cap * elem, 0, extra);
    vm->used += extra;
    *arr = p;
    *cap = nc;
    return 0;
}

pk_vm *pk_new(size_t budget) {
    pk_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return NULL;
    vm->budget = budget;
    vm->bigwork = (uint64_t)budget * 4 + 1000000;
    vm->none = arena(vm, sizeof(pk_value));
    vm->t = arena(vm, sizeof(pk_value));
    vm->f = arena(vm, sizeof(pk_value));
    if (!vm->none || !vm->t || !vm->f) {
        pk_free(vm);
        return NULL;
    }
    vm->none->type = PK_NONE;
    vm->t->type = PK_BOOL;
    vm->t->u.i = 1;
    vm->f->type = PK_BOOL;
    return vm;
}

size_t pk_budget_for(size_t n) {
    return n > (SIZE_MAX - ((size_t)16 << 20)) / 128 ? SIZE_MAX : n * 128 + ((size_t)16 << 20);
}

void pk_free(pk_vm *vm) {
    if (!vm) return;
    for (chunk *c = vm->chunks, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
    free(vm->st);
    free(vm->st_hash);
    free(vm);
}

static pk_value *newv(pk_vm *vm, pk_type t) {
    pk_value *v = arena(vm, sizeof *v);
    if (v) v->type = t;
    vm->nvalues++;
    return v;
}

size_t pk_walk_budget(const pk_vm *vm) {
    size_t b = vm->nvalues + vm->consumed;
    return b > SIZE_MAX / 4 ? SIZE_MAX : 2 * b + 4096;
}

static pk_value *new_int(pk_vm *vm, int64_t i) {
    pk_value *v = newv(vm, PK_INT);
    if (v) v->u.i = i;
    return v;
}

static pk_value *new_bytes(pk_vm *vm, pk_type t, const unsigned char *p, size_t n) {
    pk_value *v = newv(vm, t);
    if (!v) return NULL;
    if (n >= SIZE_MAX - 16) {
        vfail(vm, "string too long");
        return NULL;
    }
    v->u.s.p = arena(vm, n + 1);
    if (!v->u.s.p) return NULL;
    if (n && p) memcpy(v->u.s.p, p, n);
    v->u.s.n = n;
    return v;
}

static int c_push(pk_vm *vm, pk_value *c, pk_value *item) {
    if (c->u.c.n == c->u.c.cap) {
        size_t nc = c->u.c.cap ? c->u.c.cap * 2 : 4;
        if (nc > SIZE_MAX / 2 / sizeof(pk_value *)) return vfail(vm, "container too large");
        pk_value **nv = arena(vm, nc * sizeof *nv);
        if (!nv) return -1;
        if (c->u.c.n) memcpy(nv, c->u.c.v, c->u.c.n * sizeof *nv);
        c->u.c.v = nv;
        c->u.c.cap = nc;
    }
    c->u.c.v[c->u.c.n++] = item;
    c->u.c.norm = 0;
    return 0;
}

static pk_value *new_container(pk_vm *vm, pk_type t, pk_value **items, size_t n) {
    pk_value *v = newv(vm, t);
    if (!v) return NULL;
    if (n) {
        if (n > SIZE_MAX / sizeof(pk_value *)) {
            vfail(vm, "container too large");
            return NULL;
        }
        v->u.c.v = arena(vm, n * sizeof(pk_value *));
        if (!v->u.c.v) return NULL;
        memcpy(v->u.c.v, items, n * sizeof(pk_value *));
        v->u.c.n = v->u.c.cap = n;
    }
    return v;
}

/* ---- stack, marks, memo ---- */

static int push(pk_vm *vm, pk_value *v) {
    if (!v) return -1;
    if (vm->sp >= PK_MAX_STACK) return vfail(vm, "stack deeper than %zu", PK_MAX_STACK);
    if (grow(vm, (void **)&vm->stack, &vm->scap, vm->sp + 1, sizeof *vm->stack)) return -1;
    vm->stack[vm->sp++] = v;
    return 0;
}

static size_t base(pk_vm *vm) { return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0; }

static pk_value *pop(pk_vm *vm, const char *op) {
    if (vm->sp <= base(vm)) {
        vfail(vm, "%s: stack underflow", op);
        return NULL;
    }
    return vm->stack[--vm->sp];
}

static pk_value *top(pk_vm *vm, const char *op) {
    if (vm->sp <= base(vm)) {
        vfail(vm, "%s: stack underflow", op);
        return NULL;
    }
    return vm->stack[vm->sp - 1];
}

/* The value just below a popped MARK (the list/dict that APPENDS/SETITEMS extend). */
static pk_value *below_mark(pk_vm *vm, size_t from, const char *op) {
    if (from <= base(vm)) {
        vfail(vm, "%s: stack underflow", op);
        return NULL;
    }
    return vm->stack[from - 1];
}

/* Pop to the last MARK: items are stack[*from .. sp). */
static int pop_mark(pk_vm *vm, const char *op, size_t *from) {
    if (!vm->nmarks) return vfail(vm, "%s: no MARK on the stack", op);
    *from = vm->marks[--vm->nmarks];
    return 0;
}

static int memo_put(pk_vm *vm, uint64_t idx, pk_value *v) {
    if (idx >= vm->memo_limit)
        return vfail(vm, "memo index %llu out of range (limit %zu)", (unsigned long long)idx, vm->memo_limit);
    if (grow(vm, (void **)&vm->memo, &vm->memo_cap, (size_t)idx + 1, sizeof *vm->memo)) return -1;
    if (!vm->memo[idx]) vm->memo_count++;
    vm->memo[idx] = v;
    return 0;
}

static pk_value *memo_get(pk_vm *vm, uint64_t idx) {
    if (idx >= vm->memo_cap || !vm->memo[idx]) {
        vfail(vm, "memo index %llu was never stored", (unsigned long long)idx);
        return NULL;
    }
    return vm->memo[idx];
}

/* ---- storages ---- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

pk_storage *pk_storage_find(pk_vm *vm, const char *key) {
    if (!vm->hcap) return NULL;
    for (size_t i = hash_str(key) & (vm->hcap - 1);; i = (i + 1) & (vm->hcap - 1)) {
        if (!vm->st_hash[i]) return NULL;
        if (strcmp(vm->st_hash[i]->key, key) == 0) return vm->st_hash[i];
    }
}

static int storage_add(pk_vm *vm, pk_storage *s) {
    if (grow(vm, (void **)&vm->st, &vm->capst, vm->nst + 1, sizeof *vm->st)) return -1;
    vm->st[vm->nst++] = s;
    if (vm->nst * 2 > vm->hcap) {
        size_t nc = vm->hcap ? vm->hcap * 2 : 64;
        size_t bytes = nc * sizeof(pk_storage *);
        if (bytes > vm->budget - vm->used) return vfail(vm, "allocation budget exhausted (storages)");
        pk_storage **h = calloc(nc, sizeof *h);
        if (!h) return vfail(vm, "out of memory");
        vm->used += bytes;
        free(vm->st_hash);
        vm->st_hash = h;
        vm->hcap = nc;
        for (size_t k = 0; k < vm->nst; k++) {
            size_t i = hash_str(vm->st[k]->key) & (nc - 1);
            while (h[i]) i = (i + 1) & (nc - 1);
            h[i] = vm->st[k];
        }
    } else {
        size_t i = hash_str(s->key) & (vm->hcap - 1);
        while (vm->st_hash[i]) i = (i + 1) & (vm->hcap - 1);
        vm->st_hash[i] = s;
    }
    return 0;
}

size_t pk_storage_count(const pk_vm *vm) { return vm->nst; }
pk_storage *pk_storage_at(pk_vm *vm, size_t i) { return i < vm->nst ? vm->st[i] : NULL; }

static int is_str(const pk_value *v) { return v && v->type == PK_STR; }
static int is_global(const pk_value *v, const char *mod, const char *name) {
    return v && v->type == PK_GLOBAL && strcmp(v->u.g.module, mod) == 0 && strcmp(v->u.g.name, name) == 0;
}
static int is_seq(const pk_value *v) { return v && (v->type == PK_TUPLE || v->type == PK_LIST); }

static const struct { const char *name; ck_dtype dt; } storage_types[] = {
    {"FloatStorage", CK_F32}, {"DoubleStorage", CK_F64}, {"HalfStorage", CK_F16},
    {"BFloat16Storage", CK_BF16}, {"LongStorage", CK_I64}, {"IntStorage", CK_I32},
    {"ShortStorage", CK_I16}, {"CharStorage", CK_I8}, {"ByteStorage", CK_U8},
    {"BoolStorage", CK_BOOL}, {"ComplexFloatStorage", CK_C64}, {"ComplexDoubleStorage", CK_C128},
};

static const struct { const char *name; ck_dtype dt; } torch_dtypes[] = {
    {"float32", CK_F32}, {"float", CK_F32}, {"float64", CK_F64}, {"double", CK_F64},
    {"float16", CK_F16}, {"half", CK_F16}, {"bfloat16", CK_BF16}, {"int64", CK_I64},
    {"long", CK_I64}, {"int32", CK_I32}, {"int", CK_I32}, {"int16", CK_I16}, {"short", CK_I16},
    {"int8", CK_I8}, {"uint8", CK_U8}, {"bool", CK_BOOL}, {"complex64", CK_C64},
    {"cfloat", CK_C64}, {"complex128", CK_C128}, {"cdouble", CK_C128},
    {"float8_e4m3fn", CK_F8E4M3}, {"float8_e5m2", CK_F8E5M2}, {"uint16", CK_U16},
    {"uint32", CK_U32}, {"uint64", CK_U64},
};

/* persistent_load: ('storage', type, key, location, numel[, view_metadata]); anything
 * else becomes an opaque object so the walk goes on. */
static pk_value *persistent_load(pk_vm *vm, pk_value *pid) {
    if (!pid || pid->type != PK_TUPLE || pid->u.c.n < 5 || !is_str(pid->u.c.v[0]) ||
        strcmp((char *)pid->u.c.v[0]->u.s.p, "storage") != 0) {
        pk_value *o = newv(vm, PK_OBJECT);
        if (!o) return NULL;
        o->u.o.cls = vm->none;
        o->u.o.args = pid;
        return o;
    }
    pk_value **a = pid->u.c.v;
    pk_value *ty = a[1], *key = a[2], *numel = a[4];
    if (!ty || ty->type != PK_GLOBAL || (strcmp(ty->u.g.module, "torch") != 0 && strcmp(ty->u.g.module, "torch.cuda") != 0 &&
                 strcmp(ty->u.g.module, "torch.storage") != 0))
        return vfail(vm, "storage persistent id: type is not a torch storage class"), NULL;
    int untyped = strcmp(ty->u.g.name, "UntypedStorage") == 0;
    ck_dtype dt = CK_U8;
    if (!untyped) {
        size_t i;
        for (i = 0; i < sizeof storage_types / sizeof storage_types[0]; i++)
            if (strcmp(ty->u.g.name, storage_types[i].name) == 0) break;
        if (i == sizeof storage_types / sizeof storage_types[0])
            return vfail(vm, "unsupported storage type torch.%.64s", ty->u.g.name), NULL;
        dt = storage_types[i].dt;
    }
    char kbuf[32];
    const char *k;
    if (is_str(key)) {
        k = (const char *)key->u.s.p;
        if (strlen(k) != key->u.s.n) return vfail(vm, "storage key contains a NUL byte"), NULL;
    } else if (key && key->type == PK_INT) {
        snprintf(kbuf, sizeof kbuf, "%lld", (long long)key->u.i);
        k = kbuf;
    } else {
        return vfail(vm, "storage persistent id: key is not a string"), NULL;
    }
    if (!numel || numel->type != PK_INT || numel->u.i < 0)
        return vfail(vm, "storage '%.64s': element count is not a non-negative integer", k), NULL;
    pk_storage *s = pk_storage_find(vm, k);
    if (s) {
        if (s->untyped != untyped || s->dtype != dt || s->numel != (uint64_t)numel->u.i)
            return vfail(vm, "storage '%.64s' named twice with different type or size", k), NULL;
    } else {
        s = arena(vm, sizeof *s);
        if (!s) return NULL;
        size_t kl = strlen(k);
        s->key = arena(vm, kl + 1);
        if (!s->key) return NULL;
        memcpy(s->key, k, kl + 1);
        s->dtype = dt;
        s->untyped = untyped;
        s->numel = (uint64_t)numel->u.i;
        if (storage_add(vm, s)) return NULL;
    }
    pk_storage *ret = s;
    pk_value *view = pid->u.c.n >= 6 ? a[5] : NULL;
    if (view && view->type != PK_NONE) {
        /* legacy view: (view_key, offset, size) into the root storage */
        if (view->type != PK_TUPLE || view->u.c.n != 3 || !is_str(view->u.c.v[0]) ||
            view->u.c.v[1]->type != PK_INT || view->u.c.v[2]->type != PK_INT || view->u.c.v[1]->u.i < 0 ||
            view->u.c.v[2]->u.i < 0)
            return vfail(vm, "storage '%.64s': malformed view metadata", k), NULL;
        uint64_t off = (uint64_t)view->u.c.v[1]->u.i, sz = (uint64_t)view->u.c.v[2]->u.i;
        if (off > s->numel || sz > s->numel - off)
            return vfail(vm, "storage view [%llu, +%llu) outside storage '%.64s' (%llu elements)",
                         (unsigned long long)off, (unsigned long long)sz, k, (unsigned long long)s->numel), NULL;
        pk_storage *v = arena(vm, sizeof *v);
        if (!v) return NULL;
        *v = *s;
        v->root = s;
        v->view_offset = off;
        v->numel = sz;
        ret = v;
    }
    pk_value *out = newv(vm, PK_STORAGE);
    if (out) out->u.st = ret;
    return out;
}

/* ---- reductions: known callables become data, the rest opaque ---- */

static int get_dims(pk_vm *vm, const pk_value *v, int64_t *out, int *n, const char *what) {
    if (!is_seq(v)) return vfail(vm, "tensor %s is not a tuple", what);
    if (v->u.c.n > CK_MAX_DIMS) return vfail(vm, "tensor has %zu dimensions (at most %d)", v->u.c.n, CK_MAX_DIMS);
    for (size_t i = 0; i < v->u.c.n; i++) {
        if (v->u.c.v[i]->type != PK_INT || v->u.c.v[i]->u.i < 0)
            return vfail(vm, "tensor %s[%zu] is not a non-negative integer", what, i);
        out[i] = v->u.c.v[i]->u.i;
    }
    *n = (int)v->u.c.n;
    return 0;
}

static pk_value *rebuild_tensor(pk_vm *vm, pk_value *args, int version) {
    size_t need = version == 1 ? 4 : version == 2 ? 6 : 7;
    if (args->u.c.n < need)
        return vfail(vm, "_rebuild_tensor%s: %zu arguments, need %zu", version == 1 ? "" : version == 2 ? "_v2" : "_v3",
                     args->u.c.n, need), NULL;
    pk_value **a = args->u.c.v;
    if (a[0]->type != PK_STORAGE) return vfail(vm, "tensor storage argument is not a storage"), NULL;
    if (a[1]->type != PK_INT || a[1]->u.i < 0) return vfail(vm, "tensor storage offset is not a non-negative integer"), NULL;
    pk_tensor *t = arena(vm, sizeof *t);
    if (!t) return NULL;
    t->storage = a[0]->u.st;
    t->offset = a[1]->u.i;
    int ns, nt;
    if (get_dims(vm, a[2], t->size, &ns, "size") || get_dims(vm, a[3], t->stride, &nt, "stride")) return NULL;
    if (ns != nt) return vfail(vm, "tensor size has %d dimensions but stride %d", ns, nt), NULL;
    t->ndim = ns;
    uint64_t numel;
    if (ck__numel(t->ndim, t->size, &numel)) return vfail(vm, "tensor element count overflows"), NULL;
    t->dtype = t->storage->dtype;
    if (version == 3) {
        pk_value *d = a[6];
        size_t i = 0, nd = sizeof torch_dtypes / sizeof torch_dtypes[0];
        if (d && d->type == PK_GLOBAL && strcmp(d->u.g.module, "torch") == 0)
            for (; i < nd; i++)
                if (strcmp(d->u.g.name, torch_dtypes[i].name) == 0) break;
        if (!d || d->type != PK_GLOBAL || i == nd) return vfail(vm, "_rebuild_tensor_v3: unsupported dtype argument"), NULL;
        if (!t->storage->untyped && t->storage->dtype != torch_dtypes[i].dt)
            return vfail(vm, "tensor dtype %s does not match its %s storage '%.64s'", ck_dtype_name(torch_dtypes[i].dt),
                         ck_dtype_name(t->storage->dtype), t->storage->key), NULL;
        t->dtype = torch_dtypes[i].dt;
    }
    pk_value *v = newv(vm, PK_TENSOR);
    if (v) v->u.t = t;
    return v;
}

/* latin-1 code points (<= 255) of a UTF-8 str as bytes; -1 if one is larger. */
static pk_value *latin1_bytes(pk_vm *vm, const pk_value *s, pk_type t) {
    pk_value *v = new_bytes(vm, t, NULL, s->u.s.n);
    if (!v) return NULL;
    size_t n = 0;
    const unsigned char *p = s->u.s.p, *e = p + s->u.s.n;
    while (p < e) {
        if (p[0] < 0x80) v->u.s.p[n++] = *p++;
        else if ((p[0] == 0xC2 || p[0] == 0xC3) && p + 1 < e && (p[1] & 0xC0) == 0x80) {
            v->u.s.p[n++] = (unsigned char)(((p[0] & 3) << 6) | (p[1] & 0x3F));
            p += 2;
        } else
            return vfail(vm, "_codecs.encode: character outside latin-1"), NULL;
    }
    v->u.s.n = n;
    return v;
}

static int is_builtin(const pk_value *c, const char *name) {
    return is_global(c, "builtins", name) || is_global(c, "__builtin__", name);
}

static pk_value *make_object(pk_vm *vm, pk_value *cls, pk_value *args) {
    pk_value *o = newv(vm, PK_OBJECT);
    if (!o) return NULL;
    o->u.o.cls = cls;
    o->u.o.args = args;
    return o;
}

static pk_value *reduce(pk_vm *vm, pk_value *fn, pk_value *args) {
    if (args->type != PK_TUPLE) return vfail(vm, "REDUCE: arguments are not a tuple"), NULL;
    size_t n = args->u.c.n;
    pk_value **a = args->u.c.v;
    if (is_global(fn, "torch._utils", "_rebuild_tensor")) return rebuild_tensor(vm, args, 1);
    if (is_global(fn, "torch._utils", "_rebuild_tensor_v2")) return rebuild_tensor(vm, args, 2);
    if (is_global(fn, "torch._utils", "_rebuild_tensor_v3")) return rebuild_tensor(vm, args, 3);
    if (is_global(fn, "torch._utils", "_rebuild_parameter") ||
        is_global(fn, "torch._utils", "_rebuild_parameter_with_state")) {
        if (n < 1 || a[0]->type != PK_TENSOR) return vfail(vm, "_rebuild_parameter: first argument is not a tensor"), NULL;
        return a[0];
    }
    if (is_global(fn, "collections", "OrderedDict") || is_builtin(fn, "dict")) {
        pk_value *d = newv(vm, PK_DICT);
        if (!d) return NULL;
        if (n >= 1 && is_seq(a[0])) {
            for (size_t i = 0; i < a[0]->u.c.n; i++) {
                pk_value *kv = a[0]->u.c.v[i];
                if (!is_seq(kv) || kv->u.c.n != 2) return vfail(vm, "OrderedDict: item %zu is not a pair", i), NULL;
                if (c_push(vm, d, kv->u.c.v[0]) || c_push(vm, d, kv->u.c.v[1])) return NULL;
            }
        }
        return d;
    }
    if (is_global(fn, "_codecs", "encode") && n == 2 && is_str(a[0]) && is_str(a[1]) &&
        (strcmp((char *)a[1]->u.s.p, "latin1") == 0 || strcmp((char *)a[1]->u.s.p, "latin-1") == 0))
        return latin1_bytes(vm, a[0], PK_BYTES);
    if ((is_builtin(fn, "bytes") || is_builtin(fn, "bytearray")) && n <= 2) {
        pk_type t = is_builtin(fn, "bytes") ? PK_BYTES : PK_BYTEARRAY;
        if (n == 0) return new_bytes(vm, t, NULL, 0);
        if (n == 1 && (a[0]->type == PK_BYTES || a[0]->type == PK_BYTEARRAY))
            return new_bytes(vm, t, a[0]->u.s.p, a[0]->u.s.n);
        if (n == 2 && is_str(a[0]) && is_str(a[1])) return latin1_bytes(vm, a[0], t);
    }
    if ((is_builtin(fn, "set") || is_builtin(fn, "frozenset")) && n <= 1 && (n == 0 || is_seq(a[0]))) {
        pk_type t = is_builtin(fn, "set") ? PK_SET : PK_FROZENSET;
        return n ? new_container(vm, t, a[0]->u.c.v, a[0]->u.c.n) : newv(vm, t);
    }
    if ((is_global(fn, "torch", "Size") || is_builtin(fn, "tuple")) && n == 1 && is_seq(a[0]))
        return new_container(vm, PK_TUPLE, a[0]->u.c.v, a[0]->u.c.n);
    if (is_builtin(fn, "list") && n == 1 && is_seq(a[0]))
        return new_container(vm, PK_LIST, a[0]->u.c.v, a[0]->u.c.n);
    return make_object(vm, fn, args);
}

/* ---- text arguments of protocol 0 ---- */

typedef struct rd {
    const unsigned char *p;
    size_t len, pos;
} rd;

static int need(pk_vm *vm, rd *r, uint64_t n, const char *op) {
    if (n > r->len - r->pos)
        return vfail(vm, "%s: needs %llu bytes at offset %zu, only %zu left (truncated?)", op, (unsigned long long)n, r->pos,
                     r->len - r->pos);
    return 0;
}

static int line(pk_vm *vm, rd *r, const char *op, const unsigned char **s, size_t *n) {
    const unsigned char *nl = memchr(r->p + r->pos, '\n', r->len - r->pos);
    if (!nl) return vfail(vm, "%s: unterminated line at offset %zu", op, r->pos);
    *s = r->p + r->pos;
    *n = (size_t)(nl - *s);
    r->pos += *n + 1;
    if (*n && (*s)[*n - 1] == '\r') (*n)--;
    return 0;
}

/* Decimal integer text; *big set when it does not fit int64. */
static int parse_dec(const unsigned char *s, size_t n, int64_t *out, int *big) {
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    if (i == n) return -1;
    int64_t acc = 0;
    *big = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        int d = s[i] - '0';
        if (acc < (INT64_MIN + d) / 10) *big = 1;
        else acc = acc * 10 - d;
    }
    if (!*big && !neg && acc == INT64_MIN) *big = 1;
    *out = *big ? 0 : neg ? acc : -acc;
    return 0;
}

/* Minimal little-endian two's complement, like pickle.encode_long. */
static pk_value *bigint_from_le(pk_vm *vm, const unsigned char *p, size_t n) {
    if (n == 0) return new_int(vm, 0);
    int neg = (p[n - 1] & 0x80) != 0;
    while (n > 1 && ((p[n - 1] == 0 && !(p[n - 2] & 0x80)) || (p[n - 1] == 0xFF && (p[n - 2] & 0x80)))) n--;
    if (n <= 8) {
        uint64_t u = 0;
        for (size_t i = n; i-- > 0;) u = (u << 8) | p[i];
        if (neg && n < 8) u |= ~(uint64_t)0 << (8 * n);
        return new_int(vm, (int64_t)u);
    }
    (void)neg;
    return new_bytes(vm, PK_BIGINT, p, n);
}

/* Decimal text beyond int64: converted to bytes when small enough, else kept as text. */
static pk_value *bigint_from_dec(pk_vm *vm, const unsigned char *s, size_t n) {
    int neg = n && s[0] == '-';
    size_t i = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    size_t digits = n - i;
    uint64_t work = (uint64_t)digits * digits;
    if (digits > PK_MAX_BIGDEC_DIGITS || work > vm->bigwork) return new_bytes(vm, PK_BIGDEC, s, n);
    vm->bigwork -= work;
    size_t cap = digits / 2 + 2;
    unsigned char *mag = arena(vm, cap);
    if (!mag) return NULL;
    size_t len = 0;
    for (; i < n; i++) {
        unsigned carry = (unsigned)(s[i] - '0');
        for (size_t k = 0; k < len; k++) {
            unsigned x = mag[k] * 10u + carry;
            mag[k] = (unsigned char)x;
            carry = x >> 8;
        }
        while (carry) {
            mag[len++] = (unsigned char)carry;
            carry >>= 8;
        }
    }
    mag[len++] = 0; /* sign byte room */
    if (neg) {
        unsigned c = 1;
        for (size_t k = 0; k < len; k++) {
            unsigned x = (unsigned char)~mag[k] + c;
            mag[k] = (unsigned char)x;
            c = x >> 8;
        }
    }
    return bigint_from_le(vm, mag, len);
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* latin-1 bytes -> UTF-8 str */
static pk_value *str_latin1(pk_vm *vm, const unsigned char *s, size_t n) {
    if (n > SIZE_MAX / 2 - 16) return vfail(vm, "string too long"), NULL;
    pk_value *v = new_bytes(vm, PK_STR, NULL, 2 * n);
    if (!v) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) o += (size_t)ck__utf8_put(v->u.s.p + o, s[i]);
    v->u.s.p[o] = 0;
    v->u.s.n = o;
    return v;
}

/* UNICODE: raw-unicode-escape (\uXXXX, \UXXXXXXXX; other bytes are latin-1). */
static pk_value *str_raw_unicode(pk_vm *vm, const unsigned char *s, size_t n) {
    if (n > SIZE_MAX / 2 - 16) return vfail(vm, "string too long"), NULL;
    pk_value *v = new_bytes(vm, PK_STR, NULL, 2 * n);
    if (!v) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
            size_t k = s[i + 1] == 'u' ? 4 : 8;
            if (n - i - 2 < k) return vfail(vm, "UNICODE: truncated \\u escape"), NULL;
            uint32_t cp = 0;
            for (size_t j = 0; j < k; j++) {
                int h = hexval(s[i + 2 + j]);
                if (h < 0) return vfail(vm, "UNICODE: bad \\u escape"), NULL;
                cp = cp * 16 + (uint32_t)h;
            }
            if (cp > 0x10FFFF) return vfail(vm, "UNICODE: code point beyond U+10FFFF"), NULL;
            o += (size_t)ck__utf8_put(v->u.s.p + o, cp); /* <= 4 bytes from >= 6 */
            i += 2 + k;
        } else {
            o += (size_t)ck__utf8_put(v->u.s.p + o, s[i]);
            i++;
        }
    }
    v->u.s.p[o] = 0;
    v->u.s.n = o;
    return v;
}

/* STRING: a Python 2 repr ('...' or "...") decoded with string-escape, then latin-1. */
static pk_value *str_escaped(pk_vm *vm, const unsigned char *s, size_t n) {
    if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0])
        return vfail(vm, "STRING: argument is not a quoted string"), NULL;
    s++;
    n -= 2;
    unsigned char *tmp = arena(vm, n + 1);
    if (!tmp) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            tmp[o++] = s[i++];
            continue;
        }
        if (++i >= n) return vfail(vm, "STRING: trailing backslash"), NULL;
        unsigned char c = s[i++];
        switch (c) {
        case '\\': tmp[o++] = '\\'; break;
        case '\'': tmp[o++] = '\''; break;
        case '"': tmp[o++] = '"'; break;
        case 'n': tmp[o++] = '\n'; break;
        case 't': tmp[o++] = '\t'; break;
        case 'r': tmp[o++] = '\r'; break;
        case 'a': tmp[o++] = 7; break;
        case 'b': tmp[o++] = 8; break;
        case 'f': tmp[o++] = 12; break;
        case 'v': tmp[o++] = 11; break;
        case '\n': break;
        case 'x': {
            int h1 = i < n ? hexval(s[i]) : -1, h2 = i + 1 < n ? hexval(s[i + 1]) : -1;
            if (h1 < 0 || h2 < 0) return vfail(vm, "STRING: bad \\x escape"), NULL;
            tmp[o++] = (unsigned char)(h1 * 16 + h2);
            i += 2;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = (unsigned)(c - '0');
                for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++) v = v * 8 + (unsigned)(s[i++] - '0');
                tmp[o++] = (unsigned char)v;
            } else {
                tmp[o++] = '\\';
                tmp[o++] = c;
            }
        }
    }
    return str_latin1(vm, tmp, o);
}

/* ---- the VM loop ---- */

static int set_item(pk_vm *vm, pk_value *d, pk_value *k, pk_value *v) {
    if (d->type == PK_DICT) return c_push(vm, d, k) || c_push(vm, d, v) ? -1 : 0;
    if (d->type == PK_OBJECT) {
        if (!d->u.o.dict && !(d->u.o.dict = newv(vm, PK_DICT))) return -1;
        return c_push(vm, d->u.o.dict, k) || c_push(vm, d->u.o.dict, v) ? -1 : 0;
    }
    return vfail(vm, "SETITEM on a value that is not a dict (type %d)", (int)d->type);
}

static int append(pk_vm *vm, pk_value *l, pk_value *v) {
    if (l->type == PK_LIST) return c_push(vm, l, v);
    if (l->type == PK_OBJECT) {
        if (!l->u.o.list && !(l->u.o.list = newv(vm, PK_LIST))) return -1;
        return c_push(vm, l->u.o.list, v);
    }
    return vfail(vm, "APPEND on a value that is not a list (type %d)", (int)l->type);
}

static pk_value *new_global(pk_vm *vm, const unsigned char *m, size_t mn, const unsigned char *nm, size_t nn) {
    if (memchr(m, 0, mn) || memchr(nm, 0, nn)) return vfail(vm, "GLOBAL: NUL byte in name"), NULL;
    pk_value *g = newv(vm, PK_GLOBAL);
    if (!g) return NULL;
    g->u.g.module = arena(vm, mn + 1);
    g->u.g.name = arena(vm, nn + 1);
    if (!g->u.g.module || !g->u.g.name) return NULL;
    memcpy(g->u.g.module, m, mn);
    memcpy(g->u.g.name, nm, nn);
    /* Python 2 names (fix_imports) */
    if (strcmp(g->u.g.module, "__builtin__") == 0) strcpy(g->u.g.module, "builtins");
    return g;
}

static uint64_t rdle(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

int pk_load(pk_vm *vm, const unsigned char *buf, size_t len, size_t *used, pk_value **out, char *err,
            size_t errlen) {
    rd r = {buf, len, 0};
    vm->err = err;
    vm->errlen = errlen;
    if (grow(vm, (void **)&vm->stack, &vm->scap, 16, sizeof *vm->stack)) return -1;
    vm->sp = 0;
    vm->nmarks = 0;
    if (vm->memo) memset(vm->memo, 0, vm->memo_cap * sizeof *vm->memo);
    vm->memo_count = 0;
    *out = NULL;
    for (;;) {
        if (r.pos >= r.len) return vfail(vm, "input ended before STOP (truncated?)");
        size_t at = r.pos;
        unsigned char op = buf[r.pos++];
        /* picklers number memo entries 0, 1, 2...: an index can never exceed the bytes read */
        vm->memo_limit = r.pos + 256;
        const unsigned char *s = NULL, *s2 = NULL;
        size_t n = 0, n2 = 0, from = 0;
        int64_t iv;
        int big;
        pk_value *a, *b, *c, *v;
        switch (op) {
        case 0x80: /* PROTO */
            if (need(vm, &r, 1, "PROTO")) return -1;
            if (buf[r.pos] > 5) return vfail(vm, "unsupported protocol %u", buf[r.pos]);
            r.pos++;
            break;
        case 0x95: /* FRAME: framing is advisory; check the length */
            if (need(vm, &r, 8, "FRAME")) return -1;
            if (rdle(buf + r.pos, 8) > r.len - r.pos - 8) return vfail(vm, "FRAME longer than the input");
            r.pos += 8;
            break;
        case '.': /* STOP */
            if (!(v = pop(vm, "STOP"))) return -1;
            *out = v;
            *used = r.pos;
            vm->consumed += r.pos;
            return 0;
        case '(': /* MARK */
            if (vm->nmarks >= PK_MAX_STACK) return vfail(vm, "too many MARKs");
            if (grow(vm, (void **)&vm->marks, &vm->mcap, vm->nmarks + 1, sizeof *vm->marks)) return -1;
            vm->marks[vm->nmarks++] = vm->sp;
            break;
        case '0': /* POP */
            if (vm->sp > base(vm)) vm->sp--;
            else if (vm->nmarks && vm->sp == base(vm)) vm->nmarks--; /* pops a MARK like CPython */
            else return vfail(vm, "POP: stack underflow");
            break;
        case '1': /* POP_MARK */
            if (pop_mark(vm, "POP_MARK", &from)) return -1;
            vm->sp = from;
            break;
        case '2': /* DUP */
            if (!(v = top(vm, "DUP")) || push(vm, v)) return -1;
            break;
        case 'N': if (push(vm, vm->none)) return -1; break;
        case 0x88: if (push(vm, vm->t)) return -1; break;
        case 0x89: if (push(vm, vm->f)) return -1; break;
        case 'I': /* INT */
            if (line(vm, &r, "INT", &s, &n)) return -1;
            if (n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) {
                if (push(vm, s[1] == '1' ? vm->t : vm->f)) return -1;
                break;
            }
            if (parse_dec(s, n, &iv, &big)) return vfail(vm, "INT: bad integer text at offset %zu", at);
            if (push(vm, big ? bigint_from_dec(vm, s, n) : new_int(vm, iv))) return -1;
            break;
        case 'L': /* LONG */
            if (line(vm, &r, "LONG", &s, &n)) return -1;
            if (n && s[n - 1] == 'L') n--;
            if (parse_dec(s, n, &iv, &big)) return vfail(vm, "LONG: bad integer text at offset %zu", at);
            if (push(vm, big ? bigint_from_dec(vm, s, n) : new_int(vm, iv))) return -1;
            break;
        case 'J':
            if (need(vm, &r, 4, "BININT")) return -1;
            iv = (int32_t)(uint32_t)rdle(buf + r.pos, 4);
            r.pos += 4;
            if (push(vm, new_int(vm, iv))) return -1;
            break;
        case 'K':
            if (need(vm, &r, 1, "BININT1")) return -1;
            if (push(vm, new_int(vm, buf[r.pos++]))) return -1;
            break;
        case 'M':
            if (need(vm, &r, 2, "BININT2")) return -1;
            iv = (int64_t)rdle(buf + r.pos, 2);
            r.pos += 2;
            if (push(vm, new_int(vm, iv))) return -1;
            break;
        case 0x8a: /* LONG1 */
        case 0x8b: /* LONG4 */ {
            int w = op == 0x8a ? 1 : 4;
            if (need(vm, &r, (uint64_t)w, "LONG1/LONG4")) return -1;
            uint64_t ln = rdle(buf + r.pos, w);
            if (op == 0x8b && (ln & 0x80000000u)) return vfail(vm, "LONG4: negative byte count");
            r.pos += (size_t)w;
            if (need(vm, &r, ln, "LONG1/LONG4")) return -1;
            if (push(vm, bigint_from_le(vm, buf + r.pos, (size_t)ln))) return -1;
            r.pos += (size_t)ln;
            break;
        }
        case 'F': { /* FLOAT */
            if (line(vm, &r, "FLOAT", &s, &n)) return -1;
            char tmp[64];
            if (n == 0 || n >= sizeof tmp) return vfail(vm, "FLOAT: bad text at offset %zu", at);
            memcpy(tmp, s, n);
            tmp[n] = 0;
            char *end;
            double d = strtod(tmp, &end);
            if (*end) return vfail(vm, "FLOAT: bad text at offset %zu", at);
            if (!(v = newv(vm, PK_FLOAT))) return -1;
            v->u.f = d;
            if (push(vm, v)) return -1;
            break;
        }
        case 'G': { /* BINFLOAT, big-endian */
            if (need(vm, &r, 8, "BINFLOAT")) return -1;
            uint64_t u = 0;
            for (int i = 0; i < 8; i++) u = (u << 8) | buf[r.pos + (size_t)i];
            r.pos += 8;
            double d;
            memcpy(&d, &u, 8);
            if (!(v = newv(vm, PK_FLOAT))) return -1;
            v->u.f = d;
            if (push(vm, v)) return -1;
            break;
        }
        case 'S': /* STRING */
            if (line(vm, &r, "STRING", &s, &n)) return -1;
            if (push(vm, str_escaped(vm, s, n))) return -1;
            break;
        case 'T': /* BINSTRING */
        case 'U': /* SHORT_BINSTRING */
        case 'B': /* BINBYTES */
        case 'C': /* SHORT_BINBYTES */
        case 0x8e: /* BINBYTES8 */
        case 'X': /* BINUNICODE */
        case 0x8c: /* SHORT_BINUNICODE */
        case 0x8d: /* BINUNICODE8 */
        case 0x96: /* BYTEARRAY8 */ {
            int w = (op == 'U' || op == 'C' || op == 0x8c) ? 1 : (op == 0x8e || op == 0x8d || op == 0x96) ? 8 : 4;
            if (need(vm, &r, (uint64_t)w, "string length")) return -1;
            uint64_t ln = rdle(buf + r.pos, w);
            if (op == 'T' && (ln & 0x80000000u)) return vfail(vm, "BINSTRING: negative length");
            r.pos += (size_t)w;
            if (need(vm, &r, ln, "string data")) return -1;
            s = buf + r.pos;
            r.pos += (size_t)ln;
            if (op == 'T' || op == 'U') v = str_latin1(vm, s, (size_t)ln);
            else if (op == 'X' || op == 0x8c || op == 0x8d) v = new_bytes(vm, PK_STR, s, (size_t)ln);
            else v = new_bytes(vm, op == 0x96 ? PK_BYTEARRAY : PK_BYTES, s, (size_t)ln);
            if (push(vm, v)) return -1;
            break;
        }
        case 'V': /* UNICODE */
            if (line(vm, &r, "UNICODE", &s, &n)) return -1;
            if (push(vm, str_raw_unicode(vm, s, n))) return -1;
            break;
        case ')': if (push(vm, newv(vm, PK_TUPLE))) return -1; break;
        case ']': if (push(vm, newv(vm, PK_LIST))) return -1; break;
        case '}': if (push(vm, newv(vm, PK_DICT))) return -1; break;
        case 0x8f: if (push(vm, newv(vm, PK_SET))) return -1; break;
        case 0x85: /* TUPLE1..3 */
        case 0x86:
        case 0x87: {
            size_t k = (size_t)(op - 0x84);
            if (vm->sp - base(vm) < k) return vfail(vm, "TUPLE%zu: stack underflow", k);
            v = new_container(vm, PK_TUPLE, vm->stack + vm->sp - k, k);
            vm->sp -= k;
            if (push(vm, v)) return -1;
            break;
        }
        case 't': /* TUPLE */
        case 'l': /* LIST */
        case 0x91: /* FROZENSET */
            if (pop_mark(vm, "TUPLE/LIST", &from)) return -1;
            v = new_container(vm, op == 't' ? PK_TUPLE : op == 'l' ? PK_LIST : PK_FROZENSET, vm->stack + from,
                              vm->sp - from);
            vm->sp = from;
            if (push(vm, v)) return -1;
            break;
        case 'd': /* DICT */
            if (pop_mark(vm, "DICT", &from)) return -1;
            if ((vm->sp - from) % 2) return vfail(vm, "DICT: odd number of items");
            v = new_container(vm, PK_DICT, vm->stack + from, vm->sp - from);
            vm->sp = from;
            if (push(vm, v)) return -1;
            break;
        case 'a': /* APPEND */
            if (!(b = pop(vm, "APPEND")) || !(a = top(vm, "APPEND")) || append(vm, a, b)) return -1;
            break;
        case 'e': /* APPENDS */
            if (pop_mark(vm, "APPENDS", &from)) return -1;
            if (!(a = below_mark(vm, from, "APPENDS"))) return -1;
            for (size_t i = from; i < vm->sp; i++)
                if (append(vm, a, vm->stack[i])) return -1;
            vm->sp = from;
            break;
        case 0x90: /* ADDITEMS */
            if (pop_mark(vm, "ADDITEMS", &from)) return -1;
            if (!(a = below_mark(vm, from, "ADDITEMS"))) return -1;
            if (a->type != PK_SET) return vfail(vm, "ADDITEMS on a value that is not a set");
            for (size_t i = from; i < vm->sp; i++)
                if (c_push(vm, a, vm->stack[i])) return -1;
            vm->sp = from;
            break;
        case 's': /* SETITEM */
            if (!(c = pop(vm, "SETITEM")) || !(b = pop(vm, "SETITEM")) || !(a = top(vm, "SETITEM")) ||
                set_item(vm, a, b, c))
                return -1;
            break;
        case 'u': /* SETITEMS */
            if (pop_mark(vm, "SETITEMS", &from)) return -1;
            if ((vm->sp - from) % 2) return vfail(vm, "SETITEMS: odd number of items");
            if (!(a = below_mark(vm, from, "SETITEMS"))) return -1;
            for (size_t i = from; i < vm->sp; i += 2)
                if (set_item(vm, a, vm->stack[i], vm->stack[i + 1])) return -1;
            vm->sp = from;
            break;
        case 'p': /* PUT */
            if (line(vm, &r, "PUT", &s, &n)) return -1;
            if (parse_dec(s, n, &iv, &big) || big || iv < 0) return vfail(vm, "PUT: bad index at offset %zu", at);
            if (!(v = top(vm, "PUT")) || memo_put(vm, (uint64_t)iv, v)) return -1;
            break;
        case 'q':
        case 'r': {
            int w = op == 'q' ? 1 : 4;
            if (need(vm, &r, (uint64_t)w, "BINPUT")) return -1;
            uint64_t idx = rdle(buf + r.pos, w);
            r.pos += (size_t)w;
            if (!(v = top(vm, "BINPUT")) || memo_put(vm, idx, v)) return -1;
            break;
        }
        case 0x94: /* MEMOIZE */
            if (!(v = top(vm, "MEMOIZE")) || memo_put(vm, vm->memo_count, v)) return -1;
            break;
        case 'g': /* GET */
            if (line(vm, &r, "GET", &s, &n)) return -1;
            if (parse_dec(s, n, &iv, &big) || big || iv < 0) return vfail(vm, "GET: bad index at offset %zu", at);
            if (push(vm, memo_get(vm, (uint64_t)iv))) return -1;
            break;
        case 'h':
        case 'j': {
            int w = op == 'h' ? 1 : 4;
            if (need(vm, &r, (uint64_t)w, "BINGET")) return -1;
            uint64_t idx = rdle(buf + r.pos, w);
            r.pos += (size_t)w;
            if (push(vm, memo_get(vm, idx))) return -1;
            break;
        }
        case 'c': /* GLOBAL */
            if (line(vm, &r, "GLOBAL", &s, &n) || line(vm, &r, "GLOBAL", &s2, &n2)) return -1;
            if (push(vm, new_global(vm, s, n, s2, n2))) return -1;
            break;
        case 0x93: /* STACK_GLOBAL */
            if (!(b = pop(vm, "STACK_GLOBAL")) || !(a = pop(vm, "STACK_GLOBAL"))) return -1;
            if (!is_str(a) || !is_str(b)) return vfail(vm, "STACK_GLOBAL: module and name must be strings");
            if (push(vm, new_global(vm, a->u.s.p, a->u.s.n, b->u.s.p, b->u.s.n))) return -1;
            break;
        case 'i': /* INST */
            if (line(vm, &r, "INST", &s, &n) || line(vm, &r, "INST", &s2, &n2)) return -1;
            if (pop_mark(vm, "INST", &from)) return -1;
            if (!(a = new_global(vm, s, n, s2, n2))) return -1;
            b = new_container(vm, PK_TUPLE, vm->stack + from, vm->sp - from);
            vm->sp = from;
            if (!b || push(vm, reduce(vm, a, b))) return -1;
            break;
        case 'o': /* OBJ */
            if (pop_mark(vm, "OBJ", &from)) return -1;
            if (vm->sp == from) return vfail(vm, "OBJ: no class on the stack");
            a = vm->stack[from];
            b = new_container(vm, PK_TUPLE, vm->stack + from + 1, vm->sp - from - 1);
            vm->sp = from;
            if (!b || push(vm, reduce(vm, a, b))) return -1;
            break;
        case 'R': /* REDUCE */
            if (!(b = pop(vm, "REDUCE")) || !(a = pop(vm, "REDUCE"))) return -1;
            if (push(vm, reduce(vm, a, b))) return -1;
            break;
        case 0x81: /* NEWOBJ: cls.__new__(cls, *args) */
            if (!(b = pop(vm, "NEWOBJ")) || !(a = pop(vm, "NEWOBJ"))) return -1;
            if (b->type != PK_TUPLE) return vfail(vm, "NEWOBJ: arguments are not a tuple");
            if (is_global(a, "collections", "OrderedDict") || is_builtin(a, "dict")) v = newv(vm, PK_DICT);
            else if (is_builtin(a, "list")) v = newv(vm, PK_LIST);
            else if (is_builtin(a, "set")) v = newv(vm, PK_SET);
            else v = make_object(vm, a, b);
            if (push(vm, v)) return -1;
            break;
        case 0x92: /* NEWOBJ_EX: kwargs ignored */
            if (!(c = pop(vm, "NEWOBJ_EX")) || !(b = pop(vm, "NEWOBJ_EX")) || !(a = pop(vm, "NEWOBJ_EX"))) return -1;
            if (b->type != PK_TUPLE || c->type != PK_DICT) return vfail(vm, "NEWOBJ_EX: bad arguments");
            if (push(vm, make_object(vm, a, b))) return -1;
            break;
        case 'b': /* BUILD */
            if (!(b = pop(vm, "BUILD")) || !(a = top(vm, "BUILD"))) return -1;
            if (a->type == PK_OBJECT) a->u.o.state = b;
            else if (a->type == PK_DICT || a->type == PK_LIST) a->u.c.state = b;
            /* other values (tensors with state, ...) ignore it */
            break;
        case 'P': /* PERSID */
            if (line(vm, &r, "PERSID", &s, &n)) return -1;
            if (!(a = new_bytes(vm, PK_STR, s, n)) || push(vm, persistent_load(vm, a))) return -1;
            break;
        case 'Q': /* BINPERSID */
            if (!(a = pop(vm, "BINPERSID")) || push(vm, persistent_load(vm, a))) return -1;
            break;
        case 0x82:
        case 0x83:
        case 0x84:
            return vfail(vm, "EXT%d opcode (extension registry) at offset %zu is not supported", op == 0x82 ? 1 : op == 0x83 ? 2 : 4,
                         at);
        case 0x97:
        case 0x98:
            return vfail(vm, "%s opcode at offset %zu: out-of-band buffers are not supported",
                         op == 0x97 ? "NEXT_BUFFER" : "READONLY_BUFFER", at);
        default:
            return vfail(vm, "unknown opcode 0x%02x at offset %zu", op, at);
        }
    }
}
