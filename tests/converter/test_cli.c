/* test_cli.c — runs the built convert-weights on every fixture of
 * tests/reference/make_checkpoints.py and checks, through libsculpt's reader, that each
 * tensor equals PyTorch's bit for bit, that all formats/layouts give the same data, that the
 * config and schedule tables are exact, and that refusals are one line with no file left.
 * usage: test_cli CONVERT_WEIGHTS FIXTURE_DIR formats|others */
#include <dirent.h>
#include <stdarg.h>

#include "cw_test.h"
#include "format.h"
#include "sculpt.h"

static const char *CW, *FIX;
static char TMP[256];
static char OUTP[512], ERRP[512], STDP[512];

static char *pool[4096];
static int npool;

static const char *fx(const char *name) { /* fixture path */
    char *p = malloc(strlen(FIX) + strlen(name) + 2);
    sprintf(p, "%s/%s", FIX, name);
    return pool[npool++] = p;
}
static const char *tp(const char *name) { /* temp path */
    char *p = malloc(strlen(TMP) + strlen(name) + 2);
    sprintf(p, "%s/%s", TMP, name);
    return pool[npool++] = p;
}

/* convert-weights args... NULL; returns exit status. stdout -> STDP, stderr -> ERRP. */
static int run(const char *first, ...) {
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)CW;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 63; a = va_arg(ap, const char *)) argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    return cw_run(argv, STDP, ERRP);
}

static void show_stderr(void) {
    size_t len;
    char *t = test_read_file(ERRP, &len);
    if (t) { t[len] = 0; fprintf(stderr, "  stderr: %s", t); free(t); }
}

/* Open a flat file with libsculpt (validates everything incl. checksums) and compare its
 * tensors with a manifest (none: only open it). Returns the data checksum (0 on failure). */
static uint64_t check_tensors(const char *label, const char *flat, const char *stem) {
    sculpt_model *m = NULL;
    char err[512];
    sculpt_status st = sculpt_model_open(flat, 0, &m, err, sizeof err);
    CHECKF(st == SCULPT_OK, "%s: open %s: %s", label, flat, err);
    if (st != SCULPT_OK) return 0;
    if (!stem) { /* no manifest: just the checksum of a valid file */
        uint64_t sum = sculpt_model_checksum(m);
        sculpt_model_close(m);
        return sum;
    }
    cw_manifest man;
    if (cw_manifest_load(FIX, stem, &man)) { CHECKF(0, "%s: manifest %s", label, stem); sculpt_model_close(m); return 0; }
    CHECKF(sculpt_model_tensor_count(m) == man.n, "%s: %d tensors, expected %d", label, sculpt_model_tensor_count(m), man.n);
    int bad = 0;
    for (int i = 0; i < man.n; i++) {
        const cw_exp *e = &man.t[i];
        sculpt_tensor_info t;
        if (sculpt_model_find_tensor(m, e->name, &t)) { CHECKF(0, "%s: no tensor %s", label, e->name); bad++; continue; }
        const char *dn = t.dtype == SCULPT_DT_F32 ? "f32" : t.dtype == SCULPT_DT_F16 ? "f16" : "bf16";
        int same = !strcmp(dn, e->dtype) && t.ndim == e->ndim && t.nbytes == e->nbytes;
        for (int d = 0; same && d < e->ndim; d++) same = t.shape[d] == e->shape[d];
        if (same) same = memcmp(t.data, man.raw + e->off, e->nbytes) == 0;
        if (!same && bad++ < 3) CHECKF(0, "%s: tensor %s differs from PyTorch's (%s)", label, e->name, stem);
    }
    CHECKF(bad == 0, "%s: %d tensors differ", label, bad);
    uint64_t sum = sculpt_model_checksum(m);
    cw_manifest_free(&man);
    sculpt_model_close(m);
    return sum;
}

