/* main.c — convert-weights: a PyTorch DDPM UNet checkpoint (torch zip, legacy torch.save,
 * safetensors, diffusers folder) to sculpt's flat weight file, and --info summaries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cw.h"
#include "format.h"

#define PROG "convert-weights"

typedef struct opts {
    const char *input, *out, *config, *sched, *weights_key, *info;
    sculpt_dtype dtype;
    cw_layout layout;
    cw_infer_opts io;
    const char *meta[64];
    int n_meta;
} opts;

static void usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " INPUT -o OUT [options]\n"
            "       " PROG " --info FILE\n"
            "\n"
            "Convert a PyTorch DDPM UNet checkpoint to sculpt's flat weight file.\n"
            "INPUT: a torch.save file (.bin/.pt/.ckpt, zip or legacy), a .safetensors file, or a\n"
            "diffusers folder (config.json + diffusion_pytorch_model.safetensors or .bin;\n"
            "scheduler_config.json beside it or in ../scheduler/).\n"
            "\n"
            "  -o, --output OUT           flat weight file to write (via a new OUT.tmp.XXXXXX, then renamed)\n"
            "  --dtype f32|f16|bf16       storage type of the tensors (default f32)\n"
            "  --config FILE              diffusers UNet2DModel config.json (else the folder's, else\n"
            "                             inferred from tensor shapes)\n"
            "  --scheduler-config FILE    diffusers scheduler_config.json (else the folder's, else the\n"
            "                             DDPM CIFAR-10 defaults)\n"
            "  --layout auto|diffusers|pytorch_diffusion   tensor naming (default auto)\n"
            "  --weights-key KEY          weight set to take from a training checkpoint (e.g. ema, model)\n"
            "  --sample-size N            image size (when no config gives it; default 32)\n"
            "  --norm-groups N            GroupNorm groups when inferring (default 32)\n"
            "  --norm-eps E               GroupNorm eps when inferring (default 1e-6)\n"
            "  --meta KEY=VALUE           extra metadata line (repeatable)\n"
            "  --info FILE                describe a flat weight file or a checkpoint, write nothing\n"
            "  -h, --help                 this text\n");
}

static int arg_fail(const char *what, const char *fmt, const char *val) {
    fprintf(stderr, PROG ": %s: ", what);
    fprintf(stderr, fmt, val);
    fputc('\n', stderr);
    return 2;
}

static int parse_int(const char *s, int lo, int hi, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) return -1;
    *v = (int)x;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    o->dtype = SCULPT_DT_F32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED()                                                      \
    do {                                                            \
        if (!v) return arg_fail(a, "%s", "needs a value"); \
        i++;                                                        \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 1; }
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { NEED(); o->out = v; }
        else if (!strcmp(a, "--dtype")) {
            NEED();
            if (!strcmp(v, "f32") || !strcmp(v, "float32")) o->dtype = SCULPT_DT_F32;
            else if (!strcmp(v, "f16") || !strcmp(v, "float16")) o->dtype = SCULPT_DT_F16;
            else if (!strcmp(v, "bf16") || !strcmp(v, "bfloat16")) o->dtype = SCULPT_DT_BF16;
            else return arg_fail(a, "'%s' is not one of f32, f16, bf16", v);
        } else if (!strcmp(a, "--config")) { NEED(); o->config = v; }
        else if (!strcmp(a, "--scheduler-config")) { NEED(); o->sched = v; }
        else if (!strcmp(a, "--layout")) {
            NEED();
            if (!strcmp(v, "auto")) o->layout = CW_LAYOUT_UNKNOWN;
            else if (!strcmp(v, "diffusers")) o->layout = CW_LAYOUT_DIFFUSERS;
            else if (!strcmp(v, "pytorch_diffusion")) o->layout = CW_LAYOUT_PYTORCH_DIFFUSION;
            else return arg_fail(a, "'%s' is not one of auto, diffusers, pytorch_diffusion", v);
        } else if (!strcmp(a, "--weights-key")) { NEED(); o->weights_key = v; }
        else if (!strcmp(a, "--sample-size")) {
            NEED();
            if (parse_int(v, 1, 4096, &o->io.sample_size))
                return arg_fail(a, "'%s' must be an integer in 1..4096", v);
        } else if (!strcmp(a, "--norm-groups")) {
            NEED();
            if (parse_int(v, 1, 65536, &o->io.norm_groups)) return arg_fail(a, "'%s' must be a positive integer", v);
        } else if (!strcmp(a, "--norm-eps")) {
            NEED();
            char *end;
            double e = strtod(v, &end);
            if (end == v || *end || !(e > 0 && e < 1)) return arg_fail(a, "'%s' must be a number in (0, 1)", v);
            o->io.norm_eps = (float)e;
        } else if (!strcmp(a, "--meta")) {
            NEED();
            if (!strchr(v, '=')) return arg_fail(a, "'%s' must be KEY=VALUE", v);
            if (o->n_meta == 64) return arg_fail(a, "%s", "at most 64 --meta pairs");
            o->meta[o->n_meta++] = v;
        } else if (!strcmp(a, "--info")) { NEED(); o->info = v; }
        else if (a[0] == '-' && a[1]) return arg_fail(a, "%s", "unknown option (see --help)");
        else if (!o->input) o->input = a;
        else return arg_fail(a, "%s", "more than one INPUT given");
#undef NEED
    }
    if (o->n_meta) { /* check --meta pairs now, before any file is read */
        cw_meta m;
        char err[CW_ERR];
        memset(&m, 0, sizeof m);
        for (int i = 0; i < o->n_meta; i++) {
            char k[128];
            const char *eq = strchr(o->meta[i], '=');
            snprintf(k, sizeof k, "%.*s", (int)(eq - o->meta[i] < 127 ? eq - o->meta[i] : 127), o->meta[i]);
            if (cw_meta_set(&m, k, eq + 1, err)) { cw_meta_free(&m); return arg_fail("--meta", "%s", err); }
        }
        cw_meta_free(&m);
    }
    if (o->info) {
        if (o->input || o->out) return arg_fail("--info", "%s", "takes one FILE and no INPUT or -o");
        return 0;
    }
    if (!o->input) { usage(stderr); return arg_fail("INPUT", "%s", "missing"); }
    if (!o->out) return arg_fail(o->input, "%s", "no output file (-o OUT)");
    return 0;
}

