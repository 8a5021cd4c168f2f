/* test_json.c — the strict JSON reader (converters/readers/json.c) on RFC 8259 cases:
 * values, escapes and surrogate pairs, integer ranges, and inputs it must refuse. */
#include "json.h"
#include "test.h"

static json_value *parse(const char *s, char *err) {
    return json_parse(s, strlen(s), 64, err, 256);
}

static void must_fail(const char *s, size_t len, const char *why) {
    char err[256] = "";
    json_value *v = json_parse(s, len, 64, err, sizeof err);
    CHECKF(v == NULL, "accepted %s", why);
    CHECKF(v != NULL || err[0] != 0, "no message for %s", why);
    json_free(v);
}

int main(void) {
    char err[256];
    json_value *v = parse("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\\u00e9\\ud83d\\ude00\\n\\/\",\"d\":-0.5e3,"
                          "\"e\":9223372036854775807,\"f\":-9223372036854775808,\"g\":9223372036854775808,"
                          "\"h\":{},\"i\":[],\"j\":1E2,\"k\":-0}",
                          err);
    CHECKF(v != NULL, "%s", err);
    if (v) {
        CHECK(v->type == JSON_OBJECT && v->len == 11);
        const json_value *a = json_get(v, "a");
        CHECK(a && a->type == JSON_NUMBER && a->is_integer && a->integer == 1 && a->number == 1.0);
        const json_value *b = json_get(v, "b");
        CHECK(b && b->type == JSON_ARRAY && b->len == 3 && b->items[0].type == JSON_BOOL && b->items[0].boolean &&
              b->items[1].type == JSON_BOOL && !b->items[1].boolean && b->items[2].type == JSON_NULL);
        const json_value *c = json_get(v, "c");
        CHECK(c && c->type == JSON_STRING && c->len == 9 &&
              memcmp(c->string, "x\xc3\xa9\xf0\x9f\x98\x80\n/", 9) == 0 && c->string[9] == 0);
        const json_value *d = json_get(v, "d");
        CHECK(d && !d->is_integer && d->number == -500.0);
        const json_value *e = json_get(v, "e"), *f = json_get(v, "f"), *g = json_get(v, "g");
        CHECK(e && e->is_integer && e->integer == INT64_MAX);
        CHECK(f && f->is_integer && f->integer == INT64_MIN);
        CHECK(g && !g->is_integer && g->number == 9223372036854775808.0);
        CHECK(json_get(v, "h")->type == JSON_OBJECT && json_get(v, "h")->len == 0);
        CHECK(json_get(v, "i")->type == JSON_ARRAY && json_get(v, "i")->len == 0);
        CHECK(!json_get(v, "j")->is_integer && json_get(v, "j")->number == 100.0);
        CHECK(json_get(v, "k")->is_integer && json_get(v, "k")->integer == 0);
        CHECK(json_get(v, "zz") == NULL);
        CHECK(json_get(b, "a") == NULL);
    }
    json_free(v);

    v = parse("  [1, 2.5, \"s\"]\r\n\t ", err);
    CHECKF(v && v->type == JSON_ARRAY && v->len == 3, "%s", err);
    json_free(v);
    v = parse("\"only\"", err);
    CHECK(v && v->type == JSON_STRING && strcmp(v->string, "only") == 0);
    json_free(v);

    /* depth: 64 nested arrays pass at max_depth 64, 65 do not */
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    v = json_parse(deep, 128, 64, err, sizeof err);
    CHECKF(v != NULL, "64 levels: %s", err);
    json_free(v);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    must_fail(deep, 130, "65 nested arrays");

    /* memory bound (review regression): 4 MB of "0," used to become ~128 MB of values (a
     * 100 MB safetensors header, 3 GB); ordinary documents stay well inside 16x + 1 MiB */
    {
        size_t n = (size_t)4 << 20;
        char *big = malloc(n + 2);
        if (big) {
            big[0] = '[';
            for (size_t i = 1; i < n; i += 2) big[i] = '0', big[i + 1] = ',';
            big[n - 1] = '0';
            big[n] = ']';
            err[0] = 0;
            v = json_parse(big, n + 1, 64, err, sizeof err);
            CHECKF(v == NULL && strstr(err, "tiny values"), "4 MB of zeros: %s", v ? "accepted" : err);
            json_free(v);
            /* the same count of realistic values (trained_betas-like) is fine */
            size_t k = 0;
            k += (size_t)sprintf(big + k, "[");
            for (int i = 0; i < 100000; i++) k += (size_t)sprintf(big + k, "%s0.0%05d", i ? ", " : "", i);
            k += (size_t)sprintf(big + k, "]");
            v = json_parse(big, k, 64, err, sizeof err);
            CHECKF(v && v->len == 100000, "100000 betas: %s", v ? "wrong length" : err);
            json_free(v);
            free(big);
        }
    }

    static const char *bad[] = {
        "", " ", "{", "}", "[", "{\"a\":1,}", "[1,]", "[,1]", "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10",
        "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\u12\"", "\"\\uZZZZ\"",
        "{\"a\":1,\"a\":2}", "{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", "[1] x", "[1][2]", "\"abc", "\"\t\"", "nul",
        "tru", "falsey", "NaN", "Infinity", "\"\\x\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xe2\x82\"", "{1:2}", "{\"a\" 1}", "[1 2]", "'s'", "\"\\", "/* c */ 1",
        "\xef\xbb\xbf{}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) must_fail(bad[i], strlen(bad[i]), bad[i]);
    must_fail("\"a\0b\"", 5, "raw NUL in a string");
    must_fail("[1]\0", 4, "NUL after the value");

    /* messages carry line and column */
    v = json_parse("{\n  \"a\": 1,\n  \"b\" 2\n}", 22, 64, err, sizeof err);
    CHECK(v == NULL);
    CHECKF(strstr(err, "line 3") != NULL, "message '%s' lacks the line", err);
    json_free(NULL);
    TEST_DONE();
}
