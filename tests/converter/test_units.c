/* test_units.c — convert-weights' arithmetic against PyTorch: f32/f64 -> f16/bf16/f32
 * element conversion (dtype_cases.raw: torch's .half()/.bfloat16()/.float()) and every
 * schedule's betas/alphas_cumprod (schedules/NAME.raw: torch.linspace, cumprod, diffusers'
 * betas_for_alpha_bar), bit for bit. usage: test_units FIXTURE_DIR */
#include "cw.h"
#include "sampler/sampler.h"
#include "test.h"

static const char *FIX;

static void *fixture(const char *name, size_t *len) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", FIX, name);
    void *b = test_read_file(p, len);
    if (!b) fprintf(stderr, "cannot read %s\n", p);
    return b;
}

static void test_dtypes(void) {
    size_t len = 0;
    unsigned char *b = fixture("dtype_cases.raw", &len);
    CHECK(b != NULL);
    if (!b) return;
    uint32_t n;
    memcpy(&n, b, 4);
    /* f32[n], f16[n], bf16[n], f64[n], f32(f64)[n], f16(f64)[n], bf16(f64)[n] */
    size_t need = 4 + (size_t)n * (4 + 2 + 2 + 8 + 4 + 2 + 2);
    CHECKF(len == need, "dtype_cases.raw: %zu bytes, expected %zu", len, need);
    if (len != need) { free(b); return; }
    const unsigned char *f32 = b + 4, *f16 = f32 + 4 * n, *bf = f16 + 2 * n, *f64 = bf + 2 * n;
    const unsigned char *f64_32 = f64 + 8 * n, *f64_16 = f64_32 + 4 * n, *f64_bf = f64_16 + 2 * n;
    unsigned char *out = malloc((size_t)n * 4);
    int bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        float v;
        uint16_t h, e;
        memcpy(&v, f32 + 4 * i, 4);
        h = cw_f32_to_f16(v);
        memcpy(&e, f16 + 2 * i, 2);
        if (h != e && bad++ < 5) CHECKF(0, "f16(%a) = 0x%04x, torch 0x%04x", (double)v, h, e);
        h = cw_f32_to_bf16(v);
        memcpy(&e, bf + 2 * i, 2);
        if (h != e && bad++ < 5) CHECKF(0, "bf16(%a) = 0x%04x, torch 0x%04x", (double)v, h, e);
        /* widening back is exact (NaN stays NaN) */
        float w = cw_f16_to_f32(cw_f32_to_f16(v));
        if (v == v && cw_f32_to_f16(w) != cw_f32_to_f16(v) && bad++ < 5) CHECKF(0, "f16 round trip of %a", (double)v);
    }
    /* the bulk converter, from f32 and from f64 */
    cw_convert(f32, CK_F32, n, SCULPT_DT_F16, out);
    CHECK(!memcmp(out, f16, 2 * (size_t)n));
    cw_convert(f32, CK_F32, n, SCULPT_DT_BF16, out);
    CHECK(!memcmp(out, bf, 2 * (size_t)n));
    cw_convert(f64, CK_F64, n, SCULPT_DT_F32, out);
    CHECKF(!memcmp(out, f64_32, 4 * (size_t)n), "f64 -> f32 differs from torch");
    cw_convert(f64, CK_F64, n, SCULPT_DT_F16, out);
    CHECKF(!memcmp(out, f64_16, 2 * (size_t)n), "f64 -> f16 differs from torch (double rounding through f32)");
    cw_convert(f64, CK_F64, n, SCULPT_DT_BF16, out);
    CHECKF(!memcmp(out, f64_bf, 2 * (size_t)n), "f64 -> bf16 differs from torch");
    /* f16 -> f32 -> f16 and bf16 -> f32 are exact widenings */
    cw_convert(f16, CK_F16, n, SCULPT_DT_F32, out);
    unsigned char *back = malloc((size_t)n * 2);
    cw_convert(out, CK_F32, n, SCULPT_DT_F16, back);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t a, c;
        memcpy(&a, f16 + 2 * i, 2);
        memcpy(&c, back + 2 * i, 2);
        if ((a & 0x7c00) != 0x7c00 || !(a & 0x3ff)) CHECKF(a == c, "f16 0x%04x -> f32 -> f16 0x%04x", a, c);
    }
    CHECK(bad == 0);
    free(back);
    free(out);
    free(b);
}