/* The file's schedule equals torch's tables in schedules/<name>.raw. */
static void check_schedule(const char *label, const char *flat, const char *name) {
    sculpt_model *m = NULL;
    char err[512], p[64];
    if (sculpt_model_open(flat, 0, &m, err, sizeof err) != SCULPT_OK) { CHECKF(0, "%s: %s", label, err); return; }
    snprintf(p, sizeof p, "schedules/%s.raw", name);
    size_t len = 0;
    unsigned char *raw = test_read_file(fx(p), &len);
    const sculpt_schedule *s = sculpt_model_schedule(m);
    size_t T = (size_t)s->num_train_timesteps;
    CHECKF(raw && len == 8 * T, "%s: schedule %s has %zu bytes for T = %zu", label, name, len, T);
    if (raw && len == 8 * T) {
        CHECKF(!memcmp(s->betas, raw, 4 * T), "%s: betas differ from torch's (%s)", label, name);
        CHECKF(!memcmp(s->alphas_cumprod, raw + 4 * T, 4 * T), "%s: alphas_cumprod differ from torch's (%s)", label, name);
    }
    free(raw);
    sculpt_model_close(m);
}

/* Temporary files of a conversion to `out` ("out.tmp", "out.tmp.XXXXXX") still on disk. */
static int tmp_left(const char *out) {
    const char *slash = strrchr(out, '/');
    char dir[512], pre[300];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) : 1, slash ? out : ".");
    snprintf(pre, sizeof pre, "%s.tmp", slash ? slash + 1 : out);
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));) n += !strncmp(e->d_name, pre, strlen(pre));
    closedir(d);
    return n;
}

static uint64_t good(const char *label, const char *stem, const char *out) {
    uint64_t sum = 0;
    CHECKF(cw_exists(out), "%s: no output", label);
    if (cw_exists(out)) sum = check_tensors(label, out, stem);
    CHECKF(!tmp_left(out), "%s: a temporary %s.tmp* left behind", label, out);
    return sum;
}

#define GOOD(label, stem, ...)                                                   \
    do {                                                                         \
        unlink(OUTP);                                                            \
        int rc_ = run(__VA_ARGS__, "-o", OUTP, NULL);                            \
        CHECKF(rc_ == 0, "%s: exit %d", label, rc_);                             \
        if (rc_) show_stderr();                                                  \
        last_sum = rc_ == 0 ? good(label, stem, OUTP) : 0;                       \
    } while (0)

/* A refusal: non-zero exit (not a signal), exactly one stderr line naming `needle`, and
 * neither OUT nor OUT.tmp on disk. */
static void refused(const char *label, const char *needle, int rc) {
    CHECKF(rc != 0 && rc < 128, "%s: exit %d, expected a clean refusal", label, rc);
    CHECKF(cw_count_lines(ERRP) == 1, "%s: stderr has %d lines, expected 1", label, cw_count_lines(ERRP));
    CHECKF(cw_file_contains(ERRP, "convert-weights: "), "%s: stderr lacks the program name", label);
    CHECKF(cw_file_contains(ERRP, needle), "%s: stderr does not mention '%s'", label, needle);
    if (rc == 0 || !cw_file_contains(ERRP, needle)) show_stderr();
    CHECKF(!cw_exists(OUTP) && !tmp_left(OUTP), "%s: output file left behind", label);
}

#define REFUSE(label, needle, ...)                  \
    do {                                            \
        unlink(OUTP);                               \
        int rc_ = run(__VA_ARGS__, NULL);           \
        refused(label, needle, rc_);                \
    } while (0)

static sculpt_config config_of(const char *flat) {
    sculpt_config c;
    memset(&c, 0, sizeof c);
    sculpt_model *m = NULL;
    char err[512];
    if (sculpt_model_open(flat, 0, &m, err, sizeof err) == SCULPT_OK) {
        c = *sculpt_model_config(m);
        sculpt_model_close(m);
    }
    return c;
}

