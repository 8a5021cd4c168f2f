/* weightset.c — find the UNet weights inside a checkpoint: group the flattened tensor paths
 * ("ema/conv_in.weight", "model/module.conv_in.weight", "optimizer/state/0/exp_avg") into
 * candidate sets by the prefix in front of a UNet anchor name, strip it (wrappers such as
 * "module.", "model.", "ema_model." go with it), and prefer the EMA set that matches.
 * A pickled nn.Module (torch.save(model)) flattens to "_modules/conv_in/_parameters/weight":
 * such paths are read as the state-dict key they stand for ("conv_in.weight"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"

/* Names that start every supported layout's state dict at a known place. */
static const char *const anchors[] = {"conv_in.weight", "conv_out.weight", "time_embedding.linear_1.weight",
                                      "temb.dense.0.weight"};

static int prefix_of(const char *name, const char *anchor, size_t *plen) {
    size_t n = strlen(name), a = strlen(anchor);
    if (n < a || strcmp(name + n - a, anchor)) return 0;
    if (n > a && name[n - a - 1] != '/' && name[n - a - 1] != '.') return 0;
    *plen = n - a;
    return 1;
}

/* EMA if a path component (split at '/', '.', '_') is "ema", or names an average. */
static int ema_like(const char *prefix) {
    char tok[64];
    size_t t = 0;
    for (const char *p = prefix;; p++) {
        if (*p == '/' || *p == '.' || *p == '_' || *p == '-' || *p == 0) {
            tok[t] = 0;
            if (!strcmp(tok, "ema") || !strcmp(tok, "averaged") || !strcmp(tok, "shadow") ||
                !strcmp(tok, "swa"))
                return 1;
            t = 0;
            if (!*p) return 0;
        } else if (t + 1 < sizeof tok) {
            tok[t++] = (char)tolower((unsigned char)*p);
        }
    }
}

/* The state-dict name of a path through nn.Module internals, or NULL when the path has none:
 * "ema/_modules/conv_in/_parameters/weight" -> "ema/conv_in.weight". */
static char *module_name(const char *path) {
    static const char *const inner[] = {"_modules", "_parameters", "_buffers"};
    const char *first = NULL;
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(inner[i]);
        for (const char *p = strstr(path, inner[i]); p; p = strstr(p + 1, inner[i]))
            if ((p == path || p[-1] == '/') && p[n] == '/' && (!first || p < first)) { first = p; break; }
    }
    if (!first) return NULL;
    char *out = malloc(strlen(path) + 1);
    if (!out) return NULL;
    size_t o = (size_t)(first - path);
    memcpy(out, path, o);
    int parts = 0;
    for (const char *p = first; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int skip = 0;
        for (int i = 0; i < 3; i++) skip |= n == strlen(inner[i]) && !strncmp(p, inner[i], n);
        if (!skip) {
            if (parts++) out[o++] = '.';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n + (e ? 1 : 0);
    }
    out[o] = 0;
    return out;
}

void cw_sets_free(cw_sets *s) {
    if (s->names) {
        for (int i = 0; i < s->n_names; i++) free(s->names[i]);
        free(s->names);
        s->names = NULL;
    }
    for (int i = 0; i < s->n; i++) {
        free(s->sets[i].items);
        cw_match_free(&s->sets[i].match);
    }
    free(s->sets);
    s->sets = NULL;
    s->n = 0;
}

