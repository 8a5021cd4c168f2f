/* threads.c — the few OpenMP queries the ops need, so the rest compiles without OpenMP. */
#include "ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int ops_thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

int ops_default_threads(void) {
#ifdef _OPENMP
    int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}
