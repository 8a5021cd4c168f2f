/* test_pickle.c — the pickle VM (converters/readers/pickle.c) against pickles written by
 * CPython at protocols 0-5 and hand-assembled opcode streams; the expected value trees were
 * rendered by Python (tests/reference/make_readers.py), never by the code under test. */
#include "pickle.h"
#include "test.h"

static const char *dir;

static void check_one(const char *pkl, const char *txt) {
    char p[1024], err[256] = "";
    snprintf(p, sizeof p, "%s/pickle/%s", dir, txt);
    size_t tl = 0, pl = 0;
    char *want = test_read_file(p, &tl);
    snprintf(p, sizeof p, "%s/pickle/%s", dir, pkl);
    unsigned char *buf = test_read_file(p, &pl);
    CHECKF(want && buf, "cannot read %s or %s", pkl, txt);
    if (!want || !buf) {
        free(want);
        free(buf);
        return;
    }
    want[tl] = 0;
    while (tl && (want[tl - 1] == '\n' || want[tl - 1] == '\r')) want[--tl] = 0;
    pk_vm *vm = pk_new((size_t)64 << 20);
    pk_value *v = NULL;
    size_t used = 0;
    int rc = pk_load(vm, buf, pl, &used, &v, err, sizeof err);
    CHECKF(rc == 0, "%s: %s", pkl, err);
    if (rc == 0) {
        CHECKF(used == pl, "%s: consumed %zu of %zu bytes", pkl, used, pl);
        char *got = pk_dump(vm, v, (size_t)16 << 20, err, sizeof err);
        CHECKF(got != NULL, "%s: dump: %s", pkl, err);
        if (got && strcmp(got, want) != 0) {
            size_t i = 0;
            while (got[i] && got[i] == want[i]) i++;
            CHECKF(0, "%s: value differs at char %zu:\n  got  ...%.80s\n  want ...%.80s", pkl, i, got + i, want + i);
        }
        free(got);
    }
    pk_free(vm);
    free(want);
    free(buf);
}

/* The VM alone on small hostile streams: each must fail with a message. */
static void must_fail(const char *what, const unsigned char *b, size_t n) {
    char err[256] = "";
    pk_vm *vm = pk_new((size_t)1 << 20);
    pk_value *v = NULL;
    size_t used;
    int rc = pk_load(vm, b, n, &used, &v, err, sizeof err);
    if (rc == 0) {
        /* loaded: rendering must then refuse (depth, size) */
        char *s = pk_dump(vm, v, 1 << 16, err, sizeof err);
        CHECKF(s == NULL, "%s: accepted", what);
        free(s);
    }
    CHECKF(err[0] != 0, "%s: no message", what);
    pk_free(vm);
}

int main(int argc, char **argv) {
    dir = argc > 1 ? argv[1] : "tests/fixtures/readers";
    static const char *cases[] = {"scalars", "strings", "bytes", "containers", "objects", "memo"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int proto = 0; proto <= 5; proto++) {
            char pkl[128], txt[128];
            snprintf(pkl, sizeof pkl, "%s_p%d.pkl", cases[c], proto);
            snprintf(txt, sizeof txt, "%s.txt", cases[c]);
            check_one(pkl, txt);
        }
    }
    static const char *hand[] = {"py2", "inst", "misc", "p45", "persid"};
    for (size_t c = 0; c < sizeof hand / sizeof hand[0]; c++) {
        char pkl[128], txt[128];
        snprintf(pkl, sizeof pkl, "hand_%s.pkl", hand[c]);
        snprintf(txt, sizeof txt, "hand_%s.txt", hand[c]);
        check_one(pkl, txt);
    }