static void test_schedules(void) {
    static const char *const names[] = {"linear_default", "linear_odd", "linear_4000", "scaled_linear",
                                        "squaredcos", "squaredcos_250", "trained"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[256], err[CW_ERR];
        snprintf(p, sizeof p, "%s/schedules/%s.json", FIX, names[i]);
        json_value *j = cw_json_load(p, err);
        CHECKF(j != NULL, "%s", err);
        if (!j) continue;
        cw_schedule s;
        int r = cw_schedule_from_json(&s, j, p, err);
        CHECKF(r == 0, "%s", err);
        json_free(j);
        if (r) continue;
        snprintf(p, sizeof p, "schedules/%s.raw", names[i]);
        size_t len = 0;
        unsigned char *raw = fixture(p, &len);
        size_t T = (size_t)s.s.num_train_timesteps;
        CHECKF(raw && len == 8 * T, "%s: T = %zu, fixture %zu bytes", names[i], T, len);
        if (raw && len == 8 * T) {
            size_t nb = 0, na = 0;
            for (size_t k = 0; k < T; k++) {
                nb += memcmp(&s.betas[k], raw + 4 * k, 4) != 0;
                na += memcmp(&s.alphas_cumprod[k], raw + 4 * (T + k), 4) != 0;
            }
            CHECKF(nb == 0, "%s: %zu of %zu betas differ from torch's", names[i], nb, T);
            CHECKF(na == 0, "%s: %zu of %zu alphas_cumprod differ from torch's", names[i], na, T);
        }
        free(raw);
        cw_schedule_free(&s);
    }
    /* the defaults equal linear_default's tables and carry DDPM's settings */
    cw_schedule d;
    char err[CW_ERR];
    CHECK(cw_schedule_default(&d, err) == 0);
    size_t len = 0;
    unsigned char *raw = fixture("schedules/linear_default.raw", &len);
    CHECK(raw && len == 8000 && !memcmp(d.betas, raw, 4000) && !memcmp(d.alphas_cumprod, raw + 4000, 4000));
    CHECK(d.s.variance_type == SCULPT_VAR_FIXED_LARGE && d.s.clip_sample == 1 && d.s.clip_sample_range == 1.0f &&
          d.s.prediction_type == SCULPT_PRED_EPSILON);
    free(raw);
    cw_schedule_free(&d);

    /* refusals of scheduler keys */
    static const char *const bad[] = {
        "{\"beta_schedule\": \"sigmoid\"}", "{\"variance_type\": \"learned_range\"}",
        "{\"prediction_type\": \"x0\"}", "{\"thresholding\": true}", "{\"num_train_timesteps\": 0}",
        "{\"num_train_timesteps\": 10.5}", "{\"trained_betas\": [0.1, 1.5]}", "{\"beta_end\": \"0.02\"}",
        "{\"beta_start\": 0}", "{\"num_train_timesteps\": 100000, \"beta_start\": 0.5, \"beta_end\": 0.9}",
        "[1, 2]", "{\"trained_betas\": [0.1, 0.2], \"num_train_timesteps\": 3}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char jerr[256];
        json_value *j = json_parse(bad[i], strlen(bad[i]), 64, jerr, sizeof jerr);
        CHECK(j != NULL);
        cw_schedule s;
        memset(&s, 0, sizeof s);
        CHECKF(j && cw_schedule_from_json(&s, j, "sched.json", err) != 0, "accepted %s", bad[i]);
        CHECKF(!strncmp(err, "sched.json: ", 12), "message '%s' does not name the file", err);
        cw_schedule_free(&s);
        json_free(j);
    }
}

/* Review regressions: scheduler keys kept as metadata never fail the conversion (a C1
 * control or a newline used to make cw_meta_set refuse the whole file, or vanish); a
 * trained_betas list sets T when num_train_timesteps is absent and is cut to a smaller one
 * (a larger one is refused in test_schedules: it used to be taken silently). */