/* ---- INPUT resolution: file or diffusers folder ---- */

typedef struct paths {
    char weights[4096], config[4096], sched[4096];
    int folder;
} paths;

static int is_file(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }
static int is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }

/* dst = a/b; -1 when it does not fit */
static int join(char *dst, size_t len, const char *a, const char *b) {
    int n = snprintf(dst, len, "%s/%s", a, b);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int resolve(const char *input, const opts *o, paths *p, char *err) {
    memset(p, 0, sizeof *p);
    if (strlen(input) >= 3000) return cw_fail(err, "%.100s...: path too long", input);
    struct stat st;
    if (stat(input, &st) != 0) return cw_fail(err, "%s: no such file or folder", input);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return cw_fail(err, "%s: not a regular file or a folder", input);
    if (is_dir(input)) {
        char dir[4096], tryp[4096];
        p->folder = 1;
        if (!join(tryp, sizeof tryp, input, "unet/config.json") && is_file(tryp))
            join(dir, sizeof dir, input, "unet"); /* a pipeline folder */
        else snprintf(dir, sizeof dir, "%s", input);
        static const char *const wn[] = {
            "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
            "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.fp16.bin"};
        for (int i = 0; i < 4 && !p->weights[0]; i++)
            if (!join(tryp, sizeof tryp, dir, wn[i]) && is_file(tryp)) memcpy(p->weights, tryp, sizeof tryp);
        if (!p->weights[0])
            return cw_fail(err, "%s: folder has no diffusion_pytorch_model.safetensors or .bin", dir);
        if (!join(tryp, sizeof tryp, dir, "config.json") && is_file(tryp)) memcpy(p->config, tryp, sizeof tryp);
        static const char *const sn[] = {"scheduler_config.json", "../scheduler/scheduler_config.json"};
        for (int i = 0; i < 2 && !p->sched[0]; i++)
            if (!join(tryp, sizeof tryp, dir, sn[i]) && is_file(tryp)) memcpy(p->sched, tryp, sizeof tryp);
    } else {
        snprintf(p->weights, sizeof p->weights, "%s", input);
    }
    const char *given[2] = {o->config, o->sched};
    char *dst[2] = {p->config, p->sched};
    for (int i = 0; i < 2; i++) {
        if (!given[i]) continue;
        if (strlen(given[i]) >= sizeof p->config) return cw_fail(err, "%.100s...: path too long", given[i]);
        snprintf(dst[i], sizeof p->config, "%s", given[i]);
    }
    return 0;
}

/* OUT must not be a folder nor any file the conversion reads (it would be replaced by the
 * flat file): checked before anything is loaded. */
static int check_output(const char *out, const paths *p, char *err) {
    struct stat so, si;
    size_t n = strlen(out);
    if (n == 0) return cw_fail(err, "-o: empty output path");
    if (out[n - 1] == '/' || is_dir(out)) return cw_fail(err, "%s: names a folder; -o needs a file name", out);
    if (lstat(out, &so) != 0) return 0; /* a new file (a link itself is replaced, not followed) */
    if (!S_ISREG(so.st_mode) && !S_ISLNK(so.st_mode)) /* a device or FIFO would be replaced by the rename */
        return cw_fail(err, "%s: exists and is not a regular file; -o needs a file name", out);
    const char *const in[] = {p->weights, p->config, p->sched};
    const char *const what[] = {"the input checkpoint", "the config", "the scheduler config"};
    for (int i = 0; i < 3; i++)
        if (in[i][0] && stat(in[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            return cw_fail(err, "%s: is %s (%s); choose another output file", out, what[i], in[i]);
    return 0;
}

/* ---- summaries ---- */

static void print_config(FILE *f, const sculpt_config *c) {
    fprintf(f, "  channels in %d, out %d; image %dx%d; block_out_channels (", c->in_channels, c->out_channels,
            c->sample_size, c->sample_size);
    for (int l = 0; l < c->n_levels; l++) fprintf(f, "%s%d", l ? "," : "", c->block_out_channels[l]);
    fprintf(f, "); %d resnets per level\n  attention: down levels [", c->layers_per_block);
    for (int l = 0, k = 0; l < c->n_levels; l++)
        if (c->down_attn[l]) fprintf(f, "%s%d", k++ ? "," : "", l);
    fprintf(f, "], up blocks [");
    for (int l = 0, k = 0; l < c->n_levels; l++)
        if (c->up_attn[l]) fprintf(f, "%s%d", k++ ? "," : "", l);
    fprintf(f, "], mid %s; head dim %d%s\n", c->mid_attention ? "yes" : "no", c->attention_head_dim,
            c->attention_head_dim ? "" : " (one head)");
    fprintf(f, "  GroupNorm %d groups (attention %d), eps %g; time embedding %d, flip_sin_to_cos %d, "
            "freq_shift %g\n", c->norm_num_groups, c->attn_norm_num_groups, (double)c->norm_eps,
            c->time_embed_dim, c->flip_sin_to_cos, (double)c->freq_shift);
    fprintf(f, "  resampling %s, downsample_padding %d, center_input_sample %d\n",
            c->downsample_type == SCULPT_DOWNSAMPLE_CONV ? "conv" : "avgpool (no conv)", c->downsample_padding,
            c->center_input_sample);
}

static const char *sched_name(int b) {
    static const char *const n[] = {"linear", "scaled_linear", "squaredcos_cap_v2", "trained_betas"};
    return b >= 0 && b < 4 ? n[b] : "?";
}
static const char *var_name(int v) {
    static const char *const n[] = {"fixed_small", "fixed_large", "fixed_small_log", "fixed_large_log"};
    return v >= 0 && v < 4 ? n[v] : "?";
}
static const char *pred_name(int v) {
    static const char *const n[] = {"epsilon", "v_prediction", "sample"};
    return v >= 0 && v < 3 ? n[v] : "?";
}

static void print_schedule(FILE *f, const sculpt_schedule *s) {
    int T = s->num_train_timesteps;
    fprintf(f, "  %s", sched_name(s->beta_schedule));
    if (s->beta_schedule <= SCULPT_BETA_SCALED_LINEAR)
        fprintf(f, " %g..%g", (double)s->beta_start, (double)s->beta_end);
    fprintf(f, ", %d steps, %s variance, ", T, var_name(s->variance_type));
    if (s->clip_sample) fprintf(f, "clip to [-%g, %g], ", (double)s->clip_sample_range, (double)s->clip_sample_range);
    else fprintf(f, "no clipping, ");
    fprintf(f, "predicts %s\n", pred_name(s->prediction_type));
    if (T > 0 && s->betas && s->alphas_cumprod)
        fprintf(f, "  betas %.6g .. %.6g, alphas_cumprod %.6g .. %.6g\n", (double)s->betas[0],
                (double)s->betas[T - 1], (double)s->alphas_cumprod[0], (double)s->alphas_cumprod[T - 1]);
}

static uint64_t match_params(const cw_match *m) {
    uint64_t total = 0;
    for (int i = 0; i < m->n_params; i++) {
        uint64_t e = 1;
        for (int d = 0; d < m->params[i].ndim; d++) e *= (uint64_t)m->params[i].shape[d];
        total += e;
    }
    return total;
}

static void print_notes(const char *notes) {
    const char *p = notes;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        if (len) cw_note("%.*s", len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* ---- the checkpoint pipeline shared by conversion and --info ---- */

typedef struct job {
    paths p;
    ck_file ck;
    json_value *cfg_json;
    cw_sets sets;
    int pick;
    cw_schedule sched;
} job;

static void job_free(job *j) {
    ck_file_free(&j->ck);
    json_free(j->cfg_json);
    cw_sets_free(&j->sets);
    cw_schedule_free(&j->sched);
}

static int load_schedule(job *j, char *err) {
    if (j->p.sched[0]) {
        json_value *sj = cw_json_load(j->p.sched, err);
        if (!sj) return -1;
        int r = cw_schedule_from_json(&j->sched, sj, j->p.sched, err);
        json_free(sj);
        return r;
    }
    return cw_schedule_default(&j->sched, err);
}

/* Load, find the weight set, build config and schedule. info: keep going where it can. */
static int run_job(const char *input, const opts *o, job *j, char *err) {
    memset(j, 0, sizeof *j);
    j->pick = -1;
    if (resolve(input, o, &j->p, err)) return -1;
    if (o->out && check_output(o->out, &j->p, err)) return -1;
    char e2[CW_ERR];
    if (ck_load_file(j->p.weights, &j->ck, e2, sizeof e2)) return cw_fail(err, "%s", e2);
    if (j->p.config[0] && !(j->cfg_json = cw_json_load(j->p.config, err))) return -1;
    if (cw_sets_build(&j->ck, &j->sets, e2)) return cw_fail(err, "%s: %s", j->p.weights, e2);
    j->pick = cw_sets_choose(&j->sets, o->weights_key, o->layout, j->cfg_json, j->p.config, &o->io, e2);
    if (j->pick < 0) return cw_fail(err, "%s: %s", j->p.weights, e2);
    if (load_schedule(j, err)) return -1;
    return 0;
}

static void describe_choice(const job *j) {
    const cw_set *s = &j->sets.sets[j->pick];
    const cw_match *m = &s->match;
    printf("weights: %s%s%s, %s layout, %d tensors", s->key[0] ? "'" : "",
           s->key[0] ? s->key : "top-level state dict", s->key[0] ? "'" : "", cw_layout_name(m->layout), s->n);
    if (s->is_ema) printf(" (EMA)");
    if (m->n_old_names) printf(", %d old attention names renamed", m->n_old_names);
    printf("\n");
    if (j->sets.n > 1) {
        printf("  chosen from %d candidate sets:", j->sets.n);
        for (int i = 0; i < j->sets.n; i++) {
            const cw_set *c = &j->sets.sets[i];
            printf(" '%s'%s%s", c->key[0] ? c->key : "(top level)", c->is_ema ? " (EMA)" : "",
                   c->ok ? "" : " (does not match)");
        }
        printf("\n");
        for (int i = 0; i < j->sets.n; i++) {
            const cw_set *c = &j->sets.sets[i];
            if (c->is_ema && !c->ok && i != j->pick)
                cw_note("EMA set '%s' not used: %s", c->key[0] ? c->key : "(top level)", c->err);
        }
    }
    printf("config: %s\n", m->config_source);
    print_config(stdout, &m->config);
    print_notes(m->notes);
    printf("schedule: %s\n", j->sched.source);
    print_schedule(stdout, &j->sched.s);
    if (!j->p.sched[0])
        cw_note("no scheduler_config.json: DDPM CIFAR-10 defaults (linear 1e-4..0.02, 1000 steps, "
                "fixed_large, clip [-1, 1], epsilon); --scheduler-config to change");
}

/* A metadata value the converter makes itself: a path becomes its last component, and bytes
 * the format does not allow become '?', so an odd file name never stops a conversion. */
static int meta_auto(cw_meta *m, const char *key, const char *val, int is_path, char *err) {
    char v[4097];
    snprintf(v, sizeof v, "%s", val);
    size_t n = strlen(v);
    while (is_path && n > 1 && v[n - 1] == '/') v[--n] = 0;
    char *slash = strrchr(v, '/');
    if (is_path && slash && slash[1]) memmove(v, slash + 1, strlen(slash + 1) + 1);
    if (!cw_meta_value_ok(v)) cw_meta_clean(v);
    return cw_meta_set(m, key, v, err);
}

static int convert(const opts *o) {
    char err[CW_ERR];
    job j;
    cw_meta meta;
    memset(&meta, 0, sizeof meta);
    int rc = 1;
    if (run_job(o->input, o, &j, err)) goto fail;
    printf("read %s: %s, %d tensors\n", j.p.weights, j.ck.format, j.ck.n);
    describe_choice(&j);
    const cw_set *s = &j.sets.sets[j.pick];
    if (meta_auto(&meta, "source", j.p.folder ? o->input : j.p.weights, 1, err) ||
        meta_auto(&meta, "source_format", j.ck.format, 0, err) ||
        meta_auto(&meta, "layout", cw_layout_name(s->match.layout), 0, err) ||
        meta_auto(&meta, "weight_set", s->key[0] ? s->key : "(top level)", 0, err) ||
        meta_auto(&meta, "weight_set_ema", s->is_ema ? "true" : "false", 0, err) ||
        meta_auto(&meta, "config_source", s->match.config_source, 1, err) ||
        meta_auto(&meta, "schedule_source", j.sched.source, 1, err) ||
        meta_auto(&meta, "dtype", cw_sdtype_name(o->dtype), 0, err) ||
        meta_auto(&meta, "converter", PROG, 0, err) ||
        meta_auto(&meta, "sculpt_version", SCULPT_VERSION_STRING, 0, err))
        goto fail_meta;
    for (const char *p = j.sched.extra; *p;) {
        const char *nl = strchr(p, '\n'), *eq = strchr(p, '=');
        if (!nl || !eq || eq > nl) break;
        char k[128], v[512];
        snprintf(k, sizeof k, "%.*s", (int)(eq - p), p);
        snprintf(v, sizeof v, "%.*s", (int)(nl - eq - 1), eq + 1);
        if (cw_meta_set(&meta, k, v, err)) goto fail_meta;
        p = nl + 1;
    }
    for (int i = 0; i < o->n_meta; i++) {
        char k[128];
        const char *eq = strchr(o->meta[i], '=');
        if ((size_t)(eq - o->meta[i]) >= sizeof k) { cw_fail(err, "key too long"); goto fail_arg; }
        snprintf(k, sizeof k, "%.*s", (int)(eq - o->meta[i]), o->meta[i]);
        if (cw_meta_set(&meta, k, eq + 1, err)) goto fail_arg;
    }
    uint64_t bytes = 0;
    if (cw_write_flat(o->out, &s->match, &j.sched, o->dtype, &meta, &bytes, err)) goto fail;
    printf("wrote %s: %s, %d tensors, %llu parameters, %llu bytes\n", o->out, cw_sdtype_name(o->dtype),
           s->match.n_params, (unsigned long long)match_params(&s->match), (unsigned long long)bytes);
    rc = 0;
    goto done;
fail_meta:
    fflush(stdout);
    fprintf(stderr, PROG ": %s: %s\n", o->out, err);
    goto done;
fail_arg:
    fflush(stdout);
    fprintf(stderr, PROG ": --meta: %s\n", err);
    goto done;
fail:
    fflush(stdout);
    fprintf(stderr, PROG ": %s\n", err);
done:
    fflush(stdout);
    cw_meta_free(&meta);
    job_free(&j);
    return rc;
}

/* ---- --info ---- */

static int info_flat(const char *path) {
    sculpt_model *m = NULL;
    char err[CW_ERR];
    sculpt_status st = sculpt_model_open(path, 0, &m, err, sizeof err);
    if (st != SCULPT_OK) {
        fprintf(stderr, PROG ": %s\n", err[0] ? err : sculpt_status_string(st));
        return 1;
    }
    int n = sculpt_model_tensor_count(m);
    uint64_t params = 0, bytes = 0;
    int dt[3] = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        sculpt_tensor_info t;
        if (sculpt_model_tensor(m, i, &t)) continue;
        uint64_t e = 1;
        for (int d = 0; d < t.ndim; d++) e *= (uint64_t)t.shape[d];
        params += e;
        bytes += t.nbytes;
        if (t.dtype >= 0 && t.dtype < 3) dt[t.dtype]++;
    }
    printf("%s: sculpt flat weight file (format version %u), DDPM UNet, checksum %016llx verified\n", path,
           SCW_VERSION, (unsigned long long)sculpt_model_checksum(m));
    printf("tensors: %d, %llu parameters, %llu data bytes; dtypes:", n, (unsigned long long)params,
           (unsigned long long)bytes);
    for (int d = 0; d < 3; d++)
        if (dt[d]) printf(" %s x%d", cw_sdtype_name((sculpt_dtype)d), dt[d]);
    printf("\n");
    const char *lay = sculpt_model_metadata(m, "layout"), *ws = sculpt_model_metadata(m, "weight_set");
    const char *src = sculpt_model_metadata(m, "source"), *fmt = sculpt_model_metadata(m, "source_format");
    printf("converted from: %s (%s), %s layout, weight set %s\n", src ? src : "?", fmt ? fmt : "?",
           lay ? lay : "?", ws ? ws : "?");
    printf("config:\n");
    print_config(stdout, sculpt_model_config(m));
    printf("schedule:\n");
    print_schedule(stdout, sculpt_model_schedule(m));
    sculpt_model_close(m);
    return 0;
}

static int info_checkpoint(const opts *o) {
    char err[CW_ERR];
    job j;
    int r = run_job(o->info, o, &j, err);
    if (j.ck.n || j.ck.format) {
        uint64_t params = 0, bytes = 0;
        int dt[CK_DTYPE_COUNT] = {0};
        for (int i = 0; i < j.ck.n; i++) {
            uint64_t e = 1;
            for (int d = 0; d < j.ck.tensors[i].ndim; d++) e *= (uint64_t)j.ck.tensors[i].shape[d];
            params += e;
            bytes += j.ck.tensors[i].nbytes;
            if ((unsigned)j.ck.tensors[i].dtype < CK_DTYPE_COUNT) dt[j.ck.tensors[i].dtype]++;
        }
        printf("%s: %s checkpoint, %d tensors, %llu elements, %llu bytes; dtypes:", j.p.weights, j.ck.format,
               j.ck.n, (unsigned long long)params, (unsigned long long)bytes);
        for (int d = 0; d < CK_DTYPE_COUNT; d++)
            if (dt[d]) printf(" %s x%d", ck_dtype_name((ck_dtype)d), dt[d]);
        printf("\n");
        if (j.ck.metadata && j.ck.metadata[0]) {
            printf("metadata:\n");
            for (const char *p = j.ck.metadata; *p;) {
                const char *nl = strchr(p, '\n');
                int len = nl ? (int)(nl - p) : (int)strlen(p);
                printf("  %.*s\n", len, p);
                p += len + (nl ? 1 : 0);
            }
        }
        if (j.p.folder) printf("diffusers folder: config %s, scheduler %s\n", j.p.config[0] ? j.p.config : "(none)",
                               j.p.sched[0] ? j.p.sched : "(none)");
        for (int i = 0; i < j.sets.n; i++) {
            const cw_set *s = &j.sets.sets[i];
            printf("weight set '%s': %d tensors%s, %s\n", s->key[0] ? s->key : "(top level)", s->n,
                   s->is_ema ? " (EMA)" : "", s->ok ? "matches" : s->err);
        }
    }
    if (r == 0) {
        describe_choice(&j);
        printf("parameters: %llu in %d tensors\n", (unsigned long long)match_params(&j.sets.sets[j.pick].match),
               j.sets.sets[j.pick].match.n_params);
    } else {
        fflush(stdout);
        fprintf(stderr, PROG ": %s\n", err);
    }
    job_free(&j);
    return r ? 1 : 0;
}

static int info(const opts *o) {
    FILE *f = is_file(o->info) ? fopen(o->info, "rb") : NULL; /* never open a FIFO or device */
    char magic[8] = {0};
    if (f) {
        size_t got = fread(magic, 1, 8, f);
        fclose(f);
        if (got == 8 && !memcmp(magic, SCW_MAGIC, 8)) return info_flat(o->info);
    }
    return info_checkpoint(o);
}

/* --help and --info produce nothing but standard output: losing it is a failure. */
static int stdout_status(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": standard output: write failed: %s\n", strerror(errno ? errno : EIO));
        return rc ? rc : 1;
    }
    return rc;
}

int main(int argc, char **argv) {
    opts o;
    int r = parse_args(argc, argv, &o);
    if (r == 1) return stdout_status(0); /* --help */
    if (r) return r;
    if (o.info) return stdout_status(info(&o));
    return convert(&o);
}