static const char *meta_of(const char *flat, const char *key, char *buf, size_t len) {
    sculpt_model *m = NULL;
    char err[512];
    buf[0] = 0;
    if (sculpt_model_open(flat, 0, &m, err, sizeof err) == SCULPT_OK) {
        const char *v = sculpt_model_metadata(m, key);
        snprintf(buf, len, "%s", v ? v : "");
        sculpt_model_close(m);
    }
    return buf;
}

/* Every format and layout of the main network, dtypes, training checkpoints. */
static void formats(void) {
    const char *cfg = fx("config.json");
    uint64_t last_sum = 0, ref_sum;
    char mb[256];

    /* ---- the same weights through every format and layout: PyTorch's bytes, one checksum ---- */
    GOOD("diffusers folder (safetensors, scheduler/)", "expected_f32", fx("ddpm_folder"));
    ref_sum = last_sum;
    CHECK(ref_sum != 0);
    check_schedule("diffusers folder", OUTP, "scaled_linear");
    sculpt_config ref_cfg = config_of(OUTP);
    CHECK(ref_cfg.n_levels == 2 && ref_cfg.block_out_channels[0] == 8 && ref_cfg.block_out_channels[1] == 16 &&
          ref_cfg.layers_per_block == 1 && ref_cfg.norm_num_groups == 8 && ref_cfg.sample_size == 16 &&
          ref_cfg.down_attn[1] && !ref_cfg.down_attn[0] && ref_cfg.up_attn[0] && !ref_cfg.up_attn[1] &&
          ref_cfg.mid_attention && ref_cfg.freq_shift == 1.0f && !ref_cfg.flip_sin_to_cos &&
          ref_cfg.norm_eps == 1e-6f && ref_cfg.time_embed_dim == 32 && ref_cfg.downsample_padding == 0);
    CHECK(!strcmp(meta_of(OUTP, "layout", mb, sizeof mb), "diffusers"));
    CHECK(!strcmp(meta_of(OUTP, "source", mb, sizeof mb), "ddpm_folder"));
    CHECK(!strcmp(meta_of(OUTP, "sculpt_version", mb, sizeof mb), SCULPT_VERSION_STRING));

    GOOD("diffusers folder (.bin, old attention names)", "expected_f32", fx("ddpm_folder_bin"));
    CHECK(last_sum == ref_sum);
    check_schedule("diffusers folder .bin", OUTP, "linear_default");

    GOOD("folder's safetensors file + --config", "expected_f32", fx("ddpm_folder/unet/diffusion_pytorch_model.safetensors"),
         "--config", cfg, "--scheduler-config", fx("scheduler_config.json"));
    CHECK(last_sum == ref_sum);

    GOOD("torch zip, non-contiguous + storage offsets", "expected_f32", fx("unet_zip.bin"), "--config", cfg);
    CHECK(last_sum == ref_sum);
    check_schedule("default schedule", OUTP, "linear_default");
    CHECK(cw_file_contains(STDP, "note: no scheduler_config.json"));

    GOOD("legacy torch.save, old attention names", "expected_f32", fx("unet_legacy_old_names.bin"), "--config", cfg);
    CHECK(last_sum == ref_sum);

    GOOD("pytorch_diffusion, inferred config", "expected_f32", fx("pd_model.ckpt"), "--norm-groups", "8",
         "--sample-size", "16");
    CHECK(last_sum == ref_sum);
    sculpt_config c = config_of(OUTP);
    CHECK(!memcmp(&c, &ref_cfg, sizeof c));
    CHECK(!strcmp(meta_of(OUTP, "layout", mb, sizeof mb), "pytorch_diffusion"));
    CHECK(cw_file_contains(STDP, "note: norm_eps"));

    GOOD("pytorch_diffusion, --config, --layout", "expected_f32", fx("pd_model.ckpt"), "--config", cfg, "--layout",
         "pytorch_diffusion");
    CHECK(last_sum == ref_sum);

    /* ---- dtypes: torch's own conversions ---- */
    GOOD("f32 -> f16", "expected_f16", fx("ddpm_folder"), "--dtype", "f16");
    uint64_t sum16 = last_sum;
    GOOD("f32 -> bf16", "expected_bf16", fx("ddpm_folder"), "--dtype", "bf16");
    uint64_t sumbf = last_sum;
    GOOD("f16 -> f16", "expected_f16", fx("unet_f16.safetensors"), "--config", cfg, "--dtype", "f16");
    CHECK(last_sum == sum16);
    GOOD("f16 -> f32", "expected_f16_f32", fx("unet_f16.safetensors"), "--config", cfg);
    GOOD("f16 -> bf16", "expected_f16_bf16", fx("unet_f16.safetensors"), "--config", cfg, "--dtype", "bf16");
    GOOD("bf16 -> bf16", "expected_bf16", fx("unet_bf16.pt"), "--config", cfg, "--dtype", "bf16");
    CHECK(last_sum == sumbf);
    GOOD("bf16 -> f16", "expected_bf16_f16", fx("unet_bf16.pt"), "--config", cfg, "--dtype", "f16");

    /* ---- full training checkpoints (of the tiny network): EMA preferred, --weights-key ---- */
    const char *tcfg = fx("bad/tiny_config.json");
    GOOD("training checkpoint: EMA chosen", "expected_tiny_f32", fx("train_ckpt.pt"), "--config", tcfg,
         "--scheduler-config", fx("scheduler_config.json"));
    uint64_t tiny_sum = last_sum;
    CHECK(tiny_sum != 0);
    CHECK(!strcmp(meta_of(OUTP, "weight_set", mb, sizeof mb), "ema"));
    CHECK(cw_file_contains(STDP, "weights: 'ema'"));
    unlink(OUTP);
    int rc = run(fx("train_ckpt.pt"), "--config", tcfg, "--weights-key", "model", "-o", OUTP, NULL);
    CHECKF(rc == 0, "--weights-key model: exit %d", rc);
    CHECK(!strcmp(meta_of(OUTP, "weight_set", mb, sizeof mb), "model/module"));
    {
        sculpt_model *m = NULL;
        char err[256];
        CHECK(sculpt_model_open(OUTP, 0, &m, err, sizeof err) == SCULPT_OK);
        CHECK(m && sculpt_model_checksum(m) != tiny_sum); /* the raw weights, not the EMA */
        sculpt_model_close(m);
    }
    GOOD("training checkpoint: --weights-key ema", "expected_tiny_f32", fx("train_ckpt.pt"), "--config", tcfg,
         "--weights-key", "ema");
    GOOD("ema_pytorch layout: ema_model chosen", "expected_tiny_f16", fx("train_ema_pytorch.pt"), "--config", tcfg,
         "--dtype", "f16");
    CHECK(!strcmp(meta_of(OUTP, "weight_set", mb, sizeof mb), "ema_model"));
    REFUSE("--weights-key names no set", "train_ckpt.pt", fx("train_ckpt.pt"), "--config", tcfg, "--weights-key",
           "optimizer", "-o", OUTP);
    CHECK(cw_file_contains(ERRP, "'ema'"));
    /* a whole pickled nn.Module (torch.save(model)) gives the same data as its state dict */
    GOOD("pickled nn.Module", "expected_tiny_f32", fx("tiny_module.pt"), "--config", tcfg);
    CHECK(last_sum == tiny_sum);
    CHECK(!strcmp(meta_of(OUTP, "weight_set", mb, sizeof mb), "ema"));

    /* ---- a different network: pytorch_diffusion without resampling convs, inferred ---- */
    GOOD("pytorch_diffusion avgpool f16", "expected_pd_avgpool_f16", fx("pd_avgpool_f16.pt"), "--norm-groups", "8",
         "--sample-size", "16", "--dtype", "f16");
    c = config_of(OUTP);
    CHECK(c.in_channels == 1 && c.out_channels == 2 && c.layers_per_block == 2 && c.n_levels == 2 &&
          c.downsample_type == SCULPT_DOWNSAMPLE_AVGPOOL && c.down_attn[0] && c.up_attn[1] && !c.down_attn[1]);
}