static void test_schedule_extras(void) {
    static const char js[] = "{\"_class_name\": \"DDIM\\u0085x\", \"timestep_spacing\": \"a\\nb\", "
                             "\"trained_betas\": [0.1, 0.2, 0.3]}";
    char jerr[256], err[CW_ERR];
    json_value *j = json_parse(js, strlen(js), 64, jerr, sizeof jerr);
    CHECKF(j != NULL, "%s", jerr);
    cw_schedule s;
    memset(&s, 0, sizeof s);
    CHECKF(j && cw_schedule_from_json(&s, j, "sched.json", err) == 0, "%s", err);
    CHECK(s.s.num_train_timesteps == 3 && s.s.beta_schedule == SCULPT_BETA_TRAINED);
    {
        /* a list longer than num_train_timesteps is cut to it, as DDPMScheduler indexes it */
        static const char cut[] = "{\"trained_betas\": [0.25, 0.5, 0.75], \"num_train_timesteps\": 2}";
        json_value *jc = json_parse(cut, strlen(cut), 64, jerr, sizeof jerr);
        cw_schedule c;
        memset(&c, 0, sizeof c);
        CHECKF(jc && cw_schedule_from_json(&c, jc, "sched.json", err) == 0, "%s", err);
        CHECK(c.s.num_train_timesteps == 2 && c.betas[0] == 0.25f && c.betas[1] == 0.5f &&
              c.alphas_cumprod[1] == 0.375f);
        cw_schedule_free(&c);
        json_free(jc);
    }
    CHECKF(strstr(s.extra, "scheduler._class_name=DDIM??x\n") && strstr(s.extra, "scheduler.timestep_spacing=a?b\n"),
           "extras: %s", s.extra);
    /* every line is acceptable metadata */
    cw_meta m;
    memset(&m, 0, sizeof m);
    for (const char *p = s.extra; *p;) {
        const char *nl = strchr(p, '\n'), *eq = strchr(p, '=');
        if (!nl || !eq || eq > nl) { CHECK(0); break; }
        char k[128], v[512];
        snprintf(k, sizeof k, "%.*s", (int)(eq - p), p);
        snprintf(v, sizeof v, "%.*s", (int)(nl - eq - 1), eq + 1);
        CHECKF(cw_meta_set(&m, k, v, err) == 0, "%s", err);
        p = nl + 1;
    }
    cw_meta_free(&m);
    cw_schedule_free(&s);
    json_free(j);
}

/* torch.linspace over many ranges and lengths (linspace_cases.raw) */
static void test_linspace(void) {
    size_t len = 0;
    unsigned char *b = fixture("linspace_cases.raw", &len);
    CHECK(b && len >= 4);
    if (!b || len < 4) { free(b); return; }
    uint32_t cases;
    memcpy(&cases, b, 4);
    size_t off = 4;
    int bad = 0;
    float *out = malloc(4096 * sizeof *out);
    for (uint32_t c = 0; c < cases; c++) {
        double a, e;
        int32_t n;
        if (off + 20 > len) { CHECK(0); break; }
        memcpy(&a, b + off, 8);
        memcpy(&e, b + off + 8, 8);
        memcpy(&n, b + off + 16, 4);
        off += 20;
        if (n < 1 || n > 4096 || off + 4 * (size_t)n > len) { CHECK(0); break; }
        sampler_linspace_f32((float)a, (float)e, n, out); /* the one shared linspace */
        if (memcmp(out, b + off, 4 * (size_t)n) && bad++ < 5)
            CHECKF(0, "linspace(%.17g, %.17g, %d) differs from torch's", a, e, n);
        off += 4 * (size_t)n;
    }
    CHECK(off == len);
    CHECKF(bad == 0, "%d of %u linspace cases differ", bad, cases);
    free(out);
    free(b);
}

/* linspace edge lengths: n = 2, 1 */
static void test_linspace_edges(void) {
    float v[2];
    sampler_linspace_f32(0.25f, 0.75f, 2, v);
    CHECK(v[0] == 0.25f && v[1] == 0.75f);
    sampler_linspace_f32(0.5f, 0.9f, 1, v);
    CHECK(v[0] == 0.5f);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: test_units FIXTURE_DIR\n"); return 2; }
    FIX = argv[1];
    cw_set_note_stream(NULL);
    test_dtypes();
    test_schedules();
    test_schedule_extras();
    test_linspace();
    test_linspace_edges();
    TEST_DONE();
}