#define FAIL(what, lit) must_fail(what, (const unsigned char *)lit, sizeof lit - 1)
    FAIL("empty", "");
    FAIL("no STOP", "\x80\x02N");
    FAIL("STOP on empty stack", "\x80\x02.");
    FAIL("BINGET unset", "\x80\x02h\x05.");
    FAIL("LONG_BINPUT huge", "\x80\x02Nr\xff\xff\xff\xff.");
    FAIL("PUT negative", "Np-1\n.");
    FAIL("GET text unset", "g7\n.");
    FAIL("APPEND on empty", "a.");
    FAIL("APPEND to dict", "}K\x01" "a.");
    FAIL("SETITEM to list", "]K\x01K\x02s.");
    FAIL("SETITEMS odd", "}(K\x01u.");
    FAIL("DICT odd", "(K\x01" "d.");
    FAIL("TUPLE without MARK", "K\x01t.");
    FAIL("POP_MARK without MARK", "1.");
    FAIL("TUPLE3 underflow", "K\x01\x87.");
    FAIL("pop below MARK", "K\x01(\x85.");
    FAIL("REDUCE args not tuple", "cmod\nf\nK\x01R.");
    FAIL("STACK_GLOBAL non-str", "K\x01K\x02\x93.");
    FAIL("BINUNICODE8 huge", "\x8d\xff\xff\xff\xff\xff\xff\xff\x7f" "ab.");
    FAIL("BINBYTES truncated", "B\x10\x00\x00\x00" "abc.");
    FAIL("LONG4 negative length", "\x8b\xff\xff\xff\xff.");
    FAIL("FRAME too long", "\x95\xff\x00\x00\x00\x00\x00\x00\x00N.");
    FAIL("PROTO 6", "\x80\x06N.");
    FAIL("EXT1", "\x82\x01.");
    FAIL("EXT2", "\x83\x01\x00.");
    FAIL("EXT4", "\x84\x01\x00\x00\x00.");
    FAIL("NEXT_BUFFER", "\x97.");
    FAIL("READONLY_BUFFER", "N\x98.");
    FAIL("unknown opcode", "\xff.");
    FAIL("INT text junk", "I12x\n.");
    FAIL("FLOAT junk", "F1.5.5\n.");
    FAIL("STRING unquoted", "Sabc\n.");
    FAIL("UNICODE bad escape", "V\\u12\n.");
    FAIL("unterminated line", "I12");
    FAIL("storage pid with bad type", "(X\x07\x00\x00\x00storageK\x01X\x01\x00\x00\x00" "0X\x03\x00\x00\x00cpuK\x04tQ.");
    FAIL("storage pid unknown class",
         "(X\x07\x00\x00\x00storagectorch\nQInt8Storage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00cpuK\x04tQ.");
    FAIL("storage pid negative numel",
         "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00cpuJ\xff\xff\xff\xfftQ.");
    FAIL("rebuild_tensor_v2 too few args", "ctorch._utils\n_rebuild_tensor_v2\n(NtR.");
    FAIL("rebuild_parameter of non-tensor", "ctorch._utils\n_rebuild_parameter\n(K\x01tR.");

    /* deep nesting loads (no recursion in the VM) but cannot be rendered */
    size_t n = 100000;
    unsigned char *deep = malloc(2 * n + 3);
    memset(deep, '(', n);
    deep[n] = ']';
    memset(deep + n + 1, 'l', n);
    deep[2 * n + 1] = '.';
    must_fail("deep nesting", deep, 2 * n + 2);
    free(deep);
    /* a DAG whose tree is 2^70 nodes: rendering must refuse, not hang */
    unsigned char dag[1024];
    size_t k = 0;
    dag[k++] = ']';
    dag[k++] = 'q';
    dag[k++] = 0;
    for (int i = 1; i < 70; i++) {
        dag[k++] = 'h'; dag[k++] = (unsigned char)(i - 1);
        dag[k++] = 'h'; dag[k++] = (unsigned char)(i - 1);
        dag[k++] = 0x86;
        dag[k++] = 'q'; dag[k++] = (unsigned char)i;
    }
    dag[k++] = '.';
    must_fail("exponential DAG", dag, k);
    /* a self-referencing list */
    FAIL("self reference", "]q\x00h\x00a.");
    /* allocation budget: 1 MiB VM, ~3 MiB of empty lists */
    size_t m = 100000;
    unsigned char *many = malloc(m + 3);
    many[0] = '(';
    memset(many + 1, ']', m);
    many[m + 1] = 'l';
    many[m + 2] = '.';
    must_fail("allocation budget", many, m + 3);
    free(many);
    TEST_DONE();
}