int cw_sets_build(const ck_file *f, cw_sets *out, char *err) {
    memset(out, 0, sizeof *out);
    int cap = 0;
    /* names as state-dict keys (module internals folded away), owned when rewritten */
    out->names = calloc((size_t)(f->n ? f->n : 1), sizeof *out->names);
    if (!out->names) return cw_fail(err, "out of memory");
    out->n_names = f->n;
    for (int i = 0; i < f->n; i++) out->names[i] = module_name(f->tensors[i].name);
#define NAME(i) (out->names[i] ? out->names[i] : f->tensors[i].name)
    for (int i = 0; i < f->n; i++) {
        const char *name = NAME(i);
        for (size_t a = 0; a < sizeof anchors / sizeof anchors[0]; a++) {
            size_t pl;
            if (!prefix_of(name, anchors[a], &pl) || pl >= sizeof out->sets[0].prefix) continue;
            int dup = 0;
            for (int k = 0; k < out->n; k++)
                if (strlen(out->sets[k].prefix) == pl && !strncmp(out->sets[k].prefix, name, pl)) dup = 1;
            if (dup) continue;
            if (out->n == cap) {
                int nc = cap ? cap * 2 : 4;
                if (nc > 64) {
                    cw_sets_free(out);
                    return cw_fail(err, "more than 64 candidate weight sets (UNet-like names under 64+ paths)");
                }
                cw_set *ns = realloc(out->sets, (size_t)nc * sizeof *ns);
                if (!ns) { cw_sets_free(out); return cw_fail(err, "out of memory"); }
                out->sets = ns;
                cap = nc;
            }
            cw_set *s = &out->sets[out->n++];
            memset(s, 0, sizeof *s);
            memcpy(s->prefix, name, pl);
            s->prefix[pl] = 0;
            snprintf(s->key, sizeof s->key, "%s", s->prefix);
            size_t kl = strlen(s->key);
            if (kl && (s->key[kl - 1] == '/' || s->key[kl - 1] == '.')) s->key[kl - 1] = 0;
            s->is_ema = ema_like(s->prefix);
        }
    }
    /* each tensor joins the longest candidate prefix it starts with */
    int *owner = malloc((size_t)(f->n ? f->n : 1) * sizeof *owner);
    if (!owner) { cw_sets_free(out); return cw_fail(err, "out of memory"); }
    for (int i = 0; i < f->n; i++) {
        owner[i] = -1;
        size_t best = 0;
        for (int k = 0; k < out->n; k++) {
            size_t pl = strlen(out->sets[k].prefix);
            if (!strncmp(NAME(i), out->sets[k].prefix, pl) && (owner[i] < 0 || pl > best)) {
                owner[i] = k;
                best = pl;
            }
        }
        if (owner[i] >= 0) out->sets[owner[i]].n++;
    }
    for (int k = 0; k < out->n; k++) {
        cw_set *s = &out->sets[k];
        s->items = calloc((size_t)s->n, sizeof *s->items);
        if (!s->items) { free(owner); cw_sets_free(out); return cw_fail(err, "out of memory"); }
        s->n = 0;
    }
    for (int i = 0; i < f->n; i++) {
        if (owner[i] < 0) continue;
        cw_set *s = &out->sets[owner[i]];
        cw_item *it = &s->items[s->n++];
        it->t = &f->tensors[i];
        it->key = NAME(i) + strlen(s->prefix);
    }
    free(owner);
    return 0;
#undef NAME
}

/* --weights-key K names a set by its key, or by a path in front of a wrapper prefix
 * ("model" for "model/module."). */
static int key_matches(const cw_set *s, const char *k) {
    size_t kl = strlen(k);
    if (!strcmp(s->key, k) || !strcmp(s->prefix, k)) return 2;
    if (!strcmp(k, "/") && s->prefix[0] == 0) return 2;
    if (!strncmp(s->prefix, k, kl) && (s->prefix[kl] == '/' || s->prefix[kl] == '.')) return 1;
    return 0;
}

static const char *show(const cw_set *s) { return s->key[0] ? s->key : "(top level)"; }

int cw_sets_choose(cw_sets *s, const char *weights_key, cw_layout forced, const json_value *config_json,
                   const char *json_file, const cw_infer_opts *io, char *err) {
    if (s->n == 0) return cw_fail(err, "no UNet weights found: no tensor is named conv_in.weight, conv_out.weight, "
                                  "time_embedding.linear_1.weight or temb.dense.0.weight at any path");
    for (int i = 0; i < s->n; i++) {
        cw_set *c = &s->sets[i];
        c->ok = cw_match_set(c->items, c->n, forced, config_json, json_file, io, &c->match, c->err) == 0;
    }
    char names[400] = "";
    for (int i = 0; i < s->n; i++) {
        size_t u = strlen(names);
        if (u < sizeof names - 1) snprintf(names + u, sizeof names - u, "%s'%s'", i ? ", " : "", show(&s->sets[i]));
    }
    if (weights_key) {
        int pick = -1, best = 0;
        for (int i = 0; i < s->n; i++) {
            int q = key_matches(&s->sets[i], weights_key);
            if (q > best) { best = q; pick = i; }
        }
        if (pick < 0) return cw_fail(err, "--weights-key '%s' names no weight set (found: %s)", weights_key, names);
        if (!s->sets[pick].ok)
            return cw_fail(err, "weight set '%s': %s", show(&s->sets[pick]), s->sets[pick].err);
        return pick;
    }
    int pick = -1;
    for (int i = 0; i < s->n && pick < 0; i++)
        if (s->sets[i].ok && s->sets[i].is_ema) pick = i;
    for (int i = 0; i < s->n && pick < 0; i++)
        if (s->sets[i].ok) pick = i;
    if (pick >= 0) return pick;
    /* nothing matched: explain the most likely set (EMA first, then the largest) */
    int worst = 0;
    for (int i = 1; i < s->n; i++) {
        const cw_set *a = &s->sets[i], *b = &s->sets[worst];
        if (a->is_ema > b->is_ema || (a->is_ema == b->is_ema && a->n > b->n)) worst = i;
    }
    if (s->n == 1 && s->sets[0].prefix[0] == 0) return cw_fail(err, "%s", s->sets[0].err);
    return cw_fail(err, "weight set '%s' (of %s): %s", show(&s->sets[worst]), names, s->sets[worst].err);
}
