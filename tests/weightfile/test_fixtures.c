/* test_fixtures.c — weight files written by other, independent writers (the PyTorch fixture
 * scripts under tests/reference/) open and validate; meson passes the ones that exist. */
#include <string.h>

#include "sculpt.h"
#include "test.h"

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        char err[1024] = "";
        sculpt_model *m = NULL;
        sculpt_status st = sculpt_model_open(argv[i], 0, &m, err, sizeof err);
        CHECKF(st == SCULPT_OK && m, "%s: status %d: %s", argv[i], (int)st, err);
        if (m) {
            CHECK(sculpt_model_tensor_count(m) > 0);
            CHECK(sculpt_model_find_tensor(m, "conv_in.weight", NULL) == 0);
            CHECK(sculpt_model_schedule(m)->num_train_timesteps > 0);
        }
        sculpt_model_close(m);
    }
    printf("%d fixture file(s) checked\n", argc - 1);
    TEST_DONE();
}