/* Config variants, schedules, refusals, --info. */
static void others(void) {
    const char *cfg = fx("config.json");
    char mb[256];
    sculpt_config c;
    int rc;

    /* ---- config variants and every schedule through the CLI ---- */
    const char *tiny = fx("bad/tiny_ok.safetensors"), *tcfg = fx("bad/tiny_config.json");
    unlink(OUTP);
    rc = run(tiny, "--config", fx("configs/ok_variants.json"), "--meta", "note=hello world", "--meta",
             "source=mine", "-o", OUTP, NULL);
    CHECKF(rc == 0, "ok_variants: exit %d", rc);
    c = config_of(OUTP);
    CHECK(c.center_input_sample == 1 && c.flip_sin_to_cos == 1 && c.freq_shift == 0.0f && c.attention_head_dim == 4 &&
          c.norm_num_groups == 4 && c.sample_size == 8 && !c.mid_attention);
    CHECK(!strcmp(meta_of(OUTP, "note", mb, sizeof mb), "hello world"));
    CHECK(!strcmp(meta_of(OUTP, "source", mb, sizeof mb), "mine"));
    static const char *const sched[] = {"linear_default", "linear_odd", "linear_4000", "scaled_linear",
                                        "squaredcos", "squaredcos_250", "trained"};
    for (size_t i = 0; i < sizeof sched / sizeof sched[0]; i++) {
        char j[128];
        snprintf(j, sizeof j, "schedules/%s.json", sched[i]);
        unlink(OUTP);
        rc = run(tiny, "--config", tcfg, "--scheduler-config", fx(j), "-o", OUTP, NULL);
        CHECKF(rc == 0, "schedule %s: exit %d", sched[i], rc);
        if (!rc) check_schedule(sched[i], OUTP, sched[i]);
    }

    /* ---- refusals ---- */
    REFUSE("missing tensor", "missing_tensor.safetensors", fx("bad/missing_tensor.safetensors"), "--config", tcfg, "-o", OUTP);
    CHECK(cw_file_contains(ERRP, "1 missing (mid_block.resnets.1.conv2.weight)"));
    REFUSE("mis-shaped tensor", "misshaped_tensor.safetensors", fx("bad/misshaped_tensor.safetensors"), "--config", tcfg,
           "-o", OUTP);
    CHECK(cw_file_contains(ERRP, "mis-shaped (conv_out.weight [3,8,3,2] (expected [3,8,3,3]))"));
    REFUSE("unexpected tensor", "unexpected_tensor.safetensors", fx("bad/unexpected_tensor.safetensors"), "--config",
           tcfg, "-o", OUTP);
    CHECK(cw_file_contains(ERRP, "unexpected (down_blocks.0.resnets.0.mystery.weight)"));
    REFUSE("unknown layout", "unknown_layout.safetensors", fx("bad/unknown_layout.safetensors"), "-o", OUTP);
    REFUSE("integer tensor", "int_tensor.safetensors", fx("bad/int_tensor.safetensors"), "--config", tcfg, "-o", OUTP);
    REFUSE("wrong layout forced", "pd_model.ckpt", fx("pd_model.ckpt"), "--layout", "diffusers", "--config", cfg, "-o",
           OUTP);
    REFUSE("config that does not fit", "config.json", fx("bad/tiny_ok.safetensors"), "--config", cfg, "-o", OUTP);
    REFUSE("groups that cannot be inferred", "pd_model.ckpt", fx("pd_model.ckpt"), "-o", OUTP);
    static const char *const badcfg[][2] = {
        {"time_embedding_fourier", "time_embedding_type"}, {"scale_shift", "resnet_time_scale_shift"},
        {"class_embed", "class_embed_type"}, {"num_class_embeds", "num_class_embeds"}, {"act_gelu", "act_fn"},
        {"downsample_resnet", "downsample_type"}, {"upsample_resnet", "upsample_type"},
        {"skip_block", "SkipDownBlock2D"}, {"mid_scale", "mid_block_scale_factor"},
        {"unknown_key", "some_future_switch"}, {"wrong_channels", "mis-shaped"}, {"syntax", "bad_syntax.json"}};
    for (size_t i = 0; i < sizeof badcfg / sizeof badcfg[0]; i++) {
        char j[128], label[160];
        snprintf(j, sizeof j, "configs/bad_%s.json", badcfg[i][0]);
        snprintf(label, sizeof label, "bad config %s", badcfg[i][0]);
        REFUSE(label, badcfg[i][1], tiny, "--config", fx(j), "-o", OUTP);
    }
    REFUSE("attn_norm_num_groups", "attn_norm_num_groups", fx("ddpm_folder"), "--config", fx("configs/bad_attn_groups.json"),
           "-o", OUTP);
    REFUSE("missing input", "no_such_file.pt", fx("no_such_file.pt"), "-o", OUTP);
    REFUSE("missing config", "nope.json", tiny, "--config", fx("nope.json"), "-o", OUTP);
    REFUSE("no -o", "-o", tiny);
    REFUSE("bad dtype", "--dtype", tiny, "--dtype", "f64", "-o", OUTP);
    REFUSE("bad layout", "--layout", tiny, "--layout", "ldm", "-o", OUTP);
    REFUSE("unknown option", "--frobnicate", tiny, "--frobnicate", "-o", OUTP);
    REFUSE("meta without =", "--meta", tiny, "--config", tcfg, "--meta", "novalue", "-o", OUTP);
    REFUSE("meta bad key", "a b", tiny, "--config", tcfg, "--meta", "a b=c", "-o", OUTP);
    REFUSE("meta control character", "--meta", tiny, "--config", tcfg, "--meta", "k=a\001b", "-o", OUTP);
    {
        /* a file name the metadata cannot hold verbatim still converts */
        size_t len = 0;
        unsigned char *b = test_read_file(tiny, &len);
        const char *odd = tp("odd\377name.safetensors");
        FILE *f = fopen(odd, "wb");
        if (b && f) fwrite(b, 1, len, f);
        if (f) fclose(f);
        free(b);
        unlink(OUTP);
        rc = run(odd, "--config", tcfg, "--meta", "tabbed=a\tb", "-o", OUTP, NULL);
        CHECKF(rc == 0, "odd file name: exit %d", rc);
        CHECK(!strcmp(meta_of(OUTP, "source", mb, sizeof mb), "odd?name.safetensors"));
        CHECK(!strcmp(meta_of(OUTP, "tabbed", mb, sizeof mb), "a\tb"));
        unlink(odd);
        unlink(OUTP);
    }
    REFUSE("bad sample size", "--sample-size", tiny, "--sample-size", "0", "-o", OUTP);
    REFUSE("sample size not divisible", "sample_size", fx("ddpm_folder"), "--sample-size", "15", "-o", OUTP);
    REFUSE("option without value", "--config", tiny, "-o", OUTP, "--config");
    {
        /* a truncated checkpoint */
        size_t len = 0;
        unsigned char *b = test_read_file(fx("ddpm_folder/unet/diffusion_pytorch_model.safetensors"), &len);
        const char *cut = tp("cut.safetensors");
        FILE *f = fopen(cut, "wb");
        if (b && f) fwrite(b, 1, len / 2, f);
        if (f) fclose(f);
        free(b);
        REFUSE("truncated safetensors", "cut.safetensors", cut, "--config", cfg, "-o", OUTP);
        unlink(cut);
    }
    {
        /* an existing output survives a refused conversion untouched */
        FILE *f = fopen(OUTP, "wb");
        fputs("keep", f);
        fclose(f);
        rc = run(fx("bad/missing_tensor.safetensors"), "--config", tcfg, "-o", OUTP, NULL);
        CHECK(rc != 0 && cw_file_contains(OUTP, "keep"));
        unlink(OUTP);
    }

    /* ---- -o naming an input, a folder or an unusable place (review regressions) ---- */
    {
        size_t len = 0, len2 = 0;
        unsigned char *b = test_read_file(tiny, &len), *b2;
        const char *copy = tp("in.safetensors"), *cfgcopy = tp("in_config.json");
        FILE *f = fopen(copy, "wb");
        if (b && f) fwrite(b, 1, len, f);
        if (f) fclose(f);
        unsigned char *cb = test_read_file(tcfg, &len2);
        f = fopen(cfgcopy, "wb");
        if (cb && f) fwrite(cb, 1, len2, f);
        if (f) fclose(f);
        /* -o INPUT used to replace the checkpoint with the flat file */
        rc = run(copy, "--config", tcfg, "-o", copy, NULL);
        CHECKF(rc == 1 && cw_count_lines(ERRP) == 1 && cw_file_contains(ERRP, "is the input checkpoint"),
               "-o INPUT: exit %d", rc);
        size_t l3 = 0;
        b2 = test_read_file(copy, &l3);
        CHECK(b && b2 && l3 == len && !memcmp(b, b2, len));
        free(b2);
        CHECK(!tmp_left(copy));
        rc = run(copy, "--config", cfgcopy, "-o", cfgcopy, NULL);
        CHECKF(rc == 1 && cw_file_contains(ERRP, "is the config"), "-o CONFIG: exit %d", rc);
        CHECK(cw_file_contains(cfgcopy, "UNet2DModel"));
        /* INPUT named OUT.tmp: the old fixed temporary name truncated the mapped input
         * (SIGBUS, input destroyed) */
        char otmp[600];
        snprintf(otmp, sizeof otmp, "%s.tmp", OUTP);
        unlink(OUTP);
        rename(copy, otmp);
        rc = run(otmp, "--config", tcfg, "-o", OUTP, NULL);
        CHECKF(rc == 0, "input at OUT.tmp: exit %d", rc);
        b2 = test_read_file(otmp, &l3);
        CHECK(b && b2 && l3 == len && !memcmp(b, b2, len));
        free(b2);
        CHECK(check_tensors("input at OUT.tmp", OUTP, NULL) != 0);
        /* an unrelated OUT.tmp is neither overwritten nor removed */
        FILE *k = fopen(otmp, "wb");
        if (k) { fputs("keep", k); fclose(k); }
        unlink(OUTP);
        rc = run(tiny, "--config", tcfg, "-o", OUTP, NULL);
        CHECKF(rc == 0 && cw_file_contains(otmp, "keep"), "existing OUT.tmp: exit %d", rc);
        unlink(otmp);
        CHECK(!tmp_left(OUTP));
        unlink(OUTP);
        unlink(cfgcopy);
        free(b);
        free(cb);
    }
    {
        /* a FIFO is refused, never opened (--info and --config used to block on it forever) */
        const char *fifo = tp("fifo");
        CHECK(mkfifo(fifo, 0600) == 0);
        REFUSE("FIFO as INPUT", "not a regular file", fifo, "-o", OUTP);
        REFUSE("FIFO as --config", "not a regular file", tiny, "--config", fifo, "-o", OUTP);
        REFUSE("FIFO as --scheduler-config", "not a regular file", tiny, "--config", tcfg, "--scheduler-config", fifo,
               "-o", OUTP);
        REFUSE("FIFO as -o", "not a regular file", tiny, "--config", tcfg, "-o", fifo);
        rc = run("--info", fifo, NULL);
        CHECKF(rc == 1 && cw_file_contains(ERRP, "not a regular file"), "--info FIFO: exit %d", rc);
        unlink(fifo);
    }
    REFUSE("-o a folder", "names a folder", tiny, "--config", tcfg, "-o", TMP);
    REFUSE("-o ending in /", "names a folder", tiny, "--config", tcfg, "-o", tp("sub/"));
    REFUSE("-o in a missing folder", "cannot create", tiny, "--config", tcfg, "-o", tp("no_such_dir/out.bin"));
    REFUSE("-o under a file", "cannot create", tiny, "--config", tcfg, "-o", tp("stderr.txt/out.bin"));

    /* ---- --info on a flat file and on checkpoints ---- */
    unlink(OUTP);
    rc = run(fx("ddpm_folder"), "-o", OUTP, NULL);
    CHECK(rc == 0);
    rc = run("--info", OUTP, NULL);
    CHECKF(rc == 0, "--info flat: exit %d", rc);
    CHECK(cw_file_contains(STDP, "sculpt flat weight file") && cw_file_contains(STDP, "45259 parameters") &&
          cw_file_contains(STDP, "scaled_linear"));
    rc = run("--info", fx("train_ckpt.pt"), "--config", tcfg, NULL);
    CHECKF(rc == 0, "--info checkpoint: exit %d", rc);
    CHECK(cw_file_contains(STDP, "weights: 'ema'") && cw_file_contains(STDP, "weight set 'model/module'") &&
          cw_file_contains(STDP, "diffusers layout") && cw_file_contains(STDP, "parameters: 10579"));
    rc = run("--info", fx("pd_model.ckpt"), "--norm-groups", "8", NULL);
    CHECKF(rc == 0, "--info pd: exit %d", rc);
    CHECK(cw_file_contains(STDP, "pytorch_diffusion layout"));
    rc = run("--info", fx("bad/unknown_layout.safetensors"), NULL);
    CHECK(rc == 1 && cw_count_lines(ERRP) == 1 && cw_file_contains(STDP, "safetensors checkpoint, 2 tensors"));
    rc = run("--help", NULL);
    CHECK(rc == 0 && cw_file_contains(STDP, "usage:"));
    {
        /* --info and --help whose output is lost fail (review regression: exit 0 before) */
        char *argv_info[] = {(char *)CW, "--info", OUTP, NULL}, *argv_help[] = {(char *)CW, "--help", NULL};
        if (cw_exists("/dev/full")) {
            rc = cw_run(argv_info, "/dev/full", ERRP);
            CHECKF(rc == 1 && cw_file_contains(ERRP, "standard output"), "--info > /dev/full: exit %d", rc);
            rc = cw_run(argv_help, "/dev/full", ERRP);
            CHECKF(rc == 1 && cw_file_contains(ERRP, "standard output"), "--help > /dev/full: exit %d", rc);
        }
    }

}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[3], "formats") && strcmp(argv[3], "others"))) {
        fprintf(stderr, "usage: test_cli CONVERT_WEIGHTS FIXTURE_DIR formats|others\n");
        return 2;
    }
    CW = argv[1];
    FIX = argv[2];
    const char *td = getenv("TMPDIR");
    snprintf(TMP, sizeof TMP, "%s/cwtest.XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(TMP)) { perror("mkdtemp"); return 2; }
    snprintf(OUTP, sizeof OUTP, "%s/out.bin", TMP);
    snprintf(ERRP, sizeof ERRP, "%s/stderr.txt", TMP);
    snprintf(STDP, sizeof STDP, "%s/stdout.txt", TMP);
    if (!strcmp(argv[3], "formats")) formats();
    else others();
    unlink(OUTP);
    unlink(ERRP);
    unlink(STDP);
    rmdir(TMP);
    for (int i = 0; i < npool; i++) free(pool[i]);
    TEST_DONE();
}
